"""PostgreSQL's statements go to libpq in pipelines (:mod:`mapper.runtime.pgpipeline`): each is
prepared once per connection and stays prepared past a rolled-back transaction, a statement that
fails in a pipeline fails its own job and nothing after it runs, a transaction a pipeline begins
keeps the connection's isolation level, and past the limit statements still run, unnamed."""

from __future__ import annotations

from functools import partial

import anyio
import anyio.to_thread
import pytest
from sqlalchemy import exc

from mapper.plan import Statement
from mapper.runtime import pgpipeline
from mapper.runtime.database import Database, Tx
from mapper.runtime.group_commit import Job
from tests.support.databases import HrDatabase

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]

LOGIN = Statement(sql="SELECT login FROM employees WHERE employee_id = :anchor", params=("anchor",))
TITLE = Statement(
    sql="UPDATE employees SET title = :title WHERE employee_id = :anchor", params=("title", "anchor")
)


def test_placeholders_become_numbers_once_each_and_a_doubled_percent_a_literal_one():
    sql = pgpipeline.pg_sql(
        "SELECT %(a)s, %(b)s, %(a)s WHERE x LIKE 'p%%'", ("a", "b"), ("value_a", "value_b")
    )
    assert sql.query == b"SELECT $1, $2, $1 WHERE x LIKE 'p%'"
    assert sql.values == ("value_a", "value_b") and sql.keys == ("a", "b")


def prepared_here(tx: Tx) -> list[tuple[str, str]]:
    """The statements prepared on ``tx``'s connection (name, SQL)."""
    result = tx.connection.exec_driver_sql("SELECT name, statement FROM pg_prepared_statements ORDER BY name")
    return [(name, statement) for name, statement in result.fetchall()]


async def test_a_statement_is_prepared_once_per_connection_and_outlives_a_rollback(hr_postgres: HrDatabase):
    database = Database("hr", hr_postgres.url, pool_size=1, max_overflow=0)

    def read_then_fail(tx: Tx) -> None:
        assert tx.first(LOGIN, {"anchor": 1}) is not None
        tx.first(Statement(sql="SELECT 1 / :zero", params=("zero",)), {"zero": 0})

    try:
        with pytest.raises(exc.DataError):
            await database.run(read_then_fail)
        for anchor in range(1, 8):
            assert await database.run(lambda tx, anchor=anchor: tx.first(LOGIN, {"anchor": anchor}))
        prepared = await database.run(prepared_here)
        queries = [statement for _, statement in prepared]
        assert queries.count("SELECT login FROM employees WHERE employee_id = $1") == 1
        assert all(name.startswith("_mapper_") for name, _ in prepared)  # psycopg prepares none
    finally:
        database.dispose()


async def test_a_statement_failing_in_a_pipeline_fails_its_job_alone(hr_postgres: HrDatabase):
    """Two jobs in one batch: the first sends an update (held) and then reads a value the column
    refuses, in one pipeline; it fails with the database's error and its update is undone, while
    the second job's update commits."""
    database = Database("hr", hr_postgres.url)

    def job(title: str, fail: bool, tx: Tx) -> str:
        tx.send(TITLE, {"anchor": 1 if fail else 2, "title": title})
        assert tx.rows_together([(LOGIN, {"anchor": "not a number" if fail else 2})])
        return title

    try:
        jobs = [
            Job(partial(job, title, fail), float("inf")) for title, fail in (("Lost", True), ("Kept", False))
        ]
        await anyio.to_thread.run_sync(database.run_batch, jobs)
        assert isinstance(jobs[0].error, exc.DataError)
        assert jobs[1].error is None and jobs[1].value == "Kept"
        titles = hr_postgres.execute("SELECT employee_id, title FROM employees WHERE employee_id IN (1, 2)")
        assert dict(titles)[2] == "Kept" and dict(titles)[1] != "Lost"
    finally:
        database.dispose()


async def test_a_transaction_begun_by_a_pipeline_keeps_the_isolation_level(hr_postgres: HrDatabase):
    database = Database("hr", hr_postgres.url)
    level = Statement(sql="SELECT current_setting('transaction_isolation')")
    try:
        assert await database.run(lambda tx: tx.first(level), snapshot=True) == ("repeatable read",)
        assert await database.run(lambda tx: tx.first(level)) == ("read committed",)
    finally:
        database.dispose()


async def test_past_the_limit_statements_run_unnamed(hr_postgres: HrDatabase, monkeypatch):
    monkeypatch.setattr(pgpipeline, "PREPARED_LIMIT", 2)
    database = Database("hr", hr_postgres.url, pool_size=1, max_overflow=0)
    statements = [
        Statement(
            sql=f"SELECT {n} + employee_id FROM employees WHERE employee_id = :anchor", params=("anchor",)
        )
        for n in range(4)
    ]
    try:
        for _ in range(2):
            for n, statement in enumerate(statements):
                assert await database.run(lambda tx, s=statement: tx.first(s, {"anchor": 1})) == (n + 1,)
        assert len(await database.run(prepared_here)) == 2
    finally:
        database.dispose()


async def test_a_connection_the_server_ended_while_pooled_is_replaced_before_use(hr_postgres: HrDatabase):
    """A pooled connection whose backend was terminated is replaced at checkout (the ping), and
    the write commits on a fresh one: the pipelines begin no transaction on a dead session."""
    database = Database("hr", hr_postgres.url, pool_size=1, max_overflow=0)
    pid = Statement(sql="SELECT pg_backend_pid()")
    try:
        (first,) = await database.run(lambda tx: tx.first(pid))
        assert await database.run(lambda tx: tx.first(pid)) == (first,)  # pooled: the same session
        hr_postgres.execute(f"SELECT pg_terminate_backend({int(first)})")
        await anyio.sleep(0.2)  # the backend's goodbye reaches the pooled socket
        await database.run(lambda tx: tx.send(TITLE, {"anchor": 3, "title": "After"}), write=True)
        assert await database.run(lambda tx: tx.first(pid)) != (first,)
        assert hr_postgres.execute("SELECT title FROM employees WHERE employee_id = 3") == [("After",)]
    finally:
        database.dispose()
