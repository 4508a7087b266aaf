"""A group-commit batch's transaction on SQLite (:meth:`Database._sqlite_transaction`): its BEGIN
IMMEDIATE, COMMIT and ROLLBACK go to the driver's connection, not through SQLAlchemy's
``Transaction``. What the batch keeps, what its jobs and callers see, and the error a refusal at
COMMIT or a lock waited out raises are SQLAlchemy's, as before; the pooled connection goes back
with no transaction open."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import exc

from mapper.plan import Statement
from mapper.runtime.database import Database, Tx
from mapper.runtime.errors import DatabaseUnavailableError
from mapper.runtime.group_commit import Job
from mapper.runtime.watchdog import Timeouts

SCHEMA = """
CREATE TABLE teams (id INTEGER PRIMARY KEY);
CREATE TABLE people (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  team INTEGER REFERENCES teams (id) DEFERRABLE INITIALLY DEFERRED
);
INSERT INTO teams (id) VALUES (1);
"""
INSERT = Statement(sql="INSERT INTO people (name, team) VALUES (:name, :team)", params=("name", "team"))


@pytest.fixture
def path(tmp_path: Path) -> Path:
    file = tmp_path / "t.db"
    connection = sqlite3.connect(file)
    connection.executescript(SCHEMA)
    connection.close()
    return file


@pytest.fixture
def database(path: Path) -> Iterator[Database]:
    db = Database("t", f"sqlite:///{path}", timeouts=Timeouts(statement=0.3))
    yield db
    db.engine.dispose()


def insert(name: str, team: int = 1) -> Callable[[Tx], int]:
    return lambda tx: tx.run(INSERT, {"name": name, "team": team})


def fails(tx: Tx) -> None:
    tx.run(INSERT, {"name": "half", "team": 1})
    raise ValueError("the job's own failure")


def jobs(*fns: Callable[[Tx], Any]) -> list[Job]:
    return [Job(fn, time.monotonic() + 10) for fn in fns]


def names(path: Path) -> list[str]:
    connection = sqlite3.connect(path)
    try:
        return [name for (name,) in connection.execute("SELECT name FROM people ORDER BY id")]
    finally:
        connection.close()


def open_transactions(database: Database) -> list[bool]:
    """Whether each connection idle in the pool is inside a transaction."""
    pool: Any = database.engine.pool
    return [record.dbapi_connection.in_transaction for record in list(pool._pool.queue)]


def test_a_batch_commits_once_and_returns_its_connection_with_no_transaction(database, path):
    batch = jobs(insert("a"), insert("b"))
    database.run_batch(batch)
    assert [job.error for job in batch] == [None, None]
    assert [job.value for job in batch] == [1, 1]
    assert names(path) == ["a", "b"]
    assert open_transactions(database) == [False]


def test_a_job_that_fails_undoes_its_own_statements_and_no_other_job(database, path):
    """Unguarded, the failure rolls the transaction back and the others run again, each in a
    savepoint; the failing job's half-done insert is not kept."""
    batch = jobs(insert("a"), fails, insert("b"))
    database.run_batch(batch)
    assert [type(job.error) for job in batch] == [type(None), ValueError, type(None)]
    assert names(path) == ["a", "b"]
    assert open_transactions(database) == [False]


def test_a_job_s_statement_through_sqlalchemy_joins_the_batch_s_transaction(database, path):
    """A statement a job runs through SQLAlchemy (:meth:`Tx.execute`, whose autobegin fires the
    BEGIN listener) runs in the batch's transaction, begun on the driver, and commits with it."""
    count = Statement(sql="SELECT COUNT(*) FROM people")

    def counts(tx: Tx) -> int:
        tx.run(INSERT, {"name": "a", "team": 1})
        return int(tx.execute(count).scalar_one())

    batch = jobs(counts, insert("b"))
    database.run_batch(batch)
    assert [job.error for job in batch] == [None, None]
    assert batch[0].value == 1
    assert names(path) == ["a", "b"]
    assert open_transactions(database) == [False]


def test_a_refusal_at_commit_is_sqlalchemys_integrity_error_and_keeps_nothing(database, path):
    """A deferred foreign key is checked at COMMIT: the refusal comes from the driver's
    ``commit()`` and is raised as SQLAlchemy's Connection raised it (IntegrityError, no
    statement), the transaction rolled back, the connection reusable."""
    with pytest.raises(exc.IntegrityError) as raised:
        database._transaction(jobs(insert("a"), insert("orphan", team=99)), guarded=False)
    assert raised.value.statement is None
    assert isinstance(raised.value.orig, sqlite3.IntegrityError)
    assert names(path) == []
    assert open_transactions(database) == [False]
    database.run_batch(batch := jobs(insert("c")))
    assert batch[0].error is None and names(path) == ["c"]


def test_a_batch_refused_at_commit_runs_its_jobs_one_by_one(database, path):
    batch = jobs(insert("a"), insert("orphan", team=99), insert("b"))
    database.run_batch(batch)
    assert batch[0].error is None and batch[2].error is None
    assert isinstance(batch[1].error, exc.IntegrityError)
    assert names(path) == ["a", "b"]


def test_a_begin_that_waits_out_another_writer_fails_the_batch_as_an_outage(database, path):
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        batch = jobs(insert("a"))
        database.run_batch(batch)
        assert isinstance(batch[0].error, DatabaseUnavailableError)
        assert isinstance(batch[0].error.__cause__, exc.OperationalError)
    finally:
        holder.rollback()
        holder.close()
    database.run_batch(batch := jobs(insert("b")))
    assert batch[0].error is None and names(path) == ["b"]
