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
from mapper.pipeline import Loaded, SourceFileError, load_text, missing, ordered, read, served_together

#: One linted file: the pipeline's result, with the live schema's diagnostics when asked.
LintResult = Loaded


def lint_text(text: str, path: str, write: str | None = None, db: str | None = None) -> LintResult:
    """Lint a mapping given as text. ``write`` overrides every source's dialect; ``db`` is a
    database URL to check tables and columns against (``mapper lint --db``)."""
    loaded = load_text(text, path, write)
    if db is None or loaded.mapping is None:
        return loaded
    from mapper.lint.database import check_database  # needs a driver only when asked

    found = check_database(loaded.mapping, db, loaded.plan)
    return replace(loaded, diagnostics=ordered([*loaded.diagnostics, *found]))


def lint_file(path: str | Path, write: str | None = None, db: str | None = None) -> list[Diagnostic]:
    """Every diagnostic for the mapping file at ``path``. Raises SourceFileError when unreadable."""
    return read_and_lint(path, write, db).diagnostics


def read_and_lint(path: str | Path, write: str | None = None, db: str | None = None) -> LintResult:
    return lint_text(read(path), str(path), write, db)


def expand(paths: Iterable[str | Path]) -> list[Path]:
    """Files to lint: each file as given, and every ``*.map`` under each directory, sorted.
    A directory with no mapping file in it is a failure of the run, not a clean lint."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(f for f in p.rglob("*.map") if f.is_file())
            if not found:
                raise SourceFileError(f"{p}: no mapping files found (looked for *.map under it)")
            out.extend(found)
        elif p.exists():
            out.append(p)
        else:
            raise SourceFileError(missing(p))
    return out


def lint_paths(
    paths: Iterable[str | Path], write: str | None = None, db: str | None = None
) -> list[LintResult]:
    """Each file's lint. The files ``mapper serve`` would serve given the same paths (each file
    given, and the ``*.map`` files directly in each directory given) are served together, so each
    of them needs its own connector name (MAP118), wherever their folders; so do the files of one
    folder further down a directory given (what ``mapper serve`` of that folder serves)."""
    given = [Path(p) for p in paths]
    files = expand(given)
    results = [read_and_lint(p, write, db) for p in files]
    served = {p for p in given if not p.is_dir()} | {f for f in files if f.parent in given}
    groups: dict[Path | None, list[int]] = {}
    for index, file in enumerate(files):
        groups.setdefault(None if file in served else file.parent, []).append(index)
    for indexes in groups.values():
        for index, checked in zip(indexes, served_together([results[i] for i in indexes]), strict=True):
            results[index] = checked
    return results
