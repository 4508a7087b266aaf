"""Reading SCIM requests: JSON bodies within a size limit and a deadline, ids as clients really
encode them, and the absolute URLs that ``meta.location``, ``Location`` and ``$ref`` carry."""

from __future__ import annotations

import functools
import re
from typing import Any
from urllib.parse import quote, unquote

import anyio
import orjson
from starlette.requests import Request
from starlette.types import Scope

from mapper.scim.errors import invalid_syntax, request_timeout, too_large
from mapper.scim.routes.normalise import CLIENT_ROOT_KEY

_PERCENT_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
#: (deadline in anyio's clock, seconds allowed) for a write's body, set by the front door
#: (:mod:`mapper.scim.front`) as the request reaches the app
BODY_DEADLINE_KEY = "mapper.body_deadline"


async def read_json(request: Request, max_bytes: int) -> Any:
    """The request body parsed as JSON, whatever JSON-ish content type it came with.

    A ``Content-Length`` over ``max_bytes`` is refused before reading; a streamed (chunked) body is
    counted as it arrives and refused as soon as it passes the limit (413). The whole body must
    arrive by the front door's deadline (:data:`BODY_DEADLINE_KEY`): a total deadline, not one per
    chunk, since a client trickling a byte a second must not hold a worker either; past it,
    :func:`~mapper.scim.errors.request_timeout` (408, and the connection is closed)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise too_large(f"request body larger than {max_bytes} bytes")
    deadline = request.scope.get(BODY_DEADLINE_KEY)
    if deadline is None:
        body = await _body(request, max_bytes)
    else:
        with anyio.CancelScope(deadline=deadline[0]) as waited:
            body = await _body(request, max_bytes)
        if waited.cancelled_caught:
            raise request_timeout(f"the request body did not arrive within {deadline[1]:g} seconds")
    if not body.strip():
        raise invalid_syntax("request body is empty")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise invalid_syntax(f"request body is not valid JSON: {exc}") from None


async def _body(request: Request, max_bytes: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise too_large(f"request body larger than {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_object(request: Request, max_bytes: int) -> dict[str, Any]:
    """The request body as a JSON object (400 invalidSyntax for any other JSON value)."""
    body = await read_json(request, max_bytes)
    if not isinstance(body, dict):
        raise invalid_syntax("request body must be a JSON object")
    return body


def decoded_again(value: str) -> str | None:
    """``value`` percent-decoded once more when it still holds ``%XX`` escapes, else None.

    Entra ID percent-encodes some ids twice (``/Groups/cn%253Dabc``); when the id as decoded once
    (``cn%3Dabc``) is unknown, the handlers try this second decoding (``cn=abc``)."""
    if "%" not in value or not _PERCENT_ESCAPE.search(value):
        return None
    return unquote(value)


def scim_root(request: Request, base_path: str) -> str:
    """The absolute SCIM root URL of this request, e.g. ``https://idm.example.com/scim/v2``.

    Starlette's ``base_url`` (which validates the Host header) costs ~10 µs per request; it
    depends only on the scheme, Host header, server address and root path, so it is computed once
    per combination (a bounded cache: the Host header is the client's to choose)."""
    return root_of(request.scope, base_path)


def root_of(scope: Scope, base_path: str) -> str:
    """:func:`scim_root` from the ASGI scope (the read fast path has no :class:`Request`). A client
    that came in through the ECMA host's root (``/ecma2host_HR/scim``) gets that root instead of
    ``base_path``: its links must lead back the way it came."""
    base_path = scope.get(CLIENT_ROOT_KEY, base_path)
    host = None
    for name, value in scope["headers"]:
        if name == b"host":
            host = value
            break
    root_path = scope.get("app_root_path", scope.get("root_path", ""))
    server = scope.get("server")
    return _root(scope.get("scheme", "http"), host, tuple(server) if server else None, root_path, base_path)


@functools.lru_cache(maxsize=64)
def _root(
    scheme: str, host: bytes | None, server: tuple[str, int] | None, root_path: str, base_path: str
) -> str:
    scope = {
        "type": "http",
        "scheme": scheme,
        "server": server,
        "root_path": root_path,
        "path": "/",
        "query_string": b"",
        "headers": [(b"host", host)] if host is not None else [],
    }
    return str(Request(scope).base_url).rstrip("/") + base_path


def location(root: str, endpoint: str, id_: str) -> str:
    """The absolute URL of one resource; the id is percent-encoded (RFC 3986 segment)."""
    return f"{root}{endpoint}/{id_ if id_.isascii() and id_.isalnum() else quote(id_, safe='')}"
