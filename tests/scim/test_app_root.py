"""``GET /``: what the service is and where its SCIM roots are, to anyone; nothing more."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.scim import scim_client

pytestmark = pytest.mark.anyio


async def test_the_root_names_the_service_and_its_scim_roots_without_a_token(hr_sqlite: Any) -> None:
    async with scim_client(hr_sqlite) as client:
        client.base_url = httpx.URL("https://idm.example.com")
        answer = await client.get("/", headers={"Authorization": ""})
        assert answer.status_code == 200
        body = answer.json()
        assert body["service"] == "scim-sql-mapper"
        assert body["connectors"] == [
            {
                "name": "hr",
                "scim": "https://idm.example.com/scim/v2",
                "ecma2host": "https://idm.example.com/ecma2host_hr/scim",
            }
        ]
        assert body["readiness"] == "https://idm.example.com/readyz"
        assert body["documentation"].startswith("https://")
        # nothing else: no counts, no object types, no database
        text = answer.text.lower()
        for secret in ("sqlite", hr_sqlite.url.lower(), "objects", "users", "employees", "count"):
            assert secret not in text, secret
        # the advertised roots work (with a token)
        for root in (body["connectors"][0]["scim"], body["connectors"][0]["ecma2host"]):
            assert (await client.get(f"{root}/ServiceProviderConfig")).status_code == 200


async def test_the_root_is_the_same_with_any_token_or_none(hr_sqlite: Any) -> None:
    async with scim_client(hr_sqlite) as client:
        client.base_url = httpx.URL("http://scim.test")
        with_token = await client.get("/")
        wrong = await client.get("/", headers={"Authorization": "Bearer wrong"})
        assert with_token.json() == wrong.json()
        assert (await client.post("/", json={})).status_code == 405
