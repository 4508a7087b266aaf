"""Golden files: the SQL of every example compiled for every dialect, pinned in
tests/fixtures/compiler/<example>.<dialect>.sql, plus each example's plan JSON in its own dialect.
Regenerate with ``UPDATE_GOLDEN=1 pytest tests/compiler/test_golden.py`` and review the diff."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mapper.compiler.listing import render
from tests.compiler.helpers import EXAMPLES, FIXTURES, compile_file

UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
HR = EXAMPLES / "hr" / "hr.map"
PAYROLL = sorted((EXAMPLES / "payroll").glob("*.map"))

#: Flags, reserved-word columns and a generated anchor, for the targets without a boolean type.
FLAGS = FIXTURES / "flags.map"

#: (example file, dialects it must compile clean for)
CASES = [(HR, ("sqlite", "postgres", "mysql", "tsql", "oracle"))] + [
    (path, ("postgres", "mysql", "tsql", "oracle")) for path in PAYROLL
]
CASES.append((FLAGS, ("postgres", "tsql", "oracle")))


def golden(actual: str, path: Path) -> None:
    if UPDATE or not path.exists():
        path.write_text(actual, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"wrote missing golden file {path.name}; review and commit it")
    assert actual == path.read_text(encoding="utf-8"), f"{path.name} differs (UPDATE_GOLDEN=1 to regenerate)"


def check_sql(dialect: str) -> None:
    cases = [path for path, dialects in CASES if dialect in dialects]
    assert cases
    for path in cases:
        plan, diagnostics = compile_file(path, write=dialect)
        assert plan is not None and diagnostics == [], [str(d) for d in diagnostics]
        assert {s.dialect for s in plan.sources} == {dialect}
        golden(render(plan), FIXTURES / f"{path.stem}.{dialect}.sql")


def test_sqlite() -> None:
    check_sql("sqlite")


def test_postgres() -> None:
    check_sql("postgres")


def test_mysql() -> None:
    check_sql("mysql")


def test_tsql() -> None:
    check_sql("tsql")


def test_oracle() -> None:
    check_sql("oracle")


@pytest.mark.parametrize("path", [HR, *PAYROLL], ids=lambda p: p.stem)
def test_plan_json(path: Path) -> None:
    plan, diagnostics = compile_file(path)
    assert plan is not None and diagnostics == [], [str(d) for d in diagnostics]
    golden(plan.model_dump_json(indent=2) + "\n", FIXTURES / f"{path.stem}.plan.json")
