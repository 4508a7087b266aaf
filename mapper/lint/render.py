"""Render diagnostics as text (ruff's layout), JSON, GitHub Actions annotations or SARIF 2.1.0.

Every renderer takes the diagnostics (already sorted) and the text of each file by path, so the
text format can quote source lines, and returns one string.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import PurePath
from typing import Any

from mapper.checks.spans import plural
from mapper.diagnostics import Diagnostic, Severity
from mapper.lint.codes import REGISTRY, doc_url

#: The text format shows at most this many diagnostics, then "... and N more" (as sqlglot does).
MAX_SHOWN = 50

Sources = Mapping[str, str]
Renderer = Callable[[Sequence[Diagnostic], Sources], str]


def tool_version() -> str:
    try:
        return version("scim-sql-mapper")
    except PackageNotFoundError:
        return "0+unknown"


def summary(diagnostics: Sequence[Diagnostic]) -> str:
    errors = sum(d.severity is Severity.ERROR for d in diagnostics)
    warnings = len(diagnostics) - errors
    if not diagnostics:
        return "All checks passed!"
    parts = [plural(errors, "error")] if errors else []
    parts += [plural(warnings, "warning")] if warnings else []
    return f"Found {', '.join(parts)}."


def render_text(diagnostics: Sequence[Diagnostic], sources: Sources, maximum: int = MAX_SHOWN) -> str:
    blocks = [_text_block(d, sources.get(d.file)) for d in diagnostics[:maximum]]
    if len(diagnostics) > maximum:
        blocks.append(f"... and {len(diagnostics) - maximum} more\n")
    return "".join(blocks) + summary(diagnostics) + "\n"


def _text_block(d: Diagnostic, text: str | None) -> str:
    out = [f"{d}\n"]
    lines = text.splitlines() if text is not None else []
    width = len(str(d.span.line))
    pad = " " * width
    if 0 < d.span.line <= len(lines):
        line = lines[d.span.line - 1].replace("\t", " ")  # one column per character, as spans count
        end = d.span.end_col if d.span.end_line == d.span.line else len(line) + 1
        carets = "^" * max(1, end - d.span.col)
        out += [f"{pad} |\n", f"{d.span.line} | {line}\n", f"{pad} | {' ' * (d.span.col - 1)}{carets}\n"]
    if d.hint:
        out.append(f"{pad} = help: {d.hint}\n")
    return "".join(out) + "\n"


def _json_item(d: Diagnostic) -> dict[str, Any]:
    return {
        "code": d.code,
        "severity": d.severity.value,
        "filename": d.file,
        "location": {"row": d.span.line, "column": d.span.col},
        "end_location": {"row": d.span.end_line, "column": d.span.end_col},
        "message": d.message,
        "hint": d.hint,
    }


def render_json(diagnostics: Sequence[Diagnostic], sources: Sources) -> str:
    return json.dumps([_json_item(d) for d in diagnostics], indent=2) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(diagnostics: Sequence[Diagnostic], sources: Sources) -> str:
    lines = []
    for d in diagnostics:
        s = d.span
        props = (
            f"file={_escape_property(d.file)},line={s.line},endLine={s.end_line},"
            f"col={s.col},endColumn={s.end_col},title={d.code}"
        )
        message = d.message + (f"\nhelp: {d.hint}" if d.hint else "")
        lines.append(f"::{d.severity.value} {props}::{_escape_data(message)}\n")
    return "".join(lines)


def render_sarif(diagnostics: Sequence[Diagnostic], sources: Sources) -> str:
    used = sorted({d.code for d in diagnostics})
    index = {code: i for i, code in enumerate(used)}
    rules = [_sarif_rule(code) for code in used]
    results = [
        {
            "ruleId": d.code,
            "ruleIndex": index[d.code],
            "level": "error" if d.severity is Severity.ERROR else "warning",
            "message": {"text": d.message + (f" (help: {d.hint})" if d.hint else "")},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": PurePath(d.file).as_posix()},
                        "region": {
                            "startLine": d.span.line,
                            "startColumn": d.span.col,
                            "endLine": d.span.end_line,
                            "endColumn": d.span.end_col,
                        },
                    }
                }
            ],
        }
        for d in diagnostics
    ]
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "mapper",
                        "version": tool_version(),
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"


def _sarif_rule(code: str) -> dict[str, Any]:
    known = REGISTRY.get(code)
    name = known.name if known else code.lower()
    summary_ = known.summary if known else code
    level = "warning" if known and known.severity is Severity.WARNING else "error"
    return {
        "id": code,
        "name": name,
        "shortDescription": {"text": summary_},
        "helpUri": doc_url(code),
        "help": {"text": f"{summary_}. See {doc_url(code)} for an example and its fix."},
        "defaultConfiguration": {"level": level},
    }


FORMATS: dict[str, Renderer] = {
    "text": render_text,
    "json": render_json,
    "github": render_github,
    "sarif": render_sarif,
}


def render(diagnostics: Sequence[Diagnostic], format: str = "text", sources: Sources | None = None) -> str:
    """``diagnostics`` in ``format`` (one of FORMATS); ``sources`` maps file paths to their text."""
    return FORMATS[format](diagnostics, sources or {})
