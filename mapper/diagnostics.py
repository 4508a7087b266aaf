"""Diagnostics as data: what the parser, the checks and the compiler report about a mapping file.

A diagnostic carries a stable code, a severity, a message, a position (a :class:`Span`) and an
optional hint. The renderers in ``mapper.lint.render`` turn lists of them into text, JSON, GitHub
annotations or SARIF.

Code ranges (stable; documented in docs/diagnostics.md):
  MAP0xx  syntax (the file does not parse)
  MAP1xx  references and semantics (unknown names, missing declarations, DN problems)
  MAP2xx  SQL (the import query, writes, parameters, transpilation)
  MAP3xx  live database schema (``mapper lint --db``)
  MAP4xx  style and security warnings
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Span(BaseModel):
    """A range in the mapping file: 1-based lines and columns, end exclusive, plus character offsets."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    line: int
    col: int
    end_line: int
    end_col: int
    offset: int = 0
    end_offset: int = 0


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Diagnostic(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    severity: Severity
    message: str
    file: str
    span: Span
    hint: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.span.line}:{self.span.col}"
        return f"{where}: {self.severity.value}[{self.code}] {self.message}"


def error(code: str, message: str, file: str, span: Span, hint: str | None = None) -> Diagnostic:
    return Diagnostic(code=code, severity=Severity.ERROR, message=message, file=file, span=span, hint=hint)


@dataclass(frozen=True)
class Code:
    """A problem named once: its stable code, a short kebab-case name, its severity and a one-line
    summary. The checks and the compiler build diagnostics from their codes
    (``UNKNOWN_DIALECT.at(file, span, message)``); the linter's registry lists them all."""

    code: str
    name: str
    severity: Severity
    summary: str

    def at(self, file: str, span: Span, message: str, hint: str | None = None) -> Diagnostic:
        return Diagnostic(
            code=self.code, severity=self.severity, message=message, file=file, span=span, hint=hint
        )


#: the most names a hint lists; the rest are counted, as sqlglot's ``concat_messages`` caps its
#: errors ("... and N more"): a table of sixty columns is no hint
LISTED = 8


def listing(names: Sequence[str], noun: str = "") -> str:
    """ "noun: a, b, c" (just the names without a ``noun``), at most :data:`LISTED` of ``names`` in
    their order, then "and N more". The one form of every hint that lists names: the checks' and
    the compiler's."""
    shown = ", ".join(names[:LISTED])
    more = f" and {len(names) - LISTED} more" if len(names) > LISTED else ""
    return f"{noun}: {shown}{more}" if noun else f"{shown}{more}"


def has_errors(diagnostics: list[Diagnostic]) -> bool:
    return any(d.severity is Severity.ERROR for d in diagnostics)
