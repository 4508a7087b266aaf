"""The one load pipeline: read → parse → check → compile. ``mapper lint``, ``compile``, ``serve``
and ``simulate`` all go through it, so a mapping means the same to each of them.

It sits above both the checks and the compiler, which know nothing of each other; the linter and
the CLI sit above it. Every stage reports into one list and nothing stops at the first problem;
checks and the compiler run only on a file that parsed. Where the compiler and a check see the
same problem, the check's (better) diagnostic is kept (``CHECKED_FIRST``), and the list comes out
sorted by position with each (code, place) once.

- ``load_text(text, path, write=None) -> Loaded``: never raises for a problem in the mapping;
- ``load_file(path, write=None) -> Loaded``: the same for a file (``SourceFileError`` when unreadable);
- ``load(path, write=None) -> Plan``: the plan, or ``MappingError`` carrying every diagnostic
  when any is an error;
- ``served_together(results)``: files served (or linted) together, each with its own connector
  name (MAP118 on a file whose name an earlier one has); ``load_all(paths, write=None)`` loads
  such files, as ``load`` does one;
- ``mapping_files(paths)``: the files a list of paths given to ``lint`` or ``serve`` stands for.

``write`` overrides every source's dialect (``UnknownDialectError`` when it names none).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from mapper.checks import check, position
from mapper.checks.connector import check_served_together
from mapper.compiler import codes as compiler_codes
from mapper.compiler import compile
from mapper.diagnostics import Diagnostic, Severity, has_errors
from mapper.errors import MapperError, MappingError
from mapper.language.model import MappingFile
from mapper.language.parser import parse
from mapper.plan import Plan

#: The compiler's codes for problems the checks report first and better: the compiler's copy is
#: dropped when a check reported an error on the same lines.
CHECKED_FIRST = frozenset(
    c.code
    for c in (
        compiler_codes.UNMAPPABLE_PATH,
        compiler_codes.INCOMPLETE_OBJECT,
        compiler_codes.DEPROVISION_WITHOUT_STATEMENT,
        compiler_codes.QUERY_NOT_MAPPED,
    )
)


class SourceFileError(MapperError):
    """A mapping file (or directory) could not be read."""


@dataclass(frozen=True)
class Loaded:
    """One file through the pipeline: its text, its model (None when it did not parse), the
    compiler's plan (None when the compiler found an error; a check's error leaves it, for the
    live schema checks) and every diagnostic, sorted by position. ``ok``: no error at all."""

    path: str
    text: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    plan: Plan | None = None
    mapping: MappingFile | None = None

    @property
    def ok(self) -> bool:
        return self.plan is not None and not has_errors(self.diagnostics)


def missing(path: str | Path) -> str:
    """The one wording of a mapping path that does not exist (every command, exit code 2)."""
    return f"{path}: no such file or directory"


def read(path: str | Path) -> str:
    """The text of the mapping file at ``path``; ``SourceFileError`` when it cannot be read."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as exc:  # worded as ``mapper lint`` words a path it cannot find
        raise SourceFileError(missing(path)) from exc
    except IsADirectoryError as exc:
        raise SourceFileError(f"{path}: is a directory, not a mapping file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise SourceFileError(f"{path}: cannot read: {reason}") from exc


def load_text(text: str, path: str, write: str | None = None) -> Loaded:
    """Parse, check and compile a mapping given as text."""
    mapping, diagnostics = parse(text, path)
    if mapping is None:
        return Loaded(path=path, text=text, diagnostics=ordered(diagnostics))
    checked = check(mapping)
    plan, compiled = compile(mapping, write=write)
    diagnostics = [*diagnostics, *checked, *(d for d in compiled if not _repeats(d, checked))]
    return Loaded(path=path, text=text, diagnostics=ordered(diagnostics), plan=plan, mapping=mapping)


def load_file(path: str | Path, write: str | None = None) -> Loaded:
    """``load_text`` on the file at ``path``; ``SourceFileError`` when it cannot be read."""
    return load_text(read(path), str(path), write)


def load(path: str | Path, write: str | None = None) -> Plan:
    """The plan of the mapping file at ``path``. Raises ``MappingError`` carrying every
    diagnostic when any is an error, and ``SourceFileError`` when the file cannot be read."""
    loaded = load_file(path, write)
    if loaded.plan is None or not loaded.ok:
        raise MappingError(loaded.diagnostics)
    return loaded.plan


def mapping_files(paths: Iterable[str | Path]) -> list[Path]:
    """The files ``paths`` stand for, to ``mapper lint`` and ``mapper serve`` alike: each file as
    given, and the ``*.map`` files directly in each directory given, in name order; a folder
    further down is a mapping set of its own, read when named. ``SourceFileError`` for a path
    that does not exist, or a directory with no ``*.map`` file in it (saying where further down
    there are some)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(f for f in p.glob("*.map") if f.is_file())
            if not found:
                raise SourceFileError(_none_in(p))
            out.extend(found)
        elif p.exists():
            out.append(p)
        else:
            raise SourceFileError(missing(p))
    return out


def further_down(directory: Path) -> list[Path]:
    """The folders below ``directory`` that hold ``*.map`` files, which it does not stand for."""
    return sorted({f.parent for f in directory.rglob("*.map") if f.is_file() and f.parent != directory})


def _none_in(directory: Path) -> str:
    text = f"{directory}: no *.map files in this directory"
    folders = further_down(directory)
    if folders:
        shown = ", ".join(str(f) for f in folders[:3]) + (
            f" and {len(folders) - 3} more" if len(folders) > 3 else ""
        )
        text += f" (a directory stands for the files directly in it; name a folder further down: {shown})"
    return text


def load_all(paths: Sequence[str | Path], write: str | None = None) -> list[Plan]:
    """The plans of mapping files served together (``mapper serve DIR``), in order. Raises
    ``MappingError`` carrying every file's diagnostics when any is an error (two files of one
    connector name included), and ``SourceFileError`` when a file cannot be read."""
    results = served_together([load_file(path, write) for path in paths])
    if not all(result.ok for result in results):
        raise MappingError([d for result in results for d in result.diagnostics])
    return [result.plan for result in results if result.plan is not None]


def served_together(results: Sequence[Loaded]) -> list[Loaded]:
    """``results`` with MAP118 added to each file whose connector name an earlier one has."""
    found = check_served_together([r.mapping for r in results if r.mapping is not None])
    if not found:
        return list(results)
    return [
        replace(r, diagnostics=ordered([*r.diagnostics, *(d for d in found if d.file == r.path)]))
        for r in results
    ]


def ordered(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Sorted by position, each (code, place, message) once: two stages may see the same problem.
    The message is part of it: one place may have several problems of one code (MAP303 reports
    each NOT NULL column a table's insert leaves unfilled at its ``write table``)."""
    seen: set[tuple[str, str, int, int, str]] = set()
    out: list[Diagnostic] = []
    for d in sorted(diagnostics, key=position):
        key = (d.code, d.file, d.span.line, d.span.col, d.message)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def _repeats(compiled: Diagnostic, checked: list[Diagnostic]) -> bool:
    """Whether the compiler's diagnostic repeats, on the same lines, an error a check explained better."""
    if compiled.code not in CHECKED_FIRST:
        return False
    first, last = compiled.span.line, compiled.span.end_line
    return any(
        c.severity is Severity.ERROR and c.span.line <= last and first <= c.span.end_line for c in checked
    )
