"""``load``: parse, check and compile a file; every diagnostic in one MappingError."""

from __future__ import annotations

from pathlib import Path

import pytest

from mapper.compiler import UnknownDialectError, compile, load
from mapper.errors import MapperError, MappingError
from tests.compiler.helpers import EXAMPLES, model

HR = EXAMPLES / "hr" / "hr.map"


def test_loads_the_examples() -> None:
    assert [o.name for o in load(str(HR)).objects] == ["User", "Group"]
    assert load(str(EXAMPLES / "payroll" / "payroll.map")).source("payroll").dialect == "postgres"


def test_write_overrides_every_source_dialect() -> None:
    plan = load(str(HR), write="tsql")
    assert plan.source("hr").dialect == "tsql"
    assert "TOP (:limit)" in plan.object("User").import_first_page.sql


def test_unknown_write_dialect() -> None:
    with pytest.raises(UnknownDialectError, match="unknown dialect 'db2'") as raised:
        compile(model(HR.read_text(encoding="utf-8")), write="db2")
    assert isinstance(raised.value, MapperError)


def test_all_problems_in_one_error(tmp_path: Path) -> None:
    text = HR.read_text(encoding="utf-8")
    text = text.replace("<-> mail\n", "<-> mial\n").replace("nickName ", "nickNaem ")
    path = tmp_path / "broken.map"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MappingError) as raised:
        load(str(path))
    codes = sorted(d.code for d in raised.value.diagnostics)
    assert "MAP204" in codes  # the compiler's unknown column
    assert "MAP290" not in codes  # the unknown path: the checks said it first (MAP14x)
    assert any(c.startswith("MAP14") for c in codes)


def test_syntax_errors_stop_before_compiling(tmp_path: Path) -> None:
    path = tmp_path / "bad.map"
    path.write_text("source {", encoding="utf-8")
    with pytest.raises(MappingError) as raised:
        load(str(path))
    assert all(d.code.startswith("MAP0") for d in raised.value.diagnostics)
