"""The app serving the payroll example on PostgreSQL: UUID anchors the gateway generates, writes
through stored procedures, a custom extension, Groups whose id is their (immutable) name."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import create_engine

from mapper.runtime.database import engine_url
from tests.support.scim import CORE_GROUP, CORE_USER, patch_body, scim_client

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]

PAYROLL = Path(__file__).resolve().parents[2] / "examples" / "payroll"
PAYROLL_URN = "urn:example:params:scim:schemas:extension:payroll:2.0:User"


@dataclass
class PayrollDatabase:
    url: str
    dialect: str = "postgres"


@pytest.fixture
async def client(postgres_url: str) -> AsyncIterator[httpx.AsyncClient]:
    engine = create_engine(engine_url(postgres_url))
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
            script = (PAYROLL / "schema.postgres.sql").read_text(encoding="utf-8")
            connection.exec_driver_sql(script.replace("%", "%%"))  # psycopg reads % as a placeholder
    finally:
        engine.dispose()
    database = PayrollDatabase(postgres_url)
    async with scim_client(
        database, mapping=PAYROLL / "payroll.map", environ={"PAYROLL_DATABASE_URL": postgres_url}
    ) as c:
        yield c


def worker(login: str, **payroll: Any) -> dict[str, Any]:
    return {
        "schemas": [CORE_USER, PAYROLL_URN],
        "userName": login,
        "name": {"givenName": "Pay", "familyName": "Roll"},
        "emails": [{"type": "work", "value": f"{login}@example.com"}],
        "active": True,
        PAYROLL_URN: payroll,
    }


async def test_workers_through_stored_procedures(client: httpx.AsyncClient) -> None:
    created = await client.post("/Users", json=worker("w.one", costCenter="CC-200", grade="7"))
    assert created.status_code == 201, created.text
    user = created.json()
    assert len(user["id"]) == 36  # a UUID the gateway generated
    assert user["displayName"] == "Pay Roll"  # computed by the import query
    assert user[PAYROLL_URN] == {"costCenter": "CC-200", "costCenterName": "Engineering", "grade": 7}
    found = await client.get("/Users", params={"filter": 'userName eq "W.ONE"'})
    assert [r["id"] for r in found.json()["Resources"]] == [user["id"]]

    patched = await client.patch(
        f"/Users/{user['id']}",
        json=patch_body({"op": "replace", "path": f"{PAYROLL_URN}:grade", "value": 8}),
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()[PAYROLL_URN]["grade"] == 8

    refused = await client.patch(
        f"/Users/{user['id']}", json=patch_body({"op": "replace", "path": "displayName", "value": "X"})
    )
    assert refused.status_code == 400  # displayName is import-only (<-): readOnly
    assert (await client.get(f"/Users/{user['id']}")).json()["displayName"] == "Pay Roll"

    assert (await client.delete(f"/Users/{user['id']}")).status_code == 204
    assert (await client.get(f"/Users/{user['id']}")).status_code == 404


async def test_groups_named_by_their_id(client: httpx.AsyncClient) -> None:
    member = (await client.post("/Users", json=worker("w.two"))).json()
    name = "Night Shift & Co"
    created = await client.post(
        "/Groups", json={"schemas": [CORE_GROUP], "displayName": name, "members": [{"value": member["id"]}]}
    )
    assert created.status_code == 201, created.text
    group = created.json()
    assert group["id"] == name
    assert created.headers["location"].endswith("/Groups/" + quote(name, safe=""))
    assert group["members"][0]["display"] == "Pay Roll"

    got = await client.get("/Groups/" + quote(name, safe=""))
    assert got.status_code == 200
    twice = await client.get("/Groups/" + quote(quote(name, safe=""), safe=""))  # Entra's double encoding
    assert twice.status_code == 200 and twice.json()["id"] == name

    renamed = await client.patch(
        "/Groups/" + quote(name, safe=""),
        json=patch_body({"op": "replace", "path": "displayName", "value": "Day Shift"}),
    )
    assert renamed.status_code == 400
    assert renamed.json()["scimType"] == "mutability"


async def test_group_member_removal_through_a_procedure(client: httpx.AsyncClient) -> None:
    member = (await client.post("/Users", json=worker("w.three"))).json()
    body = {"schemas": [CORE_GROUP], "displayName": "Removals", "members": [{"value": member["id"]}]}
    assert (await client.post("/Groups", json=body)).status_code == 201
    removed = await client.patch(
        "/Groups/Removals", json=patch_body({"op": "remove", "path": f'members[value eq "{member["id"]}"]'})
    )
    assert removed.status_code == 204, removed.text
    assert not (await client.get("/Groups/Removals")).json().get("members")


async def test_patching_an_import_only_attribute_is_400_mutability(client: httpx.AsyncClient) -> None:
    user = (await client.post("/Users", json=worker("w.four"))).json()
    response = await client.patch(
        f"/Users/{user['id']}", json=patch_body({"op": "replace", "path": "displayName", "value": "X"})
    )
    assert response.status_code == 400
    assert response.json()["scimType"] == "mutability"
