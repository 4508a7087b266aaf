"""A member added to a group while another application (or gateway process) deletes that user.

A member that names no user is left out (``on missing drop``, the default): 204, and the audit
line lists it as dropped. When the user existed as the gateway checked the member (in its cache)
and was deleted before the member row was written, the database refused the row (a foreign key)
and the gateway answered 400 "members.value: references a resource that does not exist", for
the same request that gets 204 a moment later. The answer no longer depends on the timing: the
gateway reads the referenced users again and writes without the one that is gone.

On PostgreSQL and MariaDB the other writer is a transaction of our own that has deleted the user
and holds it until the gateway's member insert waits for that row; then it commits. SQLite holds
one write lock for the whole database, so there the other connection commits its delete before
the PATCH (after the gateway cached the user): the same stale check."""

from __future__ import annotations

from pathlib import Path

import anyio
import httpx
import pytest
from sqlalchemy import create_engine, text

from mapper.runtime.database import engine_url
from tests.support.databases import HrDatabase, engine_waiting
from tests.support.scim import CORE_GROUP, HR_MAP, PATCH_OP, scim_client

pytestmark = pytest.mark.anyio

ADD_5 = {"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "members", "value": [{"value": "5"}]}]}


def members(db: HrDatabase, group: int) -> list[int]:
    rows = db.execute(f"SELECT employee_id FROM group_members WHERE group_id = {group} ORDER BY 1")
    return [int(row[0]) for row in rows]


async def deleted_meanwhile(client: httpx.AsyncClient, db: HrDatabase, send: object) -> httpx.Response:
    """``send()``'s answer while another connection deletes user 5, which the gateway has cached."""
    assert (await client.get("/Users/5")).status_code == 200  # cached, so the checks find it
    engine = create_engine(engine_url(db.url))
    other = engine.connect()
    answer: dict[str, httpx.Response] = {}
    try:
        other.begin()
        if db.dialect == "sqlite":
            other.execute(text("PRAGMA foreign_keys = ON"))
        other.execute(text("DELETE FROM employees WHERE employee_id = 5"))
        if db.dialect == "sqlite":  # one writer at a time: the delete lands before the write
            other.commit()
            return await send()  # type: ignore[operator,no-any-return]

        async def run() -> None:
            answer["response"] = await send()  # type: ignore[operator]

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(run)
            with anyio.fail_after(30):  # the member insert reaches the deleted row and waits for it
                while engine_waiting(engine, db.name) == 0 and not answer:
                    await anyio.sleep(0.02)
            other.commit()
    finally:
        other.close()
        engine.dispose()
    return answer["response"]


async def test_a_patch_adding_a_member_deleted_meanwhile_leaves_it_out(hr_database: HrDatabase) -> None:
    db = hr_database
    before = members(db, 3)
    assert 5 not in before
    async with scim_client(db, raise_app_exceptions=False) as client:
        patched = await deleted_meanwhile(client, db, lambda: client.patch("/Groups/3", json=ADD_5))
        assert patched.status_code == 204, patched.text
        assert members(db, 3) == before
        served = (await client.get("/Groups/3")).json()
        assert sorted(int(m["value"]) for m in served["members"]) == before
        assert (await client.get("/Users/5")).status_code == 404
        # the same request once the gateway knows: the same answer
        assert (await client.patch("/Groups/3", json=ADD_5)).status_code == 204


async def test_a_group_created_with_a_member_deleted_meanwhile_leaves_it_out(hr_database: HrDatabase) -> None:
    db = hr_database
    body = {"schemas": [CORE_GROUP], "displayName": "racers", "members": [{"value": "5"}, {"value": "1"}]}
    async with scim_client(db, raise_app_exceptions=False) as client:
        created = await deleted_meanwhile(client, db, lambda: client.post("/Groups", json=body))
        assert created.status_code == 201, created.text
        assert [m["value"] for m in created.json()["members"]] == ["1"]
        assert members(db, int(created.json()["id"])) == [1]


async def test_under_on_missing_reject_the_member_deleted_meanwhile_is_named(
    hr_database: HrDatabase, tmp_path: Path
) -> None:
    """``on missing reject`` refuses it as it refuses any id that names no user: 400 naming the id,
    not "references a resource that does not exist"."""
    db = hr_database
    text_ = HR_MAP.read_text(encoding="utf-8")
    assert "multi members reference User {" in text_
    mapping = tmp_path / "hr.map"
    mapping.write_text(
        text_.replace("multi members reference User {", "multi members reference User on missing reject {")
    )
    before = members(db, 3)
    async with scim_client(db, raise_app_exceptions=False, mapping=mapping) as client:
        patched = await deleted_meanwhile(client, db, lambda: client.patch("/Groups/3", json=ADD_5))
        assert patched.status_code == 400, patched.text
        assert patched.json()["detail"] == "members.value: no resource has the id '5'"
        assert members(db, 3) == before
