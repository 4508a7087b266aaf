"""Serving a compiled plan over HTTP(S) with uvicorn (uvloop and httptools when installed, no
access log), and what ``mapper serve`` does before that: logging, source URL checks and the
optional SQLite bootstrap. The command itself, with its arguments and exit codes, is in
``mapper/cli/serving.py``. Neither tokens nor database passwords are ever written to the log.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
import socket
import sqlite3
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from mapper.errors import MapperError
from mapper.plan import Plan
from mapper.scim.connections import guarded_protocol
from mapper.scim.logs import TEXT_FORMAT, TEXT_FORMAT_PROCESS, JsonFormatter, StderrHandler
from mapper.scim.settings import Settings, unknown_variables

if TYPE_CHECKING:
    from mapper.scim.connectors import Connector

__all__ = [
    "Build",
    "ListenError",
    "StartError",
    "bootstrap",
    "check_sources",
    "configure_logging",
    "fatal_message",
    "hub_app",
    "listen",
    "plan_app",
    "run",
    "run_connectors",
    "warn_unknown_variables",
]

log = logging.getLogger("mapper.scim")


def configure_logging(level: str, format: str = "text", *, process: bool = False) -> None:
    """One format for our loggers and uvicorn's, on stderr: text lines, or one JSON object per
    line (``format="json"``, :class:`~mapper.scim.logs.JsonFormatter`); the audit log is always
    on (INFO). ``process``: each line names its process (``--workers``)."""
    handler = StderrHandler()
    if format == "json":
        handler.setFormatter(JsonFormatter(process=process))
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT_PROCESS if process else TEXT_FORMAT))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    logging.getLogger("mapper.audit").setLevel(logging.INFO)
    # what no format above shows is not collected for each record (the Logging HOWTO's
    # "Optimization"): the caller's file, line and function, the thread's, process's and task's names;
    # the process id only where lines name it. The audit line pays for these on every write.
    logging._srcfile = None
    logging.logThreads = False
    logging.logMultiprocessing = False
    logging.logProcesses = process
    logging.logAsyncioTasks = False  # type: ignore[attr-defined]  # Python 3.12: the task's name


def warn_unknown_variables(environ: Mapping[str, str]) -> None:
    """A warning for each ``MAPPER_`` variable that names no option (a misspelt one is ignored)."""
    for variable, hint in unknown_variables(environ):
        log.warning("%s names no mapper serve option; ignored%s", variable, hint)


def check_sources(plan: Plan, environ: Mapping[str, str]) -> str | None:
    """A message when a source has no URL (its variable unset and no default), else None."""
    from mapper.runtime.database import resolve_url

    for source in plan.sources:
        try:
            resolve_url(source, environ)
        except MapperError as error:
            return f"mapper serve: {error}"
    return None


def bootstrap(plan: Plan, files: list[str], environ: Mapping[str, str]) -> str | None:
    """Create each SQLite source's database from ``files`` when its file does not exist yet.
    Returns a message when that cannot be done, else None."""
    from mapper.runtime.database import bootstrap_sqlite, redact, resolve_url

    missing = [f for f in files if not os.path.isfile(f)]
    if missing:
        return f"mapper serve: no such file: {', '.join(missing)}"
    sqlite_sources = [s for s in plan.sources if s.dialect == "sqlite"]
    if not sqlite_sources:
        return "mapper serve: --create-schema and --seed work with SQLite sources only"
    for source in sqlite_sources:
        try:
            url = resolve_url(source, environ)
            created = bootstrap_sqlite(url, files)
        except (MapperError, ValueError, OSError, sqlite3.Error) as error:
            # the message names the source, never the URL (it may hold a password)
            return f"mapper serve: cannot create the database of source {source.name}: {error}"
        if created:
            log.info("created database for source %s at %s", source.name, redact(url))
        else:
            log.info(
                "source %s: database %s exists; schema and seed files not applied", source.name, redact(url)
            )
    return None


class ListenError(MapperError):
    """The address cannot be listened on: in use, not this host's, or a privileged port."""


def listen(host: str, port: int) -> socket.socket:
    """A TCP socket listening on ``host``:``port``, opened before the first import so that a port
    in use fails the start at once, and so that the port answers (``/readyz``) while the import
    runs. Raises :class:`ListenError`."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn: not SO_REUSEPORT
        sock.bind((host, port))
        sock.listen(LISTEN_BACKLOG)
    except OSError as error:
        sock.close()
        raise ListenError(f"cannot listen on {host}:{port}: {error.strerror or error}") from error
    sock.set_inheritable(True)
    return sock


LISTEN_BACKLOG = 2048  # uvicorn's default


def run(plan: Plan, settings: Settings, sock: socket.socket) -> Exception | None:
    """Serve ``plan`` with ``settings`` on ``sock`` (from :func:`listen`) until interrupted.
    Returns the permanent error that stopped the start (a database that refuses the source as
    configured, an import query that does not fit the schema), or None after a clean stop."""
    scheme = "https" if settings.certfile else "http"
    host, port = sock.getsockname()[:2]
    labels = ", ".join(c.label for c in settings.credentials) or "none"
    log.info(
        "serving %s at %s://%s:%d%s (clients: %s)%s",
        settings.mapping[0] if settings.mapping else None,
        scheme,
        f"[{host}]" if ":" in host else host,
        port,
        settings.base_path,
        labels,
        _workers(settings),
    )
    settings = settings.model_copy(update={"freeze_cache": True})  # this process serves alone
    return _serve(functools.partial(plan_app, plan, settings), settings, sock)


def run_connectors(connectors: list[Connector], settings: Settings, sock: socket.socket) -> Exception | None:
    """Serve several connectors (:mod:`mapper.scim.connectors`) on ``sock`` until interrupted.
    A connector that cannot start is logged and stays unready; returns an error only when none
    could start, else None after a clean stop."""
    scheme = "https" if settings.certfile else "http"
    host, port = sock.getsockname()[:2]
    root = f"{scheme}://{f'[{host}]' if ':' in host else host}:{port}"
    for connector in connectors:
        labels = ", ".join(c.label for c in connector.credentials) or "none"
        log.info(
            "connector %s: serving %s at %s%s and %s/ecma2host_%s/scim (clients: %s)%s",
            connector.name,
            connector.path,
            root,
            connector.base_path,
            root,
            connector.name,
            labels,
            _workers(settings),
        )
    settings = settings.model_copy(update={"freeze_cache": True})  # this process serves alone
    return _serve(functools.partial(hub_app, connectors, settings), settings, sock)


def _workers(settings: Settings) -> str:
    return f" with {settings.workers} worker processes" if settings.workers > 1 else ""


class StartError(MapperError):
    """A permanent start error, described for the one line ``mapper serve`` exits with (URLs
    without their passwords): what :func:`plan_app` and :func:`hub_app` stop the server with."""


#: ``build(stop)``: the app to serve, which calls ``stop(error)`` with a :class:`StartError`
#: when it cannot start. A ``functools.partial`` of :func:`plan_app` or :func:`hub_app`, so that
#: it pickles to the workers of ``--workers``.
Build = Callable[[Callable[[Exception], None]], Any]


def plan_app(plan: Plan, settings: Settings, stop: Callable[[Exception], None]) -> Any:
    """The app of one mapping, started in the background (:func:`mapper.scim.app.build_app`)."""
    from mapper.scim.app import build_app

    def fatal(error: Exception) -> None:
        stop(StartError(describe_fatal(error, plan, settings.environ)))

    return build_app(plan, settings, on_fatal=fatal)


def hub_app(connectors: list[Connector], settings: Settings, stop: Callable[[Exception], None]) -> Any:
    """The hub of several connectors (:func:`mapper.scim.connectors.build_hub`): one that cannot
    start is logged; the server stops when none could."""
    from mapper.scim.connectors import build_hub

    plans = {connector.name: connector.plan for connector in connectors}

    def failed(name: str, error: Exception) -> None:
        log.error("connector %s cannot start: %s", name, describe_fatal(error, plans[name], settings.environ))
        if hub.fail(name, error):
            stop(StartError("no connector could start (each is named in the log)"))

    hub = build_hub(connectors, settings, failed)
    return hub


def _serve(build: Build, settings: Settings, sock: socket.socket) -> Exception | None:
    """Run the app ``build(stop)`` makes on ``sock``, in this process or in ``settings.workers``
    worker processes (:mod:`mapper.scim.workers`); ``stop(error)`` ends the server, and the
    error is returned."""
    if settings.workers > 1:
        from mapper.scim.workers import run_workers

        return run_workers(build, settings, sock)
    import uvicorn

    fatal: list[Exception] = []
    server: uvicorn.Server | None = None

    def stop(error: Exception) -> None:
        fatal.append(error)
        if server is not None:
            server.should_exit = True

    port = sock.getsockname()[1]
    config = uvicorn.Config(build(stop), **{**uvicorn_options(settings), "port": port})
    server = uvicorn.Server(config)
    server.run(sockets=[sock])
    return fatal[0] if fatal else None


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's settings (one process, or each worker of several)."""
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return {
        "host": settings.host,
        "port": settings.port,
        "loop": "uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        "http": guarded_protocol(http, settings.header_timeout, settings.max_header_bytes),
        "timeout_keep_alive": max(1, round(settings.keep_alive_timeout)),
        "limit_concurrency": settings.max_connections,
        "h11_max_incomplete_event_size": settings.max_header_bytes,
        "access_log": False,
        "log_config": None,
        "log_level": settings.log_level,
        "ssl_certfile": settings.certfile,
        "ssl_keyfile": settings.keyfile,
        "server_header": False,
    }


def fatal_message(error: Exception) -> str:
    """The one line ``mapper serve`` exits with after a permanent start error."""
    return f"mapper serve: {error}; not serving"


def describe_fatal(error: Exception, plan: Plan, environ: Mapping[str, str]) -> str:
    """A permanent start error: which database (its URL without the password), what is wrong,
    and the server's own words."""
    from mapper.runtime.database import redact, resolve_url
    from mapper.runtime.errors import DatabaseConfigError

    if isinstance(error, DatabaseConfigError):
        source = next((s for s in plan.sources if s.name == error.source), None)
        where = f" ({redact(resolve_url(source, environ))})" if source is not None else ""
        detail = f": {error.detail}" if error.detail else ""
        return f"database {error.source}{where}: {error.reason}{detail}"
    return str(error)
