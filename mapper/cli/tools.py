"""The commands around the gateway: ``init`` (a mapping scaffolded from a live database),
``simulate`` (Entra's provisioning life cycle against a gateway) and ``lsp`` (the language
server for editors). Each imports its machinery only when run."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mapper.cli.common import EXIT_OK, Subparsers, fail

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
        return fail(f"init: {args.output} exists; pass --force to overwrite it")
    try:
        result = scaffold(args.from_db, args.schema, tuple(args.table))
    except ScaffoldError as error:
        return fail(f"init: {error}")
    for warning in result.warnings:
        print(f"mapper init: {warning}", file=sys.stderr)
    if not args.output:
        sys.stdout.write(result.text)
        return EXIT_OK
    try:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(result.text, encoding="utf-8")
    except OSError as exc:
        return fail(f"{args.output}: cannot write: {exc.strerror}")
    todo = f" ({result.fill_in} FILL IN to resolve)" if result.fill_in else ""
    print(
        f"mapper init: wrote {args.output}{todo}; review it, then: mapper lint {args.output} --db URL",
        file=sys.stderr,
    )
    return EXIT_OK


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
        return fail(f"simulate needs the {exc.name} package: pip install {exc.name}")
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
        return fail(f"lsp needs the {exc.name} package: pip install {exc.name}")
    serve_stdio(Options(db=args.db, live=not args.no_db))
    return EXIT_OK
