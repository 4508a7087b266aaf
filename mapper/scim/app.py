"""The SCIM application: :func:`build_app` assembles it explicitly from a plan and settings.

    Starlette(routes=[...], middleware=[...], exception_handlers={...}, lifespan=...)

One middleware, the front door (:mod:`mapper.scim.front`): the audit log (writes only, including
those refused a token), bearer authentication (rejects before anything else runs), path
normalisation (``/users/`` → ``/Users``) and the cached-read fast path. The lifespan owns the
runtime: it creates the :class:`~mapper.runtime.gateway.Gateway`, launches its first full import
(in the background under a server: see :func:`build_app`), hands it to the handlers as
``request.state.gateway``, and stops it (autosync, probe, pools) on shutdown.
There is no global state: two apps built from two plans are independent.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware

from mapper.plan import Plan
from mapper.runtime.database import Timeouts
from mapper.runtime.gateway import Gateway
from mapper.scim.auth import BearerAuth
from mapper.scim.front import FrontDoor
from mapper.scim.routes import ALIASES, build_routes, resource_endpoints, segments
from mapper.scim.routes.exceptions import exception_handlers
from mapper.scim.routes.normalise import PathNormaliser
from mapper.scim.routes.reads import CachedReads
from mapper.scim.settings import Settings

log = logging.getLogger("mapper.scim")

INSECURE_WARNING = (
    "AUTHENTICATION IS DISABLED (--insecure-no-auth): anyone who can reach this port can read and "
    "change every user and group. Never run like this outside a development machine."
)


def build_app(
    plan: Plan,
    settings: Settings | None = None,
    *,
    cached_reads: bool = True,
    on_fatal: Callable[[Exception], None] | None = None,
) -> Starlette:
    """The SCIM 2.0 app serving ``plan``. ``cached_reads=False`` leaves out the read fast path
    (:mod:`mapper.scim.routes.reads`), so tests can compare its answers with the router's.

    With ``on_fatal`` (a server), the lifespan launches the gateway and returns at once: the first
    import runs in the background (``/readyz`` 503 with its progress, resource requests 503) and a
    permanent start error is handed to ``on_fatal``. Without it (in-process users), the lifespan
    awaits the first import's first try, and a permanent error fails the start."""
    settings = settings or Settings()
    endpoints = resource_endpoints(plan, settings)
    front = Middleware(
        FrontDoor,
        auth=BearerAuth(settings.credentials, insecure=settings.insecure_no_auth),
        paths=PathNormaliser(settings.base_path, segments(plan), ALIASES),
        reads=CachedReads(endpoints, settings.base_path) if cached_reads else None,
        body_timeout=settings.body_timeout,
    )
    return Starlette(
        routes=build_routes(plan, settings, endpoints),
        middleware=[front],
        exception_handlers=exception_handlers(),
        lifespan=_lifespan(plan, settings, on_fatal),
    )


def _lifespan(
    plan: Plan, settings: Settings, on_fatal: Callable[[Exception], None] | None
) -> Callable[[Starlette], AbstractAsyncContextManager[Any]]:
    intervals: dict[str, Any] = {}
    if settings.delta_interval is not None:
        intervals["delta_interval"] = settings.delta_interval
    if settings.full_interval is not None:
        intervals["full_interval"] = settings.full_interval
    bounds = {
        name: value
        for name, value in (
            ("connect", settings.connect_timeout),
            ("statement", settings.statement_timeout),
            ("sync", settings.sync_timeout),
            ("pool", settings.pool_timeout),
        )
        if value is not None
    }
    if bounds:
        intervals["timeouts"] = Timeouts(**bounds)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        if settings.insecure_no_auth:
            log.warning(INSECURE_WARNING)
        gateway = Gateway(
            plan,
            environ=settings.environ,
            autosync=settings.autosync,
            coherence=settings.coherence,
            **intervals,
        )
        try:
            if on_fatal is None:
                await gateway.start()
            else:
                gateway.launch(on_fatal)
        except BaseException:
            await gateway.stop()
            raise
        try:
            yield {"gateway": gateway}
        finally:
            await gateway.stop()

    return lifespan
