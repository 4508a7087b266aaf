"""The front door: what every request meets before the router, as one ASGI middleware.

In order: the metrics time and count every request (:mod:`mapper.scim.metrics`), the audit log
wraps writes (so a write refused a token is logged too), a write's body
gets a deadline (:class:`BodyDeadline`: a client that sends it too slowly gets 408), bearer
authentication rejects requests without a valid token, the path is normalised (``/users/`` →
``/Users``; a client that came in through the ECMA host's root keeps it in the scope, so links
follow it), and a cached read (:mod:`mapper.scim.routes.reads`) is answered on the spot.
Everything else goes on to the router. Reads pay one set look-up for the audit log, one header
scan and the token comparisons, one path check and, when cached, no router at all: these steps
are one layer rather than four because each ASGI layer costs as much as the step it runs.
"""

from __future__ import annotations

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mapper.scim.audit import WRITE_METHODS, AuditMiddleware, AuditTrail
from mapper.scim.auth import BearerAuth
from mapper.scim.errors import request_timeout
from mapper.scim.metrics import Metrics
from mapper.scim.routes.normalise import CLIENT_ROOT_KEY, PathNormaliser
from mapper.scim.routes.reads import CachedReads


class BodyDeadline:
    """``receive`` for one request whose whole body must arrive within ``timeout`` seconds of the
    request reaching the app; past it, :func:`~mapper.scim.errors.request_timeout` (408, and the
    connection is closed) is raised where the handler reads the body. A total deadline, not one
    per chunk: a client trickling a byte a second must not hold a worker either. Once the body is
    complete, later calls (a wait for the disconnect) pass through untimed."""

    __slots__ = ("deadline", "done", "receive", "timeout")

    def __init__(self, receive: Receive, timeout: float) -> None:
        self.receive = receive
        self.timeout = timeout
        self.deadline = anyio.current_time() + timeout
        self.done = False

    async def __call__(self) -> Message:
        if self.done:
            return await self.receive()
        with anyio.move_on_after(self.deadline - anyio.current_time()) as waited:
            message = await self.receive()
        if waited.cancelled_caught:
            self.done = True
            raise request_timeout(f"the request body did not arrive within {self.timeout:g} seconds")
        if message["type"] != "http.request" or not message.get("more_body", False):
            self.done = True
        return message


class FrontDoor:
    def __init__(
        self,
        app: ASGIApp,
        *,
        auth: BearerAuth,
        paths: PathNormaliser,
        reads: CachedReads | None = None,
        body_timeout: float | None = None,
        metrics: Metrics | None = None,
        trail: AuditTrail | None = None,
    ) -> None:
        self.app = app
        self.auth = auth
        self.normalise = paths.normalise
        self.ecma_root = paths.ecma_root
        self.reads = reads
        self.body_timeout = body_timeout
        self.audited = AuditMiddleware(self.guarded, trail=trail)
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
        elif self.metrics is not None:  # times and counts the request (mapper.scim.metrics)
            await self.metrics.measured(self.dispatch, scope, receive, send)
        else:
            await self.dispatch(scope, receive, send)

    async def dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] in WRITE_METHODS:
            if self.body_timeout is not None:
                receive = BodyDeadline(receive, self.body_timeout)
            await self.audited(scope, receive, send)
        else:
            await self.guarded(scope, receive, send)

    async def guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Authentication, normalisation, then a cached read or the router (HTTP only)."""
        response = self.auth.rejection(scope)
        if response is None:
            path = scope["path"]
            if path[1:2] in ("e", "E"):  # the ECMA host's root: links in answers follow it
                root = self.ecma_root(path)
                if root is not None:
                    scope[CLIENT_ROOT_KEY] = root
            scope["path"] = self.normalise(path)
            if self.reads is not None:
                response = self.reads.answer(scope)
            if response is None:
                await self.app(scope, receive, send)
                return
        await response(scope, receive, send)
