"""The one load pipeline: parse, check and compile a file; every diagnostic in one list, and in
one MappingError for ``load``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from mapper.compiler import UnknownDialectError, compile
from mapper.errors import MapperError, MappingError
from mapper.language.parser import parse
from mapper.lint import lint_text
from mapper.pipeline import SourceFileError, load, load_file, load_text

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
HR = EXAMPLES / "hr" / "hr.map"


def test_loads_the_examples() -> None:
    assert [o.name for o in load(str(HR)).objects] == ["User", "Group"]
    assert load(str(EXAMPLES / "payroll" / "payroll.map")).source("payroll").dialect == "postgres"


def test_write_overrides_every_source_dialect() -> None:
    plan = load(str(HR), write="tsql")
    assert plan.source("hr").dialect == "tsql"
    assert "TOP (:limit)" in plan.object("User").import_first_page.sql


def test_unknown_write_dialect() -> None:
    mapping, _ = parse(HR.read_text(encoding="utf-8"), "hr.map")
    assert mapping is not None
    with pytest.raises(UnknownDialectError, match="unknown dialect 'db2'") as raised:
        compile(mapping, write="db2")
    assert isinstance(raised.value, MapperError)


def broken_hr(tmp_path: Path) -> Path:
    text = HR.read_text(encoding="utf-8")
    text = text.replace("<-> title\n", "<-> titel\n").replace("nickName ", "nickNaem ")
    path = tmp_path / "broken.map"
    path.write_text(text, encoding="utf-8")
    return path


def test_all_problems_in_one_error(tmp_path: Path) -> None:
    with pytest.raises(MappingError) as raised:
        load(str(broken_hr(tmp_path)))
    codes = sorted(d.code for d in raised.value.diagnostics)
    assert "MAP204" in codes  # the compiler's unknown column
    assert "MAP290" not in codes  # the unknown path: the checks said it first (MAP14x)
    assert any(c.startswith("MAP14") for c in codes)


def test_lint_and_load_report_the_same(tmp_path: Path) -> None:
    path = broken_hr(tmp_path)
    with pytest.raises(MappingError) as raised:
        load(path)
    linted = lint_text(path.read_text(encoding="utf-8"), str(path)).diagnostics
    assert raised.value.diagnostics == linted == load_file(path).diagnostics


def test_a_checks_error_fails_the_load_even_when_the_compiler_is_content(tmp_path: Path) -> None:
    # a DN template naming an unmapped attribute is the checks' business alone (MAP16x)
    text = HR.read_text(encoding="utf-8").replace('dn "CN={anchor},OBJECT=USER"', 'dn "CN={nope}"', 1)
    loaded = load_text(text, "hr.map")
    assert not loaded.ok and any(d.code.startswith("MAP1") for d in loaded.diagnostics)
    path = tmp_path / "hr.map"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MappingError):
        load(path)


def test_syntax_errors_stop_before_compiling(tmp_path: Path) -> None:
    path = tmp_path / "bad.map"
    path.write_text("source {", encoding="utf-8")
    with pytest.raises(MappingError) as raised:
        load(str(path))
    assert all(d.code.startswith("MAP0") for d in raised.value.diagnostics)


def test_unreadable_file_is_a_source_file_error(tmp_path: Path) -> None:
    with pytest.raises(SourceFileError, match="absent.map: no such file or directory"):
        load(tmp_path / "absent.map")
    (tmp_path / "latin1.map").write_bytes(b"# caf\xe9\n")
    with pytest.raises(SourceFileError, match="cannot read"):
        load_file(tmp_path / "latin1.map")


def _imports(package: Path) -> set[str]:
    names: set[str] = set()
    for file in package.rglob("*.py"):
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
            elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module":
                names.add("importlib.import_module")
    return names


def test_the_compiler_does_not_reach_up_to_the_checks() -> None:
    """The pipeline sits above the checks and the compiler: the compiler imports neither the
    checks nor anything above it, not even hidden behind ``importlib``."""
    compiler = _imports(ROOT / "mapper" / "compiler")
    checks = _imports(ROOT / "mapper" / "checks")
    upward = ("mapper.checks", "mapper.pipeline", "mapper.lint", "importlib")
    assert not {n for n in compiler if n.startswith(upward)}
    assert not {n for n in checks if n.startswith(("mapper.pipeline", "mapper.lint"))}
