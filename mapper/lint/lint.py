"""Lint mapping files: read, parse, check, compile, and optionally compare with a live database.

Every stage reports into one list; nothing stops at the first problem. Checks and the compiler
run only on a file that parsed. A file that cannot be read is not a lint finding but a failure
of the run (:class:`SourceFileError`, exit code 2 in the CLI).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from mapper.checks import check, position
from mapper.compiler import compile
from mapper.compiler.program import CHECKED_FIRST
from mapper.diagnostics import Diagnostic, Severity
from mapper.errors import MapperError
from mapper.language.parser import parse
from mapper.plan import Plan


class SourceFileError(MapperError):
    """A mapping file (or directory) could not be read."""


@dataclass(frozen=True)
class LintResult:
    path: str
    text: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    plan: Plan | None = None


def lint_text(text: str, path: str, write: str | None = None, db: str | None = None) -> LintResult:
    """Lint a mapping given as text. ``write`` overrides every source's dialect; ``db`` is a
    database URL to check tables and columns against (``mapper lint --db``)."""
    mapping, diagnostics = parse(text, path)
    plan: Plan | None = None
    if mapping is not None:
        checked = check(mapping)
        plan, compiled = compile(mapping, write=write)
        diagnostics = diagnostics + checked + [d for d in compiled if not _repeats(d, checked)]
        if db is not None:
            from mapper.lint.database import check_database  # needs a driver only when asked

            diagnostics += check_database(mapping, db, plan)
    return LintResult(path=path, text=text, diagnostics=_unique(diagnostics), plan=plan)


def lint_file(path: str | Path, write: str | None = None, db: str | None = None) -> list[Diagnostic]:
    """Every diagnostic for the mapping file at ``path``. Raises SourceFileError when unreadable."""
    return read_and_lint(path, write, db).diagnostics


def read_and_lint(path: str | Path, write: str | None = None, db: str | None = None) -> LintResult:
    return lint_text(read(path), str(path), write, db)


def read(path: str | Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise SourceFileError(f"{path}: cannot read: {reason}") from exc


def expand(paths: Iterable[str | Path]) -> list[Path]:
    """Files to lint: each file as given, and every ``*.map`` under each directory, sorted."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*.map") if f.is_file()))
        elif p.exists():
            out.append(p)
        else:
            raise SourceFileError(f"{p}: no such file or directory")
    return out


def lint_paths(
    paths: Iterable[str | Path], write: str | None = None, db: str | None = None
) -> list[LintResult]:
    return [read_and_lint(p, write, db) for p in expand(paths)]


def _repeats(compiled: Diagnostic, checked: list[Diagnostic]) -> bool:
    """Whether the compiler's diagnostic repeats, on the same lines, an error a check explained better."""
    if compiled.code not in CHECKED_FIRST:
        return False
    first, last = compiled.span.line, compiled.span.end_line
    return any(
        c.severity is Severity.ERROR and c.span.line <= last and first <= c.span.end_line for c in checked
    )


def _unique(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """Sorted by position, each (code, place) once: two stages may see the same problem."""
    seen: set[tuple[str, int, int]] = set()
    out: list[Diagnostic] = []
    for d in sorted(diagnostics, key=position):
        key = (d.code, d.span.line, d.span.col)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out
