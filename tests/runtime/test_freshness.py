"""Freshness without a full import: a row deleted behind the gateway's back disappears within two
delta cycles (the anchor scan of every watermark delta), and a gateway that started on an empty
table sees other applications' changes once rows arrived through itself. Cycles are driven
explicitly (``Gateway.sync_delta``), never by waiting on the clock."""

from __future__ import annotations

import gc
from typing import Any

import anyio
import pytest

from mapper.plan import ENTERPRISE_USER, Plan, PlanDelta
from mapper.runtime import store as store_module
from mapper.runtime.gateway import Gateway
from tests.support.databases import HrDatabase
from tests.support.hr import hr_plan, new_user

pytestmark = pytest.mark.anyio

CYCLES = 2  # the documented promise: a direct delete is gone within two delta intervals


def open_gateway(hr_database: HrDatabase) -> Gateway:
    return Gateway(hr_plan(hr_database.dialect), environ={"HR_DATABASE_URL": hr_database.url}, autosync=False)


async def test_a_direct_delete_disappears_within_two_delta_cycles(hr_database: HrDatabase) -> None:
    gateway = open_gateway(hr_database)
    await gateway.start()
    try:
        users = gateway.stores["User"]
        everyone = gateway.stores["Group"].lookup("id", "1")[0]
        assert users.lookup("id", "17") and {"value": "17"} in everyone["members"]
        hr_database.execute("DELETE FROM employees WHERE employee_id = 17")
        for _ in range(CYCLES):
            await gateway.sync_delta()
        assert users.lookup("id", "17") == []
        assert users.lookup("id", "5")  # the others stay
        groups = gateway.stores["Group"]
        for group in groups.cache.records():  # and no group lists it any more
            assert {"value": "17"} not in groups.codec.render(group).get("members", [])
        assert users.count() == hr_database.execute("SELECT COUNT(*) FROM employees")[0][0]
    finally:
        await gateway.stop()


async def test_a_delete_scan_keeps_what_the_gateway_wrote_meanwhile(hr_database: HrDatabase) -> None:
    gateway = open_gateway(hr_database)
    await gateway.start()
    try:
        users = gateway.stores["User"]
        created = await users.create(new_user("during.scan"))
        await gateway.sync_delta()
        assert users.lookup("id", created["id"])
    finally:
        await gateway.stop()


def empty_hr(hr_database: HrDatabase) -> None:
    for table in ("group_members", "employee_emails", "employee_phones", "groups"):
        hr_database.execute(f"DELETE FROM {table}")
    hr_database.execute("UPDATE employees SET manager_id = NULL")
    hr_database.execute("DELETE FROM employees")


async def test_changes_are_seen_after_an_empty_start(hr_database: HrDatabase) -> None:
    """Started on an empty table, first rows through the gateway: the watermark is found, and a
    change by another application is picked up by the next delta."""
    empty_hr(hr_database)
    gateway = open_gateway(hr_database)
    await gateway.start()
    try:
        users = gateway.stores["User"]
        assert users.count() == 0
        resource = new_user("first.arrival")
        del resource[ENTERPRISE_USER]["manager"]  # no one else exists yet
        created = await users.create(resource)
        await gateway.sync_delta()  # finds the watermark from the rows now there
        anchor = int(created["id"])
        hr_database.execute(
            "UPDATE employees SET title = 'Changed elsewhere' WHERE employee_id = :anchor", {"anchor": anchor}
        )
        await gateway.sync_delta()
        assert users.lookup("id", created["id"])[0].get("title") == "Changed elsewhere"
        hr_database.execute("DELETE FROM employees WHERE employee_id = :anchor", {"anchor": anchor})
        await gateway.sync_delta()
        assert users.lookup("id", created["id"]) == []
    finally:
        await gateway.stop()


def without_group_delta(dialect: str) -> Plan:
    """The HR plan with its Group type declared ``delta none`` (as the scaffold and the recipes
    write a type without an updated-at column)."""
    plan = hr_plan(dialect)
    objects = tuple(
        obj.model_copy(update={"delta": PlanDelta(kind="none")}) if obj.name == "Group" else obj
        for obj in plan.objects
    )
    return plan.model_copy(update={"objects": objects})


async def test_a_type_without_a_delta_still_loses_direct_deletes(hr_database: HrDatabase) -> None:
    """Found trying issue 11 on the scaffolded helpdesk schema: a group deleted with psql stayed
    served until the full import (30 minutes by default), because a `delta none` type had no
    delete detection at all. Each tick now runs its anchor scan."""
    gateway = Gateway(
        without_group_delta(hr_database.dialect),
        environ={"HR_DATABASE_URL": hr_database.url},
        autosync=False,
    )
    await gateway.start()
    try:
        groups = gateway.stores["Group"]
        assert groups.obj.delta.kind == "none"
        assert groups.lookup("id", "1") and groups.lookup("id", "2")
        created = await groups.create({"displayName": "During the scan"})
        hr_database.execute("DELETE FROM group_members WHERE group_id = 2")
        hr_database.execute("DELETE FROM groups WHERE group_id = 2")
        for _ in range(CYCLES):
            await gateway.sync_delta()
        assert groups.lookup("id", "2") == []
        assert groups.lookup("id", "1")  # the others stay
        assert groups.lookup("id", created["id"])  # and so does what the gateway wrote
        assert groups.count() == hr_database.execute("SELECT COUNT(*) FROM groups")[0][0]
    finally:
        await gateway.stop()


async def test_the_delete_comparison_gives_the_event_loop_turns(
    hr_database: HrDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 1M records, comparing the cache's keys with a delete scan's anchors in one piece held
    the event loop for 60-130 ms every delta; it is done a slice at a time."""
    monkeypatch.setattr(store_module, "ABSENT_SLICE", 2)
    gateway = open_gateway(hr_database)
    await gateway.start()
    try:
        users = gateway.stores["User"]
        keys = list(users.cache.state.records)
        present = set(keys) - {keys[0], keys[-1]}
        turns = 0

        async def tick() -> None:
            nonlocal turns
            while True:
                turns += 1
                await anyio.sleep(0)

        async with anyio.create_task_group() as group:
            group.start_soon(tick)
            await anyio.sleep(0)
            started = turns
            absent = await users._absent(present)
            group.cancel_scope.cancel()
        assert sorted(absent) == sorted([keys[0], keys[-1]])
        assert turns - started >= len(keys) // 2 - 1
    finally:
        await gateway.stop()


async def test_a_delta_reads_with_the_collector_paused(hr_database: HrDatabase) -> None:
    """Each collection of the oldest generation walked the delete scan's set of every anchor
    (15-55 ms at 1M, several per delta, the process stopped meanwhile); the collector is off while
    a delta reads and compares, and on again after."""
    gateway = open_gateway(hr_database)
    await gateway.start()
    try:
        users = gateway.stores["User"]
        run = users.database.run
        seen: list[bool] = []

        async def watched(fn: Any, **kwargs: Any) -> Any:
            seen.append(gc.isenabled())
            return await run(fn, **kwargs)

        users.database.run = watched  # type: ignore[method-assign]
        hr_database.execute("DELETE FROM employees WHERE employee_id = 17")
        assert gc.isenabled()
        await users.sync_delta()
        assert seen == [False]
        assert gc.isenabled()
        assert users.lookup("id", "17") == []
    finally:
        await gateway.stop()
