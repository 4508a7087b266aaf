from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from mapper.runtime.gateway import Gateway
from tests.support.databases import HrDatabase
from tests.support.hr import HR_MAP, hr_plan

__all__ = ["HR_MAP", "gateway", "hr_plan"]  # HR_MAP and hr_plan: for tests written against them here


@pytest.fixture
async def gateway(hr_database: HrDatabase) -> AsyncIterator[Gateway]:
    """A started gateway over the HR sample database, autosync off (tests sync explicitly)."""
    gw = Gateway(hr_plan(hr_database.dialect), environ={"HR_DATABASE_URL": hr_database.url}, autosync=False)
    await gw.start()
    try:
        yield gw
    finally:
        await gw.stop()
