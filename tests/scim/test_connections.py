"""The connection guard (:mod:`mapper.scim.connections`) under uvicorn's httptools protocol, on a
real socket: a request whose body came with its headers is marked so in its scope before the app
runs (the front door then sets no body deadline); one whose body follows later is not."""

from __future__ import annotations

import asyncio

import pytest
import uvicorn
from uvicorn.server import ServerState

from mapper.scim.connections import BODY_COMPLETE_KEY, guarded_protocol

pytestmark = pytest.mark.anyio

HEAD = b"POST /scim/v2/Users HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 16\r\n\r\n"
BODY = b'{"userName": ""}'


async def test_a_body_that_came_with_its_headers_is_marked_complete() -> None:
    seen: list[bool] = []
    bodies: list[bytes] = []

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        seen.append(scope.get(BODY_COMPLETE_KEY, False))
        body, more = b"", True
        while more:
            message = await receive()
            body, more = body + message.get("body", b""), message.get("more_body", False)
        bodies.append(body)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    protocol = guarded_protocol("httptools", 10, 65536)
    config = uvicorn.Config(app, http=protocol, lifespan="off", log_config=None)
    config.load()
    state = ServerState()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: protocol(config=config, server_state=state, app_state={}),  # type: ignore[call-arg]
        "127.0.0.1",
        0,
    )
    try:
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(HEAD + BODY)  # together
        assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 204 ")
        writer.write(HEAD)  # the body a moment after its headers: the app runs before it comes
        await writer.drain()
        await asyncio.sleep(0.1)
        writer.write(BODY)
        assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 204 ")
        writer.close()
        await writer.wait_closed()
    finally:
        server.close()
        await server.wait_closed()
    assert seen == [True, False]
    assert bodies == [BODY, BODY]
