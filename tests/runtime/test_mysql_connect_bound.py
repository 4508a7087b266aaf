"""pymysql's handshake is bounded by the connect timeout (its read and write timeouts while it
connects; tests/reliability/test_partition.py shows a blackholed MariaDB answering 503 within the
bound), and that bound is lifted once connected: a statement may take longer than a connect."""

from __future__ import annotations

import asyncio

import pytest

from mapper.runtime.database import Database, Timeouts

pytestmark = pytest.mark.mariadb


def test_a_statement_may_outlast_the_connect_bound(mariadb_url: str) -> None:
    database = Database("t", mariadb_url, timeouts=Timeouts(connect=1, statement=15))
    try:

        async def sleep() -> object:
            return await database.run(lambda tx: tx.connection.exec_driver_sql("SELECT SLEEP(2)").scalar())

        assert asyncio.run(sleep()) == 0  # 1 when interrupted; a socket timeout would raise
    finally:
        database.dispose()
