"""The attributes and excludedAttributes query parameters."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from mapper.plan import CORE_USER, ENTERPRISE_USER
from mapper.scim.attributes import Resolver
from mapper.scim.errors import ScimError
from mapper.scim.projection import project

USERS = Resolver.for_type("User")
GROUPS = Resolver.for_type("Group")

USER: dict[str, Any] = {
    "schemas": [CORE_USER, ENTERPRISE_USER],
    "id": "12",
    "externalId": "e12",
    "userName": "bjensen",
    "password": "secret",
    "name": {"givenName": "Barbara", "familyName": "Jensen"},
    "emails": [{"type": "work", "value": "w@x", "primary": True}, {"type": "home", "value": "h@x"}],
    "active": True,
    ENTERPRISE_USER: {"employeeNumber": "701984", "manager": {"value": "7", "displayName": "Boss"}},
    "meta": {"resourceType": "User", "created": "2020-01-01T00:00:00Z", "location": "/Users/12"},
}

ALWAYS = {"schemas": USER["schemas"], "id": "12", "meta": {"resourceType": "User"}}
DEFAULT = {k: v for k, v in USER.items() if k != "password"}


def without(*keys: str) -> dict[str, Any]:
    return {k: v for k, v in DEFAULT.items() if k not in keys}


CASES: list[tuple[str, Any, Any, dict[str, Any]]] = [
    ("default drops returned=never", None, None, DEFAULT),
    ("empty parameters are the default", "", "", DEFAULT),
    ("one attribute", "userName", None, {**ALWAYS, "userName": "bjensen"}),
    (
        "Microsoft's list",
        "userName,emails",
        None,
        {**ALWAYS, "userName": "bjensen", "emails": USER["emails"]},
    ),
    (
        "names in any case",
        "USERNAME, Emails",
        None,
        {**ALWAYS, "userName": "bjensen", "emails": USER["emails"]},
    ),
    ("a list of strings", ["userName", "active"], None, {**ALWAYS, "userName": "bjensen", "active": True}),
    ("sub-attribute", "name.givenName", None, {**ALWAYS, "name": {"givenName": "Barbara"}}),
    (
        "sub-attributes merge",
        "name.givenName,NAME.familyname",
        None,
        {**ALWAYS, "name": {"givenName": "Barbara", "familyName": "Jensen"}},
    ),
    ("whole wins over sub", "name.givenName,name", None, {**ALWAYS, "name": USER["name"]}),
    (
        "sub-attribute of a multi-valued attribute",
        "emails.value",
        None,
        {**ALWAYS, "emails": [{"value": "w@x"}, {"value": "h@x"}]},
    ),
    ("value filter is the attribute", 'emails[type eq "work"]', None, {**ALWAYS, "emails": USER["emails"]}),
    (
        "value filter with a sub-attribute",
        'emails[type eq "work"].value',
        None,
        {**ALWAYS, "emails": [{"value": "w@x"}, {"value": "h@x"}]},
    ),
    (
        "URN-qualified extension attribute",
        f"{ENTERPRISE_USER}:employeeNumber",
        None,
        {**ALWAYS, ENTERPRISE_USER: {"employeeNumber": "701984"}},
    ),
    (
        "unqualified extension attribute",
        "manager.value",
        None,
        {**ALWAYS, ENTERPRISE_USER: {"manager": {"value": "7"}}},
    ),
    ("whole extension", ENTERPRISE_USER, None, {**ALWAYS, ENTERPRISE_USER: USER[ENTERPRISE_USER]}),
    (
        "core URN prefix",
        f"{CORE_USER}:userName",
        None,
        {**ALWAYS, "userName": "bjensen"},
    ),
    ("never returned even when asked", "password,userName", None, {**ALWAYS, "userName": "bjensen"}),
    ("always returned only", "id", None, ALWAYS),
    ("unknown attribute selects nothing", "nosuch", None, ALWAYS),
    ("meta asked for", "meta", None, {**ALWAYS, "meta": USER["meta"]}),
    ("exclude one", None, "emails", without("emails")),
    ("exclude several in any case", None, "EMAILS,name", without("emails", "name")),
    ("exclude always-returned does nothing", None, "id,schemas", DEFAULT),
    ("exclude meta keeps resourceType", None, "meta", {**DEFAULT, "meta": {"resourceType": "User"}}),
    (
        "exclude a sub-attribute",
        None,
        "emails.primary",
        {**DEFAULT, "emails": [{"type": "work", "value": "w@x"}, {"type": "home", "value": "h@x"}]},
    ),
    (
        "exclude an extension attribute",
        None,
        f"{ENTERPRISE_USER}:manager",
        {**DEFAULT, ENTERPRISE_USER: {"employeeNumber": "701984"}},
    ),
    ("exclude the whole extension", None, ENTERPRISE_USER, without(ENTERPRISE_USER)),
    (
        "exclude the last extension attribute drops the extension",
        None,
        "employeeNumber,manager",
        without(ENTERPRISE_USER),
    ),
    ("exclude unknown", None, "nosuch", DEFAULT),
    (
        "URNs and names in any case",
        f"{ENTERPRISE_USER.lower()}:MANAGER.DISPLAYNAME,Emails.TYPE",
        None,
        {
            **ALWAYS,
            ENTERPRISE_USER: {"manager": {"displayName": "Boss"}},
            "emails": [{"type": "work"}, {"type": "home"}],
        },
    ),
    (
        "whole extension in any case",
        ENTERPRISE_USER.upper(),
        None,
        {**ALWAYS, ENTERPRISE_USER: USER[ENTERPRISE_USER]},
    ),
    (
        "exclude in any case",
        f"UserName,{ENTERPRISE_USER.upper()}",
        f"{ENTERPRISE_USER.upper()}:EmployeeNumber,META.Created",
        {**ALWAYS, "userName": "bjensen", ENTERPRISE_USER: {"manager": USER[ENTERPRISE_USER]["manager"]}},
    ),
]


@pytest.mark.parametrize(("name", "attributes", "excluded", "expected"), CASES, ids=[c[0] for c in CASES])
def test_project_user(name: str, attributes: Any, excluded: Any, expected: dict[str, Any]) -> None:
    before = copy.deepcopy(USER)
    assert project(USER, attributes, excluded, USERS) == expected
    assert USER == before


def test_exclude_members() -> None:
    group = {"schemas": ["g"], "id": "g1", "displayName": "G", "members": [{"value": "1"}]}
    assert project(group, excluded="members", resolver=GROUPS) == {
        "schemas": ["g"],
        "id": "g1",
        "displayName": "G",
    }


def test_result_is_a_copy() -> None:
    result = project(USER, "name", None, USERS)
    result["name"]["givenName"] = "X"
    assert USER["name"]["givenName"] == "Barbara"


def test_without_resolver() -> None:
    assert project({"id": "1", "a": 1, "b": 2}, "A") == {"id": "1", "a": 1}


def test_malformed_entry_is_invalid_path() -> None:
    for _ in range(2):  # every time: a selection that does not parse is not remembered
        with pytest.raises(ScimError) as caught:
            project(USER, "emails[type eq", None, USERS)
        assert caught.value.scim_type == "invalidPath"


def test_a_remembered_selection_serves_every_resource() -> None:
    """The parameters are parsed once per pair and type; the selection is read, never changed."""
    other = {**copy.deepcopy(USER), "id": "13", "name": {"givenName": "Ada"}}
    for _ in range(2):
        assert project(USER, "NAME.GIVENNAME", "id", USERS) == {**ALWAYS, "name": {"givenName": "Barbara"}}
        assert project(other, "NAME.GIVENNAME", "id", USERS) == {
            **ALWAYS,
            "id": "13",
            "name": {"givenName": "Ada"},
        }
        assert project(other, "NAME.GIVENNAME", "id", GROUPS) == {**ALWAYS, "id": "13"}  # not a Group's


def test_a_list_splits_its_parameters_once_for_all_its_resources() -> None:
    """A list response projects each resource with the same parameters. They were split again
    for every resource, so ``attributes=`` naming thousands of attributes (a 60 KB URL: duplicates,
    or one name in every spelling) cost 2.5 s of CPU for a page of 1,000 users (a red-team
    session found it); they are split once, and each entry kept once."""
    from mapper.scim import projection

    names = (
        "name.givenName",
        "NAME.givenName",
        "userName",
        "urn:ietf:params:scim:schemas:core:2.0:User:userName",
    )
    attributes = tuple(names[i % len(names)] for i in range(4000))
    projection._split.cache_clear()
    pages = [project(copy.deepcopy(USER), attributes, None, USERS) for _ in range(50)]
    assert projection._split.cache_info().misses == 1
    assert projection._split(attributes) == names
    assert pages[0] == {**ALWAYS, "userName": "bjensen", "name": {"givenName": "Barbara"}}
