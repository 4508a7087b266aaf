"""The cache stays compact: a full import of synthetic users from a real SQLite file, measured with
tracemalloc (every byte allocated and still held: records, values, indexes). Each user has the
bench's eight strings, ``active`` and two timestamps; the other columns are NULL, as in the bench.
(Records of one object each, holding their row tuple and a 64-bit version, took about 1,000 bytes
per user here; shapes with instants take about 700.)"""

from __future__ import annotations

import gc
import sqlite3
import tracemalloc
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from mapper.runtime.cache import CacheState
from mapper.runtime.codec import Codec
from mapper.runtime.database import Database
from mapper.runtime.loading import import_all
from tests.support.databases import HR
from tests.support.hr import hr_plan

USERS = 20_000
COLUMNS = (
    "employee_id, login, given_name, family_name, display_name, title, department,"
    " employee_number, active, created_at, updated_at"
)


def user(i: int) -> tuple:
    moment = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=10 * i)  # ten seconds apart
    stamp = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    login = f"user{i:07d}"
    given, family = f"Given{i}", f"Family{i}"
    return (
        i, login, given, family, f"{given} {family}", f"Title {i % 8}",
        f"Dept {i % 7}", f"E{i:08d}", 1, stamp, stamp,
    )  # fmt: skip


def users_database(path: Path) -> str:
    connection = sqlite3.connect(path)
    try:
        connection.executescript((HR / "schema.sql").read_text())
        marks = ", ".join("?" * len(COLUMNS.split(",")))
        with connection:
            connection.executemany(
                f"INSERT INTO employees ({COLUMNS}) VALUES ({marks})", (user(i) for i in range(1, USERS + 1))
            )
    finally:
        connection.close()
    return f"sqlite:///{path}"


def bytes_per_user(url: str) -> float:
    obj = hr_plan("sqlite").object("User")
    database = Database("hr", url)
    codec = Codec(obj, database.dialect)
    load = partial(
        import_all, obj=obj, codec=codec, old=CacheState(codec), page_size=5000, progress_every=USERS
    )
    try:
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            result = database.run_sync(load)
            gc.collect()
            used = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
    finally:
        database.dispose()
    state = result.state
    assert len(state.records) == USERS and len(state.by_query) == USERS
    assert state.records[USERS].row[1] == f"user{USERS:07d}"
    return used / USERS


def test_cache_bytes_per_user(tmp_path: Path):
    assert bytes_per_user(users_database(tmp_path / "users.db")) < 800
