"""The linter's diagnostics as LSP diagnostics: the same code, range, message and hint as
``mapper lint`` prints, with a link to the code's documentation."""

from __future__ import annotations

from collections.abc import Iterable

from lsprotocol import types

from mapper.diagnostics import Diagnostic, Severity
from mapper.lint.codes import doc_url
from mapper.lsp.positions import Positions

SOURCE = "mapper"

_SEVERITY = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
}


def message(d: Diagnostic) -> str:
    """The message as an editor shows it: the linter's message, then its ``help:`` line."""
    return d.message + (f"\nhelp: {d.hint}" if d.hint else "")


def to_lsp(d: Diagnostic, positions: Positions) -> types.Diagnostic:
    return types.Diagnostic(
        range=positions.range(d.span),
        message=message(d),
        severity=_SEVERITY[d.severity],
        code=d.code,
        code_description=types.CodeDescription(href=doc_url(d.code)),
        source=SOURCE,
        data={"hint": d.hint} if d.hint else None,
    )


def to_lsp_all(diagnostics: Iterable[Diagnostic], positions: Positions) -> list[types.Diagnostic]:
    return [to_lsp(d, positions) for d in diagnostics]
