"""SCIM responses: JSON serialised with orjson, served as ``application/scim+json`` (RFC 7644 §3.1).
Every error body is built here, from a :class:`~mapper.scim.errors.ScimError`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from starlette.background import BackgroundTask
from starlette.responses import Response

from mapper.scim.errors import ScimError

SCIM_MEDIA_TYPE = "application/scim+json"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"


class ScimResponse(Response):
    """A SCIM JSON body. ``content`` is any orjson-serialisable value (dicts, lists, str...).

    Headers are built directly as raw pairs (this is the read path's response; Starlette's
    generic header handling costs more than the serialisation)."""

    media_type = SCIM_MEDIA_TYPE
    _content_type = SCIM_MEDIA_TYPE.encode("latin-1")

    def __init__(
        self,
        content: Any,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        self.status_code = status_code
        self.background = background
        self.body = body = orjson.dumps(content)
        raw = [(b"content-length", b"%d" % len(body)), (b"content-type", self._content_type)]
        if headers:
            raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        self.raw_headers = raw


def error_response(error: ScimError, headers: Mapping[str, str] | None = None) -> ScimResponse:
    """The SCIM Error message for ``error`` with its HTTP status."""
    return ScimResponse(error.to_body(), status_code=error.status, headers=headers)


def list_response(
    resources: Sequence[Any], total: int, start_index: int, *, count_only: bool = False
) -> ScimResponse:
    """A ListResponse page (RFC 7644 §3.4.2): ``resources`` is the page, ``total`` all matches.
    ``count_only`` (the client asked ``count=0``) leaves ``Resources`` out (RFC 7644 §3.4.2.4)."""
    body: dict[str, Any] = {
        "schemas": [LIST_RESPONSE],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": len(resources),
    }
    if not count_only:
        body["Resources"] = resources
    return ScimResponse(body)


def resource_response(
    resource: Mapping[str, Any], status_code: int = 200, location: str | None = None
) -> ScimResponse:
    """One resource, with ``ETag`` from ``meta.version`` and, on create, ``Location`` (RFC 7644 §3.3)."""
    response = ScimResponse(resource, status_code=status_code)
    meta = resource.get("meta")
    if type(meta) is dict or isinstance(meta, Mapping):  # a dict first: the ABC's check costs more
        version = meta.get("version")
        if version:
            response.raw_headers.append((b"etag", str(version).encode("latin-1")))
    if location:
        response.raw_headers.append((b"location", location.encode("latin-1")))
    return response


def no_content(headers: Mapping[str, str] | None = None) -> Response:
    """204 No Content (DELETE)."""
    return Response(status_code=204, headers=headers)


class JsonResponse(ScimResponse):
    """Plain ``application/json`` (health endpoints, which are not SCIM)."""

    media_type = "application/json"
    _content_type = b"application/json"
