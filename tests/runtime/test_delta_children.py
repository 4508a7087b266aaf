"""A watermark delta reads its rows' child rows (emails, phone numbers, members) several owners per
statement (``PlanMulti.load_for_anchors``); the cache it leaves must be the one a full import
builds: children added, changed and removed, owners whose children all vanished, new owners with
none, and more changed rows than one statement takes (so several reads, and owners at their
edges)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import create_engine, event, text

from mapper.pipeline import load_text
from mapper.plan import Plan
from mapper.runtime.database import Database, engine_url
from mapper.runtime.gateway import Gateway
from tests.support.databases import HrDatabase
from tests.support.hr import HR_MAP, hr_plan
from tests.support.scim import new_user, patch_body, scim_client

pytestmark = pytest.mark.anyio

NEW = range(1001, 1251)  # new employees: more than one read's worth of owners (100)


def open_gateway(hr_database: HrDatabase) -> Gateway:
    return Gateway(hr_plan(hr_database.dialect), environ={"HR_DATABASE_URL": hr_database.url}, autosync=False)


def change_behind_the_gateway(hr_database: HrDatabase) -> None:
    """One bulk HR update, committed by another application."""
    engine = create_engine(engine_url(hr_database.url))
    try:
        with engine.begin() as db:
            if hr_database.dialect == "sqlite":
                db.exec_driver_sql("PRAGMA foreign_keys = ON")
            db.execute(
                text(
                    "INSERT INTO employees (employee_id, login, given_name, family_name, active)"
                    " VALUES (:id, :login, 'New', :family, :active)"
                ),
                [{"id": i, "login": f"bulk{i}", "family": f"F{i}", "active": True} for i in NEW],
            )
            emails = [  # 0 to 3 each: some new owners have none
                {
                    "id": i,
                    "address": f"bulk{i}.{k}@example.com",
                    "type": "work" if k else "home",
                    "primary": not k,
                }
                for i in NEW
                for k in range(i % 4)
            ]
            db.execute(
                text(
                    "INSERT INTO employee_emails (employee_id, address, email_type, is_primary)"
                    " VALUES (:id, :address, :type, :primary)"
                ),
                emails,
            )
            db.execute(
                text(
                    "INSERT INTO employee_phones (employee_id, number, phone_type, is_primary)"
                    " VALUES (:id, :number, 'work', :primary)"
                ),
                [{"id": i, "number": f"+1 555 {i}", "primary": False} for i in NEW if i % 3],
            )
            # existing owners: every email gone, every phone gone, one changed, one added
            db.execute(text("DELETE FROM employee_emails WHERE employee_id = 3"))
            db.execute(text("DELETE FROM employee_phones WHERE employee_id IN (3, 4)"))
            db.execute(text("UPDATE employee_emails SET address = 'new@example.com' WHERE employee_id = 5"))
            db.execute(
                text(
                    "INSERT INTO employee_emails (employee_id, address, email_type, is_primary)"
                    " VALUES (6, 'second@example.com', 'other', :primary)"
                ),
                {"primary": False},
            )
            db.execute(text("UPDATE employees SET title = 'Changed' WHERE employee_id IN (5, 7)"))
            # groups: one loses all its members, one gains the new employees
            db.execute(text("DELETE FROM group_members WHERE group_id = 3"))
            db.execute(
                text("INSERT INTO group_members (group_id, employee_id) VALUES (2, :id)"),
                [{"id": i} for i in NEW],
            )
    finally:
        engine.dispose()


def cached(gateway: Gateway) -> dict[str, dict[str, Any]]:
    """Every cached object of every type, rendered as SCIM serves it."""
    out = {}
    for name, store in gateway.stores.items():
        for record in store.cache.records():
            rendered = store.codec.render(record)
            out[f"{name}/{rendered['id']}"] = rendered
    return out


async def test_a_delta_leaves_the_cache_a_full_import_builds(hr_database: HrDatabase) -> None:
    synced = open_gateway(hr_database)
    await synced.start()
    try:
        before = cached(synced)
        assert before["User/3"]["emails"] and before["Group/3"]["members"]
        change_behind_the_gateway(hr_database)
        await synced.sync_delta()
        after_delta = cached(synced)
    finally:
        await synced.stop()
    fresh = open_gateway(hr_database)
    await fresh.start()  # a full import of what the database holds now
    try:
        after_full = cached(fresh)
    finally:
        await fresh.stop()
    assert after_delta == after_full
    # what the comparison covers: the delta did see each kind of change
    assert "emails" not in after_delta["User/3"] and "phoneNumbers" not in after_delta["User/4"]
    assert "members" not in after_delta["Group/3"]
    assert len(after_delta["Group/2"]["members"]) >= len(NEW)
    three = {e["value"] for e in after_delta["User/1003"]["emails"]}
    assert three == {f"bulk1003.{k}@example.com" for k in range(3)}
    assert "emails" not in after_delta["User/1004"]
    assert after_delta != before


def change_table_plan(hr_database: HrDatabase, anchor_type: str = "INTEGER") -> Plan:
    """The HR mapping with its users' delta read from a change table (which the test fills), whose
    anchor column is of ``anchor_type``."""
    hr_database.execute(
        "CREATE TABLE employee_changes"
        f" (change_id INTEGER PRIMARY KEY, employee_id {anchor_type}, change_type VARCHAR(10))"
    )
    delta = "delta table employee_changes { sequence change_id  type change_type }"
    text = HR_MAP.read_text(encoding="utf-8").replace("delta watermark updated_at", delta, 1)
    loaded = load_text(text, str(HR_MAP), write=hr_database.dialect)
    assert loaded.plan is not None, loaded.diagnostics
    return loaded.plan


async def test_a_change_table_delta_leaves_the_cache_a_full_import_builds(hr_database: HrDatabase) -> None:
    """A change table's objects and their children are read K anchors a round trip
    (``delta.by_anchors`` with each multi's ``load_for_anchors``): more changed users than one read
    takes, children added, changed and removed, a user deleted, one changed and then deleted, and
    a change naming a row that is gone; the users the delta leaves are those a full import builds."""
    plan = change_table_plan(hr_database)
    environ = {"HR_DATABASE_URL": hr_database.url}
    synced = Gateway(plan, environ=environ, autosync=False)
    await synced.start()
    try:
        before = cached(synced)
        assert before["User/10"] and before["User/3"]["emails"]
        change_behind_the_gateway(hr_database)
        hr_database.execute("DELETE FROM employees WHERE employee_id IN (9, 10)")
        changes = [(i, "update") for i in (*NEW, 3, 4, 5, 6, 7)]
        changes += [(10, "D"), (9, "U"), (9, " Delete "), (9999, "U")]
        for sequence, (anchor, change) in enumerate(changes, 1):
            hr_database.execute(
                "INSERT INTO employee_changes (change_id, employee_id, change_type) VALUES (:s, :a, :c)",
                {"s": sequence, "a": anchor, "c": change},
            )
        await synced.sync_delta()
        after_delta = {k: v for k, v in cached(synced).items() if k.startswith("User/")}
    finally:
        await synced.stop()
    fresh = Gateway(plan, environ=environ, autosync=False)
    await fresh.start()
    try:
        after_full = {k: v for k, v in cached(fresh).items() if k.startswith("User/")}
    finally:
        await fresh.stop()
    assert after_delta == after_full
    assert "User/10" not in after_delta and "User/9" not in after_delta
    assert "emails" not in after_delta["User/3"] and "phoneNumbers" not in after_delta["User/4"]
    three = {e["value"] for e in after_delta["User/1003"]["emails"]}
    assert three == {f"bulk1003.{k}@example.com" for k in range(3)}
    assert after_delta["User/5"]["title"] == "Changed" and "emails" not in after_delta["User/1004"]


async def test_a_change_table_keeping_integer_anchors_as_text_deletes_them(hr_database: HrDatabase) -> None:
    """A change table shared by several tables keeps their anchors in one text column: employee 10
    noted as '10'. Its delete used to be keyed '10' while the cache holds 10, so the user stayed
    served after its row was gone; its update was found (the database compares the two)."""
    plan = change_table_plan(hr_database, "VARCHAR(40)")
    gateway = Gateway(plan, environ={"HR_DATABASE_URL": hr_database.url}, autosync=False)
    await gateway.start()
    try:
        assert "User/10" in cached(gateway)
        hr_database.execute("DELETE FROM employees WHERE employee_id = 10")
        hr_database.execute("UPDATE employees SET title = 'Noted as text' WHERE employee_id = 3")
        for sequence, (anchor, change) in enumerate((("10", "D"), ("3", "U")), 1):
            hr_database.execute(
                "INSERT INTO employee_changes (change_id, employee_id, change_type) VALUES (:s, :a, :c)",
                {"s": sequence, "a": anchor, "c": change},
            )
        await gateway.sync_delta()
        after = cached(gateway)
    finally:
        await gateway.stop()
    assert "User/10" not in after
    assert after["User/3"]["title"] == "Noted as text"


@contextmanager
def statements(database: Database) -> Iterator[list[str]]:
    """The statements SQLite runs on ``database``'s connections meanwhile."""
    seen: list[str] = []

    def trace(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        dbapi_connection.set_trace_callback(seen.append)

    event.listen(database.engine, "checkout", trace)
    try:
        yield seen
    finally:
        event.remove(database.engine, "checkout", trace)


def retitle(title: str) -> dict[str, Any]:
    return patch_body({"op": "replace", "path": "title", "value": title})


def child_reads(seen: list[str]) -> list[str]:
    return [s for s in seen if s.lstrip().upper().startswith("SELECT") and "employee_emails" in s]


async def test_a_delta_reads_no_child_rows_of_the_gateways_own_writes(hr_sqlite: HrDatabase) -> None:
    """The rows the gateway wrote itself pass the watermark, and the next delta reads them again;
    those it holds as they are in the database (its own writes, read back when they committed)
    have no child rows read: a statement per 100 of its writes every delta, each a scan of the
    child table where that table has no statistics. A row changed behind its back since still
    has its child rows read with it."""
    async with scim_client(hr_sqlite) as client:
        gateway = client.state["gateway"]  # type: ignore[attr-defined]
        ids = []
        for n in range(3):
            body = new_user(f"own.write{n}", emails=[{"value": f"own{n}@example.com", "type": "work"}])
            created = await client.post("/Users", json=body)
            assert created.status_code == 201, created.text
            ids.append(created.json()["id"])
        patched = await client.patch(f"/Users/{ids[0]}", json=retitle("Written here"))
        assert patched.status_code == 200, patched.text
        with statements(gateway.databases["hr"]) as seen:
            await gateway.sync_delta()
        assert seen and not child_reads(seen)
        # another application adds an e-mail: the schema's trigger moves the owner's watermark
        hr_sqlite.execute(
            "INSERT INTO employee_emails (employee_id, address, email_type, is_primary)"
            f" VALUES ({ids[1]}, 'behind@example.com', 'home', 0)"
        )
        with statements(gateway.databases["hr"]) as seen:
            await gateway.sync_delta()
        assert len(child_reads(seen)) == 1
        got = await client.get(f"/Users/{ids[1]}")
        assert {e["value"] for e in got.json()["emails"]} == {"own1@example.com", "behind@example.com"}
