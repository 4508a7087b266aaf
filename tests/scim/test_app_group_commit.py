"""Writes that share a group-commit batch, through the app: a batch runs without savepoints, and
when one of its writes fails, the whole transaction is rolled back and the others run again,
each in a savepoint (:meth:`mapper.runtime.database.Database.run_batch`). Whatever the path, each
good write is stored once and answered 2xx with what was stored, and the bad one gets its SCIM
error and leaves nothing behind, on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from mapper.runtime.database import Database
from tests.support.batches import collect, one_batch
from tests.support.databases import HrDatabase
from tests.support.scim import ERROR, PATCH_OP, new_user, scim_client

pytestmark = pytest.mark.anyio


def database_of(client: httpx.AsyncClient) -> Database:
    return client.state["gateway"].databases["hr"]  # type: ignore[attr-defined]


async def test_a_failing_write_leaves_the_good_ones_of_its_batch_stored_and_answered(
    hr_database: HrDatabase,
) -> None:
    """One batch: two creates and a PATCH that succeed around a create whose userName only the
    database holds (409), a create whose manager the database no longer has (the INSERT fails)
    and a group whose second member is gone (its row was inserted before the member failed). The
    good ones answer 2xx with the ids the database gave them (PostgreSQL's sequences do not roll
    back, so an id from the rolled-back run would differ), each stored once. The last two, whose
    references the cache still held, are tried again without them (``on missing drop``, as for
    an id that never existed): stored once too, the first try taken back."""
    async with scim_client(hr_database) as client:  # the cache does not see the next two
        hr_database.execute("INSERT INTO employees (login) VALUES ('only.in.database')")
        hr_database.execute("DELETE FROM employees WHERE employee_id IN (11, 19)")
        results: dict[str, Any] = {}
        manager = {"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": {"value": "19"}}}
        writes = {
            "ok1": lambda: client.post("/Users", json=new_user("replay.ok1")),
            "taken": lambda: client.post("/Users", json=new_user("only.in.database")),
            "patched": lambda: client.patch(
                "/Users/3",
                json={
                    "schemas": [PATCH_OP],
                    "Operations": [{"op": "replace", "path": "title", "value": "Kept"}],
                },
            ),
            "orphan": lambda: client.post("/Users", json=new_user("replay.orphan", **manager)),
            "ok2": lambda: client.post("/Users", json=new_user("replay.ok2")),
            "group": lambda: client.post(
                "/Groups", json={"displayName": "Half Made", "members": [{"value": "1"}, {"value": "11"}]}
            ),
        }
        async with one_batch(database_of(client), len(writes)) as tg:
            for name, write in writes.items():
                collect(tg, results, name, write)
        statuses = {name: response.status_code for name, response in results.items()}
        assert statuses == {"ok1": 201, "taken": 409, "patched": 200, "orphan": 201, "ok2": 201, "group": 201}
        assert results["taken"].json()["schemas"] == [ERROR], results["taken"].text
        for name in ("ok1", "ok2", "orphan"):
            stored = hr_database.execute(
                f"SELECT employee_id FROM employees WHERE login = 'replay.{name}'"  # noqa: S608 - test names
            )
            assert stored == [(int(results[name].json()["id"]),)]
            answered = (await client.get(f"/Users/{results[name].json()['id']}")).json()
            assert answered["userName"] == f"replay.{name}"
        assert results["patched"].json()["title"] == "Kept"
        assert hr_database.execute("SELECT title FROM employees WHERE employee_id = 3") == [("Kept",)]
        assert hr_database.execute("SELECT COUNT(*) FROM employees WHERE login LIKE 'replay.%'") == [(3,)]
        orphan = hr_database.execute("SELECT manager_id FROM employees WHERE login = 'replay.orphan'")
        assert orphan == [(None,)]
        group = results["group"].json()
        assert [m["value"] for m in group["members"]] == ["1"]
        assert hr_database.execute("SELECT group_id FROM groups WHERE name = 'Half Made'") == [
            (int(group["id"]),)
        ]


@contextmanager
def savepoints(database: Database) -> Iterator[list[str]]:
    """The SAVEPOINT statements SQLite runs on ``database``'s connections meanwhile."""
    seen: list[str] = []

    def trace(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        def note(sql: str) -> None:
            if sql.startswith("SAVEPOINT"):
                seen.append(sql)

        dbapi_connection.set_trace_callback(note)

    event.listen(database.engine, "checkout", trace)
    try:
        yield seen
    finally:
        event.remove(database.engine, "checkout", trace)


async def test_savepoints_only_after_a_failure(hr_sqlite: HrDatabase) -> None:
    """A batch whose writes all succeed runs no savepoint. One that fails is replayed with a
    savepoint per remaining write, and so is the next batch (failures come in runs: here the
    blocker that holds the committer for the batch after); a batch that then succeeds lets the
    one after it run without them again."""
    async with scim_client(hr_sqlite) as client:
        database = database_of(client)

        async def batch(*names: str) -> list[int]:
            results: dict[str, Any] = {}
            async with one_batch(database, len(names)) as tg:
                for name in names:
                    collect(tg, results, name, partial(client.post, "/Users", json=new_user(name)))
            return [results[name].status_code for name in names]

        hr_sqlite.execute("INSERT INTO employees (login) VALUES ('sp.taken')")  # not in the cache
        with savepoints(database) as seen:
            assert await batch("sp.a", "sp.b", "sp.c") == [201, 201, 201]
            assert seen == []
            assert await batch("sp.d", "sp.taken", "sp.e") == [201, 409, 201]
            assert seen == ["SAVEPOINT job0", "SAVEPOINT job1"]  # sp.d and sp.e, again
            assert await batch("sp.f", "sp.g") == [201, 201]
            assert seen[2:] == ["SAVEPOINT job0"]  # the blocker's batch; sp.f and sp.g's none
            assert await batch("sp.h", "sp.i") == [201, 201]
            assert len(seen) == 3
        logins = hr_sqlite.execute("SELECT login FROM employees WHERE login LIKE 'sp.%' ORDER BY login")
        assert logins == [(f"sp.{c}",) for c in "abcdefghi"] + [("sp.taken",)]
