"""A batch's writes of existing objects read what the writes before them in the batch wrote, and
its creates check and insert after them, each failing on its own, on every database; on
PostgreSQL the next write's read, or the next create's checks and insert, goes in one pipeline
with the write before it (:class:`~mapper.runtime.tx.Ahead`), so a batch of N such writes costs
about N + 2 round trips instead of 2N + 1.

The writes here are :class:`ObjectWrite`s whose decision appends a mark to the title it read, so
a write that read its object before the previous write's statements ran would lose that write's
mark; several of them write one object in one batch (the store's locks would keep two writes of
one object apart; the batch itself must not rely on that)."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

import anyio
import anyio.to_thread
import pytest
from sqlalchemy import exc

from mapper.plan import ENTERPRISE_USER, Statement
from mapper.runtime import pgpipeline
from mapper.runtime.codec import Codec
from mapper.runtime.database import Database, Tx
from mapper.runtime.decisions import Creation, Decided, ObjectWrite, Unclaimed, unclaimed
from mapper.runtime.errors import (
    DatabaseUnavailableError,
    NotFoundError,
    PreconditionFailedError,
    UniquenessError,
)
from mapper.runtime.group_commit import Job
from mapper.runtime.inserts import Inserts
from mapper.runtime.keys import anchor_key
from mapper.runtime.record import Record
from mapper.runtime.rows import ObjectRead
from tests.support.databases import HrDatabase
from tests.support.hr import hr_plan, new_user
from tests.support.proxy import TcpProxy

pytestmark = pytest.mark.anyio

TITLE = Statement(
    sql="UPDATE employees SET title = :title WHERE employee_id = :anchor", params=("title", "anchor")
)
LOGIN = Statement(
    sql="UPDATE employees SET login = :login WHERE employee_id = :anchor", params=("login", "anchor")
)
DELETE = Statement(sql="DELETE FROM employees WHERE employee_id = :anchor", params=("anchor",))


class Writes:
    """Writes of HR's users as a batch's jobs, decided from what each read."""

    def __init__(self, hr: HrDatabase) -> None:
        self.obj = hr_plan(hr.dialect).object("User")
        self.database = Database("hr", hr.url)
        self.codec = Codec(self.obj, self.database.dialect)
        self.title = self.obj.columns.index("title")
        self.inserts = Inserts(self.obj, self.database.dialect)

    def job(self, anchor: Any, decide: Any, if_match: str | None = None) -> Job:
        read = ObjectRead.of(self.obj, self.codec, anchor)
        write = ObjectWrite("User", read, decide, partial(NotFoundError, "User", str(anchor)), if_match)
        return Job(partial(Tx.write, write=write), float("inf"))

    def mark(self, anchor: Any, mark: str, if_match: str | None = None) -> Job:
        """Append ``mark`` to the title the write reads."""

        def decide(fresh: Record) -> Decided:
            return Decided([(TITLE, {"anchor": anchor, "title": f"{fresh.row[self.title] or ''}{mark}"})])

        return self.job(anchor, decide, if_match)

    def create(self, login: str, finish: Any = None, **extra: Any) -> Job:
        """Create the user ``login`` as the store does (:class:`Creation`: its checks and insert,
        then its read-back); ``finish`` runs first when given (with the transaction)."""
        values = self.codec.change(new_user(login, **extra), None).values
        insert = self.obj.insert
        assert insert is not None

        def created(tx: Tx, anchor: Any) -> Record:
            if finish is not None:
                finish(tx)
            record = tx.read_back(ObjectRead.of(self.obj, self.codec, anchor))
            assert record is not None
            return record

        creation = Creation(
            unclaimed(self.codec, values, None),
            (self.inserts.for_values(values), {**values, "anchor": None}),
            insert.returning in ("returning", "lastrowid"),
            None,
            self.codec.anchor_index,
            created,
        )
        return Job(partial(Tx.create, creation=creation), float("inf"))

    def login_of(self, job: Job) -> tuple[Any, str]:
        """The anchor and login of the user ``job`` created."""
        assert job.error is None, job.error
        return anchor_key(job.value.row[self.codec.anchor_index]), str(
            job.value.row[self.obj.columns.index("login")]
        )

    def title_of(self, job: Job) -> str:
        assert job.error is None, job.error
        return str(job.value.row[self.title])

    def run(self, jobs: list[Job], *, guarded: bool) -> list[Job]:
        self.database._guarded = guarded  # the mode the batch starts in (a failure switches it on)
        self.database.run_batch(jobs)
        return jobs


@pytest.fixture
def writes(hr_database: HrDatabase) -> Iterator[Writes]:
    hr_database.execute("UPDATE employees SET title = 'T' WHERE employee_id IN (1, 2, 3)")
    made = Writes(hr_database)
    try:
        yield made
    finally:
        made.database.dispose()


def titles(hr: HrDatabase) -> dict[int, str]:
    return dict(hr.execute("SELECT employee_id, title FROM employees WHERE employee_id IN (1, 2, 3)"))


@pytest.mark.parametrize("guarded", [False, True])
async def test_each_write_reads_what_the_writes_before_it_in_the_batch_wrote(
    writes: Writes, hr_database: HrDatabase, guarded: bool
):
    jobs = [writes.mark(1 if i % 3 else 2, str(i)) for i in range(9)]
    await anyio.to_thread.run_sync(partial(writes.run, jobs, guarded=guarded))
    assert [writes.title_of(job) for job in jobs] == [
        "T0",
        "T1",
        "T12",
        "T03",
        "T124",
        "T1245",
        "T036",
        "T12457",
        "T124578",
    ]
    assert titles(hr_database) == {1: "T124578", 2: "T036", 3: "T"}


@pytest.mark.parametrize("guarded", [False, True])
async def test_a_failing_write_keeps_its_error_and_the_others_their_answers(
    writes: Writes, hr_database: HrDatabase, guarded: bool
):
    """Between writes of user 1: a stale If-Match (refused on what was read); a write whose own
    statement fails in its pipeline (a login another user holds); a write that deletes the row it
    must leave (refused after its read-back, which carried the next write's read: that read saw
    the row gone, and the next write, of the same user, must not believe it); a write whose read
    fails (an anchor the column refuses: on PostgreSQL, in the pipeline of the write before it)."""
    taken = hr_database.execute("SELECT login FROM employees WHERE employee_id = 2")[0][0]
    jobs = [
        writes.mark(1, "a"),
        writes.mark(1, "x", if_match='W/"stale"'),
        writes.mark(1, "b"),
        writes.job(1, lambda fresh: Decided([(LOGIN, {"anchor": 1, "login": taken})])),
        writes.mark(1, "c"),
        writes.job(3, lambda fresh: Decided([(DELETE, {"anchor": 3})])),
        writes.mark(3, "d"),
        writes.mark("not a number", "y"),
        writes.mark(1, "e"),
    ]
    await anyio.to_thread.run_sync(partial(writes.run, jobs, guarded=guarded))
    assert isinstance(jobs[1].error, PreconditionFailedError)
    assert isinstance(jobs[3].error, exc.IntegrityError)
    assert isinstance(jobs[5].error, NotFoundError)
    assert jobs[7].error is not None  # PostgreSQL refuses the value; SQLite and MariaDB find no row
    assert [writes.title_of(jobs[i]) for i in (0, 2, 4, 6, 8)] == ["Ta", "Tab", "Tabc", "Td", "Tabce"]
    assert titles(hr_database) == {1: "Tabce", 2: "T", 3: "Td"}


@pytest.mark.parametrize("guarded", [False, True])
async def test_a_value_found_held_refuses_its_write_before_what_was_sent_after_its_check(
    writes: Writes, hr_database: HrDatabase, guarded: bool
):
    """A write whose new login another user holds: its check (on PostgreSQL held, and sent in one
    pipeline with the update after it) refuses it as taken, not as the update's broken unique
    index; a write whose check finds the value held while its update breaks nothing is refused
    too, and its update undone. The writes around them keep their answers."""
    taken = hr_database.execute("SELECT login FROM employees WHERE employee_id = 2")[0][0]

    def claim(login: str, title: str) -> Any:
        check = Unclaimed(writes.obj.by_query, {"value": taken}, UniquenessError("userName"))
        return lambda fresh: Decided(
            [(TITLE, {"anchor": 1, "title": title}), (LOGIN, {"anchor": 1, "login": login})], (check,)
        )

    jobs = [
        writes.mark(1, "a"),
        writes.job(1, claim(taken, "Broken")),
        writes.mark(3, "b"),
        writes.job(1, claim("unclaimed.login", "Undone")),
        writes.mark(1, "c"),
    ]
    await anyio.to_thread.run_sync(partial(writes.run, jobs, guarded=guarded))
    assert isinstance(jobs[1].error, UniquenessError) and isinstance(jobs[3].error, UniquenessError)
    assert [writes.title_of(jobs[i]) for i in (0, 2, 4)] == ["Ta", "Tb", "Tac"]
    assert titles(hr_database) == {1: "Tac", 2: "T", 3: "Tb"}
    assert hr_database.execute("SELECT COUNT(*) FROM employees WHERE login = 'unclaimed.login'") == [(0,)]


@pytest.mark.parametrize("guarded", [False, True])
async def test_creates_check_and_insert_after_the_writes_before_them_each_failing_alone(
    writes: Writes, hr_database: HrDatabase, guarded: bool
):
    """Creates between writes: a userName the create before it took (409, not the unique index's
    refusal: its check answers first); a manager the database does not have (its insert fails);
    a create after a write refused after its read-back (on PostgreSQL that read-back carried the
    create's insert, which the write's rollback undoes: the create inserts once, on its own)."""
    jobs = [
        writes.mark(1, "a"),
        writes.create("new.one"),
        writes.create("new.one"),
        writes.create("new.two", **{ENTERPRISE_USER: {"manager": {"value": "999999"}}}),
        writes.create("new.three"),
        writes.job(3, lambda fresh: Decided([(DELETE, {"anchor": 3})])),
        writes.create("new.four"),
        writes.mark(1, "b"),
    ]
    await anyio.to_thread.run_sync(partial(writes.run, jobs, guarded=guarded))
    assert isinstance(jobs[2].error, UniquenessError)
    assert isinstance(jobs[3].error, exc.IntegrityError)
    assert isinstance(jobs[5].error, NotFoundError)
    assert [writes.title_of(jobs[i]) for i in (0, 7)] == ["Ta", "Tab"]
    created = [writes.login_of(jobs[i]) for i in (1, 4, 6)]
    assert [login for _, login in created] == ["new.one", "new.three", "new.four"]
    stored = hr_database.execute(
        "SELECT employee_id, login FROM employees WHERE login LIKE 'new.%' ORDER BY login"
    )
    assert sorted((anchor_key(a), login) for a, login in stored) == sorted(created)
    assert titles(hr_database) == {1: "Tab", 2: "T", 3: "T"}


@pytest.mark.postgres
async def test_a_batch_of_creates_costs_one_round_trip_each_and_two_more(
    hr_postgres: HrDatabase, monkeypatch
):
    """A batch of 8 creates: the first one's checks and insert, each one's read-back with the next
    one's checks and insert, the commit."""
    writes = Writes(hr_postgres)
    pipelines: list[int] = []
    run = pgpipeline.run

    def counted(dbapi_connection: Any, known: Any, commands: Any, sent: Any = None) -> Any:
        pipelines.append(len(commands))
        return run(dbapi_connection, known, commands, sent)

    try:
        await writes.database.run(lambda tx: tx.first(Statement(sql="SELECT 1")))  # a pooled connection
        monkeypatch.setattr(pgpipeline, "run", counted)
        jobs = [writes.create(f"counted.{i}") for i in range(8)]
        await anyio.to_thread.run_sync(partial(writes.run, jobs, guarded=True))
        assert [writes.login_of(job)[1] for job in jobs] == [f"counted.{i}" for i in range(8)]
        assert len(pipelines) == 8 + 2
    finally:
        writes.database.dispose()


@pytest.mark.postgres
async def test_a_batch_of_writes_costs_one_round_trip_each_and_two_more(hr_postgres: HrDatabase, monkeypatch):
    """A batch of 8 writes of existing objects: the first read, each write with the next one's
    read, the commit."""
    hr_postgres.execute("UPDATE employees SET title = 'T' WHERE employee_id IN (1, 2, 3)")
    writes = Writes(hr_postgres)
    pipelines: list[int] = []
    run = pgpipeline.run

    def counted(dbapi_connection: Any, known: Any, commands: Any, sent: Any = None) -> Any:
        pipelines.append(len(commands))
        return run(dbapi_connection, known, commands, sent)

    try:
        await writes.database.run(lambda tx: tx.first(Statement(sql="SELECT 1")))  # a pooled connection
        monkeypatch.setattr(pgpipeline, "run", counted)
        jobs = [writes.mark(1 + i % 2, str(i)) for i in range(8)]
        await anyio.to_thread.run_sync(partial(writes.run, jobs, guarded=True))
        assert [writes.title_of(job) for job in jobs][-2:] == ["T0246", "T1357"]
        assert len(pipelines) == 8 + 2
    finally:
        writes.database.dispose()


@pytest.mark.postgres
async def test_a_connection_cut_under_a_write_carrying_the_next_ones_read_keeps_nothing(
    hr_postgres: HrDatabase,
):
    """The connection is cut before the second write's pipeline (its update, its read-back and the
    third write's read): every write of the batch fails as an outage, none is kept, and the next
    batch runs on a new connection."""
    port = int(hr_postgres.url.rsplit(":", 1)[1].split("/", 1)[0])
    proxy = TcpProxy(port).start()
    hr_postgres.execute("UPDATE employees SET title = 'T' WHERE employee_id IN (1, 2, 3)")
    writes = Writes(
        HrDatabase("postgres", "postgres", hr_postgres.url.replace(f":{port}/", f":{proxy.port}/"))
    )

    def cut(fresh: Record) -> Decided:
        proxy.set_mode("cut")
        return Decided([(TITLE, {"anchor": 2, "title": "Cut"})])

    try:
        jobs = [writes.mark(1, "a"), writes.job(2, cut), writes.mark(3, "c")]
        await anyio.to_thread.run_sync(partial(writes.run, jobs, guarded=False))
        assert [type(job.error) for job in jobs] == [DatabaseUnavailableError] * 3
        proxy.set_mode("pass")
        assert titles(hr_postgres) == {1: "T", 2: "T", 3: "T"}
        again = [writes.mark(1, "a"), writes.mark(3, "c")]
        await anyio.to_thread.run_sync(partial(writes.run, again, guarded=False))
        assert [writes.title_of(job) for job in again] == ["Ta", "Tc"]
    finally:
        writes.database.dispose()
        proxy.stop()


@pytest.mark.postgres
async def test_a_connection_cut_under_a_create_carrying_the_next_ones_insert_keeps_nothing(
    hr_postgres: HrDatabase,
):
    """The connection is cut before the second create's read-back, which carries the third
    create's checks and insert: every create of the batch fails as an outage, none is kept, and
    the next batch runs on a new connection."""
    port = int(hr_postgres.url.rsplit(":", 1)[1].split("/", 1)[0])
    proxy = TcpProxy(port).start()
    writes = Writes(
        HrDatabase("postgres", "postgres", hr_postgres.url.replace(f":{port}/", f":{proxy.port}/"))
    )
    try:
        jobs = [
            writes.create("cut.zero"),
            writes.create("cut.one", finish=lambda tx: proxy.set_mode("cut")),
            writes.create("cut.two"),
        ]
        await anyio.to_thread.run_sync(partial(writes.run, jobs, guarded=False))
        assert [type(job.error) for job in jobs] == [DatabaseUnavailableError] * 3
        proxy.set_mode("pass")
        assert hr_postgres.execute("SELECT COUNT(*) FROM employees WHERE login LIKE 'cut.%'") == [(0,)]
        again = [writes.create("cut.zero"), writes.create("cut.two")]
        await anyio.to_thread.run_sync(partial(writes.run, again, guarded=False))
        assert [writes.login_of(job)[1] for job in again] == ["cut.zero", "cut.two"]
    finally:
        writes.database.dispose()
        proxy.stop()
