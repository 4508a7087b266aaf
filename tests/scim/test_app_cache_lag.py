"""A write the cached copy calls a no-op, on SQLite, PostgreSQL and MariaDB: the database is the
source of truth, and the cache can lag it (an application's ``UPDATE`` before the next delta,
another gateway process's write before its notice arrives). A PATCH or PUT that changes nothing in
the cached copy was answered 200 without a statement, so the database kept a value the client had
just been told was stored: ``active`` set false behind the gateway stayed false after a PATCH of
``active: true`` answered true. Now the database is read again before "nothing changes" is
answered, and the write goes ahead when it differs; a write the database itself holds already
still writes nothing (``test_app_children.test_a_patch_that_changes_nothing_writes_nothing``)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.databases import HrDatabase
from tests.support.scim import patch_body, scim_client

pytestmark = pytest.mark.anyio


def title_of(db: HrDatabase, anchor: int) -> Any:
    return db.execute("SELECT title FROM employees WHERE employee_id = :id", {"id": anchor})[0][0]


def active_of(db: HrDatabase, anchor: int) -> bool:
    return bool(db.execute("SELECT active FROM employees WHERE employee_id = :id", {"id": anchor})[0][0])


async def test_a_patch_back_to_the_cached_value_writes_what_the_database_lost(
    any_client: httpx.AsyncClient, hr_database: HrDatabase
) -> None:
    db = hr_database
    before = (await any_client.get("/Users/5")).json()
    assert before["active"] is True
    db.execute("UPDATE employees SET active = :off WHERE employee_id = 5", {"off": False})

    patched = await any_client.patch(
        "/Users/5", json=patch_body({"op": "replace", "path": "active", "value": True})
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["active"] is True
    assert active_of(db, 5) is True  # what the answer says is what the database holds
    assert patched.headers["etag"] == (await any_client.get("/Users/5")).headers["etag"]

    # a value operation with no path, and a title: the same
    db.execute("UPDATE employees SET title = 'Changed behind' WHERE employee_id = 5")
    same = patch_body({"op": "replace", "value": {"title": before["title"]}})
    patched = await any_client.patch("/Users/5", json=same)
    assert patched.status_code == 200, patched.text
    assert patched.json()["title"] == before["title"] == title_of(db, 5)


async def test_a_put_of_the_resource_as_cached_writes_what_the_database_lost(
    any_client: httpx.AsyncClient, hr_database: HrDatabase
) -> None:
    db = hr_database
    before = (await any_client.get("/Users/5")).json()
    db.execute(
        "UPDATE employees SET title = 'Changed behind', active = :off WHERE employee_id = 5", {"off": False}
    )
    put = await any_client.put("/Users/5", json=before)
    assert put.status_code == 200, put.text
    assert (put.json()["title"], put.json()["active"]) == (before["title"], True)
    assert (title_of(db, 5), active_of(db, 5)) == (before["title"], True)


async def test_a_member_the_database_lost_is_written_again(
    any_client: httpx.AsyncClient, hr_database: HrDatabase
) -> None:
    db = hr_database
    groups = (await any_client.get("/Groups", params={"filter": 'displayName eq "Engineering"'})).json()
    group = groups["Resources"][0]
    member = group["members"][0]["value"]
    anchor = db.execute("SELECT group_id FROM groups WHERE name = 'Engineering'")[0][0]
    db.execute(
        "DELETE FROM group_members WHERE group_id = :g AND employee_id = :e", {"g": anchor, "e": int(member)}
    )
    add = patch_body({"op": "add", "path": "members", "value": [{"value": member}]})
    patched = await any_client.patch(f"/Groups/{group['id']}", json=add)
    assert patched.status_code == 204, patched.text
    held = db.execute(
        "SELECT COUNT(*) FROM group_members WHERE group_id = :g AND employee_id = :e",
        {"g": anchor, "e": int(member)},
    )
    assert held == [(1,)]
    again = (await any_client.get(f"/Groups/{group['id']}")).json()
    assert member in {m["value"] for m in again["members"]}
    assert patched.headers["etag"] == again["meta"]["version"]


async def test_a_write_back_to_the_value_another_process_replaced_is_written(
    any_client: httpx.AsyncClient, hr_database: HrDatabase
) -> None:
    """Two gateway processes on one database: the second changes a title, then the first (whose
    cache has not heard of it) is asked to set the title it still holds."""
    db = hr_database
    before = (await any_client.get("/Users/5")).json()
    async with scim_client(db) as second:
        moved = await second.patch(
            "/Users/5", json=patch_body({"op": "replace", "path": "title", "value": "Moved"})
        )
        assert moved.status_code == 200, moved.text
    assert title_of(db, 5) == "Moved"
    back = patch_body({"op": "replace", "path": "title", "value": before["title"]})
    patched = await any_client.patch("/Users/5", json=back)
    assert patched.status_code == 200, patched.text
    assert patched.json()["title"] == before["title"] == title_of(db, 5)


async def test_a_clients_if_match_is_checked_against_the_database(
    any_client: httpx.AsyncClient, hr_database: HrDatabase
) -> None:
    """The version a client read from the cache is no longer the database's: its If-Match is a
    412, though the cached copy agrees with it, and nothing is written."""
    db = hr_database
    before = (await any_client.get("/Users/5")).json()
    db.execute("UPDATE employees SET title = 'Changed behind' WHERE employee_id = 5")
    same = patch_body({"op": "replace", "path": "title", "value": before["title"]})
    stale = await any_client.patch("/Users/5", json=same, headers={"If-Match": before["meta"]["version"]})
    assert stale.status_code == 412, stale.text
    assert title_of(db, 5) == "Changed behind"
    put = await any_client.put("/Users/5", json=before, headers={"If-Match": before["meta"]["version"]})
    assert put.status_code == 412, put.text
    assert title_of(db, 5) == "Changed behind"
