"""What one compilation step needs to know and where it reports: the file, the read and write
dialects, and the growing list of diagnostics. Steps never raise for a mapping problem; they
report here and return ``None``."""

from __future__ import annotations

from dataclasses import dataclass, field

from mapper.compiler.codes import Code
from mapper.diagnostics import Diagnostic, Severity
from mapper.language.model import Span


@dataclass
class Context:
    file: str
    read: str  # the dialect the mapping's SQL is written in (the source's)
    write: str  # the dialect the plan's SQL is rendered in
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def error(self, code: Code, message: str, span: Span, hint: str | None = None) -> None:
        """Report an error once (statements derived from one query fail alike)."""
        diagnostic = code.at(self.file, span, message, hint)
        if diagnostic not in self.diagnostics:
            self.diagnostics.append(diagnostic)

    def errors(self) -> int:
        """How many errors have been reported so far (compare before and after a step)."""
        return sum(1 for d in self.diagnostics if d.severity is Severity.ERROR)
