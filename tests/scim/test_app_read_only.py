"""A PostgreSQL database made read-only and writable again by its DBA under a running gateway,
the way a maintenance window does: ``ALTER DATABASE ... SET default_transaction_read_only``.
PostgreSQL applies such a default to new sessions only, so a pooled connection keeps the default
it started with: opened while the database was read-only, it refused every write after the
window ended, until the pool recycled it (30 minutes). The connection a write is refused on as
read-only is now dropped, and the pool renewed, so that the next write runs in a session with
the database's current default. (``ALTER SYSTEM`` and a reload reach running sessions too, and
MariaDB's ``read_only`` is global: neither leaves a session behind. Not tested here: both change
the whole server, which other tests share.)"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from mapper.runtime.database import engine_url
from tests.support.databases import HrDatabase
from tests.support.scim import patch_body, scim_client

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]


def read_only(db: HrDatabase, on: bool) -> None:
    engine = create_engine(engine_url(db.url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("SET default_transaction_read_only = off"))  # this session's own
            name = connection.execute(text("SELECT current_database()")).scalar_one()
            setting = (
                "SET default_transaction_read_only = on" if on else "RESET default_transaction_read_only"
            )
            connection.execute(text(f'ALTER DATABASE "{name}" {setting}'))
    finally:
        engine.dispose()


def title(value: str) -> dict[str, object]:
    return patch_body({"op": "replace", "path": "title", "value": value})


async def test_writes_resume_as_soon_as_the_database_is_writable_again(hr_postgres: HrDatabase) -> None:
    db = hr_postgres
    read_only(db, True)
    try:
        async with scim_client(db, raise_app_exceptions=False) as client:
            refused = [await client.patch(f"/Users/{n}", json=title(f"Frozen {n}")) for n in (1, 2, 3)]
            assert [r.status_code for r in refused] == [503, 503, 503], [r.text for r in refused]
            assert "read-only" in refused[0].json()["detail"]
            read_only(db, False)
            written = await client.patch("/Users/1", json=title("Thawed"))
            assert written.status_code == 200, written.text
            assert db.execute("SELECT title FROM employees WHERE employee_id = 1") == [("Thawed",)]
    finally:
        read_only(db, False)
