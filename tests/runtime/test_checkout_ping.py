"""A PostgreSQL connection lent again a moment after its return, with nothing to read on its
socket, is not pinged first (:func:`mapper.runtime.engine.quiet`): a group-commit batch's ping
was a round trip inside the turn the batches take one at a time. One the server has ended
meanwhile (``pg_terminate_backend``) is still pinged, found dead and replaced, so the write
that gets it is kept."""

from __future__ import annotations

import time
from typing import Any

import anyio
import pytest

from mapper.plan import Statement
from mapper.runtime import engine
from mapper.runtime.database import Database
from tests.support.databases import HrDatabase

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]

GROUP_INSERT = Statement(sql="INSERT INTO groups (name) VALUES (:name)", params=("name",))


def pinged(database: Database, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The pings the pool sends on ``database``'s connections from now on (one entry each)."""
    pings: list[int] = []
    dialect = database.engine.dialect
    ping = dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        pings.append(1)
        return bool(ping(dbapi_connection))

    monkeypatch.setattr(dialect, "do_ping", counted)
    return pings


async def write(database: Database, name: str) -> None:
    await database.run(lambda tx: tx.run(GROUP_INSERT, {"name": name}), write=True)


async def test_consecutive_batches_send_no_ping(
    hr_postgres: HrDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = Database("hr", hr_postgres.url)
    try:
        await write(database, "First")  # a new connection: pinged as it is lent
        pings = pinged(database, monkeypatch)
        for number in range(5):
            await write(database, f"Next {number}")
        assert pings == []
        assert database.commit_stats.batches == 6
        monkeypatch.setattr(engine, "FRESH", 0.0)  # back longer than that: pinged again
        await write(database, "Later")
        assert pings == [1]
    finally:
        database.dispose()


async def test_a_connection_the_server_ended_after_its_return_is_pinged_and_replaced(
    hr_postgres: HrDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server ends every pooled session of the gateway right after a write returned its
    connection (as ``pg_terminate_backend`` or a restart does): the next write, well within the
    time a quiet connection goes unpinged, finds its socket ready to read, pings, and the pool
    opens another connection; the write is kept."""
    monkeypatch.setattr(engine, "FRESH", 600.0)  # the socket alone decides here
    database = Database("hr", hr_postgres.url)
    try:
        await write(database, "Before")
        pids = [row[0] for row in hr_postgres.execute(MINE)]
        assert pids
        for pid in pids:
            hr_postgres.execute("SELECT pg_terminate_backend(:pid)", {"pid": pid})
        with anyio.fail_after(10):
            while hr_postgres.execute(MINE):  # the sessions are gone: their goodbye is on the sockets
                time.sleep(0.01)
        pings = pinged(database, monkeypatch)
        await write(database, "After")
        assert pings, "the ended connection was lent without a ping"
        names = hr_postgres.execute("SELECT name FROM groups WHERE name IN ('Before', 'After') ORDER BY name")
        assert names == [("After",), ("Before",)]
    finally:
        database.dispose()


#: the gateway's own sessions on the test database
MINE = "SELECT pid FROM pg_stat_activity WHERE application_name = 'mapper' AND datname = current_database()"
