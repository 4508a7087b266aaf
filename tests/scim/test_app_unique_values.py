"""An attribute the mapping marks ``unique`` is checked against the database inside the write's
transaction, like the query attribute, not against the cache: the database is the source of truth,
and the cache lags another application's writes until the next sync. Here externalId is declared
``unique caseExact`` over the HR example, whose ``external_id`` column has no unique constraint, so
the gateway's check is all that keeps it unique.

Before, a unique attribute other than the query attribute was checked only against the cache: a
value another application had just written was accepted a second time, and a value whose holder
was deleted behind the gateway's back cost an extra transaction to confirm."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx
import pytest

from tests.support.databases import HrDatabase
from tests.support.hr import HR_MAP
from tests.support.scim import ERROR, new_user, patch_body, scim_client

pytestmark = pytest.mark.anyio

DECLARED = "externalId                              <-> external_id     caseExact"


@pytest.fixture
async def client(hr_database: HrDatabase, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    text = HR_MAP.read_text(encoding="utf-8")
    assert DECLARED in text
    mapping = tmp_path / "hr.map"
    mapping.write_text(text.replace(DECLARED, f"{DECLARED} unique"), encoding="utf-8")
    async with scim_client(hr_database, mapping=mapping, raise_app_exceptions=False) as client:
        client.db = hr_database  # type: ignore[attr-defined]
        yield client


def db(client: httpx.AsyncClient) -> HrDatabase:
    return client.db  # type: ignore[attr-defined, no-any-return]


def holders(client: httpx.AsyncClient, external_id: str) -> int:
    rows = db(client).execute("SELECT COUNT(*) FROM employees WHERE external_id = :e", {"e": external_id})
    return int(rows[0][0])


def in_use(response: httpx.Response) -> str:
    assert response.status_code == 409, response.text
    body = response.json()
    assert body["schemas"] == [ERROR] and body["scimType"] == "uniqueness", body
    return str(body["detail"])


async def test_a_value_another_application_just_wrote_is_refused_before_any_sync(
    client: httpx.AsyncClient,
) -> None:
    db(client).execute("INSERT INTO employees (login, external_id) VALUES ('side.door', 'HR-1')")
    refused = await client.post("/Users", json=new_user("newcomer", externalId="HR-1"))
    assert in_use(refused).startswith("externalId")
    assert holders(client, "HR-1") == 1
    assert db(client).execute("SELECT COUNT(*) FROM employees WHERE login = 'newcomer'") == [(0,)]
    taken = patch_body({"op": "replace", "path": "externalId", "value": "HR-1"})
    assert in_use(await client.patch("/Users/3", json=taken)).startswith("externalId")
    assert holders(client, "HR-1") == 1
    assert (await client.get("/Users/3")).json().get("externalId") != "HR-1"


async def test_the_databases_equality_decides_and_an_object_keeps_its_own_value(
    client: httpx.AsyncClient,
) -> None:
    """caseExact: "hr-2" is another value than "HR-2" where the column compares exactly (SQLite,
    PostgreSQL); MariaDB's default collation compares without case, so there the database holds
    them equal and the second is refused, as a unique index on the column would refuse it."""
    created = await client.post("/Users", json=new_user("first", externalId="HR-2"))
    assert created.status_code == 201, created.text
    other_case = await client.post("/Users", json=new_user("second", externalId="hr-2"))
    if db(client).dialect == "mysql":
        assert in_use(other_case).startswith("externalId")
        other_case = await client.post("/Users", json=new_user("second", externalId="HR-2b"))
    assert other_case.status_code == 201, other_case.text
    same = patch_body({"op": "replace", "path": "externalId", "value": "HR-2"})
    own = await client.patch(f"/Users/{created.json()['id']}", json=same)
    assert own.status_code == 200, own.text
    moved = await client.patch(f"/Users/{other_case.json()['id']}", json=same)
    assert in_use(moved).startswith("externalId")
    assert holders(client, "HR-2") == 1


async def test_a_value_whose_holder_was_deleted_behind_the_gateways_back_is_free(
    client: httpx.AsyncClient,
) -> None:
    created = await client.post("/Users", json=new_user("leaver", externalId="HR-3"))
    assert created.status_code == 201, created.text
    db(client).execute("DELETE FROM employees WHERE external_id = 'HR-3'")  # still cached
    again = await client.post("/Users", json=new_user("joiner", externalId="HR-3"))
    assert again.status_code == 201, again.text
    assert holders(client, "HR-3") == 1


async def test_concurrent_writes_of_one_value_store_it_once(client: httpx.AsyncClient) -> None:
    statuses: list[int] = []

    async def create(n: int) -> None:
        response = await client.post("/Users", json=new_user(f"racer{n}", externalId="HR-4"))
        statuses.append(response.status_code)

    async with anyio.create_task_group() as tg:
        for n in range(6):
            tg.start_soon(create, n)
    assert sorted(statuses) == [201] + [409] * 5
    assert holders(client, "HR-4") == 1
