"""Freshness without a full import: a row deleted behind the gateway's back disappears within two
delta cycles (the anchor scan of every watermark delta), and a gateway that started on an empty
table sees other applications' changes once rows arrived through itself. Cycles are driven
explicitly (``Gateway.sync_delta``), never by waiting on the clock."""

from __future__ import annotations

import pytest

from mapper.plan import ENTERPRISE_USER, Plan, PlanDelta
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
