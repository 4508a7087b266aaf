"""The SCIM application: :func:`build_app` assembles it explicitly from a plan and settings.

    Starlette(routes=[...], middleware=[...], exception_handlers={...}, lifespan=...)

One middleware, the front door (:mod:`mapper.scim.front`), outside Starlette's own stack
(:class:`ScimApp`): the metrics, the audit log (writes only, including those refused a token),
bearer authentication (rejects before anything else runs), path normalisation (``/users/`` →
``/Users``), the cached-read fast path and the resource routes' direct calls. The lifespan owns the
runtime: it creates the :class:`~mapper.runtime.gateway.Gateway`, launches its first full import
(in the background under a server: see :func:`build_app`), hands it to the handlers as
``request.state.gateway``, and stops it (autosync, probe, pools) on shutdown. The operator's
routes (``/``, ``/metrics``, ``/status``) come after the SCIM ones. There is no global state: two
apps built from two plans are independent, down to their metrics registries.
"""

from __future__ import annotations

import gc
import logging
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import PurePath
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from mapper.plan import Plan
from mapper.runtime.database import Timeouts
from mapper.runtime.gateway import Gateway
from mapper.scim.audit import AuditTrail
from mapper.scim.auth import BearerAuth
from mapper.scim.front import FrontDoor
from mapper.scim.metrics import Metrics
from mapper.scim.requestcount import RouteTemplates
from mapper.scim.routes import ALIASES, build_routes, resource_endpoints, segments
from mapper.scim.routes.direct import DirectRoutes
from mapper.scim.routes.exceptions import exception_handlers
from mapper.scim.routes.normalise import PathNormaliser
from mapper.scim.routes.operator import MetricsEndpoint, OperatorGuard
from mapper.scim.routes.reads import CachedReads
from mapper.scim.routes.root import Root
from mapper.scim.routes.status import Connector, StatusPage
from mapper.scim.settings import Settings

log = logging.getLogger("mapper.scim")
#: Seconds a thread holds the GIL while another waits for it (CPython's default is 0.005): worker
#: threads render pages and evaluate filters, and the event loop must not wait behind them.
SWITCH_INTERVAL = 0.001


def freeze_cache() -> None:
    """After a full import, in ``mapper serve`` (``Settings.freeze_cache``): every object alive
    now, the records just imported above all, moves to the cyclic collector's permanent
    generation (:func:`gc.freeze`). The collector tracks each record (a slotted object), so at 1M
    users every full collection walked a million objects (about 0.4 s with the event loop
    stopped), and each of the first collections after an import walked them once more; frozen,
    they are never walked again, and reference counting still frees them when a re-import
    replaces them. The price: a reference cycle that is already garbage at this moment (made
    while the import paused the collector) is never collected."""
    gc.freeze()


def freeze_written() -> None:
    """After each delta import, in ``mapper serve`` (``Settings.freeze_cache``): a full collection,
    then :func:`gc.freeze` again. The records the writes made since the last freeze (a POST's, a
    PATCH's new record, a delta's) were outside the permanent generation, and every full
    collection walked all of them: under writes such a collection ran every five seconds or so
    (the objects of requests in flight, promoted as they pass the young collections, keep the
    collector's quarter-of-the-survivors test met), each longer than the one before (1M users on
    PostgreSQL, POSTs: 4 ms of CPU after 5k POSTs, 22 ms after 30k, the event loop stopped
    meanwhile; docs/performance.md, round thirteen). The collection first frees what is garbage
    now, cycles included, so only live objects are frozen; it walks only what was made since the
    last freeze."""
    gc.collect()
    gc.freeze()


INSECURE_WARNING = (
    "AUTHENTICATION IS DISABLED (--insecure-no-auth): anyone who can reach this port can read and "
    "change every user and group. Never run like this outside a development machine."
)


class ScimApp(Starlette):
    """Starlette with its middleware, the front door, outside Starlette's own stack rather than
    inside its ``ServerErrorMiddleware``: what the front door answers itself (a 401, a cached
    read, a resource route called directly) passes no layer and no ``send`` wrapper but its own,
    and it answers its own errors as that middleware would (a bug: the last resort's SCIM 500,
    then raised for the server's log). The router's answers still pass Starlette's whole stack."""

    def build_middleware_stack(self) -> ASGIApp:
        middleware, self.user_middleware = self.user_middleware, []
        try:
            app = super().build_middleware_stack()
        finally:
            self.user_middleware = middleware
        for cls, args, kwargs in reversed(middleware):
            app = cls(app, *args, **kwargs)
        return app


def build_app(
    plan: Plan,
    settings: Settings | None = None,
    *,
    cached_reads: bool = True,
    direct_routes: bool = True,
    on_fatal: Callable[[Exception], None] | None = None,
) -> ScimApp:
    """The SCIM 2.0 app serving ``plan``. ``cached_reads=False`` leaves out the read fast path
    (:mod:`mapper.scim.routes.reads`) and ``direct_routes=False`` the front door's direct calls
    of the resource routes (:mod:`mapper.scim.routes.direct`), so tests can compare their answers
    with the router's.

    With ``on_fatal`` (a server), the lifespan launches the gateway and returns at once: the first
    import runs in the background (``/readyz`` 503 with its progress, resource requests 503) and a
    permanent start error is handed to ``on_fatal``. Without it (in-process users), the lifespan
    awaits the first import's first try, and a permanent error fails the start."""
    settings = settings or Settings()
    endpoints = resource_endpoints(plan, settings)
    paths = PathNormaliser(settings.base_path, segments(plan), ALIASES)
    templates = RouteTemplates(settings.base_path, segments(plan), OPERATOR_ROUTES, paths.normalise)
    metrics = Metrics(connector_name(plan, settings), templates.route)
    trail = AuditTrail(AUDIT_TRAIL_SIZE)
    routes = [*build_routes(plan, settings, endpoints), *operator_routes(plan, settings, metrics, trail)]
    handlers = exception_handlers()
    direct = DirectRoutes(routes, settings.base_path, handlers)
    front = Middleware(
        FrontDoor,
        auth=BearerAuth(settings.credentials, insecure=settings.insecure_no_auth),
        paths=paths,
        reads=CachedReads(endpoints, settings.base_path) if cached_reads else None,
        body_timeout=settings.body_timeout,
        metrics=metrics,
        trail=trail,
        direct=direct if direct_routes else None,
    )
    app = ScimApp(
        routes=routes,
        middleware=[front],
        exception_handlers=handlers,
        lifespan=_lifespan(plan, settings, metrics, on_fatal),
    )
    direct.router = app.router
    # what a hub of several connectors shows at its own /metrics and /status (mapper.scim.connectors)
    app.state.status = Connector(connector_name(plan, settings), plan, settings.base_path, trail, metrics)
    return app


#: The last writes the status page shows.
AUDIT_TRAIL_SIZE = 50
#: The paths outside the SCIM root, as route templates for the metrics.
OPERATOR_ROUTES = ("/", "/healthz", "/readyz", "/metrics", "/status")


def connector_name(plan: Plan, settings: Settings | None = None) -> str:
    """The connector's name: the one the hub gives it, else the one its file declares, else its
    mapping file's name without the extension (``hr.map``: ``hr``)."""
    if settings is not None and settings.connector:
        return settings.connector
    return plan.connector or PurePath(plan.mapping).stem or "mapping"


def operator_routes(plan: Plan, settings: Settings, metrics: Metrics, trail: AuditTrail) -> list[BaseRoute]:
    """``/`` (what this is; no token), ``/metrics`` (a SCIM or a metrics token) and ``/status``
    (a SCIM token, Bearer or Basic)."""
    name = connector_name(plan, settings)
    insecure = settings.insecure_no_auth
    scrapers = OperatorGuard((*settings.credentials, *settings.metrics_credentials), insecure=insecure)
    operators = OperatorGuard(settings.credentials, insecure=insecure, basic=True, realm="mapper status")
    status = StatusPage([Connector(name, plan, settings.base_path, trail, metrics)], operators)
    # a connector of several answers its own readiness at /{name}/readyz (mapper.scim.connectors)
    readiness = f"/{settings.connector}/readyz" if settings.connector else "/readyz"
    return [
        Route("/", Root([(name, settings.base_path)], readiness).serve, methods=["GET"]),
        Route("/metrics", MetricsEndpoint(metrics, scrapers).serve, methods=["GET"]),
        Route("/status", status.serve, methods=["GET"]),
    ]


def _lifespan(
    plan: Plan, settings: Settings, metrics: Metrics, on_fatal: Callable[[Exception], None] | None
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
            ("lock", settings.lock_timeout),
            ("sync", settings.sync_timeout),
            ("pool", settings.pool_timeout),
        )
        if value is not None
    }
    if bounds:
        intervals["timeouts"] = Timeouts(**bounds)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        # a worker thread rendering a page gives the event loop the GIL back within 1 ms, not 5
        sys.setswitchinterval(SWITCH_INTERVAL)
        if settings.insecure_no_auth:
            log.warning(INSECURE_WARNING)
        gateway = Gateway(
            plan,
            environ=settings.environ,
            autosync=settings.autosync,
            coherence=settings.coherence,
            name=settings.connector,
            **intervals,
        )
        if settings.freeze_cache:
            gateway.after_full_import = freeze_cache
            gateway.after_delta_import = freeze_written
        async with metrics.watching(gateway):
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
