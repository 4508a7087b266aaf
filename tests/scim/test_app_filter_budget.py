"""Filters over HTTP that no cache index answers: the database answers what it can, the cache (in
a worker thread) the rest within --filter-budget, and a scan over the budget is 400 tooMany."""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from mapper.scim.routes.search import SMALL
from mapper.scim.settings import SettingsError, add_serve_arguments, settings_from_args
from tests.support.scim import scim_client

pytestmark = pytest.mark.anyio


#: ``title co "engineer"`` with enough terms that 20 users × its terms pass search.SMALL: the
#: database answers it rather than the small cache
BIG = " or ".join(['title co "engineer"'] + [f'title eq "nobody {i}"' for i in range(SMALL // 20)])


async def test_a_scan_over_the_budget_is_400_too_many(hr_sqlite: Any) -> None:
    async with scim_client(hr_sqlite, filter_budget=1e-9, max_filter_depth=1000) as client:
        # meta.resourceType is not in the database: only the cache can answer it
        response = await client.get("/Users", params={"filter": 'meta.resourceType eq "User"'})
        assert response.status_code == 400, response.text
        body = response.json()
        assert body["scimType"] == "tooMany" and "filter" in body["detail"]
        # what the database answers is not bound by the budget
        response = await client.get("/Users", params={"filter": BIG})
        assert response.status_code == 200 and response.json()["totalResults"] == 10
        # a small cache evaluates a small filter itself, within the budget too
        response = await client.get("/Users", params={"filter": 'title co "engineer"'})
        assert response.status_code == 400 and response.json()["scimType"] == "tooMany"
        # nor what an index answers
        response = await client.get("/Users", params={"filter": 'userName eq "ada.lovelace"'})
        assert response.status_code == 200 and response.json()["totalResults"] == 1


async def test_within_the_budget_the_cache_answers(hr_sqlite: Any) -> None:
    async with scim_client(hr_sqlite) as client:
        response = await client.get(
            "/Users", params={"filter": 'meta.resourceType eq "User" and title co "engineer"', "count": "3"}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["totalResults"] == 10 and body["itemsPerPage"] == 3


@pytest.mark.parametrize("text", ['title co "e"', BIG.replace("engineer", "e")])
async def test_pages_and_sorting_over_http(hr_sqlite: Any, text: str) -> None:
    async with scim_client(hr_sqlite, max_filter_depth=1000) as client:
        params = {"filter": text, "sortBy": "externalId", "sortOrder": "descending"}
        everything = (await client.get("/Users", params=params)).json()
        ids = [r["id"] for r in everything["Resources"]]
        assert ids == sorted(ids, key=lambda i: -int(i))  # externalIds hr-10xx follow the ids
        page = (await client.get("/Users", params={**params, "startIndex": "3", "count": "4"})).json()
        assert page["totalResults"] == everything["totalResults"] and page["startIndex"] == 3
        assert [r["id"] for r in page["Resources"]] == ids[2:6]


async def test_hostile_filter_values_are_values(hr_sqlite: Any) -> None:
    async with scim_client(hr_sqlite) as client:
        for value in ["%", "_", "'; DROP TABLE employees; --", "\\\\", "100%", "!"]:
            response = await client.get("/Users", params={"filter": f'title co "{value}"'})
            assert response.status_code == 200 and response.json()["totalResults"] == 0, value
        response = await client.get("/Users", params={"filter": 'title co "\\u0000"'})
        assert response.status_code == 400 and response.json()["scimType"] == "invalidFilter"
        assert (await client.get("/Users")).json()["totalResults"] == 20


def test_the_budget_flag_and_its_variable() -> None:
    parser = argparse.ArgumentParser()
    add_serve_arguments(parser)
    assert settings_from_args(parser.parse_args(["m.map", "--filter-budget", "0.5"]), {}).filter_budget == 0.5
    from_env = settings_from_args(parser.parse_args(["m.map"]), {"MAPPER_FILTER_BUDGET": "3"})
    assert from_env.filter_budget == 3.0
    assert settings_from_args(parser.parse_args(["m.map"]), {}).filter_budget == 2.0
    with pytest.raises(SettingsError):
        settings_from_args(parser.parse_args(["m.map", "--filter-budget", "0"]), {})


async def test_root_search_pages_across_types(hr_sqlite: Any) -> None:
    """POST /.search: every type counts its matches and lists only its part of the page."""
    async with scim_client(hr_sqlite, max_filter_depth=1000) as client:
        body = {"filter": 'externalId sw "hr" or externalId sw "grp"'}
        everything = (await client.post("/.search", json=body)).json()
        assert everything["totalResults"] == 24  # 20 users, then 4 groups
        ids = [r["id"] for r in everything["Resources"]]
        for start, count in [(1, 5), (18, 5), (21, 10), (24, 1), (25, 3)]:
            page = (await client.post("/.search", json={**body, "startIndex": start, "count": count})).json()
            assert page["totalResults"] == 24
            assert [r["id"] for r in page["Resources"]] == ids[start - 1 : start - 1 + count], (start, count)
        counted = (await client.post("/.search", json={**body, "count": 0})).json()
        assert counted["totalResults"] == 24 and "Resources" not in counted
