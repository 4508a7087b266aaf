"""Serving a compiled plan over HTTP(S) with uvicorn (uvloop and httptools when installed, no
access log), and what ``mapper serve`` does before that: logging, source URL checks and the
optional SQLite bootstrap. The command itself, with its arguments and exit codes, is in
``mapper/cli.py``. Neither tokens nor database passwords are ever written to the log.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sqlite3
import sys
from collections.abc import Mapping
from typing import Any

from mapper.errors import MapperError
from mapper.plan import Plan
from mapper.scim.connections import guarded_protocol
from mapper.scim.logs import JsonFormatter
from mapper.scim.settings import Settings, unknown_variables

__all__ = ["bootstrap", "check_sources", "configure_logging", "run", "warn_unknown_variables"]

log = logging.getLogger("mapper.scim")

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
TEXT_FORMAT_PROCESS = "%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s"



def configure_logging(level: str, format: str = "text", *, process: bool = False) -> None:
    """One format for our loggers and uvicorn's, on stderr: text lines, or one JSON object per
    line (``format="json"``, :class:`~mapper.scim.logs.JsonFormatter`); the audit log is always
    on (INFO). ``process``: each line names its process (``--workers``)."""
    handler = logging.StreamHandler(sys.stderr)
    if format == "json":
        handler.setFormatter(JsonFormatter(process=process))
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT_PROCESS if process else TEXT_FORMAT))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    logging.getLogger("mapper.audit").setLevel(logging.INFO)


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


def run(plan: Plan, settings: Settings) -> None:
    """Serve ``plan`` with ``settings`` on their host and port until interrupted."""
    import uvicorn

    from mapper.scim.app import build_app

    scheme = "https" if settings.certfile else "http"
    labels = ", ".join(c.label for c in settings.credentials) or "none"
    log.info(
        "serving %s at %s://%s:%d%s (clients: %s)%s",
        settings.mapping,
        scheme,
        settings.host,
        settings.port,
        settings.base_path,
        labels,
        f" with {settings.workers} worker processes" if settings.workers > 1 else "",
    )
    if settings.workers > 1:
        from mapper.scim.workers import run_workers

        run_workers(plan, settings)
        return
    uvicorn.run(build_app(plan, settings), **uvicorn_options(settings))


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
