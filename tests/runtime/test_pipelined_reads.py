"""A write's re-read of its object goes to PostgreSQL in one psycopg pipeline (the row and each
multi's items, one round trip): it reads what the statement-by-statement path reads, and a
connection cut there loses the whole batch as an outage, never half of it."""

from __future__ import annotations

from functools import partial

import anyio
import anyio.to_thread
import psycopg
import pytest

from mapper.runtime.codec import Codec
from mapper.runtime.database import Database, Tx
from mapper.runtime.errors import DatabaseUnavailableError
from mapper.runtime.group_commit import Job
from mapper.runtime.inserts import Inserts
from mapper.runtime.keys import anchor_key
from mapper.runtime.loading import fetch
from mapper.runtime.rows import RowForm
from tests.support.databases import HrDatabase
from tests.support.hr import hr_plan
from tests.support.proxy import TcpProxy

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]


async def test_the_pipelined_reread_reads_what_one_statement_at_a_time_reads(hr_postgres: HrDatabase):
    obj = hr_plan("postgres").object("User")
    database = Database("hr", hr_postgres.url)
    codec = Codec(obj, database.dialect)

    def both(tx: Tx) -> tuple:
        assert tx.pipelines
        row = tx.first(obj.by_anchor, {"anchor": 1})
        assert row is not None
        children = [tx.rows(m.load_for_anchor, {"anchor": 1}) for m in obj.multi]
        return fetch(tx, obj, codec, 1), row, children

    try:
        record, row, children = await database.run(both)
        assert record is not None and any(children)  # the sample's first user has emails
        assert record.row[codec.anchor_index] == row[codec.anchor_index]
        assert record.children == RowForm.of(codec).children(children)
        assert await database.run(lambda tx: fetch(tx, obj, codec, 10**9)) is None
    finally:
        database.dispose()


def login_in(url: str, login: str) -> bool:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        found = connection.execute("SELECT 1 FROM employees WHERE login = %s", (login,)).fetchone()
    return found is not None


async def test_a_connection_cut_during_a_pipelined_reread_keeps_nothing_of_the_batch(
    hr_postgres: HrDatabase,
):
    """Two creates in one batch: the second one's re-read is cut. Neither is kept (the first was
    not acknowledged: its batch did not commit), both fail as outages, the connection is not
    pooled again, and the next write commits on a fresh one."""
    port = int(hr_postgres.url.rsplit(":", 1)[1].split("/", 1)[0])
    proxy = TcpProxy(port).start()
    obj = hr_plan("postgres").object("User")
    database = Database("hr", hr_postgres.url.replace(f":{port}/", f":{proxy.port}/"))
    codec = Codec(obj, database.dialect)
    inserts = Inserts(obj, database.dialect)
    invalidated: list[bool] = []

    def create(login: str, cut: bool, tx: Tx):
        values = {"login": login, "title": "Pipelined"}
        anchor = anchor_key(tx.insert(inserts.for_values(values), values))
        tx.run(
            obj.multi[0].add,
            {"anchor": anchor, "value": f"{login}@example.org", "type": "work", "primary": False},
        )
        if cut:
            proxy.set_mode("cut")
        try:
            return fetch(tx, obj, codec, anchor)
        finally:
            invalidated.append(tx.connection.invalidated)

    try:
        jobs = [
            Job(partial(create, login, cut), deadline=float("inf"))
            for login, cut in (("pipe-a", False), ("pipe-b", True))
        ]
        await anyio.to_thread.run_sync(database.run_batch, jobs)
        assert [type(job.error) for job in jobs] == [DatabaseUnavailableError] * 2
        assert invalidated == [False, True]
        proxy.set_mode("pass")
        assert not login_in(hr_postgres.url, "pipe-a") and not login_in(hr_postgres.url, "pipe-b")
        record = await database.run(partial(create, "pipe-c", False), write=True)
        assert record is not None and record.children[0]  # re-read with its email, in one pipeline
        assert login_in(hr_postgres.url, "pipe-c")
    finally:
        database.dispose()
        proxy.stop()
