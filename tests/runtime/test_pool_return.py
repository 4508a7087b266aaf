"""A pooled connection the server drops while a unit of work still holds it (KILL,
pg_terminate_backend, a restart) fails its reset when it goes back to the pool. SQLAlchemy logs
that as an ERROR with a traceback, one per dropped connection, and discards the connection, which
is all there is to do: the gateway says it in one warning line, without the traceback."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import create_engine, text

from mapper.runtime.database import Database
from mapper.runtime.urls import engine_url

KILL = {
    "postgres": "SELECT pg_terminate_backend(:pid)",
    "mariadb": "KILL :pid",
}
ME = {"postgres": "SELECT pg_backend_pid()", "mariadb": "SELECT CONNECTION_ID()"}


@pytest.mark.parametrize(
    "kind",
    [
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ],
)
def test_a_connection_dropped_before_its_return_is_one_warning(
    request: pytest.FixtureRequest, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    url = request.getfixturevalue(f"{kind}_url")
    database = Database("hr", url)
    other = create_engine(engine_url(url), isolation_level="AUTOCOMMIT")
    try:
        with caplog.at_level(logging.INFO):
            # as a write batch holds it: statements on the driver's own cursor (Tx)
            connection = database.engine.raw_connection()
            cursor = connection.cursor()
            cursor.execute(ME[kind])
            pid = cursor.fetchone()[0]
            cursor.close()
            with other.connect() as killer:
                killer.execute(text(KILL[kind]), {"pid": pid})
            connection.close()  # back to the pool: its reset (a rollback) meets the dropped connection
        records = [r for r in caplog.records if r.name.startswith("sqlalchemy.pool")]
        assert records, "the pool said nothing of the dropped connection"
        assert all(r.levelno == logging.WARNING and r.exc_info is None for r in records), [
            (r.levelname, r.getMessage()) for r in records
        ]
        assert "discarded" in records[0].getMessage()
        with database.engine.connect() as fresh:  # the pool goes on with a new connection
            assert fresh.exec_driver_sql("SELECT 1").scalar() == 1
    finally:
        other.dispose()
        database.dispose()
