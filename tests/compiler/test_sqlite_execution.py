"""The HR plan compiled for SQLite, run against a real SQLite database built from the example's
schema and sample data, through SQLAlchemy ``text()`` as the runtime runs it. No mocks."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, create_engine, event, text

from mapper.pipeline import load
from mapper.plan import Plan, PlanObject, Statement
from tests.support.compiling import EXAMPLES

HR = EXAMPLES / "hr"


@pytest.fixture(scope="module")
def plan() -> Plan:
    return load(str(HR / "hr.map"), write="sqlite")


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Connection]:
    path = tmp_path / "hr.db"
    raw = sqlite3.connect(path)
    raw.executescript((HR / "schema.sql").read_text(encoding="utf-8"))
    raw.executescript((HR / "sample-data.sql").read_text(encoding="utf-8"))
    raw.commit()
    raw.close()
    engine = create_engine(f"sqlite:///{path}")
    event.listen(engine, "connect", lambda c, _: c.execute("PRAGMA foreign_keys = ON"))
    with engine.connect() as connection:
        yield connection
    engine.dispose()


def run(db: Connection, stmt: Statement | None, **params: Any) -> list[dict[str, Any]]:
    assert stmt is not None
    assert set(params) == set(stmt.params), (stmt.params, sorted(params))
    result = db.execute(text(stmt.sql), params)
    return [dict(r) for r in result.mappings()] if result.returns_rows else []


def user_values(obj: PlanObject, **overrides: Any) -> dict[str, Any]:
    values = {a.column: None for a in obj.attributes if a.target_column and a.direction != "import"}
    values.update(active=True, **overrides)
    return values


def test_full_import_is_ordered_by_anchor(plan: Plan, db: Connection) -> None:
    user = plan.object("User")
    rows = run(db, user.import_all)
    assert len(rows) == 20
    assert [r["employee_id"] for r in rows] == sorted(r["employee_id"] for r in rows)
    assert list(rows[0]) == list(user.columns)


def test_keyset_pages_cover_everything_once(plan: Plan, db: Connection) -> None:
    user = plan.object("User")
    seen: list[int] = []
    page = run(db, user.import_first_page, limit=7)
    while page:
        seen += [r["employee_id"] for r in page]
        page = run(db, user.import_page, after=seen[-1], limit=7)
    assert seen == list(range(1, 21))


def test_look_ups(plan: Plan, db: Connection) -> None:
    user = plan.object("User")
    (ada,) = run(db, user.by_anchor, anchor=1)
    assert ada["login"] == "ada.lovelace"
    (found,) = run(db, user.by_query, value="ADA.Lovelace")  # userName is not caseExact
    assert found["employee_id"] == 1
    group = plan.object("Group")
    (everyone,) = run(db, group.by_query, value="everyone")
    assert everyone["name"] == "Everyone"


def test_insert_returns_the_generated_anchor_then_update_and_delete(plan: Plan, db: Connection) -> None:
    user = plan.object("User")
    assert user.insert is not None and user.insert.returning == "returning"
    (created,) = run(db, user.insert, **user_values(user, login="new.person", given_name="New"))
    anchor = next(iter(created.values()))
    (row,) = run(db, user.by_anchor, anchor=anchor)
    assert row["given_name"] == "New" and row["active"] == 1
    run(db, user.update, anchor=anchor, **user_values(user, login="new.person", given_name="Renamed"))
    assert run(db, user.by_anchor, anchor=anchor)[0]["given_name"] == "Renamed"
    run(db, user.disable.statement, anchor=anchor)
    assert run(db, user.by_anchor, anchor=anchor)[0]["active"] == 0
    run(db, user.deprovision_delete.statement, anchor=anchor)
    assert run(db, user.by_anchor, anchor=anchor) == []


def test_watermark_delta(plan: Plan, db: Connection) -> None:
    user = plan.object("User")
    assert user.delta.kind == "watermark" and user.delta.max_sequence is not None
    db.execute(text("UPDATE employees SET updated_at = '2000-01-01T00:00:00.000Z'"))
    (mark,) = run(db, user.delta.max_sequence)
    since = next(iter(mark.values()))
    assert run(db, user.delta.query, since=since) == []
    db.execute(text("UPDATE employees SET title = 'Countess' WHERE employee_id = 1"))
    changed = run(db, user.delta.query, since=since)
    assert [r["employee_id"] for r in changed] == [1]


def test_group_members(plan: Plan, db: Connection) -> None:
    group = plan.object("Group")
    (members,) = group.multi
    assert members.columns == ("group_id", "employee_id")
    (created,) = run(db, group.insert, name="Pilots", external_id=None)
    anchor = next(iter(created.values()))
    run(db, members.add, anchor=anchor, value=3)
    run(db, members.add, anchor=anchor, value=1)
    rows = run(db, members.load_for_anchor, anchor=anchor)
    assert [(r["group_id"], r["employee_id"]) for r in rows] == [(anchor, 1), (anchor, 3)]
    loaded = run(db, members.load)
    assert [(r["group_id"], r["employee_id"]) for r in loaded] == sorted(
        (r["group_id"], r["employee_id"]) for r in loaded
    )
    run(db, members.remove, anchor=anchor, value=3)
    assert [r["employee_id"] for r in run(db, members.load_for_anchor, anchor=anchor)] == [1]


def test_literal_with_a_colon_is_not_a_parameter(tmp_path: Path) -> None:
    mapping = tmp_path / "colon.map"
    source = (HR / "hr.map").read_text(encoding="utf-8")
    mapping.write_text(source.replace("disable set active = false", 'disable set title = "left :today"'))
    user = load(str(mapping), write="sqlite").object("User")
    stmt = user.disable.statement
    assert stmt is not None and stmt.params == ("anchor",)
    engine = create_engine("sqlite://")
    with engine.connect() as connection:
        connection.execute(text("CREATE TABLE employees (employee_id INTEGER PRIMARY KEY, title TEXT)"))
        connection.execute(text("INSERT INTO employees VALUES (1, NULL)"))
        connection.execute(text(stmt.sql), {"anchor": 1})
        assert connection.execute(text("SELECT title FROM employees")).scalar() == "left :today"
