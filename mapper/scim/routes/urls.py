"""The absolute URLs an answer carries (``meta.location``, ``Location``, ``$ref``): the request's
SCIM root, computed once per request (or per list page), and each resource's location under it."""

from __future__ import annotations

import functools
from urllib.parse import quote

from starlette.requests import Request
from starlette.types import Scope

from mapper.scim.routes.normalise import CLIENT_ROOT_KEY


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
