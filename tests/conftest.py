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
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

from mapper.runtime.database import bootstrap_sqlite, engine_url
from tests.support.databases import (
    HR,
    MARIADB_ADMIN,
    POSTGRES_ADMIN,
    ROOT,
    HrDatabase,
    load_sql,
    reset_database,
    split_sql,
)

__all__ = ["HR", "ROOT", "HrDatabase", "check_golden", "load_sql", "reset_database", "split_sql"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite the golden files under tests/fixtures/ instead of comparing (UPDATE_GOLDEN=1 too)",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--update-golden"):
        os.environ["UPDATE_GOLDEN"] = "1"  # one switch for every golden test, and the old spelling


def check_golden(actual: str, path: Path) -> None:
    """Compare ``actual`` with the golden file at ``path`` (under tests/fixtures/), byte for byte;
    with ``--update-golden`` (or ``UPDATE_GOLDEN=1``), rewrite the file instead (review the diff)."""
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"{path} is missing (--update-golden writes it)"
    assert actual == path.read_text(encoding="utf-8"), f"{path.name} differs (--update-golden to regenerate)"


@pytest.fixture
def golden() -> Callable[[str, Path], None]:
    """:func:`check_golden`, the one golden-file comparison of the suite."""
    return check_golden


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


def _unreachable(what: str, admin: URL, error: Exception) -> None:
    reason = f"{what} not reachable at {admin.host}:{admin.port or ''}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} ({type(error).__name__}); CI=true requires it", pytrace=False)
    pytest.skip(reason)


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
