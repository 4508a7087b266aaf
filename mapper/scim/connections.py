"""Slow and oversized clients at the connection, below the ASGI app: uvicorn's own HTTP protocols
(httptools or h11) with a deadline for a request's headers and a bound on their size.

uvicorn closes idle keep-alive connections (``timeout_keep_alive``) and answers 503 beyond
``limit_concurrency``, and :func:`mapper.scim.server.run` passes both from the serve options; but
it has no deadline for the headers of a request, and the app never sees a request before its
headers are complete. A client that opens a connection and sends ``GET / HTTP/1.1\\r\\nHost: x``
and nothing more held that connection for as long as it liked. :func:`guarded_protocol` makes a
subclass of uvicorn's protocol class that closes such a connection ``header_timeout`` seconds
after it opened (or after the first byte that followed the previous response), and one whose
request line and headers pass ``max_header_bytes`` with a 431; under httptools it also keeps
uvicorn's keep-alive deadline, on the same timer. The body has its own deadline, set by the front
door and kept where it is read (:func:`mapper.scim.routes.requests.read_json`), where a 408 can
still be a SCIM error.
"""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Any

log = logging.getLogger("mapper.scim")

#: Set (True) in a request's scope when its whole body arrived with its headers, before the app
#: ran: the front door (:mod:`mapper.scim.front`) then gives it no body deadline, since reading it
#: cannot wait (an anyio deadline scope is about 8 us of a write's CPU).
BODY_COMPLETE_KEY = "mapper.body_complete"


def _refusal(status: int, reason: str, detail: str) -> bytes:
    """A whole HTTP response carrying a SCIM error body (RFC 7644 section 3.12), then the
    connection closes: written by hand for what the app never sees, a request whose line or
    headers could not be read."""
    body = b'{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"%d","detail":"%s"}' % (
        status,
        detail.encode(),
    )
    return (
        b"HTTP/1.1 %d %s\r\nConnection: close\r\nContent-Type: application/scim+json\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (status, reason.encode(), len(body), body)
    )


_TOO_LARGE = _refusal(
    431,
    "Request Header Fields Too Large",
    "The request line and headers are larger than this server accepts.",
)
#: The longest request target httptools reads (its URL parser keeps 16-bit offsets); a longer one,
#: if the headers' bound lets it through, is a 414 rather than a malformed request.
MAX_TARGET_BYTES = 0xFFFF
_TOO_LONG_TARGET = _refusal(
    414,
    "URI Too Long",
    f"The request target (path and query string) is longer than {MAX_TARGET_BYTES} bytes.",
)
_MALFORMED = _refusal(400, "Bad Request", "The request is not valid HTTP/1.1.")


_BUSY_BODY = (
    b'{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"503",'
    b'"detail":"Too many connections; retry shortly."}'
)


async def _busy(scope: Any, receive: Any, send: Any) -> None:
    """The answer beyond ``--max-connections``: a SCIM 503 with Retry-After, then close."""
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/scim+json"),
                (b"content-length", str(len(_BUSY_BODY)).encode()),
                (b"retry-after", b"1"),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": _BUSY_BODY, "more_body": False})


class _HeaderGuard:
    """Mixed in before a uvicorn protocol class (which provides ``transport``, ``cycle`` and
    ``loop``). A request "awaits its headers" while no request cycle is running: from the
    connection's start, and again from the first byte after each complete response (until then an
    idle keep-alive connection is closed after ``timeout_keep_alive``: by uvicorn's own timer
    under h11, by this guard's under httptools, see :class:`_KeepAliveGuard`).

    Per request this is one comparison and one clock read in ``data_received``: no timer is armed
    or cancelled per request (a uvloop timer per request, and the import that used to pick the 503
    app, cost several microseconds of a 70-90 us read). Each connection has one timer, which fires
    at the earliest moment a wait could pass its deadline and then moves on to the next such
    moment: once per keep-alive timeout (or header timeout, if shorter) while requests are
    served in time. The guard's state is in slots, not in the protocol's ``__dict__``, where
    uvicorn already keeps 28 keys (in-process, a bare protocol given three more attributes was
    1-2 us per request slower)."""

    __slots__ = ("_header_bytes", "_head_tail", "_waiting_since", "_idle_since", "_deadline_timer", "_writes")

    header_timeout: float
    max_header_bytes: int
    transport: Any
    cycle: Any
    loop: asyncio.AbstractEventLoop
    timeout_keep_alive: int
    #: the base protocol's methods, called directly (set by :func:`guarded_protocol`)
    _feed: Any
    _start_task: Any
    #: uvicorn's app for a request beyond ``limit_concurrency`` (set by :func:`guarded_protocol`)
    _unavailable: Any

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._header_bytes = 0
        #: the last bytes of the head read so far, where its end may begin (``\r\n\r`` of ``\r\n\r\n``)
        self._head_tail = b""
        #: when the current wait for a request's headers began (loop time), or None: a request
        #: runs, or the connection is idle after a response
        self._waiting_since: float | None = self.loop.time()
        #: when the connection fell idle after a response, where this guard keeps the keep-alive
        #: deadline (httptools); None while a request is awaited or runs
        self._idle_since: float | None = None
        self._deadline_timer: asyncio.TimerHandle | None = self.loop.call_at(
            self._waiting_since + min(self.header_timeout, self.timeout_keep_alive), self._check_deadline
        )
        self._writes = HeadWithBody(transport, self.loop)

    def data_received(self, data: bytes) -> None:
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:  # a request's body: not guarded here
            self._feed(data)
            return
        if self._waiting_since is None:  # the first bytes since the last response
            self._waiting_since = self.loop.time()
            self._idle_since = None
            self._header_bytes = 0
            self._head_tail = b""
        if cycle is None or not cycle.more_body:  # a head, not the rest of a body answered early
            if self._header_bytes + len(data) > self.max_header_bytes and self._head_too_large(data):
                self._refuse_head()
                return
            self._header_bytes += len(data)
            self._head_tail = data[-3:]
        self._feed(data)
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:  # the headers are complete
            self._waiting_since = None
            if not cycle.more_body:  # and the body too: the app's task has not run yet
                cycle.scope[BODY_COMPLETE_KEY] = True
        elif self._header_bytes > self.max_header_bytes:
            self._refuse_head()

    def _head_too_large(self, data: bytes) -> bool:
        """Whether the head (request line and headers) passes the bound, given that what came of
        it so far plus ``data`` does: the head ends at the first blank line (``\r\n\r\n``, or
        ``\n\n`` where the parser accepts bare line feeds), possibly begun in the last read; what
        follows it in ``data`` is body, or a pipelined request, and is not counted. Checked before
        the parser sees ``data``: a head that ends in the same read was otherwise never bounded."""
        window = self._head_tail + data
        ends = [at + len(blank) for blank in (b"\r\n\r\n", b"\n\n") if (at := window.find(blank)) >= 0]
        if not ends:
            return True
        return self._header_bytes - len(self._head_tail) + min(ends) > self.max_header_bytes

    def _refuse_head(self) -> None:
        if not self.transport.is_closing():
            self._stop_deadline()
            self.transport.write(_TOO_LARGE)
            self.transport.close()

    def _start_asgi_task(self, cycle: Any, app: Any) -> None:
        """httptools only: uvicorn answers a request beyond ``limit_concurrency`` with its own
        plain-text 503; answer it as a SCIM error with Retry-After instead. (The h11 fallback,
        used only where httptools is not installed, keeps uvicorn's text.) The cycle writes
        through :class:`HeadWithBody`: a response's head and body in one write."""
        writes = self._writes
        writes.cycle = cycle
        cycle.transport = writes
        self._start_task(cycle, _busy if app is self._unavailable else app)

    def send_400_response(self, msg: str) -> None:
        """uvicorn answers a request its parser refuses with a plain-text 400; answer it as a SCIM
        error (a 414 for a request target longer than httptools reads) and close, as uvicorn does."""
        too_long = len(getattr(self, "url", b"")) > MAX_TARGET_BYTES  # httptools keeps the target read
        self._stop_deadline()
        self.transport.write(_TOO_LONG_TARGET if too_long else _MALFORMED)
        self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_deadline()
        super().connection_lost(exc)  # type: ignore[misc]

    def _stop_deadline(self) -> None:
        if self._deadline_timer is not None:
            self._deadline_timer.cancel()
            self._deadline_timer = None

    def _check_deadline(self) -> None:
        """Close the connection if its wait for headers, or its idleness after a response, has
        passed its deadline. Otherwise come back at that deadline, or sooner: a wait or an idle
        spell that begins before then may end before it (no later than the shorter timeout)."""
        self._deadline_timer = None
        if self.transport.is_closing():
            return
        now = self.loop.time()
        if self._waiting_since is not None:
            due = self._waiting_since + self.header_timeout
        elif self._idle_since is not None:
            due = self._idle_since + self.timeout_keep_alive
        else:
            due = math.inf
        if now >= due:
            log.debug("closing a connection: its request headers, or its next request, came too late")
            self.transport.close()
            return
        soonest = now + min(self.header_timeout, self.timeout_keep_alive)
        self._deadline_timer = self.loop.call_at(min(due, soonest), self._check_deadline)


class HeadWithBody:
    """The transport as a request cycle (httptools) sees it: the response's head (status line and
    headers, the first write after ``http.response.start``) is held until the cycle's next write,
    the body, and the two go to the socket as one write. uvicorn writes them apart, and each
    write to a connected socket is a ``send`` (on loopback the peer's receive runs in it too):
    for a read's small answer that second system call was a few microseconds of its CPU.
    The bytes are the same; a head whose body does not follow in the same step of the task (a
    HEAD request, a streamed answer) goes out on its own with the loop's next ready callbacks
    (``call_soon``), before the loop reads any socket again. A ``100 Continue`` (written before
    the response starts) is never held, and ``close`` writes a held head first."""

    __slots__ = ("transport", "loop", "cycle", "head")

    def __init__(self, transport: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.transport = transport
        self.loop = loop
        #: the running cycle, until its head has been written (then None)
        self.cycle: Any = None
        self.head: bytes | None = None

    def write(self, data: bytes) -> None:
        cycle = self.cycle
        if cycle is not None and cycle.response_started:  # the head: hold it for the body
            self.cycle = None
            if self.head is not None:  # never left behind by a cycle before, but keep the order
                self.transport.write(self.head)
            self.head = data
            self.loop.call_soon(self.flush)
            return
        head = self.head
        if head is not None:
            self.head = None
            data = head + data
        self.transport.write(data)

    def flush(self) -> None:
        head = self.head
        if head is not None:
            self.head = None
            if not self.transport.is_closing():
                self.transport.write(head)

    def close(self) -> None:
        self.flush()
        self.transport.close()

    def is_closing(self) -> bool:
        return bool(self.transport.is_closing())

    # The rest of a transport's methods, passed on as they are: written out, not through a
    # ``__getattr__``, since a class with one puts every attribute read of its objects through the
    # hook that calls it (about 350 instructions each), its own slots' reads in ``write`` too.

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.transport.get_extra_info(name, default)

    def set_protocol(self, protocol: Any) -> None:
        self.transport.set_protocol(protocol)

    def get_protocol(self) -> Any:
        return self.transport.get_protocol()

    def is_reading(self) -> Any:
        return self.transport.is_reading()

    def pause_reading(self) -> None:
        self.transport.pause_reading()

    def resume_reading(self) -> None:
        self.transport.resume_reading()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self.transport.set_write_buffer_limits(high, low)

    def get_write_buffer_size(self) -> Any:
        return self.transport.get_write_buffer_size()

    def get_write_buffer_limits(self) -> Any:
        return self.transport.get_write_buffer_limits()

    def writelines(self, chunks: Any) -> None:
        self.transport.writelines(chunks)

    def write_eof(self) -> None:
        self.transport.write_eof()

    def can_write_eof(self) -> Any:
        return self.transport.can_write_eof()

    def abort(self) -> None:
        self.transport.abort()


class _KeepAliveGuard(_HeaderGuard):
    """httptools: the keep-alive deadline on the guard's timer too. uvicorn arms a uvloop timer
    after every response and cancels it at the next request's first byte (two to three
    microseconds per request); this is uvicorn 0.55's ``on_response_complete`` with the clock
    read in place of that timer."""

    __slots__ = ()

    server_state: Any
    flow: Any
    pipeline: Any

    def on_response_complete(self) -> None:
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self.flow.resume_reading()
        if self.pipeline:  # the next pipelined request, already read
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
        else:
            self._idle_since = self.loop.time()


def guarded_protocol(http: str, header_timeout: float, max_header_bytes: int) -> type[asyncio.Protocol]:
    """uvicorn's protocol class for ``http`` (``"httptools"`` or ``"h11"``) with the header
    deadline and size bound; pass it as ``uvicorn.run(http=...)``."""
    from uvicorn.protocols.http.flow_control import service_unavailable

    base: type[asyncio.Protocol]
    namespace: dict[str, Any] = {"header_timeout": header_timeout, "max_header_bytes": max_header_bytes}
    guard: type[_HeaderGuard]
    if http == "httptools":
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

        base, guard = HttpToolsProtocol, _KeepAliveGuard
        namespace.update(
            _start_task=HttpToolsProtocol._start_asgi_task, _unavailable=staticmethod(service_unavailable)
        )
    else:
        from uvicorn.protocols.http.h11_impl import H11Protocol

        base, guard = H11Protocol, _HeaderGuard
    namespace["_feed"] = base.data_received
    return type(f"Guarded{base.__name__}", (guard, base), namespace)
