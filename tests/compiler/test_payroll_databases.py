"""The payroll example on real servers: its schema files load (tables, change-table triggers,
procedures), and the plan compiled for each server runs against them through SQLAlchemy
``text()``, in the scratch databases of tests/conftest.py (``postgres_url``, ``mariadb_url``),
emptied and loaded for each test.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, create_engine, text

from mapper.pipeline import load
from mapper.plan import Plan, Statement
from mapper.runtime.database import engine_url
from tests.support.compiling import EXAMPLES
from tests.support.databases import load_sql, reset_database

PAYROLL = EXAMPLES / "payroll"


@pytest.fixture
def postgres(postgres_url: str) -> Iterator[Connection]:
    yield from loaded(postgres_url, "schema.postgres.sql")


@pytest.fixture
def mariadb(mariadb_url: str) -> Iterator[Connection]:
    yield from loaded(mariadb_url, "schema.mysql.sql")


def loaded(url: str, schema: str) -> Iterator[Connection]:
    """A connection to the scratch database ``url``, emptied and loaded with the payroll ``schema``."""
    reset_database(url)
    load_sql(url, [PAYROLL / schema])
    engine = create_engine(engine_url(url))
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def run(db: Connection, stmt: Statement | None, **params: Any) -> list[tuple[Any, ...]]:
    assert stmt is not None
    assert set(params) == set(stmt.params), (stmt.params, sorted(params))
    result = db.execute(text(stmt.sql), params)
    return [tuple(r) for r in result] if result.returns_rows else []


def scenario(db: Connection, plan: Plan) -> None:
    """Create, find, page, update, delta, members and delete, as the runtime would."""
    user, group = plan.object("User"), plan.object("Group")
    worker = str(uuid.uuid4())
    values = {
        "login": "ada",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.com",
        "payroll_number": "P-1",
        "cost_center": "CC-100",
        "grade": 7,
        "active": True,
    }
    assert user.insert is not None and user.insert.returning == "query"
    run(db, user.insert, anchor=worker, **values)
    (found,) = run(db, user.by_query, value="ADA")
    columns = dict(zip(user.columns, found, strict=True))
    assert str(columns["worker_id"]) == worker
    assert columns["display_name"] == "Ada Lovelace"
    assert columns["cost_center_name"] == "Headquarters"
    assert columns["dn"] == "CN=ada,OU=Workers,O=Payroll"
    assert len(run(db, user.import_first_page, limit=10)) == 1
    assert run(db, user.import_page, after=worker, limit=10) == []
    run(db, user.update, anchor=worker, **{**values, "cost_center": "CC-200", "grade": 8})
    (updated,) = run(db, user.by_anchor, anchor=worker)
    assert dict(zip(user.columns, updated, strict=True))["grade"] == 8

    run(db, group.insert, code="MONTHLY", description="Paid monthly")
    (members,) = group.multi
    run(db, members.add, anchor="MONTHLY", value=worker)
    assert [str(v) for _, v in run(db, members.load_for_anchor, anchor="MONTHLY")] == [worker]
    assert run(db, group.by_query, value="MONTHLY")[0][2] == 1  # member_count
    run(db, members.remove, anchor="MONTHLY", value=worker)
    assert run(db, members.load, **{}) == []

    run(db, user.deprovision_delete.statement, anchor=worker)
    assert run(db, user.by_anchor, anchor=worker) == []
    changes = run(db, user.delta.query, since=0)
    assert [(str(a), kind) for _, a, kind in changes] == [
        (worker, "insert"),
        (worker, "update"),
        (worker, "delete"),
    ]
    (latest,) = run(db, user.delta.max_sequence)
    assert latest[0] == changes[-1][0]
    db.commit()


@pytest.mark.postgres
def test_postgres(postgres: Connection) -> None:
    scenario(postgres, load(str(PAYROLL / "payroll.map"), write="postgres"))


@pytest.mark.mariadb
def test_mariadb(mariadb: Connection) -> None:
    scenario(mariadb, load(str(PAYROLL / "payroll.map"), write="mysql"))


def test_sqlite_reports_the_procedures() -> None:
    from mapper.errors import MappingError

    with pytest.raises(MappingError) as raised:
        load(str(PAYROLL / "payroll.map"), write="sqlite")
    codes = [d.code for d in raised.value.diagnostics]
    assert codes == ["MAP208"] * 5
    assert re.search(r"payroll\.map:\d+:\d+: error\[MAP208\]", str(raised.value))
