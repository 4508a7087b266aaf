"""Links follow the root the client used: through the ECMA Connector Host's tenant URL
(``/ecma2host_{name}/scim``), ``meta.location``, ``Location`` and ``$ref`` point back under it, and
through ``/scim/v2`` under that, whichever came first (nothing is cached across roots)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.support.scim import CORE_GROUP, new_user, scim_client

pytestmark = pytest.mark.anyio

ECMA = "http://scim.test/ecma2host_HRDB/scim"
SCIM = "http://scim.test/scim/v2"


@pytest.fixture
async def host(hr_sqlite: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with scim_client(hr_sqlite) as client:
        client.base_url = httpx.URL("http://scim.test")
        yield client


@pytest.mark.parametrize("cached", [True, False], ids=["cached-read", "router"])
async def test_reads_point_back_under_the_root_used(hr_sqlite: Any, cached: bool) -> None:
    async with scim_client(hr_sqlite, cached_reads=cached) as host:
        host.base_url = httpx.URL("http://scim.test")
        one = (await host.get("/ecma2host_HRDB/scim/Users/1")).json()
        assert one["meta"]["location"] == f"{ECMA}/Users/1"
        listed = (await host.get("/ecma2host_HRDB/scim/Users")).json()["Resources"]
        assert listed and all(r["meta"]["location"].startswith(f"{ECMA}/Users/") for r in listed)
        plain = (await host.get("/scim/v2/Users/1")).json()
        assert plain["meta"]["location"] == f"{SCIM}/Users/1"
        searched = await host.post(
            "/ecma2host_HRDB/scim/Users/.search",
            json={"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "count": 1},
        )
        assert searched.json()["Resources"][0]["meta"]["location"].startswith(f"{ECMA}/Users/")


async def test_a_create_answers_with_a_location_under_the_root_used(host: httpx.AsyncClient) -> None:
    created = await host.post("/ecma2host_HRDB/scim/Users", json=new_user("joan.clarke"))
    assert created.status_code == 201, created.text
    id_ = created.json()["id"]
    assert created.headers["location"] == f"{ECMA}/Users/{id_}"
    assert created.json()["meta"]["location"] == f"{ECMA}/Users/{id_}"
    group = {"schemas": [CORE_GROUP], "displayName": "Bletchley", "members": [{"value": id_}]}
    made = await host.post("/ecma2host_HRDB/scim/Groups", json=group)
    assert made.status_code == 201, made.text
    assert made.headers["location"].startswith(f"{ECMA}/Groups/")
    (member,) = made.json()["members"]
    assert member["$ref"] == f"{ECMA}/Users/{id_}"
    again = (await host.get(f"/scim/v2/Groups/{made.json()['id']}")).json()
    assert again["members"][0]["$ref"] == f"{SCIM}/Users/{id_}"


async def test_discovery_documents_follow_the_root_used(host: httpx.AsyncClient) -> None:
    ecma = (await host.get("/ecma2host_HRDB/scim/ServiceProviderConfig")).json()
    assert ecma["meta"]["location"] == f"{ECMA}/ServiceProviderConfig"
    plain = (await host.get("/scim/v2/ServiceProviderConfig")).json()
    assert plain["meta"]["location"] == f"{SCIM}/ServiceProviderConfig"
    types = (await host.get("/ecma2host_HRDB/scim/ResourceTypes")).json()["Resources"]
    assert all(t["meta"]["location"].startswith(f"{ECMA}/ResourceTypes/") for t in types)


async def test_the_root_keeps_the_case_the_client_sent(host: httpx.AsyncClient) -> None:
    one = (await host.get("/ECMA2HOST_HRDB/SCIM/users/1")).json()
    assert one["meta"]["location"] == "http://scim.test/ECMA2HOST_HRDB/SCIM/Users/1"
