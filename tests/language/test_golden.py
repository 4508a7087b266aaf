"""Golden tests: tests/fixtures/parse/{ok,errors}/NAME.map against NAME.json.

``ok/NAME.json`` is the parsed model (without the file text; spans written
``line:col-end_line:end_col``); ``errors/NAME.json`` is the list of diagnostics.
Regenerate the JSON after a deliberate change with::

    .venv/bin/pytest tests/language/test_golden.py --update-golden

and review the diff before committing it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mapper.diagnostics import Diagnostic
from mapper.language.parser import parse

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "parse"
Golden = Callable[[str, Path], None]


def _cases(folder: str) -> list[Path]:
    return sorted((FIXTURES / folder).glob("*.map"))


def _diagnostic_json(diagnostic: Diagnostic) -> dict[str, Any]:
    span = diagnostic.span
    return {
        "code": diagnostic.code,
        "severity": diagnostic.severity.value,
        "line": span.line,
        "col": span.col,
        "end_line": span.end_line,
        "end_col": span.end_col,
        "message": diagnostic.message,
        "hint": diagnostic.hint,
    }


def _compact(value: Any) -> Any:
    """The model as JSON with each span written ``line:col-end_line:end_col``, for readable diffs,
    and a name's ``written`` only when it was written quoted."""
    if isinstance(value, dict):
        if set(value) == {"line", "col", "end_line", "end_col", "offset", "end_offset"}:
            return f"{value['line']}:{value['col']}-{value['end_line']}:{value['end_col']}"
        return {key: _compact(item) for key, item in value.items() if not (key == "written" and item is None)}
    if isinstance(value, list):
        return [_compact(item) for item in value]
    return value


def _as_json(actual: Any) -> str:
    return json.dumps(actual, indent=2, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("case", _cases("ok"), ids=lambda p: p.stem)
def test_parses_to_golden_model(case: Path, golden: Golden) -> None:
    mapping, diagnostics = parse(case.read_text(encoding="utf-8"), case.name)
    assert diagnostics == []
    assert mapping is not None
    golden(_as_json(_compact(mapping.model_dump(mode="json", exclude={"text"}))), case.with_suffix(".json"))


@pytest.mark.parametrize("case", _cases("errors"), ids=lambda p: p.stem)
def test_reports_golden_diagnostics(case: Path, golden: Golden) -> None:
    _, diagnostics = parse(case.read_text(encoding="utf-8"), case.name)
    assert diagnostics, "an error fixture must produce diagnostics"
    assert all(d.file == case.name for d in diagnostics)
    golden(_as_json([_diagnostic_json(d) for d in diagnostics]), case.with_suffix(".json"))
