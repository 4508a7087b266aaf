"""The payroll example on real servers: its schema files load (tables, change-table triggers,
procedures), and the plan compiled for each server runs against them through SQLAlchemy
``text()``. Each test works in its own scratch database or schema and drops it afterwards.

Servers: ``MAPPER_TEST_POSTGRES_URL`` and ``MAPPER_TEST_MARIADB_URL`` (as in tests/conftest.py);
an unreachable server skips, unless ``CI=true``.
"""

from __future__ import annotations

import os
import re
import secrets
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, create_engine, make_url, text
from sqlalchemy.engine import Engine

from mapper.pipeline import load
from mapper.plan import Plan, Statement
from tests.compiler.helpers import EXAMPLES

PAYROLL = EXAMPLES / "payroll"
POSTGRES = os.environ.get("MAPPER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
MARIADB = os.environ.get("MAPPER_TEST_MARIADB_URL", "mysql://root@127.0.0.1:3306/test")


def mysql_statements(script: str) -> list[str]:
    """The statements of a MariaDB script, honouring the client's DELIMITER lines."""
    statements, current, delimiter = [], [], ";"
    for line in script.splitlines():
        stripped = line.strip()
        if stripped.upper().startswith("DELIMITER "):
            delimiter = stripped.split()[1]
            continue
        if not current and (not stripped or stripped.startswith("--")):
            continue
        current.append(line)
        if stripped.endswith(delimiter):
            statement = "\n".join(current).rstrip()
            statements.append(statement[: -len(delimiter)].strip())
            current = []
    assert not current, current
    return statements


def reachable(engine: Engine, what: str) -> None:
    try:
        with engine.connect():
            pass
    except Exception as error:  # noqa: BLE001 - any failure to reach the server
        if os.environ.get("CI") == "true":
            pytest.fail(f"{what} not reachable ({type(error).__name__}); CI=true requires it")
        pytest.skip(f"{what} not reachable")


@pytest.fixture
def postgres() -> Iterator[Connection]:
    url = make_url(POSTGRES).set(drivername="postgresql+psycopg")
    admin = create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    reachable(admin, "PostgreSQL")
    schema = f"payroll_{secrets.token_hex(4)}"
    with admin.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    engine = create_engine(url, connect_args={"options": f"-c search_path={schema}"})
    try:
        with engine.connect() as connection:
            script = (PAYROLL / "schema.postgres.sql").read_text(encoding="utf-8")
            connection.connection.driver_connection.execute(script)  # type: ignore[union-attr]
            connection.commit()
            yield connection
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def mariadb() -> Iterator[Connection]:
    url = make_url(MARIADB).set(drivername="mysql+pymysql")
    admin = create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    reachable(admin, "MariaDB")
    database = f"payroll_{secrets.token_hex(4)}"
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {database}"))
    engine = create_engine(url.set(database=database))
    try:
        with engine.connect() as connection:
            for statement in mysql_statements((PAYROLL / "schema.mysql.sql").read_text(encoding="utf-8")):
                connection.exec_driver_sql(statement.replace("%", "%%"))
            connection.commit()
            yield connection
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE {database}"))
        admin.dispose()


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
