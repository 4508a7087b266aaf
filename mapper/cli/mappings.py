"""The commands that read mapping files and print what they make of them: ``lint``, ``compile``,
``fmt`` and ``coherence-ddl``. Each goes through the one load pipeline (``mapper.pipeline``),
except ``fmt``, which needs only the parser."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mapper.checks.sources import DIALECTS
from mapper.cli.common import EXIT_ERRORS, EXIT_OK, Subparsers, fail, report
from mapper.diagnostics import has_errors
from mapper.lint import FORMATS, lint_paths, render
from mapper.lint.codes import explain
from mapper.pipeline import further_down, load_file, read
from mapper.plan import Plan

# lint -------------------------------------------------------------------------------------------


def register_lint(subparsers: Subparsers) -> None:
    p = subparsers.add_parser("lint", help="report every problem in mapping files")
    p.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="mapping files, or directories (the *.map files directly in each)",
    )
    p.add_argument("--format", choices=sorted(FORMATS), default="text", help="output format (default: text)")
    p.add_argument("--db", metavar="URL", help="also check tables and columns against this database")
    p.add_argument("--dialect", choices=DIALECTS, help="compile for this dialect instead of each source's")
    p.add_argument("--explain", metavar="CODE", help="explain a diagnostic code, e.g. MAP130")
    p.set_defaults(run=run_lint)


def run_lint(args: argparse.Namespace) -> int:
    if args.explain:
        text = explain(args.explain)
        if text is None:
            return fail(f"unknown code {args.explain!r}")
        print(text)
        return EXIT_OK
    if not args.paths:
        return fail("lint: give at least one PATH (or --explain CODE)")
    results = lint_paths(args.paths, write=args.dialect, db=args.db)
    for folder in (f for p in map(Path, args.paths) if p.is_dir() for f in further_down(p)):
        # not linted, as `mapper serve` of the directory does not serve them: said, not skipped silently
        print(
            f"mapper: lint: {folder}: not linted (a directory stands for its own *.map files); "
            "name it to lint it",
            file=sys.stderr,
        )
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


def compiled(file: str, dialect: str | None) -> Plan | None:
    """The plan of ``file`` (for ``dialect``, else each source's), after reporting its
    diagnostics; None when it has errors (the caller exits with ``EXIT_ERRORS``)."""
    result = load_file(file, write=dialect)
    report(result.diagnostics, {result.path: result.text})
    return result.plan if result.ok else None


def run_compile(args: argparse.Namespace) -> int:
    found = compiled(args.file, args.dialect)
    if found is None:
        return EXIT_ERRORS
    plan = found.model_dump_json(indent=2) + "\n"
    if args.output:
        try:
            Path(args.output).write_text(plan, encoding="utf-8")
        except OSError as exc:
            return fail(f"{args.output}: cannot write: {exc.strerror}")
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
            report(diagnostics, {file: text})
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

    found = compiled(args.file, args.dialect)
    if found is None:
        return EXIT_ERRORS
    for source in found.sources:
        try:
            sys.stdout.write(f"-- source {source.name} ({source.dialect})\n")
            sys.stdout.write(trigger_ddl(found, source.dialect, source.name))
        except ValueError as error:
            return fail(f"coherence-ddl: {error}")
    return EXIT_OK
