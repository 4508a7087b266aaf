"""Lists and searches over HTTP: filters (indexed and scanned), pagination, sorting, attributes,
and POST .search, per type and at the root."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.support.scim import BASE, ENTERPRISE, LIST, new_user, scim_client

pytestmark = pytest.mark.anyio

SEARCH = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"


async def ids(client: httpx.AsyncClient, path: str = "/Users", **params: Any) -> list[str]:
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    return [r["id"] for r in response.json()["Resources"]]


async def total(client: httpx.AsyncClient, filter: str, path: str = "/Users") -> int:
    response = await client.get(path, params={"filter": filter})
    assert response.status_code == 200, response.text
    return int(response.json()["totalResults"])


async def test_list_response_shape(client: httpx.AsyncClient) -> None:
    body = (await client.get("/Users")).json()
    assert body["schemas"] == [LIST]
    assert body["totalResults"] == 20
    assert body["startIndex"] == 1
    assert body["itemsPerPage"] == 20 == len(body["Resources"])
    assert body["Resources"][0]["meta"]["location"].startswith("http://scim.test/scim/v2/Users/")


async def test_entra_probe_with_a_random_guid_is_an_empty_list(any_client: httpx.AsyncClient) -> None:
    response = await any_client.get("/Users", params={"filter": f'userName eq "{uuid.uuid4()}"'})
    assert response.status_code == 200
    body = response.json()
    assert body == {"schemas": [LIST], "totalResults": 0, "startIndex": 1, "itemsPerPage": 0, "Resources": []}


async def test_query_attribute_equality_is_case_insensitive(any_client: httpx.AsyncClient) -> None:
    assert await ids(any_client, filter='userName eq "GRACE.HOPPER"') == ["2"]
    assert await ids(any_client, filter='USERNAME EQ "grace.hopper"') == ["2"]
    assert await ids(any_client, "/Groups", filter='displayName eq "engineering"') == ["2"]


async def test_query_attribute_equality_reads_through_to_the_database(hr_sqlite: Any) -> None:
    async with scim_client(hr_sqlite) as client:
        hr_sqlite.execute("INSERT INTO employees (login, given_name) VALUES ('behind.the.back', 'B')")
        found = await ids(client, filter='userName eq "behind.the.back"')
        assert len(found) == 1
        assert (await client.get(f"/Users/{found[0]}")).json()["name"]["givenName"] == "B"


async def test_filters_that_scan(client: httpx.AsyncClient) -> None:
    assert await total(client, 'title eq "Senior Engineer"') == 2
    assert await total(client, 'name.familyName sw "L"') == 4  # Lovelace, Liskov, Lamport, Lamarr
    assert await total(client, "active eq false") == 2
    assert await total(client, 'emails[type eq "work" and value co "turing"]') == 1
    assert await total(client, 'emails.value ew "@example.com"') == 20
    assert await total(client, "nickName pr") == 7
    assert await total(client, 'not (department eq "Engineering")') == 10
    assert (
        await total(
            client, 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "Finance"'
        )
        == 4
    )
    assert await total(client, 'title eq "Research Scientist" or title eq "Accountant"') == 3
    assert await total(client, 'externalId eq "hr-1003"') == 1
    assert await total(client, 'id eq "3"') == 1
    assert await total(client, 'meta.lastModified gt "2000-01-01T00:00:00Z"') == 20


async def test_filters_clients_send_unquoted_and_capitalised(client: httpx.AsyncClient) -> None:
    assert await total(client, "userName sw ada") == 1
    assert await total(client, "name.FamilyName eq Hopper and (emails.Value co example.com)") == 1
    assert await total(client, 'DisplayName eq "Ada Lovelace"') == 1


#: Filters in odd case, and as the schemas spell them: names are canonical at the edge, so each
#: pair answers the same resources (RFC 7643 §2.1); the values keep their own case rules.
ANY_CASE = [
    ('USERNAME eq "grace.hopper"', 'userName eq "grace.hopper"'),
    ('EMAILS[TYPE eq "work" and VALUE co "turing"]', 'emails[type eq "work" and value co "turing"]'),
    ('Emails.Value ew "@example.com"', 'emails.value ew "@example.com"'),
    ('NAME.FAMILYNAME sw "L" and not (NickName pr)', 'name.familyName sw "L" and not (nickName pr)'),
    (f'{ENTERPRISE.upper()}:DEPARTMENT eq "Finance"', f'{ENTERPRISE}:department eq "Finance"'),
    (
        'Department eq "Research" or TITLE eq "Accountant"',
        'department eq "Research" or title eq "Accountant"',
    ),
    ('META.LASTMODIFIED gt "2000-01-01T00:00:00Z"', 'meta.lastModified gt "2000-01-01T00:00:00Z"'),
    ('ID eq "3" or EXTERNALID eq "hr-1004"', 'id eq "3" or externalId eq "hr-1004"'),
    ('ExternalId eq "HR-1003"', 'externalId eq "HR-1003"'),  # caseExact: a value, not a name
]


@pytest.mark.parametrize(("mixed", "canonical"), ANY_CASE, ids=[m for m, _ in ANY_CASE])
async def test_names_in_any_case_answer_as_the_schemas_spell_them(
    any_client: httpx.AsyncClient, mixed: str, canonical: str
) -> None:
    expected = await ids(any_client, filter=canonical)
    assert expected or "HR-" in canonical
    assert await ids(any_client, filter=mixed) == expected
    posted = await any_client.post("/Users/.search", json={"filter": mixed, "sortBy": "NAME.GIVENNAME"})
    assert sorted(r["id"] for r in posted.json()["Resources"]) == sorted(expected)
    at_root = await any_client.post("/.search", json={"filter": mixed})  # canonical per type
    every_type = await any_client.post("/.search", json={"filter": canonical})
    assert at_root.json() == every_type.json() and at_root.json()["totalResults"] >= len(expected)


async def test_unknown_names_in_any_case_are_invalid_filter(client: httpx.AsyncClient) -> None:
    for text in ('NoSuch eq "x"', "Name.NoSub pr", "Emails[NoSub pr]", 'title pr or NoSuch eq "x"'):
        response = await client.get("/Users", params={"filter": text})
        assert (response.status_code, response.json()["scimType"]) == (400, "invalidFilter"), text
    assert await ids(client, filter='UserType eq "x"') == []  # defined, not mapped: no value
    response = await client.get("/Users", params={"filter": 'NoSuch eq "x" and'})
    assert (response.status_code, response.json()["scimType"]) == (400, "invalidFilter")
    response = await client.get("/Users", params={"filter": "ACTIVE gt true"})
    assert (response.status_code, response.json()["scimType"]) == (400, "invalidFilter")


async def test_sort_and_attributes_in_any_case(client: httpx.AsyncClient) -> None:
    def order(response: httpx.Response) -> list[str]:
        return [r["id"] for r in response.json()["Resources"]]

    for canonical, mixed in [("name.familyName", "NAME.FAMILYNAME"), ("employeeNumber", "EMPLOYEENUMBER")]:
        expected = await client.get("/Users", params={"sortBy": canonical, "sortOrder": "descending"})
        found = await client.get("/Users", params={"sortBy": mixed, "sortOrder": "Descending"})
        assert order(found) == order(expected) and len(order(found)) == 20
    found = await client.get(
        "/Users",
        params={
            "filter": 'ID eq "2"',
            "attributes": f"NAME.GIVENNAME,{ENTERPRISE.lower()}:DEPARTMENT,Emails.TYPE",
        },
    )
    (resource,) = found.json()["Resources"]
    assert set(resource) == {"schemas", "id", "meta", "name", ENTERPRISE, "emails"}
    assert resource["name"] == {"givenName": "Grace"} and list(resource[ENTERPRISE]) == ["department"]
    assert all(list(e) == ["type"] for e in resource["emails"])
    whole = (await client.get("/Users/2", params={"attributes": ENTERPRISE.upper()})).json()
    assert set(whole) == {"schemas", "id", "meta", ENTERPRISE}
    dropped = (
        await client.get("/Users/2", params={"excludedAttributes": "EMAILS,Name.FamilyName,META"})
    ).json()
    assert "emails" not in dropped and dropped["name"] == {"givenName": "Grace"}
    assert dropped["meta"] == {"resourceType": "User", "location": f"{BASE}/Users/2"}


async def test_plus_in_the_query_string_is_a_space(client: httpx.AsyncClient) -> None:
    response = await client.get("/Users/?filter=displayName+eq+%22Grace+Hopper%22")
    assert [r["id"] for r in response.json()["Resources"]] == ["2"]


async def test_group_filter_on_members(client: httpx.AsyncClient) -> None:
    assert await total(client, 'members[value eq "2"]', "/Groups") >= 1
    assert await total(client, 'members eq "2"', "/Groups") >= 1


async def test_invalid_filter_is_400(client: httpx.AsyncClient) -> None:
    response = await client.get("/Users", params={"filter": "userName eq"})
    assert response.status_code == 400
    assert response.json()["scimType"] == "invalidFilter"
    boolean = await client.get("/Users", params={"filter": "active gt true"})
    assert boolean.status_code == 400


async def test_pagination(client: httpx.AsyncClient) -> None:
    first = (await client.get("/Users", params={"startIndex": 1, "count": 5})).json()
    assert first["totalResults"] == 20 and first["itemsPerPage"] == 5 and first["startIndex"] == 1
    second = (await client.get("/Users", params={"startIndex": 6, "count": 5})).json()
    assert second["startIndex"] == 6
    assert not {r["id"] for r in first["Resources"]} & {r["id"] for r in second["Resources"]}
    beyond = (await client.get("/Users", params={"startIndex": 100})).json()
    assert beyond["totalResults"] == 20 and beyond["Resources"] == []
    zero = (await client.get("/Users", params={"count": 0})).json()
    assert zero["totalResults"] == 20 and zero["itemsPerPage"] == 0 and "Resources" not in zero
    lenient = (await client.get("/Users", params={"startIndex": 0, "count": -3})).json()
    assert lenient["startIndex"] == 1 and lenient["itemsPerPage"] == 0
    filtered = (
        await client.get("/Users", params={"filter": "active eq true", "count": 3, "startIndex": 17})
    ).json()
    assert filtered["totalResults"] == 18 and filtered["itemsPerPage"] == 2


async def test_bad_pagination_value_is_400(client: httpx.AsyncClient) -> None:
    response = await client.get("/Users", params={"count": "ten"})
    assert response.status_code == 400
    assert response.json()["scimType"] == "invalidValue"


async def test_max_results_caps_a_page(hr_sqlite: Any) -> None:
    async with scim_client(hr_sqlite, max_results=7) as client:
        body = (await client.get("/Users", params={"count": 100})).json()
        assert body["totalResults"] == 20 and body["itemsPerPage"] == 7
        spc = (await client.get("/ServiceProviderConfig")).json()
        assert spc["filter"]["maxResults"] == 7


async def test_sorting(client: httpx.AsyncClient) -> None:
    ascending = (await client.get("/Users", params={"sortBy": "name.familyName"})).json()["Resources"]
    names = [r["name"]["familyName"] for r in ascending]
    assert names == sorted(names, key=str.casefold)
    descending = (await client.get("/Users", params={"sortBy": "userName", "sortOrder": "descending"})).json()
    users = [r["userName"] for r in descending["Resources"]]
    assert users == sorted(users, reverse=True)
    by_nick = (await client.get("/Users", params={"sortBy": "nickName"})).json()["Resources"]
    assert "nickName" not in by_nick[-1]  # missing values last
    assert (
        await client.get("/Users", params={"sortBy": "userName", "sortOrder": "sideways"})
    ).status_code == 400


MALFORMED_SORTS = ["[", "a..b", '"userName"', "user name", 'emails[type eq "work"].value', "name.", ":"]


@pytest.mark.parametrize("sort_by", MALFORMED_SORTS)
async def test_a_malformed_sort_by_is_invalid_path_not_an_unsorted_page(
    client: httpx.AsyncClient, sort_by: str
) -> None:
    """A sortBy that is not an attribute path (or carries a value filter) used to be taken apart
    by hand and answered 200 with the page unsorted; the client never learnt its sort was lost."""
    got = await client.get("/Users", params={"sortBy": sort_by})
    searched = await client.post("/Users/.search", json={"schemas": [SEARCH], "sortBy": sort_by})
    for response in (got, searched):
        assert response.status_code == 400, response.text
        assert response.json()["scimType"] == "invalidPath"


async def test_attributes_and_excluded_attributes(client: httpx.AsyncClient) -> None:
    body = (await client.get("/Users", params={"attributes": "userName,emails"})).json()
    for resource in body["Resources"]:
        assert set(resource) <= {"schemas", "id", "userName", "emails", "meta"}
    excluded = (await client.get("/Users", params={"excludedAttributes": "emails,name"})).json()
    assert all("emails" not in r and "name" not in r and "userName" in r for r in excluded["Resources"])
    value_filter = await client.get("/Users", params={"attributes": 'emails[type eq "work"]'})
    assert value_filter.status_code == 200
    assert "ada.lovelace@example.com" in value_filter.text


async def test_search_per_type(client: httpx.AsyncClient) -> None:
    body = {
        "schemas": [SEARCH],
        "filter": 'department eq "Research"',
        "attributes": ["userName"],
        "sortBy": "userName",
        "startIndex": 1,
        "count": 2,
    }
    response = await client.post("/Users/.search", json=body)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["totalResults"] == 5 and result["itemsPerPage"] == 2
    assert [r["userName"] for r in result["Resources"]] == ["alan.turing", "donald.knuth"]
    assert (await client.post("/users/.SEARCH", json=body)).status_code == 200


async def test_search_at_the_root_spans_types(client: httpx.AsyncClient) -> None:
    response = await client.post("/.search", json={"schemas": [SEARCH], "filter": 'externalId sw "grp-"'})
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["totalResults"] == 4
    assert {r["meta"]["resourceType"] for r in result["Resources"]} == {"Group"}
    everything = (await client.post("/.search", json={"schemas": [SEARCH]})).json()
    assert everything["totalResults"] == 24


async def test_new_user_is_found_by_filter_at_once(client: httpx.AsyncClient) -> None:
    created = (await client.post("/Users", json=new_user("fresh.one"))).json()
    assert await ids(client, filter='userName eq "Fresh.One"') == [created["id"]]
    assert created["id"] in await ids(client, filter='name.givenName eq "Test"')


async def test_entra_group_queries(any_client: httpx.AsyncClient) -> None:
    found = await any_client.get(
        "/Groups", params={"filter": 'displayName eq "Engineering"', "excludedAttributes": "members"}
    )
    body = found.json()
    assert body["totalResults"] == 1 and "members" not in body["Resources"][0]
    member = await any_client.get(
        "/Groups", params={"filter": 'id eq "2" and members[value eq "5"]', "attributes": "id"}
    )
    assert [r["id"] for r in member.json()["Resources"]] == ["2"]
    other = await any_client.get("/Groups", params={"filter": 'id eq "2" and members[value eq "1"]'})
    assert other.json()["totalResults"] == 0


async def test_a_filter_too_deep_to_evaluate_is_400(client: httpx.AsyncClient) -> None:
    chain = " and ".join(f'userName ne "u{i}"' for i in range(3000))
    response = await client.post("/Users/.search", json={"filter": chain})
    assert response.status_code == 400, response.text
    assert response.json()["scimType"] == "invalidFilter"
    nested = "(" * 3000 + 'title eq "x"' + ")" * 3000
    assert (await client.post("/Users/.search", json={"filter": nested})).status_code in (200, 400)


async def test_malformed_attributes_parameter_is_400(client: httpx.AsyncClient) -> None:
    response = await client.get("/Users", params={"attributes": "emails[type eq"})
    assert response.status_code == 400
    assert response.json()["scimType"] == "invalidPath"
    assert (await client.get("/Users/1", params={"excludedAttributes": "name..x"})).status_code == 400
