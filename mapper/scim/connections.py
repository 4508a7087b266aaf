"""Slow and oversized clients at the connection, below the ASGI app: uvicorn's own HTTP protocols
(httptools or h11) with a deadline for a request's headers and a bound on their size.

uvicorn closes idle keep-alive connections (``timeout_keep_alive``) and answers 503 beyond
``limit_concurrency``, and :func:`mapper.scim.server.run` passes both from the serve options; but
it has no deadline for the headers of a request, and the app never sees a request before its
headers are complete. A client that opens a connection and sends ``GET / HTTP/1.1\\r\\nHost: x``
and nothing more held that connection for as long as it liked. :func:`guarded_protocol` makes a
subclass of uvicorn's protocol class that closes such a connection ``header_timeout`` seconds
after it opened (or after the previous response), and one whose request line and headers pass
``max_header_bytes`` with a 431. The body has its own deadline, set by the front door and kept
where it is read (:func:`mapper.scim.routes.requests.read_json`), where a 408 can still be a SCIM error.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

log = logging.getLogger("mapper.scim")


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
    connection's start, and again after each complete response."""

    header_timeout: float
    max_header_bytes: int
    transport: Any
    cycle: Any
    loop: asyncio.AbstractEventLoop

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._header_bytes = 0
        self._header_timer: asyncio.TimerHandle | None = None
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._awaiting_headers():
            self._arm()
            if self._reading_headers():
                self._header_bytes += len(data)
        super().data_received(data)  # type: ignore[misc]
        if not self._awaiting_headers():
            self._disarm()
            self._header_bytes = 0
        elif (
            self._header_bytes > self.max_header_bytes
            and self._reading_headers()
            and not self.transport.is_closing()
        ):
            self._disarm()
            self.transport.write(_TOO_LARGE)
            self.transport.close()

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        self._header_bytes = 0  # the next request's headers are counted afresh when they come

    def _start_asgi_task(self, cycle: Any, app: Any) -> None:
        """httptools only: uvicorn answers a request beyond ``limit_concurrency`` with its own
        plain-text 503; answer it as a SCIM error with Retry-After instead. (The h11 fallback,
        used only where httptools is not installed, keeps uvicorn's text.)"""
        from uvicorn.protocols.http.flow_control import service_unavailable

        super()._start_asgi_task(cycle, _busy if app is service_unavailable else app)  # type: ignore[misc]

    def send_400_response(self, msg: str) -> None:
        """uvicorn answers a request its parser refuses with a plain-text 400; answer it as a SCIM
        error (a 414 for a request target longer than httptools reads) and close, as uvicorn does."""
        too_long = len(getattr(self, "url", b"")) > MAX_TARGET_BYTES  # httptools keeps the target read
        self._disarm()
        self.transport.write(_TOO_LONG_TARGET if too_long else _MALFORMED)
        self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)  # type: ignore[misc]

    def _awaiting_headers(self) -> bool:
        """No request in flight: the deadline runs (also while the rest of a body answered early,
        a 413 or a 401, still trickles in)."""
        cycle = self.cycle
        return cycle is None or bool(cycle.response_complete)

    def _reading_headers(self) -> bool:
        """What arrives now is a request line or headers, not the rest of an answered body."""
        cycle = self.cycle
        return cycle is None or (bool(cycle.response_complete) and not getattr(cycle, "more_body", False))

    def _arm(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self.header_timeout, self._expire)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _expire(self) -> None:
        self._header_timer = None
        if self._awaiting_headers() and not self.transport.is_closing():
            log.debug("closing a connection whose request headers did not arrive in time")
            self.transport.close()


def guarded_protocol(http: str, header_timeout: float, max_header_bytes: int) -> type[asyncio.Protocol]:
    """uvicorn's protocol class for ``http`` (``"httptools"`` or ``"h11"``) with the header
    deadline and size bound; pass it as ``uvicorn.run(http=...)``."""
    base: type[asyncio.Protocol]
    if http == "httptools":
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

        base = HttpToolsProtocol
    else:
        from uvicorn.protocols.http.h11_impl import H11Protocol

        base = H11Protocol
    namespace = {"header_timeout": header_timeout, "max_header_bytes": max_header_bytes}
    return type(f"Guarded{base.__name__}", (_HeaderGuard, base), namespace)
