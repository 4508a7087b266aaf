"""The gateway as a drop-in for the ECMA Connector Host: Entra ID applications configured with the
ECMA host's tenant URL (``https://host/ecma2host_{connectorName}/scim``) keep working unchanged."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.support.scim import PATCH_OP, scim_client

pytestmark = pytest.mark.anyio


@pytest.fixture
async def host(hr_sqlite: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with scim_client(hr_sqlite) as client:
        # the same app, addressed at its host root rather than /scim/v2
        client.base_url = httpx.URL("http://scim.test")
        yield client


async def test_the_ecma_tenant_url_serves_the_same_resources(host: httpx.AsyncClient) -> None:
    probe = await host.get("/ecma2host_HRDB/scim/Users", params={"filter": 'userName eq "ada.lovelace"'})
    assert probe.status_code == 200, probe.text
    (ada,) = probe.json()["Resources"]
    same = (await host.get(f"/scim/v2/Users/{ada['id']}")).json()
    ecma = (await host.get(f"/ecma2host_HRDB/scim/Users/{ada['id']}")).json()
    # the same resource; only its location follows the root asked (test_app_ecma_links.py)
    assert ecma["meta"].pop("location").startswith("http://scim.test/ecma2host_HRDB/scim/Users/")
    assert same["meta"].pop("location").startswith("http://scim.test/scim/v2/Users/")
    assert same == ecma


async def test_writes_through_the_ecma_tenant_url(host: httpx.AsyncClient) -> None:
    body = {"schemas": [PATCH_OP], "Operations": [{"op": "Replace", "path": "title", "value": "Countess"}]}
    patched = await host.patch("/ecma2host_HRDB/scim/Users/1", json=body)
    assert patched.status_code == 200, patched.text
    assert (await host.get("/scim/v2/Users/1")).json()["title"] == "Countess"


async def test_the_ecma_tenant_url_needs_the_token(host: httpx.AsyncClient) -> None:
    response = await host.get("/ecma2host_HRDB/scim/Users", headers={"Authorization": "Bearer wrong"})
    assert response.status_code == 401
    assert response.json()["status"] == "401"
