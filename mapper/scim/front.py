"""The front door: what every request meets before the router, as one ASGI middleware.

In order: the audit log wraps writes (so a write refused a token is logged too), bearer
authentication rejects requests without a valid token, the path is normalised (``/users/`` →
``/Users``), and a cached read (:mod:`mapper.scim.routes.reads`) is answered on the spot.
Everything else goes on to the router. Reads pay one set look-up for the audit log, one header
scan and the token comparisons, one path check and, when cached, no router at all: these steps
are one layer rather than four because each ASGI layer costs as much as the step it runs.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from mapper.scim.audit import WRITE_METHODS, AuditMiddleware
from mapper.scim.auth import BearerAuth
from mapper.scim.routes.normalise import PathNormaliser
from mapper.scim.routes.reads import CachedReads


class FrontDoor:
    def __init__(
        self, app: ASGIApp, *, auth: BearerAuth, paths: PathNormaliser, reads: CachedReads | None = None
    ) -> None:
        self.app = app
        self.auth = auth
        self.normalise = paths.normalise
        self.reads = reads
        self.audited = AuditMiddleware(self.guarded)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
        elif scope["method"] in WRITE_METHODS:
            await self.audited(scope, receive, send)
        else:
            await self.guarded(scope, receive, send)

    async def guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Authentication, normalisation, then a cached read or the router (HTTP only)."""
        response = self.auth.rejection(scope)
        if response is None:
            scope["path"] = self.normalise(scope["path"])
            if self.reads is not None:
                response = self.reads.answer(scope)
            if response is None:
                await self.app(scope, receive, send)
                return
        await response(scope, receive, send)
