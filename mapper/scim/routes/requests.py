"""Reading a SCIM request's body: JSON within a size limit and a deadline. (What its path names is
looked up by :mod:`mapper.scim.routes.lookup`; the URLs of the answer are built by
:mod:`mapper.scim.routes.urls`.)"""

from __future__ import annotations

from typing import Any

import anyio
import orjson
from starlette.requests import ClientDisconnect, Request

from mapper.scim.errors import invalid_syntax, request_timeout, too_large

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
    """The body's messages, as :meth:`Request.stream` reads them (a client gone is
    ``ClientDisconnect``), without its async generator: one made, registered with the event loop
    and stepped three times per write, for a body that nearly always comes in one message."""
    if hasattr(request, "_body"):  # read already (by a layer before): Starlette keeps it
        return await request.body()
    receive = request.receive
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.request":
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > max_bytes:
                raise too_large(f"request body larger than {max_bytes} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                request._stream_consumed = True  # as Request.stream() marks it: no second read
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)
        elif message["type"] == "http.disconnect":
            request._is_disconnected = True
            raise ClientDisconnect()


async def read_object(request: Request, max_bytes: int) -> dict[str, Any]:
    """The request body as a JSON object (400 invalidSyntax for any other JSON value)."""
    body = await read_json(request, max_bytes)
    if not isinstance(body, dict):
        raise invalid_syntax("request body must be a JSON object")
    return body
