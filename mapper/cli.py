"""The ``mapper`` command line: a thin layer over the library.

Each subcommand is a ``register`` function that adds its parser and sets ``run``; ``COMMANDS``
lists them. ``lint``, ``compile``, ``serve`` and ``simulate`` read a mapping through the one load
pipeline, ``mapper.pipeline``. Exit codes: ``EXIT_OK`` (0) clean, ``EXIT_ERRORS`` (1) problems
found, ``EXIT_USAGE`` (2) bad usage or an I/O failure; ``serve`` adds its own (``EXIT_LISTEN``,
``EXIT_DATABASE``...), all listed in docs/gateway.md.

The gateway's modules (Starlette, uvicorn, database drivers) are imported only by the commands
that need them, so ``mapper lint`` runs with no driver and no server.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mapper.checks.sources import DIALECTS
from mapper.diagnostics import Diagnostic, has_errors
from mapper.errors import MapperError, MappingError
from mapper.lint import FORMATS, lint_paths, render
from mapper.lint.codes import explain
from mapper.lint.render import tool_version
from mapper.pipeline import SourceFileError, load, load_all, load_file, read

if TYPE_CHECKING:
    from mapper.plan import Plan
    from mapper.scim.connectors import Connector
    from mapper.scim.settings import Settings
    from mapper.scim.tokens import Credential

EXIT_OK = 0
EXIT_ERRORS = 1
EXIT_USAGE = 2
EXIT_STARTUP = 3  # uvicorn's own STARTUP_FAILURE: the app's start failed otherwise (see the log)
EXIT_LISTEN = 4  # serve: the port cannot be listened on (in use, not this host's address)
EXIT_DATABASE = 5  # serve: a database refuses the configuration, or the import query its schema
EXIT_INTERRUPTED = 130  # serve: stopped by Ctrl-C (SIGINT), after a clean shutdown

Subparsers = Any  # argparse's _SubParsersAction, which is private
Register = Callable[[Subparsers], None]


def _fail(message: str) -> int:
    print(f"mapper: {message}", file=sys.stderr)
    return EXIT_USAGE


def _report(diagnostics: Sequence[Diagnostic], sources: dict[str, str]) -> None:
    """Diagnostics on stderr in text form, for commands whose stdout is their product."""
    if diagnostics:
        sys.stderr.write(render(diagnostics, "text", sources))


# lint -------------------------------------------------------------------------------------------


def register_lint(subparsers: Subparsers) -> None:
    p = subparsers.add_parser("lint", help="report every problem in mapping files")
    p.add_argument("paths", nargs="*", metavar="PATH", help="mapping files, or directories of *.map files")
    p.add_argument("--format", choices=sorted(FORMATS), default="text", help="output format (default: text)")
    p.add_argument("--db", metavar="URL", help="also check tables and columns against this database")
    p.add_argument("--dialect", choices=DIALECTS, help="compile for this dialect instead of each source's")
    p.add_argument("--explain", metavar="CODE", help="explain a diagnostic code, e.g. MAP130")
    p.set_defaults(run=run_lint)


def run_lint(args: argparse.Namespace) -> int:
    if args.explain:
        text = explain(args.explain)
        if text is None:
            return _fail(f"unknown code {args.explain!r}")
        print(text)
        return EXIT_OK
    if not args.paths:
        return _fail("lint: give at least one PATH (or --explain CODE)")
    results = lint_paths(args.paths, write=args.dialect, db=args.db)
    diagnostics = [d for r in results for d in r.diagnostics]
    sys.stdout.write(render(diagnostics, args.format, {r.path: r.text for r in results}))
    return EXIT_ERRORS if has_errors(diagnostics) else EXIT_OK


# compile ----------------------------------------------------------------------------------------


def register_compile(subparsers: Subparsers) -> None:
    p = subparsers.add_parser("compile", help="compile a mapping file to its plan (JSON)")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--dialect", choices=DIALECTS, help="compile for this dialect instead of each source's")
    p.add_argument("-o", "--output", metavar="PLAN_JSON", help="write the plan here instead of stdout")
    p.set_defaults(run=run_compile)


def run_compile(args: argparse.Namespace) -> int:
    result = load_file(args.file, write=args.dialect)
    _report(result.diagnostics, {result.path: result.text})
    if not result.ok or result.plan is None:
        return EXIT_ERRORS
    plan = result.plan.model_dump_json(indent=2) + "\n"
    if args.output:
        try:
            Path(args.output).write_text(plan, encoding="utf-8")
        except OSError as exc:
            return _fail(f"{args.output}: cannot write: {exc.strerror}")
    else:
        sys.stdout.write(plan)
    return EXIT_OK


# fmt --------------------------------------------------------------------------------------------


def register_fmt(subparsers: Subparsers) -> None:
    p = subparsers.add_parser("fmt", help="print mapping files in the canonical layout")
    p.add_argument("files", nargs="+", metavar="FILE")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="list files that would change; exit 1 if any")
    mode.add_argument("--write", action="store_true", help="rewrite files in place")
    p.set_defaults(run=run_fmt)


def run_fmt(args: argparse.Namespace) -> int:
    from mapper.language.fmt import format_mapping
    from mapper.language.parser import parse

    status = EXIT_OK
    for file in args.files:
        text = read(file)
        mapping, diagnostics = parse(text, file)
        if mapping is None or has_errors(diagnostics):
            # A model can come with errors (a duplicate item keeps only its first copy);
            # formatting it would silently drop the rest of the file's text.
            _report(diagnostics, {file: text})
            status = EXIT_ERRORS
            continue
        formatted = format_mapping(mapping)
        if args.check:
            if formatted != text:
                print(f"would reformat: {file}")
                status = EXIT_ERRORS
        elif args.write:
            if formatted != text:
                Path(file).write_text(formatted, encoding="utf-8")
                print(f"reformatted: {file}", file=sys.stderr)
        else:
            sys.stdout.write(formatted)
    return status


# init -------------------------------------------------------------------------------------------


def register_init(subparsers: Subparsers) -> None:
    p = subparsers.add_parser("init", help="scaffold a mapping from a live database")
    p.add_argument(
        "--from-db", required=True, metavar="URL", help="the database to read (SQLite, PostgreSQL, MariaDB)"
    )
    p.add_argument("--schema", metavar="S", help="read this schema (PostgreSQL) or database (MariaDB)")
    p.add_argument(
        "--table",
        nargs="+",
        default=[],
        metavar="T",
        help="consider only these tables (name the membership and child tables too)",
    )
    p.add_argument("-o", "--output", metavar="FILE", help="write the mapping here instead of stdout")
    p.add_argument("--force", action="store_true", help="overwrite FILE when it exists")
    p.set_defaults(run=run_init)


def run_init(args: argparse.Namespace) -> int:
    from mapper.scaffold import ScaffoldError, scaffold

    if args.output and Path(args.output).exists() and not args.force:
        return _fail(f"init: {args.output} exists; pass --force to overwrite it")
    try:
        result = scaffold(args.from_db, args.schema, tuple(args.table))
    except ScaffoldError as error:
        return _fail(f"init: {error}")
    for warning in result.warnings:
        print(f"mapper init: {warning}", file=sys.stderr)
    if not args.output:
        sys.stdout.write(result.text)
        return EXIT_OK
    try:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(result.text, encoding="utf-8")
    except OSError as exc:
        return _fail(f"{args.output}: cannot write: {exc.strerror}")
    todo = f" ({result.fill_in} FILL IN to resolve)" if result.fill_in else ""
    print(
        f"mapper init: wrote {args.output}{todo}; review it, then: mapper lint {args.output} --db URL",
        file=sys.stderr,
    )
    return EXIT_OK


# serve ------------------------------------------------------------------------------------------


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


def _checked_plan(mapping: str, settings: Settings) -> Plan | int:
    """The compiled plan of ``mapping`` with its sources' URLs and coherence mode checked, or the
    exit code after saying why there is none."""
    plan = _serve_plan(mapping, settings.dialect)
    if isinstance(plan, int):
        return plan
    problem = _source_problem(plan, settings)
    if problem:
        return _say(problem, EXIT_USAGE)
    return plan


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
        mapping_files,
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
        connectors.append(Connector(name, file, plan, (*own, *shared)))
    return connectors


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


# simulate ---------------------------------------------------------------------------------------


def register_simulate(subparsers: Subparsers) -> None:
    from mapper.simulate.options import add_simulate_arguments

    p = subparsers.add_parser("simulate", help="replay Entra's provisioning life cycle against a gateway")
    add_simulate_arguments(p)
    p.set_defaults(run=run_simulate)


def run_simulate(args: argparse.Namespace) -> int:
    try:
        from mapper.simulate.runner import run_from_args
    except ModuleNotFoundError as exc:  # httpx comes with the [dev] extra
        return _fail(f"simulate needs the {exc.name} package: pip install {exc.name}")
    return run_from_args(args)


# lsp --------------------------------------------------------------------------------------------


def register_lsp(subparsers: Subparsers) -> None:
    p = subparsers.add_parser("lsp", help="serve the Language Server Protocol on stdio (for editors)")
    p.add_argument(
        "--stdio", action="store_true", help="accepted for editors that pass it (stdio is the only transport)"
    )
    database = p.add_mutually_exclusive_group()
    database.add_argument(
        "--db", metavar="URL", help="check every document against this database instead of its source's"
    )
    database.add_argument("--no-db", action="store_true", help="never connect to a database")
    p.set_defaults(run=run_lsp)


def run_lsp(args: argparse.Namespace) -> int:
    try:
        from mapper.lsp.server import Options, serve_stdio
    except ModuleNotFoundError as exc:
        return _fail(f"lsp needs the {exc.name} package: pip install {exc.name}")
    serve_stdio(Options(db=args.db, live=not args.no_db))
    return EXIT_OK


# coherence-ddl ----------------------------------------------------------------------------------


def register_coherence_ddl(subparsers: Subparsers) -> None:
    p = subparsers.add_parser(
        "coherence-ddl",
        help="print triggers that announce other applications' writes to every gateway process",
    )
    p.add_argument("file", metavar="FILE")
    p.add_argument("--dialect", choices=("postgres", "sqlite", "mysql"), help="instead of each source's")
    p.set_defaults(run=run_coherence_ddl)


def run_coherence_ddl(args: argparse.Namespace) -> int:
    from mapper.runtime.coherence.triggers import trigger_ddl

    result = load_file(args.file, write=args.dialect)
    _report(result.diagnostics, {result.path: result.text})
    if not result.ok or result.plan is None:
        return EXIT_ERRORS
    for source in result.plan.sources:
        try:
            sys.stdout.write(f"-- source {source.name} ({source.dialect})\n")
            sys.stdout.write(trigger_ddl(result.plan, source.dialect, source.name))
        except ValueError as error:
            return _fail(f"coherence-ddl: {error}")
    return EXIT_OK


# entry point ------------------------------------------------------------------------------------

COMMANDS: tuple[Register, ...] = (
    register_lint,
    register_compile,
    register_fmt,
    register_init,
    register_serve,
    register_simulate,
    register_lsp,
    register_coherence_ddl,
)


def build_parser(commands: Sequence[Register] = COMMANDS) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mapper",
        description="A SCIM 2.0 provisioning gateway for SQL databases, driven by a mapping file.",
    )
    parser.add_argument("-V", "--version", action="version", version=f"%(prog)s {tool_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for register in commands:
        register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except MapperError as exc:
        return _fail(str(exc))
    return code


if __name__ == "__main__":
    sys.exit(main())
