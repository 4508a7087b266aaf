"""Gateway life cycle, autosync, health, failure handling and cross-process uniqueness."""

from __future__ import annotations

import logging
import sqlite3

import anyio
import pytest

from mapper.runtime.errors import DatabaseConfigError, DatabaseUnavailableError, SyncError, UniquenessError
from mapper.runtime.gateway import Gateway
from tests.support.hr import hr_plan, new_user

pytestmark = pytest.mark.anyio


async def test_two_gateways_on_one_database_keep_user_names_unique(hr_database):
    """Two processes' worth of caches and locks: only the database's constraint can decide."""
    environ = {"HR_DATABASE_URL": hr_database.url}
    first = Gateway(hr_plan(hr_database.dialect), environ=environ, autosync=False)
    second = Gateway(hr_plan(hr_database.dialect), environ=environ, autosync=False)
    await first.start()
    await second.start()
    outcomes: list[object] = []

    async def attempt(gateway: Gateway) -> None:
        try:
            outcomes.append(await gateway.stores["User"].create(new_user("two.processes")))
        except UniquenessError as error:
            outcomes.append(error)

    try:
        async with anyio.create_task_group() as tg:
            for gateway in (first, second, first, second):
                tg.start_soon(attempt, gateway)
    finally:
        await first.stop()
        await second.stop()
    assert sum(isinstance(o, dict) for o in outcomes) == 1
    assert hr_database.execute("SELECT COUNT(*) FROM employees WHERE login = 'two.processes'") == [(1,)]


async def test_autosync_applies_changes_in_the_background(hr_database):
    gateway = Gateway(
        hr_plan(hr_database.dialect),
        environ={"HR_DATABASE_URL": hr_database.url},
        delta_interval=0.05,
        full_interval=0.3,
    )
    await gateway.start()
    try:
        assert gateway.ready and gateway.health()["autosync"] is True
        hr_database.execute("UPDATE employees SET title = 'Background' WHERE employee_id = 5")
        hr_database.execute("DELETE FROM employees WHERE employee_id = 17")
        users = gateway.stores["User"]
        with anyio.fail_after(10):
            while users.lookup("id", "5")[0].get("title") != "Background" or users.lookup("id", "17"):
                await anyio.sleep(0.05)
        health = gateway.health()
        assert health["ready"] is True and health["lastError"] is None and health["lastSync"]
    finally:
        await gateway.stop()
    assert gateway.health()["autosync"] is False


async def test_watermark_delta_sees_a_late_commit_with_an_older_timestamp(gateway, hr_database):
    """A transaction that stamped its row before our last delta but committed after it."""
    users = gateway.stores["User"]
    hr_database.execute("UPDATE employees SET title = 'First' WHERE employee_id = 3")
    await gateway.sync_delta()
    (stamp,) = hr_database.execute("SELECT updated_at FROM employees WHERE employee_id = 3")[0]
    # give row 9 exactly the watermark already seen, as a transaction stamped earlier would
    if hr_database.dialect == "postgres":  # the trigger would restamp it
        hr_database.execute("ALTER TABLE employees DISABLE TRIGGER employees_touch")
    hr_database.execute(
        "UPDATE employees SET title = 'Late', updated_at = :s WHERE employee_id = 9", {"s": stamp}
    )
    await gateway.sync_delta()
    assert users.lookup("id", "9")[0]["title"] == "Late"


async def test_unreachable_database_starts_not_ready_and_reports(anyio_backend):
    gateway = Gateway(
        hr_plan("postgres"),
        environ={"HR_DATABASE_URL": "postgresql://nobody:secret-password@127.0.0.1:1/none"},
        autosync=False,
    )
    await gateway.start()
    try:
        health = gateway.health()
        assert health["ready"] is False
        assert health["lastError"] == "DatabaseUnavailableError: database hr is unavailable"
        assert "secret" not in str(health)
        with pytest.raises(DatabaseUnavailableError) as raised:
            await gateway.stores["User"].get("1")
        assert "secret" not in str(raised.value) and raised.value.retry_after > 0
        with pytest.raises(DatabaseUnavailableError):
            await gateway.sync_delta()
    finally:
        await gateway.stop()


@pytest.mark.postgres
async def test_reconnects_after_the_server_drops_connections(hr_postgres):
    gateway = Gateway(hr_plan("postgres"), environ={"HR_DATABASE_URL": hr_postgres.url}, autosync=False)
    await gateway.start()
    try:
        hr_postgres.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        created = await gateway.stores["User"].create(new_user("after.restart"))
        assert created["userName"] == "after.restart"
    finally:
        await gateway.stop()


async def test_sqlite_runs_in_wal_mode_with_durable_commits(hr_sqlite):
    gateway = Gateway(hr_plan("sqlite"), environ={"HR_DATABASE_URL": hr_sqlite.url}, autosync=False)
    await gateway.start()
    try:
        mode, synchronous = await gateway.databases["hr"].run(
            lambda tx: (
                tx.connection.exec_driver_sql("PRAGMA journal_mode").scalar(),
                tx.connection.exec_driver_sql("PRAGMA synchronous").scalar(),
            )
        )
        assert mode == "wal"
        assert synchronous == 2  # FULL: a commit reaches the disk before the client hears of it
    finally:
        await gateway.stop()


async def test_missing_sqlite_file_is_a_configuration_error_and_not_created(tmp_path):
    path = tmp_path / "absent.db"
    gateway = Gateway(hr_plan("sqlite"), environ={"HR_DATABASE_URL": f"sqlite:///{path}"}, autosync=False)
    with pytest.raises(DatabaseConfigError) as raised:
        await gateway.start()
    await gateway.stop()
    assert raised.value.reason == "the SQLite file does not exist" and str(path) in raised.value.detail
    assert gateway.ready is False and gateway.health()["phase"] == "failed"
    assert not path.exists()  # so a later --create-schema still creates it


async def test_schema_mismatch_fails_start_with_the_reason(tmp_path):
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()
    gateway = Gateway(hr_plan("sqlite"), environ={"HR_DATABASE_URL": f"sqlite:///{path}"}, autosync=False)
    with pytest.raises(SyncError) as raised:
        await gateway.start()
    await gateway.stop()
    assert "no such table" in str(raised.value)
    assert "no such table" in gateway.health()["lastError"]


async def test_write_only_attributes_are_kept_when_absent(hr_sqlite):
    """A writeOnly attribute is never returned, so a client never sends it back: absent from a
    replace means unchanged, not cleared."""
    plan = hr_plan("sqlite")
    user = plan.object("User")
    attributes = tuple(
        a.model_copy(update={"mutability": "writeOnly"}) if a.path == "nickName" else a
        for a in user.attributes
    )
    plan = plan.model_copy(
        update={
            "objects": tuple(
                o.model_copy(update={"attributes": attributes}) if o is user else o for o in plan.objects
            )
        }
    )
    gateway = Gateway(plan, environ={"HR_DATABASE_URL": hr_sqlite.url}, autosync=False)
    await gateway.start()
    try:
        users = gateway.stores["User"]
        grace = await users.get("2")
        assert "nickName" not in grace
        await users.replace("2", dict(grace, title="Rear Admiral"))
        assert hr_sqlite.execute("SELECT nick_name, title FROM employees WHERE employee_id = 2") == [
            ("Amazing Grace", "Rear Admiral")
        ]
        await users.replace("2", dict(grace, nickName="Grandma COBOL"))
        assert hr_sqlite.execute("SELECT nick_name FROM employees WHERE employee_id = 2") == [
            ("Grandma COBOL",)
        ]
    finally:
        await gateway.stop()


async def test_a_cancelled_request_still_leaves_cache_and_database_agreeing(hr_sqlite):
    gateway = Gateway(hr_plan("sqlite"), environ={"HR_DATABASE_URL": hr_sqlite.url}, autosync=False)
    await gateway.start()
    blocker = sqlite3.connect(hr_sqlite.url.removeprefix("sqlite:///"), isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # our write waits for this lock (busy timeout)
    try:
        users = gateway.stores["User"]
        grace = await users.get("2")

        async def release() -> None:
            await anyio.sleep(0.3)
            blocker.execute("ROLLBACK")

        async with anyio.create_task_group() as tg:
            tg.start_soon(release)
            with anyio.move_on_after(0.05):  # the client gives up while the transaction waits
                await users.replace("2", dict(grace, title="Committed anyway"))
        in_db = hr_sqlite.execute("SELECT title FROM employees WHERE employee_id = 2")[0][0]
        assert users.lookup("id", "2")[0].get("title") == in_db == "Committed anyway"
    finally:
        blocker.close()
        await gateway.stop()


async def test_full_import_pages_through_keysets_and_logs_progress(hr_database, caplog):
    gateway = Gateway(
        hr_plan(hr_database.dialect),
        environ={"HR_DATABASE_URL": hr_database.url},
        autosync=False,
        page_size=3,
        progress_every=10,
    )
    with caplog.at_level(logging.INFO, logger="mapper.runtime"):
        await gateway.start()
    try:
        assert gateway.health()["objects"] == {"User": 20, "Group": 4}
        assert [r["id"] for r in gateway.stores["User"].all()] == [str(i) for i in range(1, 21)]
        progress = [r.getMessage() for r in caplog.records if "imported" in r.getMessage()]
        assert progress == ["User: imported 12 rows", "User: imported 20 rows"]
    finally:
        await gateway.stop()
