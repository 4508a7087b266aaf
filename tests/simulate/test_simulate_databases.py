"""The simulator against the HR example served in-process, on SQLite, PostgreSQL and MariaDB:
every step passes, in both modes, with the database checked after each write."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mapper.pipeline import load
from mapper.runtime.database import bootstrap_sqlite
from mapper.simulate.report import render_text
from mapper.simulate.runner import simulate_plan
from mapper.simulate.scenario import STEPS

pytestmark = pytest.mark.anyio

HR = Path(__file__).resolve().parents[2] / "examples" / "hr"
WRITES = ("create:", "update:", "disable:", "group create", "group members", "group rename", "delete:")


async def test_every_step_passes_on_every_database(hr_database: Any) -> None:
    plan = load(str(HR / "hr.map"), write=hr_database.dialect)
    report = await simulate_plan(plan, {"HR_DATABASE_URL": hr_database.url})
    text = render_text(report)
    assert report.failed == 0 and report.skipped == 0, text
    assert report.passed == 1 + 2 * len(STEPS), text  # the start, then every step in both modes
    assert {s.mode for s in report.steps if s.mode} == {"noflag", "flag"}
    refused = ("duplicate", "404")  # steps whose request is refused: nothing to read back
    checked = [s for s in report.steps if s.name.startswith(WRITES) and not any(r in s.name for r in refused)]
    assert checked and all(s.database for s in checked), text  # each write's effect read back from the rows
    assert text.splitlines()[-1] == f"{report.passed} passed, 0 failed, 0 skipped"


async def test_a_fresh_sqlite_file_and_one_mode(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    bootstrap_sqlite(url, [HR / "schema.sql"])  # no sample data: the simulator's objects are the only ones
    report = await simulate_plan(load(str(HR / "hr.map")), {"HR_DATABASE_URL": url}, modes=("flag",))
    assert report.failed == 0 and report.skipped == 0, render_text(report)
    assert report.passed == 1 + len(STEPS)
    assert {s.mode for s in report.steps if s.mode} == {"flag"}
    # everything the run created was deleted: the tables are as empty as they started
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        counts = [
            connection.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar() for t in ("employees", "groups")
        ]
    engine.dispose()
    assert counts == [0, 0]
