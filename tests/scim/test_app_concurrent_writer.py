"""A write racing another writer of the same row: another gateway process, or the HR application
itself, updates a user while a PATCH of that user is on its way.

The PATCH is applied to the cached user and written as an UPDATE of every mapped column, guarded
by the cached version, which the write's transaction compares with the row it reads. That read
has to see the other writer's change: PostgreSQL (READ COMMITTED) and MariaDB (REPEATABLE READ)
both let a plain SELECT read the row before the other transaction commits, or from an older
snapshot, and then make the UPDATE wait for that transaction and overwrite its committed change
with the old value. Found with two `mapper serve` processes on one PostgreSQL database: a PATCH
of `title` answered 200 and was then undone by the other process's PATCH of `displayName`.

Here the other writer is a transaction of our own, held open with its UPDATE done (so it holds
the row's lock) until the gateway's write is seen waiting for that lock; then it commits. The
gateway must then find the user changed, apply the PATCH to the user as committed, and keep both
changes. SQLite needs no test of this: a write transaction there holds the database's write lock
from its first statement (BEGIN IMMEDIATE)."""

from __future__ import annotations

import anyio
import httpx
import pytest
from sqlalchemy import create_engine, text

from mapper.runtime.database import engine_url
from tests.support.databases import HrDatabase, engine_waiting
from tests.support.scim import PATCH_OP, scim_client

pytestmark = pytest.mark.anyio


@pytest.fixture(
    params=[
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ]
)
def server_database(request: pytest.FixtureRequest) -> HrDatabase:
    return request.getfixturevalue(f"hr_{request.param}")  # type: ignore[no-any-return]


async def test_a_patch_racing_another_writer_of_the_row_keeps_the_other_writers_change(
    server_database: HrDatabase,
) -> None:
    db = server_database
    engine = create_engine(engine_url(db.url))
    try:
        async with scim_client(db) as client:
            before = (await client.get("/Users/1")).json()
            assert before["title"] != "Chief Analyst"

            other = engine.connect()  # the other writer: holds the row's lock until it commits
            answer: dict[str, object] = {}
            try:
                other.begin()
                other.execute(text("UPDATE employees SET title = 'Chief Analyst' WHERE employee_id = 1"))

                async def patch() -> None:
                    op = {"op": "replace", "path": "displayName", "value": "Ada L."}
                    response = await client.patch(
                        "/Users/1", json={"schemas": [PATCH_OP], "Operations": [op]}
                    )
                    answer["status"], answer["body"] = response.status_code, response.json()

                async with anyio.create_task_group() as tasks:
                    tasks.start_soon(patch)
                    with anyio.fail_after(30):  # the gateway's write reaches the row and waits for its lock
                        while engine_waiting(engine, db.name) == 0 and not answer:
                            await anyio.sleep(0.02)
                    other.commit()
            finally:
                other.close()  # rolled back if it did not commit: the database's teardown needs the lock

            assert answer["status"] == 200, answer
            body = answer["body"]
            assert isinstance(body, dict)
            assert (body["title"], body["displayName"]) == ("Chief Analyst", "Ada L.")
        row = db.execute("SELECT title, display_name FROM employees WHERE employee_id = 1")
        assert row == [("Chief Analyst", "Ada L.")]  # the other writer's committed title was kept
    finally:
        engine.dispose()


async def test_a_row_another_transaction_keeps_locked_fails_that_write_alone(
    server_database: HrDatabase,
) -> None:
    """Another application holds user 1's row in a long transaction. A PATCH of user 1 waits
    ``--lock-timeout`` for it, then answers 503 with ``Retry-After: 1`` (the database is not down);
    a PATCH of user 2 sent beside it, which may share its batch, commits. Before the bound, the
    locked write held every write of the process until the whole statement bound."""
    db = server_database
    engine = create_engine(engine_url(db.url))
    try:
        async with scim_client(db, lock_timeout=1) as client:
            other = engine.connect()
            try:
                other.begin()
                other.execute(text("UPDATE employees SET title = 'Held' WHERE employee_id = 1"))
                answers: dict[str, httpx.Response] = {}

                async def patch(id_: str) -> None:
                    op = {"op": "replace", "path": "nickName", "value": f"nick {id_}"}
                    answers[id_] = await client.patch(
                        f"/Users/{id_}", json={"schemas": [PATCH_OP], "Operations": [op]}
                    )

                async with anyio.create_task_group() as tasks:
                    tasks.start_soon(patch, "1")
                    tasks.start_soon(patch, "2")
            finally:
                other.close()  # rolled back: the row keeps what it had

            locked, free = answers["1"], answers["2"]
            assert locked.status_code == 503, locked.text
            assert locked.headers["retry-after"] == "1"
            assert "locked by another transaction" in locked.json()["detail"]
            assert free.status_code == 200, free.text
            assert (await client.get("http://scim.test/readyz")).status_code == 200  # not taken for an outage
        rows = db.execute(
            "SELECT employee_id, nick_name FROM employees WHERE employee_id IN (1, 2) ORDER BY 1"
        )
        assert rows[1] == (2, "nick 2")
        assert rows[0][1] != "nick 1"  # nothing of the refused write was kept
    finally:
        engine.dispose()
