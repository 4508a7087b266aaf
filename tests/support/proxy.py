"""A small TCP proxy on 127.0.0.1 that plays a bad network between the gateway and its database
(this module holds no tests). It runs its own event loop in a thread; :meth:`TcpProxy.set_mode`
switches it, from any thread, between:

- ``pass``: forward both ways (connections held during a blackhole resume, intact);
- ``cut``: close every connection, and close each new one as soon as it is accepted (a firewall
  sending resets, a database that crashes on every connect);
- ``refuse``: close every connection and the listener (a database host that is down: connection
  refused);
- ``blackhole``: accept, forward nothing, close nothing (a partition: packets go nowhere).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading

MODES = ("pass", "cut", "refuse", "blackhole")


class TcpProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="tcp-proxy", daemon=True)
        self.mode = "pass"
        self.port = 0
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()
        self.passing: asyncio.Event | None = None
        self.accepted = 0

    # ------------------------------------------------------------------ control (any thread)

    def start(self) -> TcpProxy:
        self.thread.start()
        self._call(self._listen())
        return self

    def set_mode(self, mode: str) -> None:
        assert mode in MODES, mode
        self._call(self._set_mode(mode))

    def stop(self) -> None:
        if not self.thread.is_alive():
            return
        self._call(self._set_mode("refuse"))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)

    def _call(self, coroutine: object) -> object:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=10)  # type: ignore[arg-type]

    # ------------------------------------------------------------------ the loop's side

    async def _listen(self) -> None:
        if self.passing is None:
            self.passing = asyncio.Event()
            self.passing.set()
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", self.port, reuse_address=True)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _set_mode(self, mode: str) -> None:
        assert self.passing is not None
        previous, self.mode = self.mode, mode
        if mode == "pass":
            self.passing.set()
            if self.server is None:
                await self._listen()
            return
        self.passing.clear()
        if mode in ("cut", "refuse"):
            for writer in list(self.writers):
                writer.transport.abort()
            self.writers.clear()
        if mode == "refuse" and self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None
        del previous

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        if self.mode in ("cut", "refuse"):
            writer.transport.abort()
            return
        self.writers.add(writer)
        assert self.passing is not None
        await self.passing.wait()  # a blackhole holds new connections here
        if self.mode != "pass":
            writer.transport.abort()
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.writers.add(upstream_writer)
        await asyncio.gather(
            self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer), return_exceptions=True
        )
        for w in (writer, upstream_writer):
            self.writers.discard(w)
            w.transport.abort()

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        assert self.passing is not None
        try:
            while True:
                data = await source.read(65536)
                if not data:
                    break
                await self.passing.wait()  # a blackhole holds the bytes here, and forwards them after
                sink.write(data)
                await sink.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(Exception):
                sink.transport.abort()
