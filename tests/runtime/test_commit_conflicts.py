"""A batch's transaction that the database rolls back to settle a conflict with another one (a
serialization failure at COMMIT on PostgreSQL, a deadlock on MariaDB) names no write of the batch
and kept nothing of it: the writes run again, so that each ends either committed and acknowledged
or failed on its own with nothing kept, answered 503 (retry), never 500. (Before, every write of
the batch failed as an outage.)"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from mapper.plan import Statement
from mapper.runtime.database import Tx, engine_url
from mapper.runtime.errors import ContendedError
from mapper.runtime.gateway import Gateway
from tests.support.batches import collect, one_batch
from tests.support.databases import HrDatabase
from tests.support.hr import hr_plan, new_user

pytestmark = pytest.mark.anyio

#: a deferred constraint trigger that refuses, at COMMIT, with PostgreSQL's own serialization
#: failure (SQLSTATE 40001), every transaction that writes the nickName 'Refused'
SERIALIZATION_AT_COMMIT = """
CREATE FUNCTION refuse_serially() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.nick_name = 'Refused' THEN
    RAISE EXCEPTION 'could not serialize access' USING ERRCODE = 'serialization_failure';
  END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER refuse_serially AFTER INSERT OR UPDATE ON employees
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_serially();
"""


@pytest.fixture
async def started(request: pytest.FixtureRequest) -> AsyncIterator[Callable[[HrDatabase], Any]]:
    gateways: list[Gateway] = []

    async def start(database: HrDatabase) -> Gateway:
        gateway = Gateway(
            hr_plan(database.dialect), environ={"HR_DATABASE_URL": database.url}, autosync=False
        )
        await gateway.start()
        gateways.append(gateway)
        return gateway

    yield start
    for gateway in gateways:
        await gateway.stop()


@pytest.mark.postgres
async def test_a_serialization_failure_at_commit_fails_only_its_write(hr_postgres, started):
    hr_postgres.execute(SERIALIZATION_AT_COMMIT)
    gateway = await started(hr_postgres)
    users = gateway.stores["User"]
    results: dict[str, Any] = {}
    async with one_batch(users.database, 4) as tg:
        for i in range(4):
            nick = "Refused" if i == 2 else f"Fine {i}"
            collect(
                tg, results, str(i), lambda i=i, n=nick: users.create(new_user(f"serial.{i}", nickName=n))
            )
    assert isinstance(results["2"], ContendedError), results  # 503 with Retry-After: 1
    kept = hr_postgres.execute("SELECT login FROM employees WHERE login LIKE 'serial.%' ORDER BY login")
    assert kept == [("serial.0",), ("serial.1",), ("serial.3",)]
    for i in (0, 1, 3):
        assert users.lookup("userName", f"serial.{i}")[0]["id"] == results[str(i)]["id"]
    assert users.lookup("userName", "serial.2") == []


UPDATE_TITLE = Statement(
    sql="UPDATE employees SET title = :title WHERE employee_id = :id", params=("title", "id")
)


def _lock_waits(url: str) -> int:
    engine = create_engine(engine_url(url))
    try:
        with engine.connect() as connection:
            query = "SELECT COUNT(*) FROM information_schema.innodb_trx WHERE trx_state = 'LOCK WAIT'"
            return int(connection.execute(text(query)).scalar_one())
    finally:
        engine.dispose()


class Deadlock:
    """Another application's transaction that deadlocks with a write of the batch: it holds
    employee 2 (and many rows of its own, so that InnoDB rolls the lighter batch back), waits
    for employee 1, which the write holds, while the write then asks for employee 2."""

    def __init__(self, database: HrDatabase) -> None:
        self.database = database
        self.holding = threading.Event()
        self.errors: list[BaseException] = []
        self.thread = threading.Thread(target=self._other, daemon=True)
        self.runs = 0

    def _other(self) -> None:
        engine = create_engine(engine_url(self.database.url))
        try:
            with engine.begin() as connection:
                connection.execute(text("UPDATE employees SET title = 'Other' WHERE employee_id = 2"))
                for i in range(200):  # heavier than the batch: InnoDB picks the batch as victim
                    connection.execute(text("INSERT INTO `groups` (name) VALUES (:n)"), {"n": f"heavy {i}"})
                self.holding.set()
                connection.execute(text("UPDATE employees SET title = 'Other' WHERE employee_id = 1"))
        except BaseException as error:  # noqa: BLE001 - the test looks
            self.errors.append(error)
            self.holding.set()
        finally:
            engine.dispose()

    def job(self, tx: Tx) -> str:
        """The batch's write: on its first run it takes employee 1, lets the other transaction
        wait for it, then asks for employee 2 (the deadlock); run again, it just writes."""
        self.runs += 1
        tx.run(UPDATE_TITLE, {"title": "Batch", "id": 1})
        if self.runs == 1:
            self.thread.start()
            self.holding.wait(30)
            for _ in range(3000):
                if _lock_waits(self.database.url):
                    break
                threading.Event().wait(0.01)
        tx.run(UPDATE_TITLE, {"title": "Batch", "id": 2})
        return "written"


@pytest.mark.mariadb
@pytest.mark.parametrize("guarded", [False, True], ids=["plain", "savepoints"])
async def test_a_deadlock_victim_runs_again_and_commits(hr_mariadb, started, guarded):
    """The batch's transaction loses a deadlock: InnoDB rolls it back whole (with its savepoints,
    when the batch runs in them). Its writes run again, the victim too, and commit; the other
    application's transaction, which won, commits first."""
    gateway = await started(hr_mariadb)
    database = gateway.databases["hr"]
    database._guarded = guarded
    deadlock = Deadlock(hr_mariadb)
    insert = Statement(sql="INSERT INTO `groups` (name) VALUES (:name)", params=("name",))

    def beside(name: str) -> Callable[[Tx], str]:
        def job(tx: Tx) -> str:
            tx.run(insert, {"name": name})
            return name

        return job

    results: dict[str, Any] = {}
    async with one_batch(database, 3) as tg:
        collect(tg, results, "before", lambda: database.run(beside("Before"), write=True))
        collect(tg, results, "victim", lambda: database.run(deadlock.job, write=True))
        collect(tg, results, "after", lambda: database.run(beside("After"), write=True))
    deadlock.thread.join(30)
    assert deadlock.errors == []
    assert deadlock.runs >= 2  # the deadlock happened, and the victim ran again
    assert results == {"before": "Before", "victim": "written", "after": "After"}
    assert hr_mariadb.execute("SELECT title FROM employees WHERE employee_id IN (1, 2)") == [
        ("Batch",),
        ("Batch",),
    ]
    assert hr_mariadb.execute("SELECT COUNT(*) FROM `groups` WHERE name IN ('Before', 'After')") == [(2,)]
    assert hr_mariadb.execute("SELECT COUNT(*) FROM `groups` WHERE name LIKE 'heavy %'") == [(200,)]
