"""The registry of every diagnostic code: code -> short name, severity and summary.

It gathers the parser's syntax codes (MAP0xx), the checks' (MAP1xx, MAP4xx), the compiler's
(MAP2xx) and the live database checks' (MAP3xx), for ``mapper lint --explain`` and SARIF rules.
"""

from __future__ import annotations

from mapper.checks import codes as check_codes
from mapper.compiler import codes as compiler_codes
from mapper.diagnostics import Code, Severity
from mapper.lint import database

_E = Severity.ERROR

#: Syntax (``mapper.language.parser``).
SYNTAX: tuple[Code, ...] = (
    Code("MAP001", "unexpected-token", _E, "an unexpected token or character"),
    Code("MAP002", "unknown-keyword", _E, "an unknown keyword"),
    Code("MAP003", "unterminated", _E, 'an unterminated sql"""...""" block or string'),
    Code("MAP004", "unexpected-eof", _E, "the file ends inside a block"),
    Code("MAP005", "duplicate-item", _E, "an item appears twice in a block"),
)

#: SQL (``mapper.compiler``), which defines its own ``Code`` of the same shape.
SQL: tuple[Code, ...] = tuple(Code(c.code, c.name, c.severity, c.summary) for c in compiler_codes.CODES)

REGISTRY: dict[str, Code] = {c.code: c for c in (*SYNTAX, *check_codes.CODES, *SQL, *database.CODES)}

DOCS = "docs/diagnostics.md"


def lookup(code: str) -> Code | None:
    return REGISTRY.get(code.upper())


def explain(code: str) -> str | None:
    """A few lines about ``code`` for ``mapper lint --explain``, or None when it is unknown."""
    found = lookup(code)
    if found is None:
        return None
    return (
        f"{found.code} ({found.name}), {found.severity.value}\n"
        f"  {found.summary}\n"
        f"  examples and fixes: {DOCS}#{found.code.lower()}"
    )
