from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mapper.pipeline import load
from mapper.plan import Plan
from mapper.runtime.gateway import Gateway
from tests.conftest import HrDatabase

HR_MAP = Path(__file__).resolve().parents[2] / "examples" / "hr" / "hr.map"


def hr_plan(dialect: str) -> Plan:
    """The compiled HR mapping, for ``dialect`` (sqlite, postgres or mysql)."""
    return load(str(HR_MAP), write=dialect)


@pytest.fixture
async def gateway(hr_database: HrDatabase) -> AsyncIterator[Gateway]:
    """A started gateway over the HR sample database, autosync off (tests sync explicitly)."""
    gw = Gateway(hr_plan(hr_database.dialect), environ={"HR_DATABASE_URL": hr_database.url}, autosync=False)
    await gw.start()
    try:
        yield gw
    finally:
        await gw.stop()
