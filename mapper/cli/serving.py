"""``mapper serve``: the options (``mapper.scim.settings``), the checks made before anything
listens, and the exit codes of every way it ends (docs/gateway.md, "Start-up and exit codes").
One mapping file is served at ``/scim/v2``; several (a directory, or several files) as
connectors (``mapper.scim.connectors``). The gateway's modules are imported only when it runs."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from mapper.cli.common import (
    EXIT_DATABASE,
    EXIT_ERRORS,
    EXIT_INTERRUPTED,
    EXIT_LISTEN,
    EXIT_OK,
    EXIT_USAGE,
    Subparsers,
)
from mapper.errors import MappingError
from mapper.pipeline import SourceFileError, load, load_all, mapping_files

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping
    from types import FrameType
    from typing import Any

    from mapper.plan import Plan
    from mapper.scim.connectors import Connector
    from mapper.scim.settings import Settings
    from mapper.scim.tokens import Credential


def register_serve(subparsers: Subparsers) -> None:
    from mapper.scim.settings import add_serve_arguments

    p = subparsers.add_parser("serve", help="serve a mapping as a SCIM 2.0 API")
    add_serve_arguments(p)
    p.set_defaults(run=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    from mapper.scim.settings import SettingsError, settings_from_args

    try:
        settings = settings_from_args(args)
    except SettingsError as error:
        return _say(f"mapper serve: {error}", EXIT_USAGE)
    return serve(settings)


MISSING_CREDENTIALS = (
    "mapper serve: no bearer token configured. Set MAPPER_TOKEN (comma-separated, optionally "
    "label:token) or pass --token-file FILE; use --insecure-no-auth only on a development machine."
)


def serve(settings: Settings) -> int:
    """Serve ``settings.mapping`` until interrupted; returns the process exit code (every one is
    in docs/gateway.md): 0 after a clean shutdown, 1 when the mapping has errors, 2 for usage and
    I/O problems (no mapping or no token configured, a bad option value, unreadable token file,
    TLS half-configured, a bootstrap file missing), 4 when the port cannot be listened on (before
    any import), 5 when a database refuses the source as configured or the import query does not
    fit its schema (at the first import; outages are retried instead), 130 after Ctrl-C."""
    from mapper.scim import server
    from mapper.scim.tokens import TokenConfigError, load_credentials

    server.configure_logging(settings.log_level, settings.log_format, process=settings.workers > 1)
    server.warn_unknown_variables(settings.environ)
    if not settings.mapping:
        return _say("mapper serve: give the MAPPING file to serve (or set MAPPER_MAPPING)", EXIT_USAGE)
    try:
        credentials = load_credentials(settings.tokens, settings.token_file)
        metrics_credentials = load_credentials(settings.metrics_tokens, settings.metrics_token_file)
    except TokenConfigError as error:
        return _say(str(error), EXIT_USAGE)
    if bool(settings.certfile) != bool(settings.keyfile):
        return _say("mapper serve: TLS needs both --certfile and --keyfile", EXIT_USAGE)
    if settings.certfile and settings.keyfile:
        problem = _tls_problem(settings.certfile, settings.keyfile)
        if problem:
            return _say(problem, EXIT_USAGE)
    several = len(settings.mapping) > 1 or Path(settings.mapping[0]).is_dir()
    connectors: list[Connector] = []
    if several:
        found = _connectors(settings, credentials)
        if isinstance(found, int):
            return found
        connectors = found
        plans = [connector.plan for connector in connectors]
    else:
        if not credentials and not settings.insecure_no_auth:
            return _say(MISSING_CREDENTIALS, EXIT_USAGE)
        plan = _checked_plan(settings.mapping[0], settings)
        if isinstance(plan, int):
            return plan
        plans = [plan]
    try:
        sock = server.listen(settings.host, settings.port)
    except server.ListenError as error:
        return _say(f"mapper serve: {error}", EXIT_LISTEN)
    with sock:
        if settings.create_schema or settings.seed:
            # each connector with a SQLite source (the others have nothing to create)
            sqlite = [each for each in plans if any(s.dialect == "sqlite" for s in each.sources)]
            for each in sqlite or plans[:1]:
                problem = server.bootstrap(each, [*settings.create_schema, *settings.seed], settings.environ)
                if problem:
                    return _say(problem, EXIT_USAGE)
        try:
            with _interruptible():
                if several:
                    # the tokens every connector shares open the hub's own /metrics and /status
                    shared = settings.model_copy(
                        update={"credentials": credentials, "metrics_credentials": metrics_credentials}
                    )
                    fatal = server.run_connectors(connectors, shared, sock)
                else:
                    own = {"credentials": credentials, "metrics_credentials": metrics_credentials}
                    fatal = server.run(plans[0], settings.model_copy(update=own), sock)
        except KeyboardInterrupt:  # uvicorn stopped cleanly, then re-raised the SIGINT it caught
            return EXIT_INTERRUPTED
    if fatal is not None:
        return _say(server.fatal_message(fatal), EXIT_DATABASE)
    return EXIT_OK


#: What a stopping signal ignored when the process started does while the server runs: what it
#: does by default (SIGINT raises ``KeyboardInterrupt``: exit 130; SIGTERM ends the process: 143)
_STOPPING: dict[signal.Signals, Callable[[int, FrameType | None], Any] | int] = {
    signal.SIGINT: signal.default_int_handler,
    signal.SIGTERM: signal.SIG_DFL,
}


@contextlib.contextmanager
def _interruptible() -> Iterator[None]:
    """SIGINT and SIGTERM end the process as they do by default while the server runs, also in a
    process started with them ignored (SIGINT: a job a non-interactive shell runs in the
    background; SIGTERM: a parent's ``trap '' TERM``, a supervisor that ignores it). uvicorn stops
    on either way (it installs its own handlers), drains, then raises the signal again under the
    handler it found, to end as the signal says: an ignored one was swallowed, and the process
    exited 0 where it means 130 or 143, a stop a supervisor reads as the server ending of its own
    accord."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    ignored = [sig for sig in _STOPPING if signal.getsignal(sig) is signal.SIG_IGN]
    for sig in ignored:
        signal.signal(sig, _STOPPING[sig])
    try:
        yield
    finally:
        for sig in ignored:
            signal.signal(sig, signal.SIG_IGN)


def _tls_problem(certfile: str, keyfile: str) -> str | None:
    """Why the certificate and key cannot serve TLS, found before the port and the import (uvicorn
    would only find it after both, with a traceback): a file missing or unreadable, or not a PEM
    certificate with its matching key."""
    import ssl

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    asked: list[bool] = []

    def password() -> bytes:  # never OpenSSL's prompt on the terminal: a service has none
        asked.append(True)
        return b""

    try:
        context.load_cert_chain(certfile, keyfile, password)
    except OSError as error:
        if asked:
            return f"mapper serve: TLS: --keyfile {keyfile} is encrypted; give the key unencrypted"
        if isinstance(error, ssl.SSLError):
            reason = error.reason or "not a PEM certificate and its key"
            return (
                f"mapper serve: TLS: --certfile {certfile} and --keyfile {keyfile} are not a PEM "
                f"certificate and its matching unencrypted key ({reason})"
            )
        return f"mapper serve: TLS: cannot read {error.filename or certfile}: {error.strerror or error}"
    return None


def _checked_plan(mapping: str, settings: Settings) -> Plan | int:
    """The compiled plan of ``mapping`` with its sources' URLs and coherence mode checked, or the
    exit code after saying why there is none."""
    plan = _serve_plan(mapping, settings.dialect)
    if isinstance(plan, int):
        return plan
    problem = _source_problem(plan, settings)
    if problem:
        return _say(problem, EXIT_USAGE)
    return _for_urls(plan, mapping, settings)


def _source_problem(plan: Plan, settings: Settings) -> str | None:
    """Why ``plan``'s sources cannot be served: a URL unset, or a coherence mode they lack."""
    from mapper.runtime.coherence import check_mode
    from mapper.scim import server

    return server.check_sources(plan, settings.environ) or check_mode(
        settings.coherence, (s.dialect for s in plan.sources)
    )


def _connectors(settings: Settings, shared: tuple[Credential, ...]) -> list[Connector] | int:
    """Each mapping of ``settings.mapping`` as a connector with its own tokens (``shared`` ones,
    from ``MAPPER_TOKEN`` and ``--token-file``, open every connector), or the exit code."""
    from mapper.scim.connectors import (
        Connector,
        ConnectorError,
        connector_name,
        connector_tokens,
        token_variable,
    )
    from mapper.scim.tokens import TokenConfigError, parse_credentials

    try:
        files = mapping_files(settings.mapping)
        plans = load_all(files, write=settings.dialect)
        names = [connector_name(plan) for plan in plans]
    except ConnectorError as error:
        return _say(f"mapper serve: {error}", EXIT_USAGE)
    except MappingError as error:
        for diagnostic in error.diagnostics:
            print(diagnostic, file=sys.stderr)
        return _say("mapper serve: the mappings have errors; not serving them", EXIT_ERRORS)
    except SourceFileError as error:
        return _say(f"mapper serve: {error}", EXIT_USAGE)
    connectors = []
    for name, file, plan in zip(names, files, plans, strict=True):
        problem = _source_problem(plan, settings)
        if problem:
            return _say(problem, EXIT_USAGE)
        recompiled = _for_urls(plan, str(file), settings)
        if isinstance(recompiled, int):
            return recompiled
        plan = recompiled
        try:
            own = parse_credentials(connector_tokens(name, settings.environ))
        except TokenConfigError as error:
            return _say(f"mapper serve: {token_variable(name)}: {error}", EXIT_USAGE)
        if not own and not shared and not settings.insecure_no_auth:
            return _say(
                f"mapper serve: connector {name} has no bearer token: set {token_variable(name)} "
                "(comma-separated, optionally label:token), or MAPPER_TOKEN for every connector",
                EXIT_USAGE,
            )
        connectors.append(Connector(name, str(file), plan, (*own, *shared)))
    return connectors


def url_dialect(plan: Plan, environ: Mapping[str, str]) -> str | None:
    """The dialect the sources' URLs name, when they all name one and it is not what a source is
    compiled for (a mapping written for SQLite, served on PostgreSQL); else None. A URL that is
    unset or names no database we compile for is left to the source checks."""
    from mapper.plan import dialect_of
    from mapper.runtime.database import engine_url
    from mapper.runtime.urls import resolve_url

    named = set()
    for source in plan.sources:
        try:
            named.add(dialect_of(engine_url(resolve_url(source, environ)).get_backend_name()))
        except Exception:  # noqa: BLE001 - an unset or malformed URL: the source checks say why
            return None
    if len(named) != 1:
        return None
    (dialect,) = named
    if dialect is None or all(source.dialect == dialect for source in plan.sources):
        return None
    return dialect


def _for_urls(plan: Plan, file: str, settings: Settings) -> Plan | int:
    """``plan`` compiled again for the database its sources' URLs name, when ``--dialect`` was
    not given and that is not what the mapping says (its SQL is still read in its own dialect).
    Without this, a mapping whose source says ``dialect sqlite`` ran SQLite's statements on the
    PostgreSQL or MariaDB its URL named: plain SQL mostly works, and what differs (locking reads,
    case folding, quoting) did so unseen."""
    if settings.dialect is not None:
        return plan
    dialect = url_dialect(plan, settings.environ)
    if dialect is None:
        return plan
    log.warning(
        "%s: its sources are written for %s but their URLs name a %s database: compiled for %s "
        "(--dialect chooses)",
        file,
        "/".join(sorted({s.dialect for s in plan.sources})),
        dialect,
        dialect,
    )
    return _serve_plan(file, dialect)


def _serve_plan(mapping: str, dialect: str | None) -> Plan | int:
    """The compiled plan, or the exit code after saying why there is none."""
    try:
        return load(mapping, write=dialect)
    except MappingError as error:
        for diagnostic in error.diagnostics:
            print(diagnostic, file=sys.stderr)
        return _say(f"mapper serve: {mapping} has errors; not serving it", EXIT_ERRORS)
    except SourceFileError as error:
        return _say(f"mapper serve: {error}", EXIT_USAGE)


def _say(message: str, code: int) -> int:
    """``message`` on stderr, as a JSON log line when ``serve --log-format json`` set logging up
    (a log pipeline then parses every line), and ``code``."""
    from mapper.scim.logs import JsonFormatter

    if any(isinstance(h.formatter, JsonFormatter) for h in logging.getLogger().handlers):
        logging.getLogger("mapper.cli").critical(message)
    else:
        print(message, file=sys.stderr)
    return code
