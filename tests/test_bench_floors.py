"""The physical-limit measures run end to end: the write floor (a bare Starlette app committing
POSTs, beside the gateway, against the strict commit rate), the import floor's ladder, and the
py-spy split's attribution. Nothing here asserts anything about time."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bench import data
from bench.measures import probe
from bench.measures.import_floor import STEPS
from bench.spysplit import split

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.bench


def test_the_write_floor_answers_every_post_and_reports_each_server(tmp_path: Path) -> None:
    if shutil.which("wrk") is None and os.environ.get("CI") != "true":
        pytest.skip("wrk is not installed (apt-get install -y wrk)")
    output = tmp_path / "floors.json"
    argv = ["--databases", "sqlite", "--users", "1k", "--seconds", "1", "--rounds", "1", "--conns", "16"]
    completed = subprocess.run(
        [sys.executable, "-m", "bench.measures.floors", *argv, "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr[-4000:]
    [result] = json.loads(output.read_text())
    for side in ("floor_serial", "floor_group", "gateway"):
        figure = result["figures"][f"{side}_16"]
        assert figure["failed_runs"] == 0, (side, result["rounds"])
        assert figure["rps"] > 0 and figure["cpu_us_per_request"] > 0
    assert result["group_stats"]["rows"] >= result["group_stats"]["commits"] > 0
    assert "reproduce: .venv/bin/python -m bench.measures.floors --databases sqlite" in completed.stdout


def test_the_import_floor_climbs_every_step_over_the_same_rows(tmp_path: Path) -> None:
    db = data.create("sqlite", 2_000, tmp_path)
    result = probe("import_floor", db.url, db.dialect, 1, cpu=None)
    assert result["rows"] == 2_000
    assert list(result["cpu_us_per_row"]) == list(STEPS)
    assert result["ratio_to_fetch"]["fetch"] == 1.0


def test_the_split_counts_a_sample_under_its_deepest_named_part(tmp_path: Path) -> None:
    raw = tmp_path / "raw.txt"
    loop = "thread (1): MainThread;Runner.run (asyncio/runners.py:118)"
    raw.write_text(
        f"{loop};AuditMiddleware.__call__ (mapper/scim/audit.py:90);"
        "Logger.info (logging/__init__.py:1489) 3\n"
        f"{loop};FrontDoor.__call__ (mapper/scim/front.py:10) 2\n"
        "thread (1): MainThread;Runner.run (asyncio/runners.py:118) 5\n"
        "thread (2): AnyIO worker thread;WorkerThread.run (anyio/_backends/_asyncio.py:1133) 7\n"
        "thread (2): AnyIO worker thread;Database.run_batch (mapper/runtime/database.py:1);"
        "DefaultDialect.do_commit (sqlalchemy/engine/default.py:954) 4\n"
    )
    threads = split(raw)
    assert threads["loop"] == {
        "audit log": 3,
        "middlewares (front door, metrics, audit, proxy headers)": 2,
        "uvloop's own C code (I/O, HTTP parsing, callbacks)": 5,
    }
    assert threads["batch"] == {"commit (fsync wait)": 4}  # the idle worker's 7 samples are left out


def _titles(db: data.BenchDatabase) -> dict[int, str]:
    sql = "SELECT employee_id, title FROM employees"
    if db.dialect == "sqlite":
        con = sqlite3.connect(db.path)
        try:
            return dict(con.execute(sql).fetchall())
        finally:
            con.close()
    import psycopg

    with psycopg.connect(db.driver_url) as con:
        return dict(con.execute(sql).fetchall())


@pytest.mark.parametrize("dialect", ["sqlite", "postgres"])
def test_a_twin_holds_the_same_rows_and_keeps_its_writes_to_itself(
    dialect: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # the raw commit loop and A/B trees write to twins: their writes must never reach the rows
    # the gateway under test caches (a stale cached row makes each PATCH of it run twice)
    if dialect == "postgres":
        request.getfixturevalue("postgres_url")  # skips (or fails under CI) without the server
    db = data.create(dialect, 50, tmp_path)
    try:
        twin = data.twin(db, "twin", tmp_path)
        try:
            before = _titles(db)
            assert _titles(twin) == before and len(before) == 50
            [changed] = data.touch_users(twin, 1)
            assert _titles(twin)[changed] == f"Changed {changed}"
            assert _titles(db) == before
        finally:
            twin.drop()
    finally:
        db.drop()
