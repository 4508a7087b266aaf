"""``mapper init`` proposes a soft delete from a column of declared codes (a MariaDB ENUM, a
PostgreSQL enum type or CHECK (c IN (...))) that holds a deletion marker ('gone', 'deleted'...):
as the status column's deleted code when the column is also the active flag, else with the live
code a revive writes back. Each scaffold lints clean against its database and passes the
simulator's life cycle, delete included."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mapper.lint import lint_text
from mapper.pipeline import load
from mapper.scaffold import scaffold
from mapper.simulate.report import render_text
from mapper.simulate.runner import simulate_plan
from tests.support.databases import load_sql, reset_database

pytestmark = pytest.mark.anyio

MARIADB_STATUS = """CREATE TABLE accounts (
  id INT AUTO_INCREMENT PRIMARY KEY,
  login VARCHAR(64) NOT NULL UNIQUE,
  full_name VARCHAR(100),
  status ENUM('active', 'disabled', 'gone') NOT NULL DEFAULT 'active'
)"""
MARIADB_LIFECYCLE = """CREATE TABLE accounts (
  id INT AUTO_INCREMENT PRIMARY KEY,
  login VARCHAR(64) NOT NULL UNIQUE,
  full_name VARCHAR(100),
  enabled BOOLEAN NOT NULL DEFAULT TRUE,
  lifecycle ENUM('live', 'gone') NOT NULL DEFAULT 'live'
)"""
POSTGRES_TYPE = """CREATE TYPE account_state AS ENUM ('active', 'locked', 'gone');
CREATE TABLE accounts (
  id SERIAL PRIMARY KEY,
  login VARCHAR(64) NOT NULL UNIQUE,
  full_name VARCHAR(100),
  state account_state NOT NULL DEFAULT 'active'
)"""
POSTGRES_CHECK = """CREATE TABLE accounts (
  id SERIAL PRIMARY KEY,
  login VARCHAR(64) NOT NULL UNIQUE,
  full_name VARCHAR(100),
  enabled BOOLEAN NOT NULL DEFAULT TRUE,
  record_state VARCHAR(10) NOT NULL DEFAULT 'live' CHECK (record_state IN ('live', 'deleted'))
)"""

CASES = [
    pytest.param(
        "mariadb", MARIADB_STATUS, 'status = "gone"', None, marks=pytest.mark.mariadb, id="mariadb-status"
    ),
    pytest.param(
        "mariadb",
        MARIADB_LIFECYCLE,
        'lifecycle = "gone"',
        'lifecycle = "live"',
        marks=pytest.mark.mariadb,
        id="mariadb-lifecycle",
    ),
    pytest.param(
        "postgres", POSTGRES_TYPE, 'state = "gone"', None, marks=pytest.mark.postgres, id="postgres-type"
    ),
    pytest.param(
        "postgres",
        POSTGRES_CHECK,
        'record_state = "deleted"',
        'record_state = "live"',
        marks=pytest.mark.postgres,
        id="postgres-check",
    ),
]


@pytest.mark.parametrize(("kind", "ddl", "deleted", "revived"), CASES)
async def test_a_deletion_code_is_proposed_as_the_soft_delete(
    kind: str, ddl: str, deleted: str, revived: str | None, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue(f"{kind}_url")
    reset_database(url)
    schema = tmp_path / "schema.sql"
    schema.write_text(ddl + ";\n", encoding="utf-8")
    load_sql(url, [schema])
    text = scaffold(url).text
    assert re.search(rf"^  delete set {re.escape(deleted)}$", text, re.M), text
    assert re.search(rf"^  recreate revive{re.escape(f' set {revived}' if revived else '')}$", text, re.M), (
        text
    )
    linted = lint_text(text, "scaffold.map", db=url)
    assert not linted.diagnostics, "\n".join(map(str, linted.diagnostics)) + "\n" + text

    path = tmp_path / "scaffold.map"
    path.write_text(text, encoding="utf-8")
    report = await simulate_plan(load(str(path)), {})
    assert report.failed == 0, render_text(report) + "\n" + text
