"""``mapper lsp`` as an editor sees it: a real process, JSON-RPC over stdio, pygls's client.

Each test checks what the server answers against what ``mapper lint`` (``lint_text``) and
``mapper fmt`` (``format_mapping``) say about the same text, so the editor and the command line
cannot disagree."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lsprotocol import types

from mapper.language.fmt import format_mapping
from mapper.language.parser import parse
from mapper.lint import lint_text
from mapper.lint.codes import explain
from tests.lsp.support import Editor, codes, position_of
from tests.support.databases import HR, HrDatabase

pytestmark = pytest.mark.anyio

HR_MAP = (HR / "hr.map").read_text(encoding="utf-8")


def as_lint(d: types.Diagnostic) -> tuple[str, int, int, int, int]:
    """An LSP diagnostic as (code, line, col, end line, end col), 1-based like ``mapper lint``."""
    r = d.range
    return str(d.code), r.start.line + 1, r.start.character + 1, r.end.line + 1, r.end.character + 1


async def test_a_misspelled_scim_path_is_reported_as_mapper_lint_reports_it(tmp_path: Path) -> None:
    text = HR_MAP.replace("name.givenName ", "name.givenNme  ", 1)
    path = tmp_path / "hr.map"
    path.write_text(text)
    expected = lint_text(text, str(path)).diagnostics
    async with Editor("--no-db") as editor:
        uri = editor.open(path)
        found = await editor.diagnostics(uri, lambda ds: bool(ds))
    typo_line, _ = position_of(text, "name.givenNme")
    (typo,) = [d for d in found if d.range.start.line == typo_line]
    assert typo.code == "MAP140" and typo.severity == types.DiagnosticSeverity.Error
    assert "did you mean 'givenName'" in typo.message  # the hint comes along
    assert typo.code_description is not None and typo.code_description.href.endswith("#map140")
    assert sorted(map(as_lint, found)) == sorted(
        (d.code, d.span.line, d.span.col, d.span.end_line, d.span.end_col) for d in expected
    )


async def test_diagnostics_follow_the_typing(tmp_path: Path) -> None:
    path = tmp_path / "hr.map"
    path.write_text(HR_MAP)
    async with Editor("--no-db") as editor:
        uri = editor.open(path)
        assert not await editor.diagnostics(uri)
        typo = HR_MAP.replace("userName   ", "usrName    ", 1)
        editor.change(uri, typo)
        found = await editor.diagnostics(uri, lambda ds: bool(ds))
        assert codes(found) == {d.code for d in lint_text(typo, str(path)).diagnostics}
        assert position_of(HR_MAP, "userName   ")[0] in {d.range.start.line for d in found}
        editor.change(uri, HR_MAP)
        assert not await editor.diagnostics(uri, lambda ds: not ds)


async def test_a_misspelled_column_is_reported_by_the_database_checks(
    tmp_path: Path, hr_database: HrDatabase
) -> None:
    """The same typo in the import and the map is consistent for the static checks: only the
    live database (the source's, from its environment variable) knows the column does not exist."""
    text = (
        HR_MAP.replace("given_name", "givn_name")
        .replace("dialect sqlite", f"dialect {hr_database.dialect}")
        .replace('env("HR_DATABASE_URL", "sqlite:///hr.db")', 'env("HR_DATABASE_URL")')
    )
    path = tmp_path / "hr.map"
    path.write_text(text)
    assert lint_text(text, str(path)).diagnostics == []
    expected = lint_text(text, str(path), db=hr_database.url).diagnostics
    async with Editor(env={"HR_DATABASE_URL": hr_database.url}) as editor:
        uri = editor.open(path)
        found = await editor.diagnostics(uri, lambda ds: bool(ds))
    import_line, col = position_of(text, "givn_name")
    first = min(found, key=lambda d: (d.range.start.line, d.range.start.character))
    assert first.code == "MAP302"
    assert (first.range.start.line, first.range.start.character) == (import_line, col)
    assert "did you mean 'given_name'" in first.message
    assert sorted(map(as_lint, found)) == sorted(
        (d.code, d.span.line, d.span.col, d.span.end_line, d.span.end_col) for d in expected
    )


async def test_an_unreachable_database_leaves_the_static_diagnostics(tmp_path: Path) -> None:
    """A source whose SQLite file does not exist is not checked (nor created)."""
    text = HR_MAP.replace("name.givenName ", "name.givenNme  ", 1)
    path = tmp_path / "hr.map"
    path.write_text(text)
    missing = tmp_path / "absent.db"
    async with Editor(env={"HR_DATABASE_URL": f"sqlite:///{missing}"}) as editor:
        uri = editor.open(path)
        found = await editor.diagnostics(uri, lambda ds: bool(ds))
    assert codes(found) == {"MAP140"}
    assert not missing.exists()


async def test_completion_offers_scim_paths_and_columns(tmp_path: Path) -> None:
    text = HR_MAP.replace("    title                                   <-> title\n", "    \n", 1)
    path = tmp_path / "hr.map"
    path.write_text(text)
    blank_line = text[: text.index("    \n    addresses")].count("\n")
    async with Editor("--no-db") as editor:
        uri = editor.open(path)
        paths = {i.label for i in await editor.complete(uri, blank_line, 4)}
        assert {"title", "name.middleName", 'emails[type eq "work"].value', "enterprise.costCenter"} <= paths
        assert "displayName" in paths and "id" not in paths
        editor.change(uri, text.replace("    \n", "    title <-> \n", 1))
        columns = {i.label for i in await editor.complete(uri, blank_line, len("    title <-> "))}
        assert {"title", "given_name", "employee_id", "updated_at"} <= columns
        assert "userName" not in columns


async def test_completion_offers_tables_when_the_database_is_reachable(
    tmp_path: Path, hr_sqlite: HrDatabase
) -> None:
    text = HR_MAP.replace("write table employees", "write table ", 1)
    path = tmp_path / "hr.map"
    path.write_text(text)
    line, col = position_of(text, "write table ")
    async with Editor(env={"HR_DATABASE_URL": hr_sqlite.url}) as editor:
        uri = editor.open(path)
        tables = {i.label for i in await editor.complete(uri, line, col + len("write table "))}
    assert {"employees", "groups", "employee_emails"} <= tables


async def test_hover_explains_a_diagnostic_code(tmp_path: Path) -> None:
    text = HR_MAP.replace("name.givenName ", "name.givenNme  ", 1)
    path = tmp_path / "hr.map"
    path.write_text(text)
    line, col = position_of(text, "givenNme")
    async with Editor("--no-db") as editor:
        uri = editor.open(path)
        await editor.diagnostics(uri, lambda ds: bool(ds))
        found = await editor.hover(uri, line, col + 2)
        keyword = await editor.hover(uri, *position_of(text, "watermark"))
    assert found is not None and isinstance(found.contents, types.MarkupContent)
    assert explain("MAP140") in found.contents.value  # what `mapper lint --explain MAP140` prints
    assert keyword is not None and isinstance(keyword.contents, types.MarkupContent)
    assert "delta watermark COLUMN" in keyword.contents.value


async def test_formatting_gives_mapper_fmts_layout(tmp_path: Path) -> None:
    text = HR_MAP.replace(
        "    userName                                <-> login", "  userName <->   login", 1
    )
    path = tmp_path / "hr.map"
    path.write_text(text)
    mapping, _ = parse(text, str(path))
    assert mapping is not None
    async with Editor("--no-db") as editor:
        uri = editor.open(path)
        edits = await editor.format(uri)
        editor.change(uri, "object {")
        broken = await editor.format(uri)
    assert edits is not None and len(edits) == 1
    assert edits[0].range.start == types.Position(line=0, character=0)
    assert edits[0].new_text == format_mapping(mapping) == HR_MAP
    assert not broken  # a file with syntax errors is left alone


async def test_definition_goes_from_a_reference_to_its_object(tmp_path: Path) -> None:
    path = tmp_path / "hr.map"
    path.write_text(HR_MAP)
    line, col = position_of(HR_MAP, "reference User")
    async with Editor("--no-db", "--stdio") as editor:  # as vscode-languageclient starts it
        uri = editor.open(path)
        found = await editor.definition(uri, line, col + len("reference "))
    assert isinstance(found, types.Location)
    assert found.uri == uri
    assert (found.range.start.line, found.range.start.character) == position_of(HR_MAP, "User from hr")


async def test_an_unanswering_database_is_reported_without_its_password(tmp_path: Path) -> None:
    text = (
        HR_MAP.replace("dialect sqlite", "dialect postgres")
        .replace('env("HR_DATABASE_URL", "sqlite:///hr.db")', 'env("HR_DATABASE_URL")')
        .replace("name.givenName ", "name.givenNme  ", 1)
    )
    path = tmp_path / "hr.map"
    path.write_text(text)
    closed = "postgresql://scim:s3cret-pw@127.0.0.1:1/hr"  # nothing listens on port 1
    async with Editor(env={"HR_DATABASE_URL": closed}) as editor:
        uri = editor.open(path)
        found = await editor.diagnostics(uri, lambda ds: bool(ds))
        for _ in range(600):
            if editor.logs:
                break
            await asyncio.sleep(0.1)
    assert codes(found) == {"MAP140"}  # the linter's diagnostics all the same
    assert any("database checks skipped" in m and "127.0.0.1:1" in m for m in editor.logs)
    assert not any("s3cret-pw" in m for m in editor.logs)


async def test_a_did_you_mean_hint_is_a_quick_fix(tmp_path: Path, hr_sqlite: HrDatabase) -> None:
    text = HR_MAP.replace("name.givenName", "name.givenNme", 1).replace("given_name", "givn_name")
    path = tmp_path / "hr.map"
    path.write_text(text)
    async with Editor(env={"HR_DATABASE_URL": hr_sqlite.url}) as editor:
        uri = editor.open(path)
        found = await editor.diagnostics(uri, lambda ds: {"MAP140", "MAP302"} <= codes(ds))
        actions = await editor.code_actions(uri, found)
    edits = [e for a in actions for e in a.edit.changes[uri]]  # type: ignore[union-attr]
    assert {e.new_text for e in edits} == {"given_name", "givenName"}
    fixed = text.splitlines(keepends=True)
    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        line = fixed[edit.range.start.line]
        fixed[edit.range.start.line] = (
            line[: edit.range.start.character] + edit.new_text + line[edit.range.end.character :]
        )
    # the map's copy of the column has no diagnostic yet: the statements are proven only once
    # the file compiles, after the path is fixed
    assert "".join(fixed) == HR_MAP.replace("<-> given_name", "<-> givn_name")


REVIVE = '''source app {
  dialect sqlite
  url "URL"
}

object User from app {
  anchor id generated by database
  query userName
  import sql"""SELECT id, user_name, deleted FROM ohrm_user"""
  attributes {
    userName <-> user_name required unique
  }
  write table ohrm_user
  delete set deleted = true
  recreate revive set deleted = false, emp_number = null
}
'''


async def test_the_database_settles_a_set_column_the_import_does_not_select(tmp_path: Path) -> None:
    """As ``mapper lint --db``: with the database reachable, OrangeHRM's revive clearing
    ``emp_number`` (not selected) is no MAP240 "not checked here" in the editor either."""
    import sqlite3

    db = tmp_path / "app.db"
    connection = sqlite3.connect(db)
    connection.execute(
        "CREATE TABLE ohrm_user (id INTEGER PRIMARY KEY, user_name VARCHAR(40) UNIQUE, "
        "deleted BOOLEAN NOT NULL DEFAULT 0, emp_number INTEGER)"
    )
    connection.close()
    text = REVIVE.replace("URL", f"sqlite:///{db}")
    path = tmp_path / "app.map"
    path.write_text(text)
    assert [d.code for d in lint_text(text, str(path)).diagnostics] == ["MAP240"]
    assert lint_text(text, str(path), db=f"sqlite:///{db}").diagnostics == []
    async with Editor() as editor:
        uri = editor.open(path)
        assert not await editor.diagnostics(uri, lambda ds: not ds)
