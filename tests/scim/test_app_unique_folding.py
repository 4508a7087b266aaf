"""Two userNames that Python's ``str.lower`` folds alike but a database's ``LOWER`` (and its unique
index) tells apart: SQLite folds ASCII letters only ('Émile', 'émile'); PostgreSQL lowers each
letter on its own, without Python's final sigma ('ΟΔΟΣ' is 'οδοσ' there, 'οδος' in Python).
Whatever the gateway answers the second create (the database may take it, or the gateway may
refuse it), every user the database holds stays served: a list, a filter and a read by id agree
with the database. The cache must not take the second user's arrival as news that the first no
longer holds its name and drop it (a delta would not bring it back: it did not change), and a
filter on userName must find each of them: the cache's index folds as the database's LOWER does."""

from __future__ import annotations

import pytest

from tests.support.databases import HrDatabase
from tests.support.scim import new_user, scim_client

pytestmark = pytest.mark.anyio

PAIRS = [("Émile", "émile"), ("ΟΔΟΣ", "οδος"), ("\u212aelvin", "kelvin")]


@pytest.mark.parametrize(("first", "second"), PAIRS)
async def test_a_name_the_database_tells_apart_leaves_the_other_user_served(
    hr_database: HrDatabase, first: str, second: str
) -> None:
    assert first.lower() == second.lower()  # one key of the cache's index
    async with scim_client(hr_database) as client:
        created = await client.post("/Users", json=new_user(first))
        assert created.status_code == 201, created.text
        kept = created.json()["id"]
        other = await client.post("/Users", json=new_user(second))
        assert other.status_code in (201, 409), other.text
        stored = {str(row[0]) for row in hr_database.execute("SELECT employee_id FROM employees")}
        listed = (await client.get("/Users", params={"count": 1000, "attributes": "userName"})).json()
        assert {r["id"] for r in listed["Resources"]} == stored
        assert listed["totalResults"] == len(stored)
        found = await client.get("/Users", params={"filter": "title pr or not (title pr)", "count": 1000})
        assert kept in {r["id"] for r in found.json()["Resources"]}
        assert (await client.get(f"/Users/{kept}")).json()["userName"] == first


@pytest.mark.parametrize(("first", "second"), PAIRS)
async def test_a_filter_on_the_query_attribute_answers_what_the_database_answers(
    hr_database: HrDatabase, first: str, second: str
) -> None:
    # The cache's index must fold the way the database's LOWER does: with Python's fold, SQLite's
    # 'Émile' and 'émile' (both stored) shared one key, so one of them was never found.
    async with scim_client(hr_database) as client:
        for name in (first, second):
            answer = await client.post("/Users", json=new_user(name))
            assert answer.status_code in (201, 409), answer.text
        for name in (first, second, first.upper(), second.upper()):
            held = hr_database.execute(
                "SELECT employee_id FROM employees WHERE LOWER(login) = LOWER(:name)", {"name": name}
            )
            found = await client.get("/Users", params={"filter": f'userName eq "{name}"'})
            assert found.status_code == 200, found.text
            assert {r["id"] for r in found.json()["Resources"]} == {str(row[0]) for row in held}, name
