"""Several connectors in one gateway: ``mapper serve mappings/`` (a directory of ``*.map`` files)
or several mapping files. Each mapping is a connector of its own, named as its file declares
(``connector "payroll"``) or else after its file (``payroll.map`` is ``payroll``), as the ECMA
Connector Host runs one connector per application:

- its own app (:func:`mapper.scim.app.build_app`), so its own gateway: database pools, cache,
  autosync, reconnect probe;
- its own tokens: ``MAPPER_TOKEN_<NAME>`` (the name in capitals, other characters as ``_``), so a
  token of one connector does not open another; the tokens of ``MAPPER_TOKEN``/``--token-file``
  open every connector (an operator's token, when one is wanted at all);
- its own roots: ``/{name}/scim/v2`` and the ECMA host's ``/ecma2host_{name}/scim``, and its own
  readiness at ``/{name}/readyz``.

:class:`Hub` is the ASGI app in front of them: it sends each request to its connector's app with
that app's lifespan state (its gateway), and answers ``/healthz`` and ``/readyz`` (every
connector's readiness) itself. A connector that cannot start (its database refuses the
configuration) is reported and stays unready; the others serve on, and the process exits only
when no connector is left.

``mapper serve FILE`` with one file is not a hub: it keeps ``/scim/v2``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from mapper.errors import MapperError
from mapper.plan import CONNECTOR_NAME, CONNECTOR_NAME_RULE, Plan
from mapper.scim.responses import JsonResponse
from mapper.scim.routes.exceptions import exception_handlers
from mapper.scim.routes.health import RETRY_AFTER, healthz
from mapper.scim.tokens import Credential

log = logging.getLogger("mapper.scim")

#: a connector's own paths outside its SCIM roots: ``/{name}/readyz`` is its app's ``/readyz``
OWN_PATHS = frozenset({"/readyz", "/healthz", "/metrics", "/status", "/"})


class ConnectorError(MapperError):
    """Mapping paths that do not make a set of connectors (no file, two files of one name)."""


@dataclass(frozen=True)
class Connector:
    """One mapping served as a connector: its name, file, plan and tokens."""

    name: str
    path: str
    plan: Plan
    credentials: tuple[Credential, ...]

    @property
    def base_path(self) -> str:
        return f"/{self.name}/scim/v2"


def connector_name(plan: Plan) -> str:
    """The connector ``plan`` is served as: its declared name (checked by MAP117), else its file
    name without ``.map``, which must then fit a URL path segment too."""
    name = plan.connector_name
    if not CONNECTOR_NAME.fullmatch(name):
        raise ConnectorError(
            f"{plan.mapping}: its file name {name!r} cannot name a connector ({CONNECTOR_NAME_RULE}); "
            'declare a name in the file: connector "NAME"'
        )
    return name


def token_variable(name: str) -> str:
    """The variable that holds the tokens of connector ``name``: ``MAPPER_TOKEN_<NAME>``."""
    return "MAPPER_TOKEN_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def connector_tokens(name: str, environ: Mapping[str, str]) -> tuple[str, ...]:
    raw = environ.get(token_variable(name), "")
    return tuple(item.strip() for item in raw.split(",") if item.strip())


class Hub:
    """The ASGI app in front of several connectors' apps (see the module's docstring).
    ``on_fatal(name, error)`` is told of a connector that cannot start; it returns whether every
    connector has now failed (then the server stops)."""

    def __init__(self, apps: Mapping[str, Starlette], settings: Any = None) -> None:
        self.apps = dict(apps)
        self.states: dict[str, dict[str, Any]] = {}
        self.failed: dict[str, Exception] = {}
        self.roots: list[tuple[str, str]] = []  # (folded path prefix, connector name)
        for name in self.apps:
            self.roots.append((f"/{name}/".casefold(), name))
            self.roots.append((f"/ecma2host_{name}/scim".casefold(), name))
        self.top = Starlette(
            routes=[
                Route("/healthz", healthz, methods=["GET"]),
                Route("/readyz", self.readyz, methods=["GET"]),
                *self._operator_routes(settings),
            ],
            exception_handlers=exception_handlers(),  # a path of no connector: a SCIM 404
            lifespan=self._lifespan,
        )

    def _operator_routes(self, settings: Any) -> list[Route]:
        """``/``, ``/metrics`` and ``/status`` over every connector (mapper.scim.routes.operator):
        opened by the tokens every connector shares (``MAPPER_TOKEN``), and ``/metrics`` by the
        metrics tokens; a connector's own tokens open its own ``/{name}/metrics`` and ``/status``."""
        from mapper.scim.routes.operator import HubMetrics, OperatorGuard
        from mapper.scim.routes.root import Root
        from mapper.scim.routes.status import StatusPage

        shared = tuple(getattr(settings, "credentials", ()))
        metrics_only = tuple(getattr(settings, "metrics_credentials", ()))
        insecure = bool(getattr(settings, "insecure_no_auth", False))
        parts = [app.state.status for app in self.apps.values()]
        scrapers = OperatorGuard((*shared, *metrics_only), insecure=insecure)
        operators = OperatorGuard(shared, insecure=insecure, basic=True, realm="mapper status")

        def metrics() -> list[tuple[Any, Any]]:
            return [(part.metrics, self.gateway(part.name)) for part in parts]

        return [
            Route("/", Root([(part.name, part.base_path) for part in parts]).serve, methods=["GET"]),
            Route("/metrics", HubMetrics(metrics, scrapers).serve, methods=["GET"]),
            Route("/status", StatusPage(parts, operators, self.gateway).serve, methods=["GET"]),
        ]

    def gateway(self, name: str) -> Any:
        """Connector ``name``'s gateway, None while it starts."""
        return self.states.get(name, {}).get("gateway")

    def connector_of(self, path: str) -> tuple[str | None, str]:
        """The connector a request path belongs to, and the path its app sees (``/{name}/readyz``
        becomes that app's ``/readyz``); (None, path) for the hub's own paths."""
        folded = path.casefold()
        for prefix, name in self.roots:
            if folded.startswith(prefix) and (
                prefix.endswith("/") or len(folded) == len(prefix) or folded[len(prefix)] == "/"
            ):
                rest = path[len(prefix) - 1 :] if prefix.endswith("/") else path
                return name, rest if rest in OWN_PATHS else path
        return None, path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            name, path = self.connector_of(scope["path"])
            if name is not None:
                scope = {**scope, "path": path, "state": dict(self.states.get(name, {}))}
                await self.apps[name](scope, receive, send)
                return
        await self.top(scope, receive, send)

    @asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            for name, child in self.apps.items():
                state = await stack.enter_async_context(child.router.lifespan_context(child))
                self.states[name] = dict(state or {})
            yield

    async def readyz(self, request: Request) -> Response:
        """Every connector's readiness: 200 when all are ready, else 503 (each connector's own is
        at ``/{name}/readyz``: one connector down does not make the others unready)."""
        connectors: dict[str, Any] = {}
        for name in self.apps:
            gateway = self.states.get(name, {}).get("gateway")
            if gateway is None:
                connectors[name] = {"ready": False, "phase": "starting"}
                continue
            health = gateway.health()
            entry = {"ready": bool(health["ready"]), "phase": health["phase"], "objects": health["objects"]}
            if name in self.failed:
                entry["reason"] = f"cannot start: {self.failed[name]}"
            connectors[name] = entry
        ready = all(entry["ready"] for entry in connectors.values())
        body = {"ready": ready, "connectors": connectors}
        return JsonResponse(body) if ready else JsonResponse(body, status_code=503, headers=RETRY_AFTER)

    def fail(self, name: str, error: Exception) -> bool:
        """Record that connector ``name`` cannot start; whether none is left serving."""
        self.failed[name] = error
        return len(self.failed) == len(self.apps)


def build_hub(
    connectors: Iterable[Connector],
    settings: Any,
    on_fatal: Callable[[str, Exception], None],
) -> Hub:
    """The hub serving ``connectors``, each with ``settings`` but its own root and tokens."""
    from mapper.scim.app import build_app

    apps = {}
    for connector in connectors:
        own = settings.model_copy(
            update={
                "base_path": connector.base_path,
                "credentials": connector.credentials,
                "connector": connector.name,
            }
        )
        apps[connector.name] = build_app(connector.plan, own, on_fatal=_told(on_fatal, connector.name))
    return Hub(apps, settings)


def _told(on_fatal: Callable[[str, Exception], None], name: str) -> Callable[[Exception], None]:
    def fatal(error: Exception) -> None:
        on_fatal(name, error)

    return fatal
