"""What one compilation step needs to know and where it reports: the file, the read and write
dialects, and the growing list of diagnostics. Steps never raise for a mapping problem; they
report here and return ``None``.

``origins`` is the compiler's source map: for each statement it renders (keyed by its SQL), the
span of the mapping text it came from and what it is ("User import", "User disable"...). The plan
carries no syntax, so ``mapper lint --db`` uses this map to place what the database says about a
statement back in the mapping file."""

from __future__ import annotations

from dataclasses import dataclass, field

from mapper.compiler.codes import Code
from mapper.diagnostics import Diagnostic, Severity, Span


@dataclass(frozen=True)
class Origin:
    """Where a plan statement comes from: the span of its SQL block, clause or ``write table``
    line in the mapping file, and a few words naming it."""

    span: Span
    what: str


@dataclass
class Context:
    file: str
    read: str  # the dialect the mapping's SQL is written in (the source's)
    write: str  # the dialect the plan's SQL is rendered in
    diagnostics: list[Diagnostic] = field(default_factory=list)
    origins: dict[str, Origin] = field(default_factory=dict)  # statement SQL -> where it came from

    def error(self, code: Code, message: str, span: Span, hint: str | None = None) -> None:
        """Report an error once (statements derived from one query fail alike)."""
        diagnostic = code.at(self.file, span, message, hint)
        if diagnostic not in self.diagnostics:
            self.diagnostics.append(diagnostic)

    def warn(self, code: Code, message: str, span: Span, hint: str | None = None) -> None:
        """Report a warning once (``code`` is one of warning severity)."""
        self.error(code, message, span, hint)

    def errors(self) -> int:
        """How many errors have been reported so far (compare before and after a step)."""
        return sum(1 for d in self.diagnostics if d.severity is Severity.ERROR)

    def record(self, sql: str, span: Span, what: str) -> None:
        """Note where the statement ``sql`` came from (the first origin of a repeated one wins)."""
        self.origins.setdefault(sql, Origin(span, what))
