"""The watchdog (:class:`mapper.runtime.watchdog.Watchdog`): a unit of work carries its deadline
as data, the pool puts the connection it checks out under the watchdog, and the watchdog's own
thread breaks it when the database has not answered by then; a connection back in the pool is
never broken. The partition tests (tests/reliability/test_partition.py) show the same through the
gateway, with a blackholed database."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mapper.runtime.database import Database, Timeouts
from mapper.runtime.errors import DatabaseUnavailableError

#: a statement that runs for minutes unless it is broken off
LONG = {
    "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5000000000)"
    " SELECT count(*) FROM c",
    "postgresql": "SELECT pg_sleep(60)",
    "mariadb": "SELECT SLEEP(60)",
}
#: the session's own id, which a new connection would change
SESSION = {"postgresql": "SELECT pg_backend_pid()", "mariadb": "SELECT CONNECTION_ID()"}


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ]
)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        sqlite3.connect(tmp_path / "w.db").close()
        url = f"sqlite:///{tmp_path / 'w.db'}"
    else:
        url = request.getfixturevalue(f"{request.param}_url")
    database = Database("w", url, pool_size=1, max_overflow=0, timeouts=Timeouts(statement=60))
    yield database
    database.dispose()


def dialect(database: Database) -> str:
    return "mariadb" if database.is_mysql else database.dialect


def scalar(database: Database, sql: str, deadline: float | None) -> object:
    """``sql``'s one value, run in this thread (no event loop) as a unit with ``deadline``."""
    return database.run_sync(lambda tx: tx.connection.exec_driver_sql(sql).scalar(), deadline=deadline)


def test_the_watchdogs_own_thread_breaks_a_unit_that_outlives_its_deadline(database: Database) -> None:
    with pytest.raises(DatabaseUnavailableError):
        scalar(database, LONG[dialect(database)], time.monotonic() + 0.5)
    assert scalar(database, "SELECT 1", None) == 1  # the pool replaced what was broken


def test_a_unit_past_its_deadline_before_it_has_a_connection_runs_nothing(database: Database) -> None:
    ran = []
    with pytest.raises(DatabaseUnavailableError):
        database.run_sync(ran.append, deadline=time.monotonic() - 0.01)
    assert ran == []


@pytest.mark.parametrize(
    "database",
    [
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ],
    indirect=True,
)
def test_a_connection_back_in_the_pool_is_never_broken_by_its_units_deadline(database: Database) -> None:
    session = SESSION[dialect(database)]
    pooled = scalar(database, session, None)  # connected before: the unit below only checks it out
    assert scalar(database, session, time.monotonic() + 0.5) == pooled
    time.sleep(1.0)  # past that unit's deadline: its connection went back to the pool before
    assert scalar(database, session, None) == pooled  # the same session, not broken and replaced
