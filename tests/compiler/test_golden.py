"""Golden files: the SQL of every example compiled for every dialect, pinned in
tests/fixtures/compiler/<example>.<dialect>.sql, plus each example's plan JSON in its own dialect.
Regenerate with ``pytest tests/compiler/test_golden.py --update-golden`` and review the diff."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mapper.compiler.listing import render
from tests.support.compiling import EXAMPLES, FIXTURES, compile_file

Golden = Callable[[str, Path], None]
HR = EXAMPLES / "hr" / "hr.map"
PAYROLL = sorted((EXAMPLES / "payroll").glob("*.map"))

#: Flags, reserved-word columns and a generated anchor, for the targets without a boolean type.
FLAGS = FIXTURES / "flags.map"

#: (example file, dialects it must compile clean for)
CASES = [(HR, ("sqlite", "postgres", "mysql", "tsql", "oracle"))] + [
    (path, ("postgres", "mysql", "tsql", "oracle")) for path in PAYROLL
]
CASES.append((FLAGS, ("postgres", "tsql", "oracle")))

#: Quoted (mixed-case) table, column and procedure names, in each dialect's own quoting.
QUOTED = FIXTURES / "quoted.map"
CASES.append((QUOTED, ("postgres", "mysql", "tsql")))

#: `stamp`: every derived statement that writes a row sets the watermark column (CURRENT_TIMESTAMP
#: in the target dialect; CURRENT_TIMESTAMP(6) on MySQL), a soft delete and a revive included.
STAMPED = FIXTURES / "stamped.map"
CASES.append((STAMPED, ("sqlite", "postgres", "mysql", "tsql", "oracle")))

#: `create set`: the derived insert writes fixed values into its SQL in the target dialect, and a
#: revive writes them again beside what clears the tombstone.
CREATED = FIXTURES / "created.map"
CASES.append((CREATED, ("sqlite", "postgres", "mysql", "tsql", "oracle")))


def check_sql(dialect: str, golden: Golden) -> None:
    cases = [path for path, dialects in CASES if dialect in dialects]
    assert cases
    for path in cases:
        plan, diagnostics = compile_file(path, write=dialect)
        assert plan is not None and diagnostics == [], [str(d) for d in diagnostics]
        assert {s.dialect for s in plan.sources} == {dialect}
        golden(render(plan), FIXTURES / f"{path.stem}.{dialect}.sql")


def test_sqlite(golden: Golden) -> None:
    check_sql("sqlite", golden)


def test_postgres(golden: Golden) -> None:
    check_sql("postgres", golden)


def test_mysql(golden: Golden) -> None:
    check_sql("mysql", golden)


def test_tsql(golden: Golden) -> None:
    check_sql("tsql", golden)


def test_oracle(golden: Golden) -> None:
    check_sql("oracle", golden)


@pytest.mark.parametrize("path", [HR, *PAYROLL], ids=lambda p: p.stem)
def test_plan_json(path: Path, golden: Golden) -> None:
    plan, diagnostics = compile_file(path)
    assert plan is not None and diagnostics == [], [str(d) for d in diagnostics]
    golden(plan.model_dump_json(indent=2) + "\n", FIXTURES / f"{path.stem}.plan.json")
