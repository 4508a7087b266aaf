"""Golden tests: tests/fixtures/parse/{ok,errors}/NAME.map against NAME.json.

``ok/NAME.json`` is the parsed model (without the file text; spans written
``line:col-end_line:end_col``); ``errors/NAME.json`` is the list of diagnostics.
Regenerate the JSON after a deliberate change with::

    UPDATE_GOLDEN=1 .venv/bin/pytest tests/language/test_golden.py

and review the diff before committing it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from mapper.diagnostics import Diagnostic
from mapper.language.parser import parse

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "parse"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


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
    """The model as JSON with each span written ``line:col-end_line:end_col``, for readable diffs."""
    if isinstance(value, dict):
        if set(value) == {"line", "col", "end_line", "end_col", "offset", "end_offset"}:
            return f"{value['line']}:{value['col']}-{value['end_line']}:{value['end_col']}"
        return {key: _compact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_compact(item) for item in value]
    return value


def _check_golden(case: Path, actual: Any) -> None:
    golden = case.with_suffix(".json")
    if UPDATE:
        golden.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert golden.exists(), f"no {golden.name}: run with UPDATE_GOLDEN=1 to create it"
    assert actual == json.loads(golden.read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", _cases("ok"), ids=lambda p: p.stem)
def test_parses_to_golden_model(case: Path) -> None:
    mapping, diagnostics = parse(case.read_text(encoding="utf-8"), case.name)
    assert diagnostics == []
    assert mapping is not None
    _check_golden(case, _compact(mapping.model_dump(mode="json", exclude={"text"})))


@pytest.mark.parametrize("case", _cases("errors"), ids=lambda p: p.stem)
def test_reports_golden_diagnostics(case: Path) -> None:
    _, diagnostics = parse(case.read_text(encoding="utf-8"), case.name)
    assert diagnostics, "an error fixture must produce diagnostics"
    assert all(d.file == case.name for d in diagnostics)
    _check_golden(case, [_diagnostic_json(d) for d in diagnostics])
