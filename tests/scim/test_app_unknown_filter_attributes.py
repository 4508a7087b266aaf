"""A filter naming an attribute the resource type does not have (``nosuch eq "x"``, with its
core URN, a sub-attribute the attribute lacks: ``name.nosuch``, ``emails[nosuch eq "x"]``) is
400 ``invalidFilter``: RFC 7644 §3.12, "the specified attribute and filter comparison
combination is not supported". It answered 200 with an empty list, which a provisioning client
reads as "no such user" and creates one; a misspelled attribute inside an ``or`` answered the
other branch's matches as if it were the whole filter. The same answer whichever path the
filter takes (the cached read's fast path, the small cache, the database), for Users and Groups,
in ``?filter=`` and in a SearchRequest.

An attribute the schemas define that the mapping does not map (``userType``,
``name.honorificPrefix`` in the HR example) is supported and has no value: it matches nothing, and
``not (userType pr)`` matches everyone (RFC 7644 §3.4.2.2, a filter on an attribute without a
value). ``POST /.search`` over every type leaves each type to its own attributes: one another
type lacks matches nothing there."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mapper.scim.routes import search
from tests.support.databases import HrDatabase
from tests.support.scim import CORE_USER, scim_client

pytestmark = pytest.mark.anyio

UNKNOWN = [
    ("/Users", 'nosuch eq "x"', "'nosuch' is not an attribute of this resource type"),
    ("/Users", 'NoSuch eq "ada.lovelace"', "'NoSuch' is not an attribute of this resource type"),
    ("/Users", f'{CORE_USER}:nosuch eq "x"', f"'{CORE_USER}:nosuch' is not an attribute"),
    ("/Users", 'name.nosuch eq "x"', "'name' has no sub-attribute 'nosuch'"),
    ("/Users", 'emails[nosuch eq "x"]', "'emails' has no sub-attribute 'nosuch'"),
    ("/Users", 'userName eq "ada.lovelace" or nosuch pr', "'nosuch' is not an attribute"),
    ("/Users", 'userName eq "ada.lovelace" and nosuch pr', "'nosuch' is not an attribute"),
    ("/Users", "not (nosuch pr)", "'nosuch' is not an attribute"),
    ("/Groups", 'nosuch eq "x"', "'nosuch' is not an attribute"),
    ("/Groups", 'userName eq "x"', "'userName' is not an attribute"),  # a User's, not a Group's
    ("/Groups", 'members[nosuch eq "1"]', "'members' has no sub-attribute 'nosuch'"),
    ("/Groups", 'members.nosuch eq "1"', "'members' has no sub-attribute 'nosuch'"),
]


@pytest.fixture(params=["cache", "database"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Which answers a filter no index narrows: the small cache, or (``search.SMALL`` at 0, as for
    a cache of thousands of users) the database."""
    if request.param == "database":
        monkeypatch.setattr(search, "SMALL", 0)
    return str(request.param)


@pytest.mark.parametrize("cached_reads", [True, False], ids=["fast-path", "handlers"])
@pytest.mark.parametrize(("endpoint", "text", "detail"), UNKNOWN, ids=[f"{e} {t}" for e, t, _ in UNKNOWN])
async def test_an_unknown_attribute_is_invalid_filter(
    hr_sqlite: HrDatabase, path: str, cached_reads: bool, endpoint: str, text: str, detail: str
) -> None:
    async with scim_client(hr_sqlite, cached_reads=cached_reads) as client:
        for response in (
            await client.get(endpoint, params={"filter": text}),
            await client.get(endpoint, params={"filter": text}),  # the parsed shape is remembered
            await client.post(f"{endpoint}/.search", json={"filter": text}),
        ):
            assert response.status_code == 400, response.text
            body = response.json()
            assert body["scimType"] == "invalidFilter"
            assert detail in body["detail"]


async def ids(client: httpx.AsyncClient, endpoint: str, text: str) -> list[str]:
    response = await client.get(endpoint, params={"filter": text, "count": 1000})
    assert response.status_code == 200, response.text
    return sorted(r["id"] for r in response.json()["Resources"])


async def test_a_defined_attribute_the_mapping_leaves_out_has_no_value(
    hr_database: HrDatabase, path: str
) -> None:
    async with scim_client(hr_database) as client:
        everyone = await ids(client, "/Users", "id pr")
        assert everyone and await ids(client, "/Users", 'userType eq "Employee"') == []
        assert await ids(client, "/Users", "userType pr") == []
        assert await ids(client, "/Users", "not (userType pr)") == everyone
        assert await ids(client, "/Users", 'name.honorificPrefix eq "Dr"') == []


async def test_root_search_leaves_each_type_to_its_attributes(hr_sqlite: HrDatabase) -> None:
    async with scim_client(hr_sqlite) as client:
        response = await client.post("/.search", json={"filter": 'userName eq "ada.lovelace"'})
        assert response.status_code == 200, response.text
        found: Any = response.json()
        assert [r["userName"] for r in found["Resources"]] == ["ada.lovelace"]
