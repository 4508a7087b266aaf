"""Reading a SCIM request's body: JSON within a size limit and a deadline. (What its path names is
looked up by :mod:`mapper.scim.routes.lookup`; the URLs of the answer are built by
:mod:`mapper.scim.routes.urls`.)"""

from __future__ import annotations

import re
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
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise invalid_syntax(f"request body is not valid JSON: {exc}") from None
    refuse_repeated_keys(body, parsed)
    return parsed


def refuse_repeated_keys(body: bytes, parsed: Any) -> None:
    """400 ``invalidSyntax`` naming the key when one object of ``body`` (valid JSON, ``parsed``
    from it) has a key twice: orjson keeps the last silently, and which one the client meant is
    unknown (RFC 8259 §4; see docs/decisions.md).

    The check costs a compact re-serialisation and a few byte counts (about 1 µs for an Entra ID
    POST). Outside strings, a colon in JSON ends a key, one per key; so the body's colons, with
    the colons its strings escape (``\\u003a``), are its keys plus the colons its strings hold,
    and the re-serialised value's are the parsed keys plus the colons the surviving strings hold.
    A key given twice adds a key (and its value's strings) to the body only, so the counts
    differ; when they agree, no key was lost (a ``\\u003a`` that is no escape, after an escaped
    backslash, only makes them differ). When they differ, or the body is nested deeper than
    orjson serialises, the body is scanned key by key (:func:`_repeated_key`), which names the
    key."""
    colons = body.count(b":")
    if b"\\" in body and b"\\u003" in body:  # a one-byte search first: most bodies hold no escape
        colons += body.count(b"\\u003a") + body.count(b"\\u003A")
    try:
        if colons == orjson.dumps(parsed).count(b":"):
            return
    except orjson.JSONEncodeError:  # nested deeper than orjson writes (it reads deeper)
        pass
    key = _repeated_key(body)
    if key is not None:
        raise invalid_syntax(f"the key '{key}' appears twice in one object: send it once")


#: a JSON string, or one of the characters that shape a document (for :func:`_repeated_key`)
_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[{}\[\]:]')


def _repeated_key(body: bytes) -> str | None:
    """The first key found twice in one object of ``body`` (valid JSON), or None: a scan of its
    strings and brackets with a stack of the keys of each open object (no recursion, so a body
    nested as deep as orjson reads is scanned too)."""
    stack: list[set[str] | None] = []  # the keys of each open object; None for an array
    previous: bytes = b""
    for match in _TOKEN.finditer(body):
        token = match.group()
        if token == b"{":
            stack.append(set())
        elif token == b"[":
            stack.append(None)
        elif token in (b"}", b"]"):
            stack.pop()
        elif token == b":":  # the string before it is a key of the innermost object
            keys = stack[-1]
            key = orjson.loads(previous)
            if keys is not None:
                if key in keys:
                    return str(key)
                keys.add(key)
        previous = token
    return None


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
