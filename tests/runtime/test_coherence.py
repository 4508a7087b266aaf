"""Coherence between gateways on one database (mapper/runtime/coherence): two gateways in this
process, each with its own cache and channel, on every database; and the pieces on their own
(notification payloads, the change log's gap handling). The same over separate OS processes is in
tests/reliability/test_coherence.py."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import AsyncIterator, Callable

import anyio
import pytest
from sqlalchemy import create_engine

from mapper.plan import ENTERPRISE_USER, Plan
from mapper.runtime.coherence import CoherenceError, mode_for
from mapper.runtime.coherence.changelog import ChangeLogChannel
from mapper.runtime.coherence.notify import PAYLOAD_LIMIT, parse, payloads
from mapper.runtime.coherence.triggers import trigger_ddl, written_tables
from mapper.runtime.database import engine_url
from mapper.runtime.errors import DatabaseUnavailableError
from mapper.runtime.gateway import Gateway
from tests.support.databases import HrDatabase, split_sql
from tests.support.hr import hr_plan, new_user

pytestmark = pytest.mark.anyio

GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


def hr_gateway(hr_database: HrDatabase, coherence: str, interval: float, plan: Plan | None = None) -> Gateway:
    """A gateway (not started) on ``hr_database``, without autosync, its channel ``coherence``
    polled every ``interval`` seconds; ``plan``: the HR plan of its dialect unless given."""
    return Gateway(
        plan or hr_plan(hr_database.dialect),
        environ={"HR_DATABASE_URL": hr_database.url},
        autosync=False,
        coherence=coherence,
        coherence_interval=interval,
    )


@pytest.fixture
async def pair(hr_database: HrDatabase) -> AsyncIterator[tuple[Gateway, Gateway]]:
    gateways = [hr_gateway(hr_database, "auto", 0.1) for _ in range(2)]
    for gateway in gateways:
        await gateway.start()
    try:
        yield gateways[0], gateways[1]
    finally:
        for gateway in gateways:
            await gateway.stop()


@pytest.fixture
async def changelog_gateway(hr_database: HrDatabase) -> AsyncIterator[Gateway]:
    """One started gateway on ``hr_database`` with the change log as its channel, polled too
    seldom to run during a test."""
    gateway = hr_gateway(hr_database, "changelog", 60)
    await gateway.start()
    try:
        yield gateway
    finally:
        await gateway.stop()


async def eventually(check: Callable[[], bool], within: float = 10.0) -> float:
    """Seconds until ``check()`` holds (polled); fails after ``within``."""
    started = time.monotonic()
    with anyio.fail_after(within):
        while not check():
            await anyio.sleep(0.02)
    return time.monotonic() - started


async def test_a_write_through_one_gateway_reaches_the_other(pair):
    first, second = pair
    users = second.stores["User"]
    created = await first.stores["User"].create(new_user("coherent.one"))
    await eventually(lambda: bool(users.lookup("userName", "coherent.one")))
    await first.stores["User"].replace(created["id"], {**new_user("coherent.one"), "title": "Changed"})
    await eventually(lambda: users.lookup("id", created["id"])[0].get("title") == "Changed")
    await first.stores["User"].delete(created["id"])
    await eventually(lambda: not users.lookup("id", created["id"]))
    assert users.cached_by_query("coherent.one") is None


async def test_membership_changes_and_deletes_reach_the_other(pair):
    first, second = pair
    groups = second.stores["Group"]
    group = await first.stores["Group"].create({"schemas": [GROUP], "displayName": "Coherent", "members": []})
    await eventually(lambda: bool(groups.lookup("id", group["id"])))
    user = await first.stores["User"].create(new_user("coherent.member"))
    await first.stores["Group"].replace(
        group["id"], {"schemas": [GROUP], "displayName": "Coherent", "members": [{"value": user["id"]}]}
    )

    def members() -> list[str]:
        found = groups.lookup("id", group["id"])
        return [m["value"] for m in (found[0].get("members") or [])] if found else []

    await eventually(lambda: members() == [user["id"]])
    await first.stores["User"].delete(user["id"])  # the membership goes with the user
    await eventually(lambda: members() == [])


async def test_a_deleted_managers_reports_lose_it_in_the_other_gateway(pair):
    """The database's ON DELETE SET NULL clears the reports' manager as the manager goes: the
    deleting gateway reads them again, and notes them for the other, which does too."""
    first, second = pair
    users = second.stores["User"]
    boss = await first.stores["User"].create(new_user("coherent.boss"))
    report = await first.stores["User"].create(
        new_user("coherent.report", **{ENTERPRISE_USER: {"manager": {"value": boss["id"]}}})
    )

    def manager(gateway: Gateway) -> str | None:
        found = gateway.stores["User"].lookup("id", report["id"])
        return found[0].get(ENTERPRISE_USER, {}).get("manager", {}).get("value") if found else "missing"

    await eventually(lambda: manager(second) == boss["id"])
    await first.stores["User"].delete(boss["id"])
    assert manager(first) is None  # no delta ran: the delete read the report again
    await eventually(lambda: manager(second) is None and not users.lookup("id", boss["id"]))
    # the delete announced the report: the other did not search its whole cache for it as well
    assert users.naming_searches == 0


async def test_a_managers_delete_announced_by_trigger_clears_the_reports_manager(hr_database: HrDatabase):
    """Another application deletes a manager; ``mapper coherence-ddl``'s trigger announces the
    row, not what the database's ``ON DELETE SET NULL`` did to the reports (on MariaDB a cascade
    fires no trigger): the gateway searches its cache for the objects naming the deleted one,
    without waiting for a sync."""
    plan = hr_plan(hr_database.dialect)
    install(hr_database, trigger_ddl(plan, hr_database.dialect))
    gateway = hr_gateway(hr_database, "auto", 0.1, plan)
    await gateway.start()
    try:
        users = gateway.stores["User"]
        assert users.lookup("id", "6")[0][ENTERPRISE_USER]["manager"]["value"] == "5"
        hr_database.execute("DELETE FROM employees WHERE employee_id = 5")
        await eventually(lambda: not users.lookup("id", "5"))
        await eventually(lambda: "manager" not in users.lookup("id", "6")[0].get(ENTERPRISE_USER, {}))
        assert users.naming_searches >= 1
    finally:
        await gateway.stop()


async def test_own_changes_are_not_applied_again(pair):
    first, _ = pair
    await first.stores["User"].create(new_user("coherent.own"))
    await anyio.sleep(0.5)
    assert all(applier.applied == 0 for applier in first.coherence.appliers.values())


def test_auto_picks_notify_on_postgresql_and_the_change_log_elsewhere():
    assert mode_for("auto", "postgresql") == "notify"
    assert mode_for("auto", "sqlite") == "changelog"
    assert mode_for("auto", "mariadb") == "changelog"
    assert mode_for("auto", "mssql") == "off"
    assert mode_for("changelog", "postgresql") == "changelog"
    with pytest.raises(CoherenceError, match="needs PostgreSQL"):
        mode_for("notify", "sqlite")


def test_payloads_stay_under_the_limit_and_keep_every_change_in_order():
    changes = [("User", n, "upsert") for n in range(3000)] + [("Group", "g" * 9000, "delete")]
    out = payloads("host:1:ab", changes)
    assert len(out) > 1
    assert all(len(p.encode()) < PAYLOAD_LIMIT for p in out)
    parsed = [change for p in out for change in parse(p)[1]]  # type: ignore[index]
    assert parsed[:3000] == changes[:3000]
    assert parsed[3000] == ("Group", None, "resync")  # too long alone: the type is read again
    assert {parse(p)[0] for p in out} == {"host:1:ab"}  # type: ignore[index]
    assert parse("not json") is None and parse(json.dumps({"c": []})) is None


class _Timeouts:
    statement = 1.0


class _Database:
    timeouts = _Timeouts()
    dialect = "sqlite"
    name = "test"
    publish = None


def _rows(*seqs: int, origin: str = "other") -> list[tuple[object, ...]]:
    return [(seq, "User", json.dumps(seq), "upsert", origin) for seq in seqs]


def test_the_change_log_waits_for_a_number_committed_late_and_gives_it_up_in_time():
    channel = ChangeLogChannel(_Database(), None, "me")  # type: ignore[arg-type]
    channel.floor = 10
    assert [key for _, key, _ in channel._take(_rows(11, 13))["other"]] == [11, 13]
    assert channel.floor == 11  # 12 not committed yet: waited for
    assert [key for _, key, _ in channel._take(_rows(12, 13))["other"]] == [12]  # 13 is not applied twice
    assert channel.floor == 13
    assert channel._take(_rows(14, origin="me")) == {} and channel.floor == 14  # own change
    channel._take(_rows(16))
    assert channel.floor == 14
    channel._gaps[15] -= channel.gap_wait + 1  # 15's transaction rolled back long ago
    channel._take([])
    assert channel.floor == 16


def install(hr_database: HrDatabase, ddl: str) -> None:
    """Run the DDL script as a DBA would (psql, sqlite3, the mysql client)."""
    url = engine_url(hr_database.url)
    if hr_database.dialect == "sqlite":
        connection = sqlite3.connect(url.database or "")
        try:
            connection.executescript(ddl)
        finally:
            connection.close()
        return
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            if hr_database.dialect == "postgres":
                cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
                cursor.execute(ddl)
                cursor.close()
            else:
                for statement in split_sql(ddl):
                    connection.exec_driver_sql(statement)
    finally:
        engine.dispose()


async def test_triggers_announce_other_applications_writes(hr_database: HrDatabase):
    """``mapper coherence-ddl``'s triggers: a row changed, a member added and a row deleted by
    another application reach the gateway through its channel (no sync runs)."""
    plan = hr_plan(hr_database.dialect)
    install(hr_database, trigger_ddl(plan, hr_database.dialect))
    gateway = hr_gateway(hr_database, "auto", 0.1, plan)
    await gateway.start()
    try:
        users, groups = gateway.stores["User"], gateway.stores["Group"]
        own = await users.create(new_user("trigger.own"))  # the gateway's own write still works
        if hr_database.dialect == "postgres":  # its session is the gateway's: the trigger is quiet
            await anyio.sleep(0.5)
            assert next(iter(gateway.coherence.appliers.values())).applied == 0
        hr_database.execute("UPDATE employees SET title = 'By another app' WHERE employee_id = 5")
        await eventually(lambda: users.lookup("id", "5")[0].get("title") == "By another app")
        group = groups.lookup("id", "1")[0]
        before = {m["value"] for m in group.get("members") or []}
        hr_database.execute(f"INSERT INTO group_members (group_id, employee_id) VALUES (1, {own['id']})")
        await eventually(
            lambda: (
                {m["value"] for m in groups.lookup("id", "1")[0].get("members") or []} == before | {own["id"]}
            )
        )
        hr_database.execute("DELETE FROM employees WHERE employee_id = 17")
        await eventually(lambda: not users.lookup("id", "17"))
    finally:
        await gateway.stop()


def test_trigger_ddl_names_each_written_table_by_its_anchor_column():
    tables, skipped = written_tables(hr_plan("postgres"), "postgres")
    assert set(tables) == {
        ("employees", "employee_id", "User"),
        ("employee_emails", "employee_id", "User"),
        ("employee_phones", "employee_id", "User"),
        ("groups", "group_id", "Group"),
        ("group_members", "group_id", "Group"),
    }
    assert skipped == []
    with pytest.raises(ValueError, match="no coherence triggers for tsql"):
        trigger_ddl(hr_plan("postgres"), "tsql")


def test_lint_db_does_not_mind_the_change_log_and_its_triggers(hr_database: HrDatabase):
    """The table and triggers coherence adds to a database are not the mapping's: ``lint --db``
    reports nothing about them."""
    from mapper.lint import lint_text
    from tests.support.hr import HR_MAP

    text = HR_MAP.read_text(encoding="utf-8")
    before = lint_text(text, str(HR_MAP), write=hr_database.dialect, db=hr_database.url).diagnostics
    install(hr_database, trigger_ddl(hr_plan(hr_database.dialect), hr_database.dialect))
    after = lint_text(text, str(HR_MAP), write=hr_database.dialect, db=hr_database.url).diagnostics
    assert [str(d) for d in after] == [str(d) for d in before]


async def test_a_transaction_of_several_writes_publishes_each_in_order(
    hr_database: HrDatabase, changelog_gateway: Gateway
):
    """A group-commit batch publishes its writes' changes together (one call of the driver on
    SQLite and MariaDB): one change-log row per change, in the order they were made, with the
    anchor as JSON (a number, a string) and a key too long for the column as a resync of its type."""
    gateway = changelog_gateway
    database = gateway.stores["User"].database
    assert database.publish is not None
    changes = [("User", 17, "upsert"), ("Group", "g-1", "delete"), ("User", "x" * 2000, "upsert")]
    before = hr_database.execute("SELECT COALESCE(MAX(seq), 0) FROM mapper_changes")[0][0]
    await database.run(lambda tx: database.publish(tx, changes), write=True)  # type: ignore[misc]
    rows = hr_database.execute(
        "SELECT object_type, anchor, op FROM mapper_changes WHERE seq > :before ORDER BY seq",
        {"before": before},
    )
    assert [tuple(row) for row in rows] == [
        ("User", "17", "upsert"),
        ("Group", '"g-1"', "delete"),
        ("User", None, "resync"),
    ]


async def test_a_dropped_change_log_is_created_again(hr_database: HrDatabase):
    """A DBA drops ``mapper_changes`` under running gateways (the change log on every database,
    PostgreSQL too, as behind a transaction pooler): writes fail (503) only until a poll finds it
    gone and creates it again; then changes flow again."""
    plan = hr_plan(hr_database.dialect)
    first, second = (hr_gateway(hr_database, "changelog", 0.1, plan) for _ in range(2))
    await first.start()
    await second.start()
    try:
        hr_database.execute("DROP TABLE mapper_changes")
        created = None
        with anyio.fail_after(10):
            while created is None:
                try:
                    created = await first.stores["User"].create(new_user("after.drop"))
                except DatabaseUnavailableError:
                    await anyio.sleep(0.1)
        users = second.stores["User"]
        await first.stores["User"].replace(created["id"], {**new_user("after.drop"), "title": "Seen"})
        await eventually(lambda: (users.lookup("id", created["id"]) or [{}])[0].get("title") == "Seen")
    finally:
        await first.stop()
        await second.stop()


async def test_a_dropped_change_log_under_its_triggers_fails_writes_with_503(hr_database: HrDatabase):
    """As above, with ``mapper coherence-ddl``'s triggers installed: on SQLite and MariaDB they
    insert into ``mapper_changes`` too, so the object's own UPDATE fails while the table is gone.
    It used to be a ProgrammingError (SQLite: an OperationalError read as a programming error),
    a 500; it is the change log that is missing, so it is 503 until a poll creates the table
    again (a red-team session found it)."""
    plan = hr_plan(hr_database.dialect)
    install(hr_database, trigger_ddl(plan, hr_database.dialect))
    gateway = hr_gateway(hr_database, "changelog", 0.5, plan)
    await gateway.start()
    try:
        users = gateway.stores["User"]
        hr_database.execute("DROP TABLE mapper_changes")
        written = None
        with anyio.fail_after(10):
            while written is None:
                try:
                    written = await users.replace("5", {**new_user("after.drop"), "title": "Written"})
                except DatabaseUnavailableError:
                    await anyio.sleep(0.05)
        assert written["title"] == "Written"
    finally:
        await gateway.stop()


#: a moment ``seconds`` before the database's own clock, as each dialect writes it
_AGO = {
    "sqlite": "datetime('now', '-{seconds} seconds')",
    "postgresql": "now() - make_interval(secs => {seconds})",
    "mysql": "NOW(6) - INTERVAL {seconds} SECOND",
}


async def test_the_change_log_prunes_rows_older_than_its_retention(
    hr_database: HrDatabase, changelog_gateway: Gateway
):
    """Pruning deletes the rows older than the retention and keeps the younger ones, reading from
    the oldest in sequence order; a row stamped early but numbered after a young one (PostgreSQL
    stamps a row with its transaction's start) goes once the rows before it have aged too; with
    no young row left, every row goes."""
    gateway = changelog_gateway
    (channel,) = gateway.coherence.channels.values()
    assert isinstance(channel, ChangeLogChannel)
    channel = ChangeLogChannel(channel.database, channel.applier, "pruner", retention=600)
    family = "mysql" if channel.database.dialect in ("mysql", "mariadb") else channel.database.dialect
    hr_database.execute("DELETE FROM mapper_changes")

    def add(anchor: str, seconds: int) -> None:
        at = _AGO[family].format(seconds=seconds)
        hr_database.execute(
            "INSERT INTO mapper_changes (object_type, anchor, op, origin, at) "
            f"VALUES ('User', :anchor, 'upsert', 'elsewhere', {at})",
            {"anchor": anchor},
        )

    def left() -> list[str]:
        return [row[0] for row in hr_database.execute("SELECT anchor FROM mapper_changes ORDER BY seq")]

    for anchor, seconds in (
        ("old-1", 900),
        ("old-2", 700),
        ("young-1", 100),
        ("late", 800),
        ("young-2", 5),
    ):
        add(anchor, seconds)
    await channel.prune()
    assert left() == ["young-1", "late", "young-2"]
    hr_database.execute("UPDATE mapper_changes SET anchor = 'aged' WHERE anchor = 'young-1'")
    hr_database.execute(
        f"UPDATE mapper_changes SET at = {_AGO[family].format(seconds=650)} WHERE anchor = 'aged'"
    )
    await channel.prune()
    assert left() == ["young-2"]
    hr_database.execute(f"UPDATE mapper_changes SET at = {_AGO[family].format(seconds=601)}")
    add("old-3", 3600)
    await channel.prune()
    assert left() == []
