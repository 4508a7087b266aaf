"""Shared database fixtures. Real databases, no mocks.

- ``hr_sqlite``: a fresh SQLite file with the HR schema and sample data (per test).
- ``postgres_url`` / ``mariadb_url``: a scratch database (``mapper_test_<random>``) per test
  session on the local server, dropped at the end. ``hr_postgres`` / ``hr_mariadb`` reload the HR
  schema and sample data into it for each test.
- ``hr_database``: parametrized over the three, an :class:`HrDatabase` with the URL, the plan
  dialect name (``write=``) and ``execute()`` for direct SQL (changes made behind the gateway's back).

The servers are ``MAPPER_TEST_POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``)
and ``MAPPER_TEST_MARIADB_URL`` (default ``mysql://root@127.0.0.1:3306/test``). An unreachable server
skips its tests with the reason, unless ``CI=true``: then it fails them.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

from mapper.runtime.database import bootstrap_sqlite, engine_url

ROOT = Path(__file__).resolve().parent.parent
HR = ROOT / "examples" / "hr"
POSTGRES_ADMIN = os.environ.get("MAPPER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
MARIADB_ADMIN = os.environ.get("MAPPER_TEST_MARIADB_URL", "mysql://root@127.0.0.1:3306/test")


def check_golden(actual: str, path: Path) -> None:
    """Compare ``actual`` with the golden file at ``path`` (under tests/fixtures/); with
    ``UPDATE_GOLDEN=1``, rewrite the file instead (review the diff)."""
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"{path} is missing (UPDATE_GOLDEN=1 writes it)"
    assert actual == path.read_text(encoding="utf-8"), f"{path.name} differs (UPDATE_GOLDEN=1 to regenerate)"


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


def _unreachable(what: str, admin: URL, error: Exception) -> None:
    reason = f"{what} not reachable at {admin.host}:{admin.port or ''}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} ({type(error).__name__}); CI=true requires it", pytrace=False)
    pytest.skip(reason)


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


def _scratch(admin_url: str, what: str) -> Iterator[str]:
    admin = engine_url(admin_url)
    name = f"mapper_test_{secrets.token_hex(4)}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name}"))
    except Exception as error:  # noqa: BLE001 - any failure to reach the server
        engine.dispose()
        _unreachable(what, admin, error)
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as connection:
            if engine.dialect.name == "postgresql":
                connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            else:
                connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        engine.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    yield from _scratch(POSTGRES_ADMIN, "PostgreSQL")


@pytest.fixture(scope="session")
def mariadb_url() -> Iterator[str]:
    yield from _scratch(MARIADB_ADMIN, "MariaDB")


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


@pytest.fixture
def hr_sqlite(tmp_path: Path) -> HrDatabase:
    url = f"sqlite:///{tmp_path / 'hr.db'}"
    bootstrap_sqlite(url, [HR / "schema.sql", HR / "sample-data.sql"])
    return HrDatabase("sqlite", "sqlite", url)


@pytest.fixture
def hr_postgres(postgres_url: str) -> HrDatabase:
    reset_database(postgres_url)
    load_sql(postgres_url, [HR / "schema.postgres.sql", HR / "sample-data.sql"])
    return HrDatabase("postgres", "postgres", postgres_url)


@pytest.fixture
def hr_mariadb(mariadb_url: str) -> HrDatabase:
    reset_database(mariadb_url)
    load_sql(mariadb_url, [HR / "schema.mysql.sql", HR / "sample-data.sql"])
    return HrDatabase("mariadb", "mysql", mariadb_url)


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ]
)
def hr_database(request: pytest.FixtureRequest) -> HrDatabase:
    return request.getfixturevalue(f"hr_{request.param}")  # type: ignore[no-any-return]
