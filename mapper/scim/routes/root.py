"""``GET /``: what this service is and where its SCIM roots are, for an operator or a client that
found the port. Served without a token, so it says nothing else: no counts, no databases, no
object types. The roots are absolute URLs as the request reached us (scheme, Host header, any
proxy root path), each connector with its own root and the ECMA Connector Host's alias of it.
A connector's own page (``/{name}/`` when one gateway serves several) points at its own
readiness, ``/{name}/readyz``."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import Response

from mapper.links import doc
from mapper.scim.responses import JsonResponse
from mapper.scim.routes.urls import root_of

SERVICE = "scim-sql-mapper"
DESCRIPTION = "SCIM 2.0 provisioning gateway for SQL databases"


class Root:
    """``connectors``: (name, SCIM base path) of each connector served; ``readiness``: the path
    of their readiness (``/readyz``, or a connector's own ``/{name}/readyz``)."""

    def __init__(self, connectors: Sequence[tuple[str, str]], readiness: str = "/readyz") -> None:
        self.connectors = tuple(connectors)
        self.readiness = readiness

    async def serve(self, request: Request) -> Response:
        scope = request.scope
        body = {
            "service": SERVICE,
            "description": DESCRIPTION,
            "connectors": [
                {
                    "name": name,
                    "scim": root_of(scope, base_path),
                    "ecma2host": root_of(scope, f"/ecma2host_{name}/scim"),
                }
                for name, base_path in self.connectors
            ],
            "health": root_of(scope, "/healthz"),
            "readiness": root_of(scope, self.readiness),
            "documentation": doc("gateway.md"),
        }
        return JsonResponse(body)
