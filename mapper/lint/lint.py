"""Lint mapping files: the load pipeline (``mapper.pipeline``: read, parse, check, compile) and,
with a database URL, the live schema checks.

Every stage reports into one list; nothing stops at the first problem. A file that cannot be read,
or a path with no mapping file in it, is not a lint finding but a failure of the run
(:class:`SourceFileError`, exit code 2 in the CLI).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from mapper.diagnostics import Diagnostic
from mapper.pipeline import (
    Loaded,
    SourceFileError,  # noqa: F401 - re-exported by mapper.lint
    load_text,
    mapping_files,
    ordered,
    read,
    served_together,
)

#: One linted file: the pipeline's result, with the live schema's diagnostics when asked.
LintResult = Loaded


def lint_text(text: str, path: str, write: str | None = None, db: str | None = None) -> LintResult:
    """Lint a mapping given as text. ``write`` overrides every source's dialect; ``db`` is a
    database URL to check tables and columns against (``mapper lint --db``)."""
    loaded = load_text(text, path, write)
    if db is None or loaded.mapping is None:
        return loaded
    from mapper.lint.database import merged, run_checks  # needs a driver only when asked

    # the database proved every statement: a set rule's column the import does not select is
    # checked there (MAP302 when the table lacks it), so "not checked here" (MAP240) is no finding
    checked = run_checks(loaded.mapping, db, loaded.plan)
    return replace(loaded, diagnostics=ordered(merged(loaded.diagnostics, checked)))


def lint_file(path: str | Path, write: str | None = None, db: str | None = None) -> list[Diagnostic]:
    """Every diagnostic for the mapping file at ``path``. Raises SourceFileError when unreadable."""
    return read_and_lint(path, write, db).diagnostics


def read_and_lint(path: str | Path, write: str | None = None, db: str | None = None) -> LintResult:
    return lint_text(read(path), str(path), write, db)


def lint_paths(
    paths: Iterable[str | Path], write: str | None = None, db: str | None = None
) -> list[LintResult]:
    """Each file's lint, of the files ``mapper serve`` would serve given the same paths
    (:func:`~mapper.pipeline.mapping_files`: each file given, and the ``*.map`` files directly in
    each directory given), checked together as served together: each needs its own connector
    name (MAP118), wherever their folders."""
    files = mapping_files(paths)
    return served_together([read_and_lint(p, write, db) for p in files])
