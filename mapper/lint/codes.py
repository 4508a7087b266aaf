"""The registry of every diagnostic code: code -> short name, severity and summary.

It gathers the parser's syntax codes (MAP0xx), the checks' (MAP1xx, MAP4xx), the compiler's
(MAP2xx) and the live database checks' (MAP3xx), for ``mapper lint --explain`` and SARIF rules.
"""

from __future__ import annotations

import functools
import json
from importlib import resources

from mapper import links
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

#: Each code's documentation, shipped in the package (an installed wheel has no docs/): the
#: section of docs/ that explains it, with its page and anchor. Generated from docs/ for every
#: code of the registry; ``tests/lint/test_explain.py`` keeps it equal to docs/
#: (``pytest --update-golden``, or ``UPDATE_GOLDEN=1``, rewrites it).
EXPLANATIONS = "explanations.json"


@functools.lru_cache(maxsize=1)
def _explanations() -> dict[str, dict[str, str]]:
    data: dict[str, dict[str, str]] = json.loads(
        resources.files("mapper.lint").joinpath(EXPLANATIONS).read_text(encoding="utf-8")
    )
    return data


def lookup(code: str) -> Code | None:
    return REGISTRY.get(code.upper())


def doc_url(code: str) -> str:
    """The absolute link to ``code``'s documentation (the diagnostics page when it has none)."""
    entry = _explanations().get(code.upper())
    return links.doc(entry["page"], entry["anchor"]) if entry else links.doc("diagnostics.md")


def explain(code: str) -> str | None:
    """What ``mapper lint --explain`` prints about ``code``: its name, severity and summary, the
    documentation's example and fix, and the link; None when the code is unknown."""
    found = lookup(code)
    if found is None:
        return None
    entry = _explanations().get(found.code)
    text = f"\n{entry['text']}\n" if entry else ""
    return (
        f"{found.code} ({found.name}), {found.severity.value}\n"
        f"  {found.summary}\n"
        f"{text}\n"
        f"Documentation: {doc_url(found.code)}"
    )
