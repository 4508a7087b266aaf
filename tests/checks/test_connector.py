"""The connector a file is served as: files served together need a name each (MAP118), whether
declared (``connector "NAME"``) or taken from the file name; ``mapper lint DIR`` and ``mapper
serve DIR`` (tests/reliability/test_connectors.py) say so at the file, line and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from mapper.errors import MappingError
from mapper.lint import lint_paths
from mapper.pipeline import SourceFileError, load_all, mapping_files
from tests.support.planting import HR_TEXT, at


def named(name: str) -> str:
    return f'connector "{name}"\n\n{HR_TEXT}'


def write(folder: Path, files: dict[str, str]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return sorted(folder / name for name in files)


def codes(results: list) -> list[tuple[str, str, int, int]]:
    return sorted(
        (Path(d.file).name, d.code, d.span.line, d.span.col) for r in results for d in r.diagnostics
    )


def test_declared_names_serve_files_under_other_names(tmp_path: Path) -> None:
    files = write(tmp_path, {"a.map": named("payroll"), "payroll.map": named("a")})
    assert codes(lint_paths([tmp_path])) == []
    plans = load_all(files)
    assert [(Path(p.mapping).name, p.connector, p.connector_name) for p in plans] == [
        ("a.map", "payroll", "payroll"),
        ("payroll.map", "a", "a"),
    ]


def test_a_declared_name_that_another_file_is_named_after(tmp_path: Path) -> None:
    text = named("Payroll")
    write(tmp_path, {"hr.map": text, "payroll.map": HR_TEXT})
    (found,) = [d for r in lint_paths([tmp_path]) for d in r.diagnostics]
    where = (Path(found.file).name, found.code, found.span.line, found.span.col)
    assert where == ("payroll.map", "MAP118", 1, 1)
    assert "hr.map" in found.message and "declared at" in found.message
    assert 'connector "payroll-2"' in (found.hint or "")


def test_two_declared_names_alike_but_for_case(tmp_path: Path) -> None:
    files = write(tmp_path, {"a.map": named("hr"), "b.map": named("HR")})
    (found,) = [d for r in lint_paths([tmp_path]) for d in r.diagnostics]
    assert (Path(found.file).name, found.code) == ("b.map", "MAP118")
    assert (found.span.line, found.span.col) == at(named("HR"), '"HR"')
    with pytest.raises(MappingError) as raised:
        load_all(files)
    assert [d.code for d in raised.value.diagnostics] == ["MAP118"]


def test_files_of_other_directories_are_not_served_together(tmp_path: Path) -> None:
    write(tmp_path / "one", {"a.map": named("hr")})
    write(tmp_path / "two", {"b.map": named("hr")})
    assert codes(lint_paths([tmp_path / "one"])) == codes(lint_paths([tmp_path / "two"])) == []


def where(diagnostics: list) -> list[tuple[str, str, int, int]]:
    return [(d.file, d.code, d.span.line, d.span.col) for d in diagnostics]


@pytest.mark.parametrize("given", [("one/hr.map", "two/HR.map"), ("one", "two"), ("one", "two/HR.map")])
def test_lint_checks_together_what_serve_serves_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given: tuple[str, ...]
) -> None:
    """``mapper serve one/hr.map two/HR.map`` (or ``one two``) serves both files, as 'hr' and
    'HR', and refuses to start (MAP118); ``mapper lint`` of the same paths passed, as it only
    compared the files of one folder."""
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "one", {"hr.map": HR_TEXT})
    write(tmp_path / "two", {"HR.map": HR_TEXT})
    linted = [d for r in lint_paths(list(given)) for d in r.diagnostics]
    with pytest.raises(MappingError) as raised:
        load_all(["one/hr.map", "two/HR.map"])
    assert where(linted) == where(raised.value.diagnostics) == [("two/HR.map", "MAP118", 1, 1)]
    assert "one/hr.map is served as 'hr' too" in linted[0].message


def test_lint_of_a_directory_reads_the_files_serve_serves(tmp_path: Path) -> None:
    """``mapper serve DIR`` serves the files directly in DIR; ``mapper lint DIR`` searched every
    folder below it too, so it failed on files serve never reads (and passed a set that serve
    refused when named one by one). Both read the top level now; a folder below is a set of its
    own, read when named."""
    write(tmp_path, {"hr.map": HR_TEXT})
    write(tmp_path / "other", {"HR.map": HR_TEXT, "broken.map": "object {"})
    write(tmp_path / "third", {"a.map": named("x"), "b.map": named("X")})
    assert [Path(r.path).name for r in lint_paths([tmp_path])] == ["hr.map"]
    assert [Path(p.mapping).name for p in load_all(mapping_files([tmp_path]))] == ["hr.map"]
    found = where([d for r in lint_paths([tmp_path / "third"]) for d in r.diagnostics])
    assert [(Path(f).name, c) for f, c, _, _ in found] == [("b.map", "MAP118")]


def test_a_directory_with_mapping_files_only_further_down_names_them(tmp_path: Path) -> None:
    write(tmp_path / "one", {"hr.map": HR_TEXT})
    write(tmp_path / "two" / "deeper", {"hr.map": HR_TEXT})
    with pytest.raises(SourceFileError) as raised:
        lint_paths([tmp_path])
    assert str(raised.value) == (
        f"{tmp_path}: no *.map files in this directory (a directory stands for the files directly "
        f"in it; name a folder further down: {tmp_path / 'one'}, {tmp_path / 'two' / 'deeper'})"
    )
    with pytest.raises(SourceFileError) as served:
        mapping_files([tmp_path])
    assert str(served.value) == str(raised.value)
