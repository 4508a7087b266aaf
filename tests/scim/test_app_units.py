"""Pure pieces of the front end, without a database: path normalisation, the fast filter path,
query parameters, sorting and paging."""

from __future__ import annotations

import pytest

from mapper.scim.attributes import Resolver
from mapper.scim.errors import ScimError
from mapper.scim.filter import parse_filter
from mapper.scim.filtershape import parse
from mapper.scim.routes.lookup import decoded_again
from mapper.scim.routes.normalise import PathNormaliser
from mapper.scim.routes.search import page, query, sort
from mapper.scim.routes.urls import location

NORMALISER = PathNormaliser(
    "/scim/v2",
    ["Users", "Groups", "ServiceProviderConfig", "Schemas", ".search"],
    {"serviceConfiguration": "ServiceProviderConfig"},
)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/scim/v2/Users/5", "/scim/v2/Users/5"),
        ("/scim/v2/users", "/scim/v2/Users"),
        ("/SCIM/V2/users/", "/scim/v2/Users"),
        ("/scim/v2/Users/", "/scim/v2/Users"),
        ("/scim/v2/Users//", "/scim/v2/Users"),
        ("/scim/v2/groups/7/", "/scim/v2/Groups/7"),
        ("/scim/v2/Users/.SEARCH", "/scim/v2/Users/.search"),
        ("/scim/v2/.Search", "/scim/v2/.search"),
        ("/scim/v2/serviceconfiguration", "/scim/v2/ServiceProviderConfig"),
        (
            "/scim/v2/schemas/urn:ietf:params:scim:schemas:core:2.0:User",
            "/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User",
        ),
        ("/scim/v2/Users/AbC", "/scim/v2/Users/AbC"),  # ids keep their case
        ("/healthz", "/healthz"),
        ("/scim/v2", "/scim/v2"),
        ("/scim/v2x/Users", "/scim/v2x/Users"),
        ("/scim/v2/Printers", "/scim/v2/Printers"),
        # the ECMA Connector Host's tenant URL, whatever the connector is called
        ("/ecma2host_HRDB/scim/Users", "/scim/v2/Users"),
        ("/ECMA2Host_hr-db/scim/users/5", "/scim/v2/Users/5"),
        ("/ecma2host_HRDB/scim/ServiceProviderConfig", "/scim/v2/ServiceProviderConfig"),
        ("/ecma2host_HRDB/scimx/Users", "/ecma2host_HRDB/scimx/Users"),
        ("/ecma2host_/scim/Users", "/ecma2host_/scim/Users"),
    ],
)
def test_path_normaliser(path: str, expected: str) -> None:
    assert NORMALISER.normalise(path) == expected


@pytest.mark.parametrize(
    "text",
    [
        'userName eq "ada.lovelace"',
        ' userName  EQ "a b" ',
        'name.givenName eq "Ada"',
        'userName eq ""',
        'userName eq "é"',
        'userName eq "a\\"b"',
        'urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x"',
        'emails[type eq "work"]',
        'userName eq "x" and active eq true',
        "userName sw O",
        'title co "x" or title co "y"',
        'emails[type eq "work" and value co "@x"] or not (title eq "a\\u0041")',
        'userName eq "a" and (title ne "" or displayName sw "q")',
    ],
)
def test_fast_filter_path_builds_what_the_grammar_builds(text: str) -> None:
    assert parse(text) == parse_filter(text)


@pytest.mark.parametrize(
    "text",
    [
        'userName eq "abcdef" xx',
        'userName eq "a\\u0000"',
        'title eq "x" and userName eq "\\q"',
        'a eq "b" c "',
    ],
)
def test_fast_filter_path_refuses_what_the_grammar_refuses_in_its_words(text: str) -> None:
    with pytest.raises(ScimError) as fast:
        parse(text)
    with pytest.raises(ScimError) as grammar:
        parse_filter(text)
    assert fast.value.detail == grammar.value.detail and fast.value.scim_type == "invalidFilter"


def test_invalid_filters_are_400() -> None:
    with pytest.raises(ScimError) as caught:
        parse('userName eq "x')
    assert caught.value.scim_type == "invalidFilter"


def test_query_parameters_in_any_case() -> None:
    q = query(
        {
            "FILTER": 'userName eq "x"',
            "StartIndex": "0",
            "COUNT": "-1",
            "sortby": "userName",
            "SortOrder": "Descending",
        }
    )
    assert q.start_index == 1 and q.count == 0
    assert q.sort_by == "userName" and q.descending
    assert q.filter == parse_filter('userName eq "x"')
    search = query({"attributes": ["userName", "name.givenName,emails"], "excludedAttributes": "meta"})
    assert search.attributes == ("userName", "name.givenName", "emails")
    assert search.excluded == ("meta",)
    for bad in ({"count": "x"}, {"startIndex": True}, {"sortOrder": "up"}, {"attributes": 3}, {"filter": 3}):
        with pytest.raises(ScimError):
            query(bad)


def test_sort_puts_missing_values_last_in_both_orders() -> None:
    resolver = Resolver.for_type("User")
    people = [
        {"id": "1", "userName": "b"},
        {"id": "2"},
        {"id": "3", "userName": "A"},
        {"id": "4", "userName": "c"},
    ]
    assert [p["id"] for p in sort(people, "userName", False, resolver)] == ["3", "1", "4", "2"]
    assert [p["id"] for p in sort(people, "userName", True, resolver)] == ["4", "1", "3", "2"]
    emails = [
        {"id": "1", "emails": [{"value": "z@x"}, {"value": "a@x", "primary": True}]},
        {"id": "2", "emails": [{"value": "m@x"}]},
    ]
    assert [p["id"] for p in sort(emails, "emails", False, resolver)] == ["1", "2"]


def test_page() -> None:
    items = list(range(10))
    assert page(items, 1, None, 4) == [0, 1, 2, 3]
    assert page(items, 9, 5, 100) == [8, 9]
    assert page(items, 11, 5, 100) == []
    assert page(items, 3, 0, 100) == []


def test_ids_and_locations() -> None:
    assert decoded_again("cn%3Dabc") == "cn=abc"
    assert decoded_again("plain") is None
    assert decoded_again("100%") is None
    assert location("https://h/scim/v2", "/Users", "42") == "https://h/scim/v2/Users/42"
    assert location("https://h/scim/v2", "/Groups", "a b/c") == "https://h/scim/v2/Groups/a%20b%2Fc"
