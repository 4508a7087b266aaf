"""The connection guard (:mod:`mapper.scim.connections`) under uvicorn's httptools protocol, on a
real socket: a request whose body came with its headers is marked so in its scope before the app
runs (the front door then sets no body deadline); one whose body follows later is not."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import uvicorn
from uvicorn.server import ServerState

from mapper.scim.connections import BODY_COMPLETE_KEY, HeadWithBody, guarded_protocol

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


async def serve(app, protocol_class):  # type: ignore[no-untyped-def]
    config = uvicorn.Config(app, http=protocol_class, lifespan="off", log_config=None)
    config.load()
    state = ServerState()
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        lambda: protocol_class(config=config, server_state=state, app_state={}),  # type: ignore[call-arg]
        "127.0.0.1",
        0,
    )


async def exchange(port: int, requests: list[bytes], until: bytes) -> bytes:
    """What the server sends back to ``requests`` (sent one after the other on one connection),
    read until ``until`` has come."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    received = b""
    try:
        for request in requests:
            writer.write(request)
            await writer.drain()
            await asyncio.sleep(0.05)
        while until not in received:
            received += await asyncio.wait_for(reader.read(65536), 5)
    finally:
        writer.close()
        await writer.wait_closed()
    return received


async def answers(scope, receive, send):  # type: ignore[no-untyped-def]
    """A JSON answer, a streamed one (its body a moment after its head), and a 100-continue body."""
    path = scope["path"]
    if path == "/stream":
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]}
        )
        await asyncio.sleep(0.3)
        await send({"type": "http.response.body", "body": b"late", "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    body = b""
    if scope["method"] == "POST":
        more = True
        while more:
            message = await receive()
            body, more = body + message.get("body", b""), message.get("more_body", False)
    payload = b'{"echo": "%s"}' % body
    headers = [(b"content-length", b"%d" % len(payload)), (b"etag", b'W/"1"')]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


REQUESTS = [
    b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n",
    b"HEAD /a HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n",  # pipelined
    b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST /c HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n",
    b"hi",
    b"GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
]


async def test_the_guard_sends_the_bytes_uvicorn_sends() -> None:
    """Each response's head and body go out in one write, and the bytes are uvicorn's own, for
    plain, HEAD, pipelined, streamed, 100-continue and closing answers."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    received = []
    for protocol in (HttpToolsProtocol, guarded_protocol("httptools", 10, 65536)):
        server = await serve(answers, protocol)
        try:
            port = server.sockets[0].getsockname()[1]
            received.append(await exchange(port, REQUESTS, b'{"echo": "hi"}' + b"HTTP/1.1 200 OK"))
            # a closing answer's bytes all arrive before the close
            received[-1] += await exchange(port, REQUESTS[-1:], b"}")
        finally:
            server.close()
            await server.wait_closed()
    assert received[0].count(b"HTTP/1.1 200 OK") == 8
    assert b"HTTP/1.1 100 Continue\r\n\r\n" in received[0]
    assert received[0] == received[1]


async def test_a_streamed_head_is_not_held_for_its_body() -> None:
    server = await serve(answers, guarded_protocol("httptools", 10, 65536))
    try:
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 0.2)  # before the body's 0.3 s
        assert head.startswith(b"HTTP/1.1 200 OK") and b"transfer-encoding: chunked" in head
        assert await asyncio.wait_for(reader.readuntil(b"0\r\n\r\n"), 5) == b"4\r\nlate\r\n0\r\n\r\n"
        writer.close()
        await writer.wait_closed()
    finally:
        server.close()
        await server.wait_closed()


class Recorded:
    """A transport that keeps what is written to it (for the count of writes)."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True


async def test_head_and_body_go_out_in_one_write() -> None:
    class Cycle:
        response_started = False

    transport, cycle = Recorded(), Cycle()
    writes = HeadWithBody(transport, asyncio.get_running_loop())
    writes.cycle = cycle
    writes.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # before the response starts: never held
    assert transport.writes == [b"HTTP/1.1 100 Continue\r\n\r\n"]
    cycle.response_started = True
    writes.write(b"HEAD\r\n\r\n")
    writes.write(b"body")
    writes.write(b"more")
    assert transport.writes[1:] == [b"HEAD\r\n\r\nbody", b"more"]
    writes.cycle = cycle  # the next response: its head alone, then closed
    writes.write(b"HEAD2\r\n\r\n")
    assert len(transport.writes) == 3
    writes.close()
    assert transport.writes[3:] == [b"HEAD2\r\n\r\n"] and transport.closed
    await asyncio.sleep(0)  # the flush scheduled with each head finds nothing left
    assert len(transport.writes) == 4


def test_the_head_holder_passes_the_rest_of_a_transport_on() -> None:
    """Every transport method the cycle's writer does not change reaches the transport as called;
    written out, not through ``__getattr__``, whose hook every attribute read of such an object
    pays (``write``'s own reads too)."""
    calls: list[tuple[str, tuple[Any, ...]]] = []

    class Transport:
        def __getattr__(self, name: str) -> Any:
            def call(*args: Any) -> str:
                calls.append((name, args))
                return name

            return call

    loop = asyncio.new_event_loop()
    writes = HeadWithBody(Transport(), loop)
    loop.close()  # kept, never used by these calls
    assert not hasattr(HeadWithBody, "__getattr__")
    assert writes.get_extra_info("peername", 1) == "get_extra_info"
    writes.set_protocol("p")
    assert writes.get_protocol() == "get_protocol"
    writes.pause_reading()
    writes.resume_reading()
    writes.set_write_buffer_limits(8, 2)
    writes.writelines([b"a"])
    writes.write_eof()
    writes.abort()
    assert [name for name, _ in calls] == [
        "get_extra_info",
        "set_protocol",
        "get_protocol",
        "pause_reading",
        "resume_reading",
        "set_write_buffer_limits",
        "writelines",
        "write_eof",
        "abort",
    ]
    assert calls[0][1] == ("peername", 1) and calls[5][1] == (8, 2)
