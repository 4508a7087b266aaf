"""In-process CPU of the connection header guard (:mod:`mapper.scim.connections`) per request::

    PYTHONPATH=TREE .venv/bin/python -m bench.guard [REQUESTS] [ROUNDS]

uvicorn's httptools protocol, bare and guarded, on a uvloop loop with a stand-in transport (no
sockets, no HTTP client): each request is one ``data_received`` of a whole GET, answered by a
two-message ASGI app, the loop turning until the response is complete. Sides take turns, a fresh
loop each; prints the CPU microseconds per request of each and the median of each round's
difference, which is the guard's own cost (its timers included: the loop is a real one)."""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from typing import Any

import uvloop
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from mapper.scim.connections import guarded_protocol

REQUEST = (
    b"GET /scim/v2/Users/2819c223-7f76-453a-919d-413861904646 HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n"
    b"Authorization: Bearer abcdefghijklmnopqrstuvwxyz\r\nAccept: */*\r\nUser-Agent: wrk\r\n\r\n"
)


async def app(scope: Any, receive: Any, send: Any) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"11")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b'{"ok":true}'})


class Transport:
    """What the protocol uses of a socket transport; writes are dropped."""

    def __init__(self) -> None:
        self.closing = False

    def write(self, data: bytes) -> None:
        pass

    def close(self) -> None:
        self.closing = True

    def is_closing(self) -> bool:
        return self.closing

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def serve(protocol: type[asyncio.Protocol], requests: int) -> float:
    """CPU microseconds per request of ``requests`` keep-alive GETs on one connection."""
    config = Config(app=app, http="httptools", access_log=False, log_config=None)
    config.load()
    connection: Any = protocol(config=config, server_state=ServerState(), app_state={})  # type: ignore[call-arg]
    connection.connection_made(Transport())
    started = time.process_time()
    for _ in range(requests):
        connection.data_received(REQUEST)
        while not connection.cycle.response_complete:
            await asyncio.sleep(0)
    spent = time.process_time() - started
    connection.connection_lost(None)
    return spent / requests * 1e6


def main() -> None:
    requests = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    sides: dict[str, type[asyncio.Protocol]] = {
        "bare": HttpToolsProtocol,
        "guarded": guarded_protocol("httptools", 10.0, 8192),
    }
    spent: dict[str, list[float]] = {name: [] for name in sides}
    for round_ in range(rounds):
        for name, protocol in list(sides.items())[:: 1 if round_ % 2 else -1]:
            spent[name].append(uvloop.run(serve(protocol, requests)))
    for name, values in spent.items():
        print(f"{name:8} us/request: median {statistics.median(values):6.2f}, least {min(values):6.2f}")
    differences = [g - b for g, b in zip(spent["guarded"], spent["bare"], strict=True)]
    pairs = [round(d, 2) for d in differences]
    print(f"guard    us/request: median {statistics.median(differences):.2f} {pairs}")


if __name__ == "__main__":
    main()
