"""The discovery endpoints (RFC 7644 §4): ``/ServiceProviderConfig``, ``/ResourceTypes[/{name}]``
and ``/Schemas[/{urn}]``, generated from the plan (see :mod:`.discovery_data`).

The documents depend on the request's root URL only through ``meta.location``; they are built once
per root and kept (a handful of roots at most: the cache is bounded, since the Host header is the
client's to choose). Filters on these endpoints are ignored, as many servers do; the RFC's SHOULD
of a 403 would only break naive clients.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mapper.plan import Plan
from mapper.scim.errors import not_found, not_implemented
from mapper.scim.responses import ScimResponse, list_response
from mapper.scim.routes import discovery_data
from mapper.scim.routes.urls import scim_root
from mapper.scim.settings import Settings

_MAX_ROOTS = 16


class _Documents:
    def __init__(self, plan: Plan, root: str, max_results: int) -> None:
        self.config = discovery_data.service_provider_config(root, max_results)
        self.resource_types = discovery_data.resource_types(plan, root)
        self.schemas = discovery_data.schemas(plan, root)
        self.type_by_name = {t["name"].casefold(): t for t in self.resource_types}
        self.schema_by_id = {s["id"].casefold(): s for s in self.schemas}


class Discovery:
    def __init__(self, plan: Plan, settings: Settings) -> None:
        self.plan = plan
        self.base_path = settings.base_path
        self.max_results = settings.max_results
        self._documents: dict[str, _Documents] = {}

    def documents(self, request: Request) -> _Documents:
        root = scim_root(request, self.base_path)
        found = self._documents.get(root)
        if found is None:
            if len(self._documents) >= _MAX_ROOTS:
                self._documents.clear()
            found = self._documents[root] = _Documents(self.plan, root, self.max_results)
        return found

    async def service_provider_config(self, request: Request) -> Response:
        return ScimResponse(self.documents(request).config)

    async def resource_types(self, request: Request) -> Response:
        types = self.documents(request).resource_types
        return list_response(types, len(types), 1)

    async def resource_type(self, request: Request) -> Response:
        name = str(request.path_params["name"])
        return ScimResponse(_one(self.documents(request).type_by_name, name, "resource type"))

    async def schemas(self, request: Request) -> Response:
        schemas = self.documents(request).schemas
        return list_response(schemas, len(schemas), 1)

    async def schema(self, request: Request) -> Response:
        urn = str(request.path_params["urn"])
        return ScimResponse(_one(self.documents(request).schema_by_id, urn, "schema"))


def _one(index: dict[str, dict[str, Any]], key: str, what: str) -> dict[str, Any]:
    found = index.get(key.casefold())
    if found is None:
        raise not_found(f"no such {what}")
    return found


async def unsupported(request: Request) -> Response:
    """``/Me`` and ``/Bulk``: 501 (RFC 7644 §3.11 for /Me; bulk is advertised as unsupported)."""
    raise not_implemented(f"{request.url.path.rsplit('/', 1)[-1]} is not supported by this service provider")
