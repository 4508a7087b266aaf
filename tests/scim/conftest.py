"""Fixtures of the SCIM app tests: ``client`` serves the HR example from a fresh SQLite file,
``any_client`` from each of the three databases (:func:`tests.support.scim.scim_client`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.support.databases import HrDatabase
from tests.support.scim import scim_client


@pytest.fixture
async def client(hr_sqlite: HrDatabase) -> AsyncIterator[httpx.AsyncClient]:
    async with scim_client(hr_sqlite) as c:
        yield c


@pytest.fixture
async def any_client(hr_database: HrDatabase) -> AsyncIterator[httpx.AsyncClient]:
    async with scim_client(hr_database) as c:
        yield c
