"""Group commit over real databases (SQLite, PostgreSQL, MariaDB): concurrent writes share one
transaction and one commit, each write succeeding or failing on its own.

To put writes in one batch for sure, :func:`tests.support.batches.one_batch` holds the committer
while the writes under test queue behind it."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import AsyncIterator, Callable
from functools import partial
from typing import Any

import anyio
import pytest
from sqlalchemy import exc

from mapper.plan import ENTERPRISE_USER, Statement
from mapper.runtime import group_commit
from mapper.runtime.database import CommitStats, Database, Tx
from mapper.runtime.errors import (
    DatabaseUnavailableError,
    PreconditionFailedError,
    UniquenessError,
)
from tests.support.batches import collect, one_batch, outcome
from tests.support.databases import HrDatabase
from tests.support.hr import new_user

pytestmark = pytest.mark.anyio

GROUP_INSERT = Statement(sql="INSERT INTO groups (name) VALUES (:name)", params=("name",))


async def test_concurrent_creates_all_commit_in_shared_transactions(gateway, hr_database):
    users = gateway.stores["User"]
    database = users.database
    before = database.commit_stats
    async with anyio.create_task_group() as tg:
        for i in range(40):
            tg.start_soon(users.create, new_user(f"grouped.{i}"))
    after = database.commit_stats
    assert after.jobs - before.jobs == 40
    assert after.batches - before.batches < 40 and after.largest > 1  # batches formed
    assert hr_database.execute("SELECT COUNT(*) FROM employees WHERE login LIKE 'grouped.%'") == [(40,)]
    assert all(users.lookup("userName", f"grouped.{i}") for i in range(40))
    assert users.count() == 60


async def test_a_failing_job_leaves_the_rest_of_its_batch_alone(gateway, hr_database):
    """In one batch: creates that succeed, a userName only the database knows (409), a manager the
    database no longer has, and a group whose second member is gone (its group row was inserted
    before the member failed: the savepoint takes it back). The last two were cached, so their
    jobs fail in the batch; each is then tried again without the reference that is gone (left
    out, as one that never existed: ``on missing drop``), once."""
    users, groups = gateway.stores["User"], gateway.stores["Group"]
    hr_database.execute("INSERT INTO employees (login) VALUES ('only.in.database')")
    hr_database.execute("DELETE FROM employees WHERE employee_id IN (11, 19)")  # both still cached
    results: dict[str, Any] = {}
    async with one_batch(users.database, 7) as tg:
        collect(tg, results, "ok1", lambda: users.create(new_user("batch.ok1")))
        collect(tg, results, "taken", lambda: users.create(new_user("only.in.database")))
        collect(tg, results, "ok2", lambda: users.create(new_user("batch.ok2")))
        gone_manager = new_user("batch.orphan", **{ENTERPRISE_USER: {"manager": {"value": "19"}}})
        collect(tg, results, "gone_manager", lambda: users.create(gone_manager))
        collect(tg, results, "ok3", lambda: users.create(new_user("batch.ok3")))
        members = [{"value": "1"}, {"value": "11"}]
        collect(tg, results, "group", lambda: groups.create({"displayName": "Too Late", "members": members}))
        collect(
            tg, results, "ok4", lambda: users.replace("3", {"userName": "alan.turing", "title": "Batched"})
        )
    assert isinstance(results["taken"], UniquenessError)
    assert ENTERPRISE_USER not in results["gone_manager"], results["gone_manager"]
    assert [m["value"] for m in results["group"]["members"]] == ["1"]
    for name in ("ok1", "ok2", "ok3"):
        assert isinstance(results[name], dict), results[name]
        assert users.lookup("userName", f"batch.{name}")[0]["id"] == results[name]["id"]
    assert results["ok4"]["title"] == "Batched"
    logins = hr_database.execute("SELECT login FROM employees WHERE login LIKE 'batch.%' ORDER BY login")
    assert logins == [("batch.ok1",), ("batch.ok2",), ("batch.ok3",), ("batch.orphan",)]
    orphan = hr_database.execute("SELECT manager_id FROM employees WHERE login = 'batch.orphan'")
    assert orphan == [(None,)]
    assert hr_database.execute("SELECT COUNT(*) FROM groups WHERE name = 'Too Late'") == [(1,)]
    assert hr_database.execute("SELECT title FROM employees WHERE employee_id = 3") == [("Batched",)]
    assert [g["id"] for g in groups.lookup("displayName", "Too Late")] == [results["group"]["id"]]


async def test_a_stale_version_fails_alone(gateway, hr_database):
    users = gateway.stores["User"]
    hr_database.execute("UPDATE employees SET title = 'Moved on' WHERE employee_id = 4")  # cache is stale
    results: dict[str, Any] = {}
    current = {i: await users.get(str(i)) for i in (4, 5, 6)}
    async with one_batch(users.database, 3) as tg:
        for i in (4, 5, 6):
            resource = dict(current[i], title=f"Guarded {i}")
            version = current[i]["meta"]["version"]
            collect(
                tg, results, str(i), lambda r=resource, i=i, v=version: users.replace(str(i), r, if_match=v)
            )
    assert isinstance(results["4"], PreconditionFailedError)
    assert results["5"]["title"] == "Guarded 5" and results["6"]["title"] == "Guarded 6"
    titles = hr_database.execute(
        "SELECT title FROM employees WHERE employee_id IN (4, 5, 6) ORDER BY employee_id"
    )
    assert titles == [("Moved on",), ("Guarded 5",), ("Guarded 6",)]


async def test_a_python_exception_reaches_only_its_caller(gateway, hr_database):
    database = gateway.databases["hr"]

    def insert(name: str, fail: bool = False) -> Callable[[Tx], str]:
        def job(tx: Tx) -> str:
            tx.run(GROUP_INSERT, {"name": name})
            if fail:
                raise ValueError(f"{name} changed its mind")
            return name

        return job

    results: dict[str, Any] = {}
    async with one_batch(database, 3) as tg:
        for name, fail in (("Kept One", False), ("Thrown Away", True), ("Kept Two", False)):
            collect(tg, results, name, lambda n=name, f=fail: database.run(insert(n, f), write=True))
    assert results["Kept One"] == "Kept One" and results["Kept Two"] == "Kept Two"
    assert isinstance(results["Thrown Away"], ValueError)
    assert str(results["Thrown Away"]) == "Thrown Away changed its mind"
    names = hr_database.execute(
        "SELECT name FROM groups WHERE name IN ('Kept One', 'Thrown Away', 'Kept Two') ORDER BY name"
    )
    assert names == [("Kept One",), ("Kept Two",)]
    assert hr_database.execute("SELECT COUNT(*) FROM groups WHERE name = 'Thrown Away'") == [(0,)]


async def test_jobs_run_in_arrival_order_across_batches(gateway):
    database = gateway.databases["hr"]
    database.committer.cap = 4  # ten jobs: three batches
    order: list[int] = []

    def job(i: int) -> Callable[[Tx], int]:
        def run(tx: Tx) -> int:
            order.append(i)  # in the worker thread, in the order the jobs run
            return i

        return run

    results: dict[str, Any] = {}
    before = database.commit_stats
    async with one_batch(database, 10) as tg:
        for i in range(10):
            collect(tg, results, str(i), lambda i=i: database.run(job(i), write=True))
            await anyio.sleep(0)  # each job queues before the next is started
    assert order == list(range(10))
    assert [results[str(i)] for i in range(10)] == list(range(10))
    after = database.commit_stats
    assert after.batches - before.batches == 1 + 3 and after.largest == 4  # the blocker, then 4 + 4 + 2


async def test_a_cancelled_caller_withdraws_its_queued_job(gateway, hr_database):
    database = gateway.databases["hr"]
    ran: list[str] = []

    def job(name: str) -> Callable[[Tx], str]:
        def run(tx: Tx) -> str:
            ran.append(name)
            tx.run(GROUP_INSERT, {"name": name})
            return name

        return run

    results: dict[str, Any] = {}
    async with one_batch(database, 1) as tg:
        withdrawn = anyio.CancelScope()

        async def cancelled_write() -> None:
            with withdrawn:
                await database.run(job("Withdrawn"), write=True)

        async with anyio.create_task_group() as inner:
            inner.start_soon(cancelled_write)
            while database.committer.queued < 1:
                await anyio.sleep(0.001)
            withdrawn.cancel()
        assert database.committer.queued == 0
        collect(tg, results, "kept", lambda: database.run(job("Kept"), write=True))
    assert ran == ["Kept"] and results["kept"] == "Kept"
    assert hr_database.execute("SELECT COUNT(*) FROM groups WHERE name = 'Withdrawn'") == [(0,)]
    # the committer is not left waiting on the withdrawn job: the next write runs at once
    assert await database.run(job("After"), write=True) == "After"


@pytest.mark.postgres
async def test_a_refused_commit_runs_the_jobs_again_one_per_transaction(hr_postgres):
    """A deferred unique constraint is checked at COMMIT: two writes of the batch break it, so the
    batch's commit fails, and its refusal names no write. The jobs run again one per transaction:
    the second twin alone is refused, the others are kept, each once, and cached (they all used
    to fail with the commit's refusal)."""
    from mapper.runtime.gateway import Gateway
    from tests.support.hr import hr_plan

    hr_postgres.execute(
        "ALTER TABLE employees ADD CONSTRAINT nick_once UNIQUE (nick_name) DEFERRABLE INITIALLY DEFERRED"
    )
    gateway = Gateway(hr_plan("postgres"), environ={"HR_DATABASE_URL": hr_postgres.url}, autosync=False)
    await gateway.start()
    try:
        users = gateway.stores["User"]
        results: dict[str, Any] = {}
        async with one_batch(users.database, 4) as tg:
            for i in range(4):
                nick = "Twin" if i in (1, 3) else f"Single {i}"
                collect(
                    tg, results, str(i), lambda i=i, n=nick: users.create(new_user(f"again.{i}", nickName=n))
                )
        assert isinstance(results["3"], UniquenessError), results
        kept = hr_postgres.execute("SELECT login FROM employees WHERE login LIKE 'again.%' ORDER BY login")
        assert kept == [("again.0",), ("again.1",), ("again.2",)]
        for i in range(3):
            assert users.lookup("userName", f"again.{i}")[0]["id"] == results[str(i)]["id"]
        assert users.lookup("userName", "again.3") == []
        assert users.count() == 23
        created = await users.create(new_user("after.the.failure", nickName="Single"))  # a fine batch
        assert users.lookup("userName", "after.the.failure")[0]["id"] == created["id"]
    finally:
        await gateway.stop()


@pytest.mark.postgres
async def test_a_job_that_breaks_the_connection_fails_its_batch(gateway_postgres, hr_postgres):
    """A job kills its own connection: the transaction is gone, so every job of the batch fails as
    an outage (503) and none is kept; the next batch gets a new connection."""
    database = gateway_postgres.databases["hr"]
    kill = Statement(sql="SELECT pg_terminate_backend(pg_backend_pid())")

    def insert(name: str) -> Callable[[Tx], str]:
        def job(tx: Tx) -> str:
            tx.run(GROUP_INSERT, {"name": name})
            return name

        return job

    def suicide(tx: Tx) -> None:
        tx.run(GROUP_INSERT, {"name": "Suicide"})
        tx.first(kill)

    results: dict[str, Any] = {}
    async with one_batch(database, 3) as tg:
        collect(tg, results, "before", lambda: database.run(insert("Before Kill"), write=True))
        collect(tg, results, "killer", lambda: database.run(suicide, write=True))
        collect(tg, results, "after", lambda: database.run(insert("After Kill"), write=True))
    assert all(isinstance(results[name], DatabaseUnavailableError) for name in results), results
    assert hr_postgres.execute(
        "SELECT COUNT(*) FROM groups WHERE name IN ('Before Kill', 'Suicide', 'After Kill')"
    ) == [(0,)]
    assert await database.run(insert("Next Batch"), write=True) == "Next Batch"
    assert hr_postgres.execute("SELECT COUNT(*) FROM groups WHERE name = 'Next Batch'") == [(1,)]


@pytest.fixture
async def gateway_postgres(hr_postgres) -> AsyncIterator[Any]:
    from mapper.runtime.gateway import Gateway
    from tests.support.hr import hr_plan

    gateway = Gateway(hr_plan("postgres"), environ={"HR_DATABASE_URL": hr_postgres.url}, autosync=False)
    await gateway.start()
    try:
        yield gateway
    finally:
        await gateway.stop()


async def test_database_errors_keep_their_kind(gateway):
    """A job's IntegrityError reaches its caller as SQLAlchemy's IntegrityError, as before."""
    database = gateway.databases["hr"]
    with pytest.raises(exc.IntegrityError):
        await database.run(lambda tx: tx.run(GROUP_INSERT, {"name": "Research"}), write=True)


async def test_the_committers_thread_ends_when_idle_and_the_next_write_starts_another(gateway, monkeypatch):
    """The batches run in a thread of the committer's own, which ends after a while without
    writes (and when the database is disposed); a write after that starts another."""
    monkeypatch.setattr(group_commit, "IDLE", 0.05)
    database = gateway.databases["hr"]

    def runner(name: str) -> Callable[[Tx], threading.Thread]:
        def run(tx: Tx) -> threading.Thread:
            tx.run(GROUP_INSERT, {"name": name})
            return threading.current_thread()

        return run

    first = await database.run(runner("First"), write=True)
    assert first is not threading.current_thread() and first.name == "mapper-commit-hr"
    with anyio.fail_after(30):
        while first.is_alive():  # no write for a while: it ended
            await anyio.sleep(0.01)
    second = await database.run(runner("Second"), write=True)
    assert second is not first
    database.dispose()
    assert not second.is_alive()
    third = await database.run(runner("Third"), write=True)
    assert third not in (first, second)
    count = Statement(sql="SELECT COUNT(*) FROM groups WHERE name IN ('First', 'Second', 'Third')")
    assert await database.run(lambda tx: tx.first(count)) == (3,)


def slow_commits(hr: HrDatabase, seconds: float) -> None:
    """Groups named 'Slow...' take ``seconds`` at their transaction's COMMIT (a deferred
    trigger), and one named 'Refused...' is refused then, after as long."""
    hr.execute(
        "CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        f" IF NEW.name LIKE 'Slow%' OR NEW.name LIKE 'Refused%' THEN PERFORM pg_sleep({seconds}); END IF;"
        " IF NEW.name LIKE 'Refused%' THEN RAISE check_violation USING MESSAGE = 'refused at commit';"
        " END IF; RETURN NULL; END $$"
    )
    hr.execute(
        "CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON groups DEFERRABLE INITIALLY DEFERRED"
        " FOR EACH ROW EXECUTE FUNCTION slow_commit()"
    )


@pytest.mark.postgres
async def test_on_postgresql_a_batch_runs_while_the_batch_before_waits_for_its_commit(hr_postgres):
    """A write queued behind a batch whose COMMIT takes a second runs in the next batch meanwhile,
    on another connection, and is acknowledged first; both are kept."""
    slow_commits(hr_postgres, 1.0)
    database = Database("hr", hr_postgres.url)
    acknowledged: list[str] = []

    async def write(name: str) -> None:
        await database.run(lambda tx: tx.run(GROUP_INSERT, {"name": name}), write=True)
        acknowledged.append(name)

    try:
        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                tg.start_soon(write, "Slow")
                while database.commit_stats.batches == 0 and database.committer.queued == 1:
                    await anyio.sleep(0.01)  # its batch is taken
                await anyio.sleep(0.2)  # and waits for its COMMIT
                tg.start_soon(write, "Quick")
        assert acknowledged == ["Quick", "Slow"]
        names = Statement(sql="SELECT name FROM groups WHERE name IN ('Slow', 'Quick') ORDER BY name")
        assert await database.run(lambda tx: tx.rows(names)) == [("Quick",), ("Slow",)]
    finally:
        database.dispose()


@pytest.mark.postgres
async def test_a_batch_refused_at_commit_while_the_next_ran_runs_its_writes_again_alone(hr_postgres):
    """A batch whose COMMIT is refused after the next batch has run: its writes run again one by
    one (the refused one fails, the other is kept), and the next batch's write is kept."""
    slow_commits(hr_postgres, 0.5)
    database = Database("hr", hr_postgres.url)
    results: dict[str, Any] = {}

    async def write(name: str) -> None:
        results[name] = await outcome(
            database.run(lambda tx: tx.run(GROUP_INSERT, {"name": name}), write=True)
        )

    try:
        async with one_batch(database, 2) as tg:
            tg.start_soon(write, "Refused")
            tg.start_soon(write, "Kept")

            async def later() -> None:
                while database.commit_stats.batches < 1 or database.committer.queued:
                    await anyio.sleep(0.01)  # the blocker's batch is done, theirs taken
                await anyio.sleep(0.2)  # and waits for its COMMIT
                await write("Quick")

            tg.start_soon(later)
        assert isinstance(results["Refused"], exc.IntegrityError)
        assert results["Kept"] == 1 and results["Quick"] == 1
        names = Statement(
            sql="SELECT name FROM groups WHERE name IN ('Refused', 'Kept', 'Quick') ORDER BY name"
        )
        assert await database.run(lambda tx: tx.rows(names)) == [("Kept",), ("Quick",)]
    finally:
        database.dispose()


class _FaultyStats:
    """Stands in for :class:`CommitStats` in the committer's bookkeeping: the ``armed``-th batch
    counted raises (a fault in the committer's own code, after its batch has run)."""

    def __init__(self, armed: int) -> None:
        self.armed = armed

    def __call__(self, *counts: int) -> CommitStats:
        self.armed -= 1
        if self.armed == 0:
            raise RuntimeError("a fault in the committer's bookkeeping")
        return CommitStats(*counts)


async def _behind_a_blocker(database: Any, writes: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """The outcomes of ``writes`` (and of ``blocker``, a write that holds the committer until
    they all queue behind it, so that they run as the next batch: :func:`one_batch` without its
    check of the batch's size, which a fault in the bookkeeping leaves uncounted). A write still
    unanswered after half a minute fails the test rather than hang it: a stranded write waits for
    ever (its caller's wait is shielded once its batch runs), so the callers are plain tasks that
    the test can leave behind."""
    started, gate = threading.Event(), threading.Event()

    def blocker(tx: Tx) -> str:
        started.set()
        gate.wait(30)
        return "blocker"

    jobs: list[group_commit.Job] = []

    class Recorded(group_commit.Job):  # so that the test can release writes left stranded
        __slots__ = ()

        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            jobs.append(self)

    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setattr(group_commit, "Job", Recorded)
    tasks = {"blocker": asyncio.ensure_future(outcome(database.run(blocker, write=True)))}
    try:
        with anyio.move_on_after(30):  # a committer that runs nothing any more: the writes wait
            while not started.is_set():
                await anyio.sleep(0.001)
        for name, write in writes.items():
            tasks[name] = asyncio.ensure_future(outcome(write()))
        with anyio.move_on_after(30):
            while database.committer.queued < len(writes):
                await anyio.sleep(0.005)
        gate.set()
        _, waiting = await asyncio.wait(tasks.values(), timeout=30)
    finally:
        monkeypatch.undo()
    if waiting:
        for job in jobs:  # released, so that the test ends
            if not job.woken.is_set():
                job.error = RuntimeError("stranded")
                job.woken.set()
        await asyncio.wait(tasks.values())
        pytest.fail(f"{len(waiting)} writes were never answered: stranded by the committer")
    return {name: task.result() for name, task in tasks.items()}


def _insert(name: str) -> Callable[[Tx], str]:
    def job(tx: Tx) -> str:
        tx.run(GROUP_INSERT, {"name": name})
        return name

    return job


async def test_a_committer_that_fails_outside_its_batch_strands_no_write(gateway, hr_database, monkeypatch):
    """The committer's thread fails in its own bookkeeping after a batch ran: the batch's callers
    are answered at once as an outage (503; their objects left in doubt: the batch did commit),
    not left waiting for ever, and the next write gets a new thread and commits. The writes are
    given an hour's bound, so that only the fix answers them before the test's guard fires."""
    users = gateway.stores["User"]
    database = users.database
    monkeypatch.setattr(database, "timeouts", dataclasses.replace(database.timeouts, statement=3600.0))
    monkeypatch.setattr(group_commit, "CommitStats", _FaultyStats(armed=2))  # the blocker's batch is fine
    writes = {str(i): partial(users.replace, str(i), {"userName": f"stranded.{i}"}) for i in (1, 2, 3)}
    results = await _behind_a_blocker(database, writes)
    assert results["blocker"] == "blocker"
    assert all(isinstance(results[str(i)], DatabaseUnavailableError) for i in (1, 2, 3)), results
    assert users.in_doubt == {users.to_key(str(i)) for i in (1, 2, 3)}
    # the batch committed before the fault: the database holds it, the callers were told 503
    held = hr_database.execute(
        "SELECT login FROM employees WHERE employee_id IN (1, 2, 3) ORDER BY employee_id"
    )
    assert held == [("stranded.1",), ("stranded.2",), ("stranded.3",)]
    answered = await _behind_a_blocker(
        database, {"after": partial(users.replace, "4", {"userName": "after.the.fault"})}
    )
    after = answered["after"]
    assert after["userName"] == "after.the.fault"
    assert hr_database.execute("SELECT login FROM employees WHERE employee_id = 4") == [("after.the.fault",)]


async def test_writes_queued_when_the_committer_fails_run_on_a_new_thread(gateway, hr_database, monkeypatch):
    """Writes already queued behind the batch whose bookkeeping failed do not wait for another
    write to arrive: a new thread takes them at once."""
    database = gateway.databases["hr"]
    monkeypatch.setattr(database, "timeouts", dataclasses.replace(database.timeouts, statement=3600.0))
    monkeypatch.setattr(group_commit, "CommitStats", _FaultyStats(armed=1))  # the blocker's batch
    results = await _behind_a_blocker(
        database, {"queued": partial(database.run, _insert("Queued Behind"), write=True)}
    )
    assert isinstance(results["blocker"], DatabaseUnavailableError), results
    assert results["queued"] == "Queued Behind"
    assert hr_database.execute("SELECT COUNT(*) FROM groups WHERE name = 'Queued Behind'") == [(1,)]


async def test_a_failing_batch_observer_does_not_hold_the_batch_back(gateway, hr_database):
    """The metrics' observer raising on the event loop still lets every caller of its batch have
    its own outcome."""
    database = gateway.databases["hr"]

    def observe(size: int, duration: float) -> None:
        raise RuntimeError("a broken metrics hook")

    database.committer.observe = observe
    results = await _behind_a_blocker(
        database, {"observed": partial(database.run, _insert("Observed"), write=True)}
    )
    assert results == {"blocker": "blocker", "observed": "Observed"}
    assert hr_database.execute("SELECT COUNT(*) FROM groups WHERE name = 'Observed'") == [(1,)]
