"""The parser on the reference example: model contents and spans."""

from __future__ import annotations

from pathlib import Path

import pytest

from mapper.language.model import DeltaWatermark, MappingFile, SqlBlock
from mapper.language.parser import parse

ROOT = Path(__file__).resolve().parents[2]
HR = ROOT / "examples" / "hr" / "hr.map"


@pytest.fixture(scope="module")
def hr() -> MappingFile:
    mapping, diagnostics = parse(HR.read_text(encoding="utf-8"), str(HR))
    assert diagnostics == []
    assert mapping is not None
    return mapping


def text_at(mapping: MappingFile, offset: int, end_offset: int) -> str:
    return mapping.text[offset:end_offset]


def test_source(hr: MappingFile) -> None:
    (source,) = hr.sources
    assert source.name.value == "hr"
    assert source.dialect is not None and source.dialect.value == "sqlite"
    assert source.url is not None and source.url.kind == "env"
    assert source.url.var == "HR_DATABASE_URL"
    assert source.url.default == "sqlite:///hr.db"
    assert (source.span.line, source.span.col, source.span.end_line, source.span.end_col) == (4, 1, 7, 2)
    assert text_at(hr, source.url.span.offset, source.url.span.end_offset).startswith('env("HR_')


def test_objects(hr: MappingFile) -> None:
    user, group = hr.objects
    assert (user.name.value, user.source.value) == ("User", "hr")
    assert user.anchor is not None
    assert (user.anchor.column.value, user.anchor.generation) == ("employee_id", "database")
    assert user.query is not None and user.query.value == "userName"
    assert user.dn is not None and user.dn.kind == "template"
    assert user.dn.value is not None and user.dn.value.value == "CN={anchor},OBJECT=USER"
    assert isinstance(user.delta, DeltaWatermark) and user.delta.column.value == "updated_at"
    assert user.writes is not None and user.writes.table is not None
    assert user.writes.table.value == "employees"
    assert user.disable is not None and user.disable.action == "set"
    assert [(a.column.value, a.value) for a in user.disable.assignments] == [("active", False)]
    assert user.delete is not None and user.delete.action == "row"
    assert group.name.value == "Group"
    assert [m.attribute.value for m in user.multi] == ["emails", "phoneNumbers"]
    assert len(hr.comments) == 2 and hr.comments[0].text.startswith("# HR example")


def test_attribute_mappings(hr: MappingFile) -> None:
    user = hr.objects[0]
    by_path = {m.path.value: m for m in user.attributes}
    assert len(user.attributes) == 19
    login = by_path["userName"]
    assert (login.column.value, login.direction) == ("login", "both")
    assert login.required and login.unique
    assert by_path["externalId"].case_exact
    assert by_path['addresses[type eq "work"].locality'].column.value == "locality"
    manager = by_path["enterprise.manager"]
    assert manager.reference is not None and manager.reference.value == "User"
    created = by_path["meta.created"]
    assert created.direction == "import"
    assert created.type is not None and created.type.value == "dateTime"
    assert (created.span.line, created.span.col) == (41, 5)
    assert (created.column.span.line, created.column.span.col) == (41, 49)
    assert text_at(hr, created.span.offset, created.span.end_offset) == (
        "meta.created                            <-  created_at      dateTime"
    )


def test_sql_block_spans(hr: MappingFile) -> None:
    user = hr.objects[0]
    sql = user.import_sql
    assert isinstance(sql, SqlBlock)
    assert sql.text.strip().startswith("SELECT employee_id, login")
    assert (sql.span.line, sql.span.col) == (14, 10)
    assert text_at(hr, sql.span.offset, sql.span.end_offset).startswith('sql"""')
    assert text_at(hr, sql.text_span.offset, sql.text_span.end_offset) == sql.text
    assert (sql.text_span.line, sql.text_span.col) == (14, 16)
    # an error at character k of the SQL maps back to the file by walking text[:k]
    k = sql.text.index("FROM")
    before = sql.text[:k]
    line = sql.text_span.line + before.count("\n")
    col = len(before) - before.rfind("\n")
    assert hr.text.splitlines()[line - 1][col - 1 :].startswith("FROM employees")


def test_multi(hr: MappingFile) -> None:
    (members,) = hr.objects[1].multi
    assert members.attribute.value == "members"
    assert members.reference is not None and members.reference.value == "User"
    assert isinstance(members.import_sql, SqlBlock)
    assert isinstance(members.add, SqlBlock) and ":anchor" in members.add.text
    assert isinstance(members.remove, SqlBlock) and members.remove.text.startswith("DELETE")
    assert members.import_sql.text_span.line == 87


def test_multi_with_sub_attributes(hr: MappingFile) -> None:
    emails, phones = hr.objects[0].multi
    assert (emails.attribute.value, emails.reference) == ("emails", None)
    assert isinstance(emails.import_sql, SqlBlock) and "email_type, is_primary" in emails.import_sql.text
    assert isinstance(emails.add, SqlBlock) and ":type, :primary" in emails.add.text
    assert phones.attribute.value == "phoneNumbers"


def test_keywords_are_not_reserved_for_columns_and_paths() -> None:
    text = """object X from db {
  attributes {
    type  <-> type   string
    query <-  query
  }
  delta table changes { sequence type anchor anchor type type }
}
"""
    mapping, diagnostics = parse(text, "x.map")
    assert diagnostics == [] and mapping is not None
    obj = mapping.objects[0]
    assert [(m.path.value, m.column.value) for m in obj.attributes] == [("type", "type"), ("query", "query")]
    assert obj.delta is not None and obj.delta.kind == "table"


def test_empty_file() -> None:
    mapping, diagnostics = parse("# nothing here\n", "empty.map")
    assert diagnostics == []
    assert mapping is not None and mapping.objects == () and len(mapping.comments) == 1


def test_arrows_need_no_spaces() -> None:
    text = "object U from db {\n  attributes {\n    userName->login\n    x-y<-z\n    a<->b\n  }\n}\n"
    mapping, diagnostics = parse(text, "x.map")
    assert diagnostics == [] and mapping is not None
    got = [(m.path.value, m.direction, m.column.value) for m in mapping.objects[0].attributes]
    assert got == [("userName", "export", "login"), ("x-y", "import", "z"), ("a", "both", "b")]
