"""The bench runs end to end: ``python -m bench --smoke`` (10k users, SQLite, one short repetition)
produces a number for every measure and writes its JSON. Nothing here asserts anything about time;
the figures themselves are in docs/performance.md. Deselect with ``-m "not bench"``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MEASURES = {
    "get_filter",
    "get_filter_p99",
    "get_id",
    "post",
    "post_64",
    "patch",
    "patch_64",
    "import",
    "memory",
    "delta",
    "delete_scan",
}

pytestmark = pytest.mark.bench


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, Path]:
    if shutil.which("wrk") is None and os.environ.get("CI") != "true":
        pytest.skip("wrk is not installed (apt-get install -y wrk)")
    output = tmp_path_factory.mktemp("bench") / "latest.json"
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    return completed, output


def test_smoke_exits_zero_and_writes_json(smoke: tuple[subprocess.CompletedProcess, Path]) -> None:
    completed, output = smoke
    assert completed.returncode == 0, completed.stdout + completed.stderr[-4000:]
    assert output.exists()
    assert "reproduce: .venv/bin/python -m bench --smoke" in completed.stdout


def test_smoke_every_measure_has_a_number(smoke: tuple[subprocess.CompletedProcess, Path]) -> None:
    completed, output = smoke
    document = json.loads(output.read_text())
    [run] = document["runs"]
    assert (run["database"], run["users"]) == ("sqlite", 10_000)
    rows = {row["key"]: row for row in run["rows"]}
    assert set(rows) == MEASURES
    for key, row in rows.items():
        assert row["error"] is None, f"{key}: {row['error']}"
        assert isinstance(row["value"], int | float), key
        assert isinstance(row["pass"], bool), key
    assert isinstance(document["compile"]["value"], int | float), document["compile"]
    more = document["compile_more"]  # the same at 200 and 400 objects, and the per-object growth
    assert [row["key"] for row in more] == ["compile_200", "compile_400", "compile_scaling"]
    assert all(isinstance(row["value"], int | float) for row in more), more
    assert [size["objects"] for size in document["compile"]["raw"]["sizes"]] == [50, 200, 400]
    assert document["machine"]["nproc"] >= 1
    writes = run["raw"]["writes"]  # each write run says what the gateway's core spent on it
    for key in ("post", "post_64", "patch", "patch_64"):
        assert all(r["cpu_us"] > 0 for r in writes[key]), (key, writes[key])
