"""Test databases: the HR example's files, SQL scripts run against a server, scratch databases
emptied between tests, and :class:`HrDatabase` (the fixtures in tests/conftest.py hand these out).

The servers are ``MAPPER_TEST_POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``)
and ``MAPPER_TEST_MARIADB_URL`` (default ``mysql://root@127.0.0.1:3306/test``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

from mapper.runtime.database import engine_url
from mapper.runtime.sqlite import bootstrap_sqlite

ROOT = Path(__file__).resolve().parents[2]
HR = ROOT / "examples" / "hr"
ECMA = ROOT / "examples" / "ecma"
POSTGRES_ADMIN = os.environ.get("MAPPER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
MARIADB_ADMIN = os.environ.get("MAPPER_TEST_MARIADB_URL", "mysql://root@127.0.0.1:3306/test")


def split_sql(script: str) -> list[str]:
    """Statements of a SQL file, split where a line ends with the delimiter: ``;``, or what a
    ``DELIMITER`` line (MySQL client syntax, for routine bodies) sets. Comment lines are dropped.
    Enough for our schema and data files (no delimiter at a line end inside a literal)."""
    statements: list[str] = []
    delimiter, current = ";", []
    for line in script.splitlines():
        stripped = line.strip()
        if stripped.upper().startswith("DELIMITER "):
            delimiter = stripped.split(None, 1)[1]
            continue
        if stripped.startswith("--") and not current:
            continue
        if stripped.endswith(delimiter):
            current.append(line.rstrip()[: -len(delimiter)])
            statements.append("\n".join(current).strip())
            current = []
        else:
            current.append(line)
    if "\n".join(current).strip():
        statements.append("\n".join(current).strip())
    return [s for s in statements if s]


def load_sql(url: str | URL, files: list[Path]) -> None:
    """Run SQL files against a server database (PostgreSQL: each file as one script; MariaDB:
    statement by statement)."""
    engine = create_engine(engine_url(str(url)) if isinstance(url, str) else url)
    try:
        with engine.begin() as connection:
            for file in files:
                script = file.read_text(encoding="utf-8")
                if engine.dialect.name == "postgresql":  # one script; the raw cursor leaves '%' alone
                    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
                    cursor.execute(script)
                    cursor.close()
                else:
                    for statement in split_sql(script):
                        connection.exec_driver_sql(statement.replace("%", "%%"))
    finally:
        engine.dispose()


def reset_database(url: str) -> None:
    """Empty the scratch database: drop every table, trigger, function and procedure."""
    engine = create_engine(engine_url(url))
    try:
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                connection.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
            else:  # tables, triggers and procedures: recreate the database
                name = engine.url.database
                connection.exec_driver_sql(f"DROP DATABASE `{name}`")
                connection.exec_driver_sql(f"CREATE DATABASE `{name}`")
    finally:
        engine.dispose()


@dataclass
class HrDatabase:
    """A freshly loaded HR database. ``dialect`` is the plan dialect (``write=``)."""

    name: str
    dialect: str
    url: str

    def execute(self, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """Run one statement directly (committed), as another application would; rows if any."""
        engine = create_engine(engine_url(self.url))
        try:
            with engine.begin() as connection:
                if self.dialect == "sqlite":
                    connection.exec_driver_sql("PRAGMA foreign_keys = ON")
                if self.dialect == "mysql":
                    connection.exec_driver_sql("SET time_zone = '+00:00'")
                result = connection.execute(text(sql), params or {})
                return [tuple(r) for r in result] if result.returns_rows else []
        finally:
            engine.dispose()


#: the plan dialect (``write=``) of each test database
DIALECTS = {"sqlite": "sqlite", "postgres": "postgres", "mariadb": "mysql"}


def ecma_database(tmp_path: Path, server_url: str | None = None, *, sample: bool = True) -> HrDatabase:
    """The ECMA example's tables: a SQLite file in ``tmp_path`` with its sample rows (``sample``),
    or, given ``server_url`` (the ``mariadb_url`` fixture's), that MariaDB scratch database emptied
    and loaded with ``schema.mysql.sql`` alone (the sample rows are SQLite's)."""
    if server_url is None:
        url = f"sqlite:///{tmp_path / 'ecma.db'}"
        bootstrap_sqlite(url, [ECMA / "schema.sql", *([ECMA / "sample-data.sql"] if sample else [])])
        return HrDatabase("sqlite", "sqlite", url)
    reset_database(server_url)
    load_sql(server_url, [ECMA / "schema.mysql.sql"])
    return HrDatabase("mariadb", "mysql", server_url)


def scratch_database(name: str, tmp_path: Path, script: str, server_url: str | None) -> HrDatabase:
    """A database of kind ``name`` (``sqlite``, ``postgres``, ``mariadb``) loaded with ``script``
    alone: a SQLite file in ``tmp_path``, else the server's scratch database ``server_url`` (the
    ``postgres_url`` / ``mariadb_url`` fixture's), emptied first."""
    if name == "sqlite":
        url = f"sqlite:///{tmp_path / 't.db'}"
    else:
        assert server_url is not None
        url = server_url
        reset_database(url)
    file = tmp_path / "schema.sql"
    file.write_text(script, encoding="utf-8")
    load_sql(url, [file])
    return HrDatabase(name, DIALECTS[name], url)


def scratch_for(request: Any, tmp_path: Path, script: str) -> HrDatabase:
    """:func:`scratch_database` for a fixture parametrised by database name (``request.param``),
    the server's scratch database taken from its ``postgres_url`` / ``mariadb_url`` fixture."""
    name = request.param
    server = None if name == "sqlite" else request.getfixturevalue(f"{name}_url")
    return scratch_database(name, tmp_path, script, server)


#: the databases an app test runs on, as ``pytest.fixture(params=...)`` takes them for
#: :func:`scratch_for` (the servers marked, so that ``-m`` selects them)
EVERY_DATABASE = [
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("mariadb", marks=pytest.mark.mariadb),
]

#: an integer primary key the database generates, in each one's DDL
GENERATED_KEY = {
    "sqlite": "INTEGER PRIMARY KEY AUTOINCREMENT",
    "postgres": "SERIAL PRIMARY KEY",
    "mariadb": "INTEGER AUTO_INCREMENT PRIMARY KEY",
}


#: sessions of this database waiting for a lock (MariaDB: a statement of another session that has
#: run for over 200 ms; the other writer sits idle in its transaction meanwhile)
WAITING = {
    "postgres": "SELECT count(*) FROM pg_stat_activity"
    " WHERE wait_event_type = 'Lock' AND datname = current_database()",
    "mariadb": "SELECT count(*) FROM information_schema.PROCESSLIST"
    " WHERE db = DATABASE() AND id <> CONNECTION_ID() AND command = 'Query' AND time_ms > 200",
}


def engine_waiting(engine: Any, kind: str) -> int:
    """How many sessions of database ``kind`` (``postgres``, ``mariadb``) wait for a lock, asked on
    a connection of ``engine`` (:data:`WAITING`)."""
    with engine.connect() as connection:
        return int(connection.execute(text(WAITING[kind])).scalar_one())
