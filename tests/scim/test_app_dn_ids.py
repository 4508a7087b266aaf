"""``id dn``: the ECMA example serves the ECMA Connector Host's ids (``CN=1,OBJECT=USER``), so the
ids Entra ID already holds keep working: in URLs (encoded once or, as Entra has been seen to,
twice), in filters, as group members and managers, on writes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.support.databases import HR, HrDatabase, ecma_database
from tests.support.scim import CORE_GROUP, ENTERPRISE, ecma_client, new_user, patch_body, scim_client

pytestmark = pytest.mark.anyio

ADELE = "CN=1,OBJECT=USER"  # adele.vance; alex.wilber (2) and megan.bowen (3) report to her
OPERATIONS = "CN=1,OBJECT=GROUP"  # members adele (1) and alex (2)


def once(id_: str) -> str:
    return quote(id_, safe="")


def twice(id_: str) -> str:
    return quote(quote(id_, safe=""), safe="")


@pytest.fixture
def ecma_sqlite(tmp_path: Path) -> HrDatabase:
    return ecma_database(tmp_path)


@pytest.fixture
async def client(ecma_sqlite: HrDatabase) -> AsyncIterator[httpx.AsyncClient]:
    async with ecma_client(ecma_sqlite) as c:
        yield c


def members(resource: dict[str, Any]) -> set[str]:
    return {m["value"] for m in resource.get("members", [])}


def member_rows(db: HrDatabase, group: int) -> set[int]:
    return {r[0] for r in db.execute("SELECT EmployeeID FROM GroupMembers WHERE GroupID = :g", {"g": group})}


async def test_ids_are_the_ecma_hosts_dns(client: httpx.AsyncClient) -> None:
    users = (await client.get("/Users")).json()["Resources"]
    assert [u["id"] for u in users] == [f"CN={n},OBJECT=USER" for n in range(1, 6)]
    adele = users[0]
    assert adele["meta"]["location"] == f"http://scim.test/scim/v2/Users/{once(ADELE)}"
    assert once(ADELE) == "CN%3D1%2COBJECT%3DUSER"
    groups = (await client.get("/Groups")).json()["Resources"]
    assert [g["id"] for g in groups] == ["CN=1,OBJECT=GROUP", "CN=2,OBJECT=GROUP"]


@pytest.mark.parametrize(
    "path", [once(ADELE), twice(ADELE), ADELE, once("cn=1,object=user"), r"CN=\31,OBJECT=USER"]
)
async def test_get_by_dn_id_encoded_once_or_twice(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(f"/Users/{path}")
    assert response.status_code == 200, response.text
    assert response.json()["id"] == ADELE
    assert response.json()["userName"] == "adele.vance"


@pytest.mark.parametrize(
    "path",
    [
        "1",  # the bare anchor is not an id any more
        once("CN=1"),
        once("CN=1,OBJECT=GROUP"),  # a group's DN
        once("CN=1, OBJECT=USER"),
        once("CN=1,OBJECT=USER,DC=x"),
        once("=="),
        once("CN=99,OBJECT=USER"),  # well formed, no such user
        twice("CN=x\\"),
    ],
)
async def test_ids_that_name_no_user_are_404(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(f"/Users/{path}")
    assert response.status_code == 404, response.text
    assert response.json()["status"] == "404"


async def test_filter_by_dn_id(client: httpx.AsyncClient) -> None:
    found = (await client.get("/Users", params={"filter": f'id eq "{ADELE}"'})).json()
    assert [u["id"] for u in found["Resources"]] == [ADELE]
    both = f'id eq "{ADELE}" and userName eq "adele.vance"'
    assert (await client.get("/Users", params={"filter": both})).json()["totalResults"] == 1
    assert (await client.get("/Users", params={"filter": 'id eq "1"'})).json()["totalResults"] == 0
    member = 'members[value eq "CN=2,OBJECT=USER"]'
    groups = (await client.get("/Groups", params={"filter": member})).json()["Resources"]
    assert [g["id"] for g in groups] == [OPERATIONS]


async def test_references_are_dns(client: httpx.AsyncClient) -> None:
    alex = (await client.get(f"/Users/{once('CN=2,OBJECT=USER')}")).json()
    assert alex[ENTERPRISE]["manager"]["value"] == ADELE
    group = (await client.get(f"/Groups/{once(OPERATIONS)}")).json()
    assert members(group) == {ADELE, "CN=2,OBJECT=USER"}
    adele = next(m for m in group["members"] if m["value"] == ADELE)
    assert adele["$ref"] == f"http://scim.test/scim/v2/Users/{once(ADELE)}"
    assert adele["display"] == "Adele Vance" and adele["type"] == "User"


async def test_create_patch_and_delete_by_dn_id(client: httpx.AsyncClient, ecma_sqlite: HrDatabase) -> None:
    body = new_user("kim.akers", **{ENTERPRISE: {"manager": {"value": ADELE}}})
    created = await client.post("/Users", json=body)
    assert created.status_code == 201, created.text
    kim = created.json()["id"]
    assert kim == "CN=6,OBJECT=USER"
    assert created.headers["location"] == f"http://scim.test/scim/v2/Users/{once(kim)}"
    assert created.json()[ENTERPRISE]["manager"]["value"] == ADELE
    assert ecma_sqlite.execute("SELECT ManagerID FROM Employees WHERE EmployeeID = 6") == [(1,)]

    title = patch_body({"op": "replace", "path": "title", "value": "Planner, Senior"})
    patched = await client.patch(f"/Users/{twice(kim)}", json=title)
    assert patched.status_code == 200, patched.text
    assert patched.json()["id"] == kim and patched.json()["title"] == "Planner, Senior"
    manager = patch_body({"op": "replace", "path": f"{ENTERPRISE}:manager", "value": "CN=3,OBJECT=USER"})
    patched = await client.patch(f"/Users/{once(kim)}", json=manager)
    assert patched.status_code == 200, patched.text
    assert patched.json()[ENTERPRISE]["manager"]["value"] == "CN=3,OBJECT=USER"

    add = patch_body({"op": "add", "path": "members", "value": [{"value": kim}]})
    group = await client.patch(f"/Groups/{twice(OPERATIONS)}", json=add)
    assert group.status_code == 204, group.text
    group = await client.get(f"/Groups/{once(OPERATIONS)}")
    assert members(group.json()) == {ADELE, "CN=2,OBJECT=USER", kim}
    assert member_rows(ecma_sqlite, 1) == {1, 2, 6}

    remove = patch_body({"op": "remove", "path": 'members[value eq "CN=2,OBJECT=USER"]'})
    group = await client.patch(f"/Groups/{once(OPERATIONS)}", json=remove)
    assert group.status_code == 204, group.text
    group = await client.get(f"/Groups/{once(OPERATIONS)}")
    assert members(group.json()) == {ADELE, kim}
    assert member_rows(ecma_sqlite, 1) == {1, 6}

    # ids naming no user (a DN of no row, a bare anchor) are left out: ``on missing drop``
    unknown = patch_body({"op": "add", "path": "members", "value": [{"value": "CN=99,OBJECT=USER"}]})
    assert (await client.patch(f"/Groups/{once(OPERATIONS)}", json=unknown)).status_code == 204
    bare = patch_body({"op": "add", "path": "members", "value": [{"value": "3"}]})
    assert (await client.patch(f"/Groups/{once(OPERATIONS)}", json=bare)).status_code == 204
    assert member_rows(ecma_sqlite, 1) == {1, 6}

    deleted = await client.delete(f"/Users/{twice(kim)}")
    assert deleted.status_code == 204, deleted.text
    assert (await client.get(f"/Users/{once(kim)}")).status_code == 404
    assert members((await client.get(f"/Groups/{once(OPERATIONS)}")).json()) == {ADELE}
    assert member_rows(ecma_sqlite, 1) == {1}


async def test_put_a_group_with_dn_members(client: httpx.AsyncClient, ecma_sqlite: HrDatabase) -> None:
    body = {
        "schemas": [CORE_GROUP],
        "displayName": "Marketing",
        "members": [{"value": "CN=3,OBJECT=USER"}, {"value": "CN=5,OBJECT=USER"}],
    }
    response = await client.put(f"/Groups/{once('CN=2,OBJECT=GROUP')}", json=body)
    assert response.status_code == 200, response.text
    assert members(response.json()) == {"CN=3,OBJECT=USER", "CN=5,OBJECT=USER"}
    assert member_rows(ecma_sqlite, 2) == {3, 5}


async def test_create_a_group_with_members_by_dn(client: httpx.AsyncClient) -> None:
    body = {"schemas": [CORE_GROUP], "displayName": "Sales", "members": [{"value": ADELE}]}
    created = await client.post("/Groups", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["id"] == "CN=3,OBJECT=GROUP"
    assert created.headers["location"].endswith("/Groups/CN%3D3%2COBJECT%3DGROUP")
    assert members(created.json()) == {ADELE}


async def test_every_object_has_its_dn_whatever_its_id(hr_sqlite: HrDatabase) -> None:
    """The HR example keeps anchor ids; its objects' DNs are there for callers all the same."""
    assert (HR / "hr.map").read_text().count("id dn") == 0
    async with scim_client(hr_sqlite) as hr:
        assert (await hr.get("/Users/1")).json()["id"] == "1"
        store = hr.state["gateway"].stores["User"]  # type: ignore[attr-defined]
        record = store.cache.get(1)
        assert store.codec.dn(record) == "CN=1,OBJECT=USER"
        assert (await hr.get(f"/Users/{once('CN=1,OBJECT=USER')}")).status_code == 404


async def test_the_audit_log_names_the_anchor(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("INFO", logger="mapper.audit"):
        title = patch_body({"op": "replace", "path": "title", "value": "COO"})
        assert (await client.patch(f"/Users/{twice(ADELE)}", json=title)).status_code == 200
        assert (await client.post("/Users", json=new_user("kim.akers"))).status_code == 201
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "mapper.audit"]
    assert [(line["method"], line["anchor"]) for line in lines] == [("PATCH", "1"), ("POST", "6")]
