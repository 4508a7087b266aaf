"""``mapper serve``: load a mapping, optionally create a SQLite database for it, and serve it over
HTTP(S) with uvicorn (uvloop and httptools when installed, no access log).

The CLI wires it in two lines (its ``register`` convention)::

    from mapper.scim.server import register_serve
    COMMANDS = (..., register_serve)

Exit codes: 0 after a clean shutdown, 1 when the mapping has errors, 2 for usage and I/O problems
(no token configured, unreadable token file, TLS half-configured, a bootstrap file missing).
Neither tokens nor database passwords are ever written to the log.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import sqlite3
import sys
from collections.abc import Mapping
from typing import Any

from mapper.errors import MapperError, MappingError
from mapper.plan import Plan
from mapper.scim.auth import Credential, TokenConfigError, load_credentials
from mapper.scim.settings import ServeOptions, Settings, add_serve_arguments, options_from_args

__all__ = [
    "EXIT_ERRORS",
    "EXIT_OK",
    "EXIT_USAGE",
    "add_serve_arguments",
    "register_serve",
    "run_serve",
    "serve",
]

EXIT_OK = 0
EXIT_ERRORS = 1
EXIT_USAGE = 2

log = logging.getLogger("mapper.scim")

MISSING_CREDENTIALS = (
    "mapper serve: no bearer token configured. Set MAPPER_TOKEN (comma-separated, optionally "
    "label:token) or pass --token-file FILE; use --insecure-no-auth only on a development machine."
)


def run_serve(args: argparse.Namespace) -> int:
    """``mapper serve`` from parsed arguments (see :func:`add_serve_arguments`)."""
    return serve(options_from_args(args))


def serve(options: ServeOptions, environ: Mapping[str, str] | None = None) -> int:
    """Serve ``options.mapping`` until interrupted; returns the process exit code."""
    env = dict(os.environ if environ is None else environ)
    configure_logging(options.log_level)
    try:
        credentials = load_credentials(options.tokens, options.token_file)
    except TokenConfigError as error:
        return _fail(str(error), EXIT_USAGE)
    if not credentials and not options.insecure_no_auth:
        return _fail(MISSING_CREDENTIALS, EXIT_USAGE)
    if bool(options.certfile) != bool(options.keyfile):
        return _fail("mapper serve: TLS needs both --certfile and --keyfile", EXIT_USAGE)
    plan = _load(options)
    if isinstance(plan, int):
        return plan
    problem = check_sources(plan, env)
    if problem:
        return _fail(problem, EXIT_USAGE)
    if options.create_schema or options.seed:
        problem = bootstrap(plan, [*options.create_schema, *options.seed], env)
        if problem:
            return _fail(problem, EXIT_USAGE)
    settings = Settings(
        base_path=options.base_path,
        credentials=credentials,
        insecure_no_auth=options.insecure_no_auth,
        max_body_bytes=options.max_body_bytes,
        max_results=options.max_results,
        environ=env,
        delta_interval=options.delta_interval,
        full_interval=options.full_interval,
    )
    _run(plan, settings, options, credentials)
    return EXIT_OK


def configure_logging(level: str) -> None:
    """One format for our loggers and uvicorn's; the audit log is always on (INFO)."""
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("mapper.audit").setLevel(logging.INFO)


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


def _load(options: ServeOptions) -> Plan | int:
    """The compiled plan, or the exit code after saying why there is none."""
    from mapper.compiler import load

    try:
        return load(options.mapping, write=options.dialect)
    except MappingError as error:
        for diagnostic in error.diagnostics:
            print(diagnostic, file=sys.stderr)
        print(f"mapper serve: {options.mapping} has errors; not serving it", file=sys.stderr)
        return EXIT_ERRORS
    except OSError as error:
        return _fail(f"mapper serve: cannot read {options.mapping}: {error.strerror or error}", EXIT_USAGE)


def _run(plan: Plan, settings: Settings, options: ServeOptions, credentials: tuple[Credential, ...]) -> None:
    import uvicorn

    from mapper.scim.app import build_app

    scheme = "https" if options.certfile else "http"
    labels = ", ".join(c.label for c in credentials) or "none"
    log.info(
        "serving %s at %s://%s:%d%s (clients: %s)",
        options.mapping,
        scheme,
        options.host,
        options.port,
        settings.base_path,
        labels,
    )
    uvicorn.run(
        build_app(plan, settings),
        host=options.host,
        port=options.port,
        loop="uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        http="httptools" if importlib.util.find_spec("httptools") else "h11",
        access_log=False,
        log_config=None,
        log_level=options.log_level,
        ssl_certfile=options.certfile,
        ssl_keyfile=options.keyfile,
        server_header=False,
    )


def _fail(message: str, code: int) -> int:
    print(message, file=sys.stderr)
    return code


def register_serve(subparsers: Any) -> None:
    """Add ``mapper serve`` to the CLI's sub-parsers (the CLI's ``COMMANDS`` convention)."""
    parser = subparsers.add_parser("serve", help="serve a mapping as a SCIM 2.0 API")
    add_serve_arguments(parser)
    parser.set_defaults(run=run_serve)
