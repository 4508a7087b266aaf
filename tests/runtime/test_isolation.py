"""The isolation level each kind of transaction runs in, on PostgreSQL and MariaDB: a write's in
READ COMMITTED on both (each statement reads the latest commits: what a write decides from, its
object's child rows and its uniqueness checks, is never an older snapshot of its batch; see
tests/scim/test_app_stale_snapshot.py), a read's in the server's default, an import's in one
snapshot (REPEATABLE READ). MariaDB's default is REPEATABLE READ, and a write's level lasts for its
transaction only: the read after it on the same connection has the default again."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine

from mapper.runtime.database import Database, Tx, engine_url

pytestmark = pytest.mark.anyio

#: the level of the transaction the statement runs in (MariaDB: InnoDB's view of the transaction,
#: which it refreshes at most every 0.1 s, and which has one once it read an InnoDB table)
LEVEL = {
    "postgres": ["SHOW transaction_isolation"],
    "mariadb": [
        "SELECT COUNT(*) FROM snap_iso",
        "SELECT SLEEP(0.2)",
        "SELECT trx_isolation_level FROM information_schema.INNODB_TRX"
        " WHERE trx_mysql_thread_id = CONNECTION_ID()",
    ],
}

EXPECTED = {
    "postgres": {"write": "read committed", "read": "read committed", "snapshot": "repeatable read"},
    "mariadb": {"write": "READ COMMITTED", "read": "REPEATABLE READ", "snapshot": "REPEATABLE READ"},
}


@pytest.fixture(
    params=[
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ]
)
def database(request: pytest.FixtureRequest) -> Iterator[tuple[str, Database]]:
    kind = request.param
    url = request.getfixturevalue(f"{kind}_url")
    if kind == "mariadb":
        _ddl(url, "CREATE TABLE snap_iso (id INT PRIMARY KEY)")
    database = Database("t", url, pool_size=1)
    try:
        yield kind, database
    finally:
        database.dispose()
        if kind == "mariadb":
            _ddl(url, "DROP TABLE snap_iso")


def _ddl(url: str, sql: str) -> None:
    engine = create_engine(engine_url(url))
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(sql)
    finally:
        engine.dispose()


def level(kind: str) -> Any:
    def ask(tx: Tx) -> Any:
        value = None
        for sql in LEVEL[kind]:
            value = tx.connection.exec_driver_sql(sql).scalar()
        return value

    return ask


async def test_a_write_runs_in_read_committed_and_a_read_after_it_in_the_default(
    database: tuple[str, Database],
) -> None:
    kind, db = database
    ask = level(kind)
    expected = EXPECTED[kind]
    for _ in range(2):  # the same pooled connections, each kind after the other
        assert await db.run(ask, write=True) == expected["write"]
        assert await db.run(ask) == expected["read"]
        assert await db.run(ask, snapshot=True) == expected["snapshot"]
    assert db.run_sync(ask, write=True) == expected["write"]
    assert db.run_sync(ask) == expected["read"]
