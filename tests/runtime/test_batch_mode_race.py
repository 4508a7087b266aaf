"""A batch that starts unguarded (no savepoints) and has a job fail runs the jobs after it again,
guarded, in a new transaction. Whether it started unguarded was read again after the failure,
from the database's ``_guarded``, which the batch before it sets when it ends: that batch may
still be finishing in another thread (its COMMIT sent, the next batch let in). When it set the
flag meanwhile, the jobs the failed run never reached were neither run again nor failed: their
callers got no error and no value. Found with two ``mapper serve`` processes on PostgreSQL (after
writes began to read their rows with a lock, so that version mismatches, which fail a job, came
often): PATCHes answered 500 (an AssertionError: the write returned nothing), and a DELETE in
that position would have answered 204 without deleting. Here the batch beside it is made to end,
with a failed job, while the first job of this batch runs."""

from __future__ import annotations

import threading

import pytest

from mapper.plan import Statement
from mapper.runtime.database import Database, Tx
from mapper.runtime.errors import PreconditionFailedError
from mapper.runtime.group_commit import Job

TITLE = Statement(
    sql="UPDATE employees SET title = :title WHERE employee_id = :anchor", params=("title", "anchor")
)


def _refused(tx: Tx) -> None:
    raise PreconditionFailedError()


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ],
)
def test_the_jobs_after_a_failed_one_run_when_the_batch_beside_ends_meanwhile(
    request: pytest.FixtureRequest, name: str
) -> None:
    hr = request.getfixturevalue(f"hr_{name}")
    database = Database("hr", hr.url)
    try:

        def fails_while_the_batch_beside_ends(tx: Tx) -> None:
            beside = threading.Thread(target=database.run_batch, args=([Job(_refused, float("inf"))],))
            beside.start()  # its own transaction; its job fails, so it ends setting guarded
            beside.join()
            raise PreconditionFailedError()

        def writes(tx: Tx) -> str:
            tx.run(TITLE, {"title": "kept", "anchor": 1})
            return "written"

        assert not database._guarded  # this batch starts unguarded
        jobs = [Job(fails_while_the_batch_beside_ends, float("inf")), Job(writes, float("inf"))]
        database.run_batch(jobs)
        assert isinstance(jobs[0].error, PreconditionFailedError)
        assert jobs[1].error is None
        assert jobs[1].value == "written"
        assert hr.execute("SELECT title FROM employees WHERE employee_id = 1") == [("kept",)]
    finally:
        database.dispose()
