"""The front door: what every request meets first, as one ASGI layer outside Starlette's own
stack (:class:`mapper.scim.app.ScimApp`).

On the way in: a write's body gets a deadline (read with it by
:func:`~mapper.scim.routes.requests.read_json`: a client that sends it too slowly gets 408),
bearer authentication rejects requests without a valid token, the path is normalised
(``/users/`` → ``/Users``; a client that came in through the ECMA host's root keeps it in the
scope, so links follow it), and a cached read (:mod:`mapper.scim.routes.reads`) is answered on the
spot. A resource route (``/Users``, ``/Users/{id}``, ``/Users/.search``) is called directly
(:mod:`mapper.scim.routes.direct`: the route, the exception handlers and the answer the router
would give, without its layers); everything else goes on to Starlette's router. A bug in what the
door answers itself gets the last resort's SCIM 500 and is raised for the server's log, as
Starlette's ``ServerErrorMiddleware`` does for the router's. On the way out, in one place (the
``finally`` of :meth:`FrontDoor.__call__`, with the answer's status and error body, read from the
response or, for the router's, from what one ``send`` wrapper saw): the audit log writes a
write's line (:mod:`mapper.scim.audit`; a write refused a token is logged too), then the metrics
count the request (:mod:`mapper.scim.metrics`). Reads pay one set look-up for the audit log, one
header scan and the token comparisons, one path check and, when cached, no router at all: these
steps are one layer rather than several because each ASGI layer costs as much as the step it runs.
"""

from __future__ import annotations

import time

import anyio
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mapper.scim.audit import WRITE_METHODS, AuditLog, AuditTrail
from mapper.scim.auth import BearerAuth
from mapper.scim.connections import BODY_COMPLETE_KEY
from mapper.scim.metrics import Metrics
from mapper.scim.routes.direct import DirectRoutes
from mapper.scim.routes.exceptions import last_resort
from mapper.scim.routes.normalise import CLIENT_ROOT_KEY, PathNormaliser
from mapper.scim.routes.reads import CachedReads
from mapper.scim.routes.requests import BODY_DEADLINE_KEY


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
        direct: DirectRoutes | None = None,
    ) -> None:
        self.app = app
        self.direct = direct
        self.auth = auth
        self.normalise = paths.normalise
        self.ecma_root = paths.ecma_root
        self.reads = reads
        self.body_timeout = body_timeout
        self.audit = AuditLog(trail=trail)
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        write = scope["method"] in WRITE_METHODS
        counted = write or self.metrics is not None  # else nothing to do on the way out
        started = time.perf_counter()
        if write and self.body_timeout is not None and BODY_COMPLETE_KEY not in scope:
            # the whole body, from now (see read_json); none when it came with the headers
            scope[BODY_DEADLINE_KEY] = (anyio.current_time() + self.body_timeout, self.body_timeout)
        status = 500  # an exception escaping the app is a 500
        error_body = b""  # the metrics count a 4xx by its body's scimType
        try:
            try:  # an answer given here: at the door, or by a resource route called directly
                response = self.at_door(scope)
                if response is None and self.direct is not None:
                    response = await self.direct.call(scope, receive, send)
            except Exception as exc:  # a bug: the last resort's 500, then raised for the server's log
                await (await last_resort(Request(scope), exc))(scope, receive, send)
                raise
            if response is not None:  # its status and body are known, no send to watch
                await response(scope, receive, send)
                status = response.status_code
                if status >= 400:
                    error_body = bytes(response.body)
            elif not counted:
                await self.app(scope, receive, send)
            else:  # the router's answer (Starlette's own stack, its ServerErrorMiddleware included)

                async def answer(message: Message) -> None:
                    nonlocal status, error_body
                    if message["type"] == "http.response.start":
                        status = message["status"]
                    elif status >= 400 and not error_body and message["type"] == "http.response.body":
                        error_body = message.get("body", b"")
                    await send(message)

                await self.app(scope, receive, answer)
        finally:
            if counted:  # the way out: a write's audit line, then the request's metrics
                seconds = time.perf_counter() - started
                if write:
                    self.audit.write(scope, status, seconds)
                if self.metrics is not None:
                    self.metrics.observe(scope["path"], scope["method"], status, seconds, error_body)

    def at_door(self, scope: Scope) -> Response | None:
        """Authentication and normalisation, then the answer given at the door: a 401, or a cached
        read; None when the router answers."""
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
        return response
