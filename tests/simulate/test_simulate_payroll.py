"""The simulator against the payroll example: UUID anchors made by the gateway, writes through
stored procedures, a soft delete the import hides, groups anchored on their displayName (so the
rename is skipped as immutable)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mapper.pipeline import load
from mapper.simulate.report import render_text
from mapper.simulate.runner import simulate_plan
from tests.support.databases import load_sql, reset_database

pytestmark = pytest.mark.anyio

PAYROLL = Path(__file__).resolve().parents[2] / "examples" / "payroll"
NOT_MAPPED = {"nickName", "enterprise:manager"}  # payroll.map maps neither


async def simulate(url: str, dialect: str, schema: str) -> None:
    reset_database(url)
    load_sql(url, [PAYROLL / schema])
    plan = load(str(PAYROLL / "payroll.map"), write=dialect)
    report = await simulate_plan(plan, {"PAYROLL_DATABASE_URL": url})
    text = render_text(report)
    assert report.failed == 0, text
    for step in report.steps:
        if step.status == "SKIP":
            assert step.expected, text
            reason = step.expected
            expected = any(k in reason for k in NOT_MAPPED) or "immutable (displayName" in reason
            assert expected, text


@pytest.mark.mariadb
async def test_payroll_on_mariadb(mariadb_url: str) -> None:
    await simulate(mariadb_url, "mysql", "schema.mysql.sql")


@pytest.mark.postgres
async def test_payroll_on_postgres(postgres_url: str) -> None:
    """Member removal once bound the child row's uuid.UUID to a procedure taking text (500)."""
    await simulate(postgres_url, "postgres", "schema.postgres.sql")
