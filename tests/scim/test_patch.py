"""SCIM PATCH (RFC 7644 §3.5.2), including every form Microsoft Entra ID sends."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from mapper.plan import CORE_USER, ENTERPRISE_USER
from mapper.scim import names
from mapper.scim.attributes import Resolver
from mapper.scim.errors import ScimError
from mapper.scim.filter import parse_filter
from mapper.scim.matching import validate_value
from mapper.scim.patch import apply_patch

USERS = Resolver.for_type("User")
GROUPS = Resolver.for_type("Group")


def user(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "schemas": [CORE_USER],
        "id": "12",
        "userName": "bjensen",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "emails": [{"type": "home", "value": "babs@home.org"}],
        "active": True,
        "meta": {"resourceType": "User", "version": 'W/"1"'},
    }
    base.update(extra)
    return base


def at_the_edge(operations: list[Any], resolver: Resolver = USERS) -> Any:
    """The operations as the PATCH handler hands them over: their keys canonical
    (:func:`mapper.scim.names.operations`)."""
    return names.operations({"Operations": operations}, resolver)


def group(*members: str) -> dict[str, Any]:
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "id": "g1",
        "displayName": "Tour Guides",
        "members": [{"value": m} for m in members],
    }


def changed(**changes: Any) -> dict[str, Any]:
    """``user()`` with keys set (or removed, when the value is ``...``)."""
    result = user()
    for key, value in changes.items():
        if value is ...:
            result.pop(key)
        else:
            result[key] = value
    return result


def with_enterprise(**attributes: Any) -> dict[str, Any]:
    result = user()
    result["schemas"] = [CORE_USER, ENTERPRISE_USER]
    result[ENTERPRISE_USER] = attributes
    return result


USER_CASES: list[tuple[str, dict[str, Any], list[dict[str, Any]], dict[str, Any]]] = [
    # ---- Entra ID's forms
    (
        "entra replace work email creates it",
        user(),
        [{"op": "Replace", "path": 'emails[type eq "work"].value', "value": "x@y"}],
        changed(emails=[{"type": "home", "value": "babs@home.org"}, {"type": "work", "value": "x@y"}]),
    ),
    (
        "entra replace work email updates it",
        user(emails=[{"type": "work", "value": "old@y", "primary": True}]),
        [{"op": "Replace", "path": 'emails[type eq "work"].value', "value": "x@y"}],
        changed(emails=[{"type": "work", "value": "x@y", "primary": True}]),
    ),
    (
        "entra add work email through a filter",
        user(),
        [{"op": "Add", "path": 'emails[type eq "work"].value', "value": "x@y"}],
        changed(emails=[{"type": "home", "value": "babs@home.org"}, {"type": "work", "value": "x@y"}]),
    ),
    (
        "entra boolean as a string False",
        user(),
        [{"op": "Replace", "path": "active", "value": "False"}],
        changed(active=False),
    ),
    (
        "entra boolean as a string true",
        user(active=False),
        [{"op": "replace", "path": "active", "value": "true"}],
        user(),
    ),
    ("boolean value", user(), [{"op": "Replace", "path": "active", "value": False}], changed(active=False)),
    (
        "entra path-less replace with dotted and URN keys",
        user(),
        [
            {
                "op": "Replace",
                "value": {
                    "displayName": "B",
                    "name.givenName": "K",
                    f"{ENTERPRISE_USER}:employeeNumber": "A",
                },
            }
        ],
        {
            **with_enterprise(employeeNumber="A"),
            "displayName": "B",
            "name": {"givenName": "K", "familyName": "Jensen"},
        },
    ),
    (
        "entra add nickName",
        user(),
        [{"op": "Add", "path": "nickName", "value": "Babs"}],
        changed(nickName="Babs"),
    ),
    (
        "entra manager as a list with $ref",
        user(),
        [{"op": "Add", "path": "manager", "value": [{"$ref": "../Users/7", "value": "7"}]}],
        with_enterprise(manager={"$ref": "../Users/7", "value": "7"}),
    ),
    (
        "entra manager as a bare id",
        user(),
        [{"op": "Replace", "path": "manager", "value": "7"}],
        with_enterprise(manager={"value": "7"}),
    ),
    (
        "entra manager as an object, with the enterprise URN",
        user(),
        [{"op": "Add", "path": f"{ENTERPRISE_USER}:manager", "value": {"value": "7"}}],
        with_enterprise(manager={"value": "7"}),
    ),
    (
        "manager replaced",
        with_enterprise(manager={"value": "7"}),
        [{"op": "Replace", "path": f"{ENTERPRISE_USER}:manager", "value": [{"$ref": None, "value": "8"}]}],
        with_enterprise(manager={"value": "8"}),
    ),
    (
        "manager removed drops the empty extension",
        with_enterprise(manager={"value": "7"}),
        [{"op": "Remove", "path": f"{ENTERPRISE_USER}:manager"}],
        user(),
    ),
    (
        "entra manager removed with a value",
        with_enterprise(manager={"value": "7"}),
        [{"op": "Remove", "path": "manager", "value": [{"value": "7"}]}],
        user(),
    ),
    (
        "manager replaced with null",
        with_enterprise(manager={"value": "7"}, department="D"),
        [{"op": "Replace", "path": "manager", "value": None}],
        with_enterprise(department="D"),
    ),
    (
        "manager.value path",
        user(),
        [{"op": "Add", "path": f"{ENTERPRISE_USER}:manager.value", "value": "7"}],
        with_enterprise(manager={"value": "7"}),
    ),
    # ---- op and path spelling
    (
        "op in upper case",
        user(),
        [{"op": "REPLACE", "path": "userName", "value": "b2"}],
        changed(userName="b2"),
    ),
    (
        "path in other case",
        user(),
        [{"op": "replace", "path": "USERNAME", "value": "b2"}],
        changed(userName="b2"),
    ),
    (
        "sub-attribute in other case",
        user(),
        [{"op": "replace", "path": "name.FamilyName", "value": "J"}],
        changed(name={"givenName": "Barbara", "familyName": "J"}),
    ),
    (
        "core URN prefix",
        user(),
        [{"op": "replace", "path": f"{CORE_USER}:userName", "value": "b2"}],
        changed(userName="b2"),
    ),
    (
        "keys of the operation in any case",
        user(),
        [{"OP": "add", "Path": "title", "VALUE": "Boss"}],
        changed(title="Boss"),
    ),
    (
        "empty path is no path",
        user(),
        [{"op": "add", "path": "", "value": {"title": "T"}}],
        changed(title="T"),
    ),
    # ---- add
    (
        "add to a multi-valued attribute appends",
        user(),
        [{"op": "add", "path": "emails", "value": [{"type": "work", "value": "w@x"}]}],
        changed(emails=[{"type": "home", "value": "babs@home.org"}, {"type": "work", "value": "w@x"}]),
    ),
    (
        "add an existing value changes nothing",
        user(),
        [{"op": "add", "path": "emails", "value": [{"type": "home", "value": "BABS@home.org"}]}],
        changed(emails=[{"type": "home", "value": "BABS@home.org"}]),
    ),
    (
        "add a primary value clears the others",
        user(emails=[{"type": "home", "value": "h@x", "primary": True}]),
        [{"op": "add", "path": "emails", "value": {"type": "work", "value": "w@x", "primary": True}}],
        changed(
            emails=[
                {"type": "home", "value": "h@x", "primary": False},
                {"type": "work", "value": "w@x", "primary": True},
            ]
        ),
    ),
    (
        "add a complex attribute merges",
        user(),
        [{"op": "add", "path": "name", "value": {"middleName": "Jane"}}],
        changed(name={"givenName": "Barbara", "familyName": "Jensen", "middleName": "Jane"}),
    ),
    (
        "add without path",
        user(),
        [{"op": "add", "value": {"emails": [{"value": "w@x", "type": "work"}], "nickName": "Babs"}}],
        changed(
            emails=[{"type": "home", "value": "babs@home.org"}, {"value": "w@x", "type": "work"}],
            nickName="Babs",
        ),
    ),
    (
        "add without path, extension object",
        user(),
        [{"op": "add", "value": {ENTERPRISE_USER: {"department": "R&D", "manager": {"value": "7"}}}}],
        with_enterprise(department="R&D", manager={"value": "7"}),
    ),
    (
        "add without path ignores schemas",
        user(),
        [{"op": "add", "value": {"schemas": ["x"], "title": "T"}}],
        changed(title="T"),
    ),
    (
        "add to a single sub-attribute of every value",
        user(emails=[{"value": "a@x"}, {"value": "b@x"}]),
        [{"op": "add", "path": "emails.display", "value": "E"}],
        changed(emails=[{"value": "a@x", "display": "E"}, {"value": "b@x", "display": "E"}]),
    ),
    (
        "add with a null value unassigns",
        user(title="T"),
        [{"op": "add", "path": "title", "value": None}],
        user(),
    ),
    # ---- replace
    (
        "replace a multi-valued attribute replaces all values",
        user(),
        [{"op": "replace", "path": "emails", "value": [{"type": "work", "value": "w@x"}]}],
        changed(emails=[{"type": "work", "value": "w@x"}]),
    ),
    (
        "replace with an empty list unassigns",
        user(),
        [{"op": "replace", "path": "emails", "value": []}],
        changed(emails=...),
    ),
    (
        "replace a complex attribute leaves unnamed sub-attributes",
        user(),
        [{"op": "replace", "path": "name", "value": {"givenName": "B"}}],
        changed(name={"givenName": "B", "familyName": "Jensen"}),
    ),
    (
        "replace through a filter merges into each match",
        user(emails=[{"type": "work", "value": "a@x"}, {"type": "home", "value": "b@x"}]),
        [{"op": "replace", "path": 'emails[type eq "work"]', "value": {"value": "c@x", "primary": True}}],
        changed(emails=[{"type": "work", "value": "c@x", "primary": True}, {"type": "home", "value": "b@x"}]),
    ),
    (
        "replace through an and filter creates the value",
        user(emails=[]),
        [
            {
                "op": "replace",
                "path": 'addresses[type eq "work" and country eq "NL"].locality',
                "value": "Delft",
            }
        ],
        changed(emails=[], addresses=[{"type": "work", "country": "NL", "locality": "Delft"}]),
    ),
    (
        "replace a sub-attribute creates the complex attribute",
        user(name=None),
        [{"op": "replace", "path": "name.givenName", "value": "B"}],
        changed(name={"givenName": "B"}),
    ),
    (
        "replace with a number for a string attribute",
        user(),
        [{"op": "replace", "path": f"{ENTERPRISE_USER}:employeeNumber", "value": 42}],
        with_enterprise(employeeNumber="42"),
    ),
    (
        "replace the whole extension",
        with_enterprise(department="D", costCenter="C"),
        [{"op": "replace", "path": ENTERPRISE_USER, "value": {"department": "E"}}],
        with_enterprise(department="E"),
    ),
    (
        "unknown attributes are written as given",
        user(),
        [{"op": "replace", "path": "favouriteColour", "value": "blue"}],
        changed(favouriteColour="blue"),
    ),
    (
        "unknown attribute through a value filter",
        user(),
        [{"op": "add", "path": 'badges[type eq "door"]', "value": "B1"}],
        changed(badges=[{"type": "door", "value": "B1"}]),
    ),
    (
        "readOnly attribute with its own value is a no-op",
        user(),
        [{"op": "replace", "value": {"id": "12", "userName": "b2"}}],
        changed(userName="b2"),
    ),
    # ---- remove
    ("remove a single-valued attribute", user(title="T"), [{"op": "remove", "path": "title"}], user()),
    ("remove an absent attribute", user(), [{"op": "remove", "path": "title"}], user()),
    ("remove all values", user(), [{"op": "remove", "path": "emails"}], changed(emails=...)),
    (
        "remove values through a filter",
        user(emails=[{"type": "work", "value": "a@x"}, {"type": "home", "value": "b@x"}]),
        [{"op": "remove", "path": 'emails[type eq "work"]'}],
        changed(emails=[{"type": "home", "value": "b@x"}]),
    ),
    (
        "remove through a filter matching nothing",
        user(),
        [{"op": "remove", "path": 'emails[type eq "work"]'}],
        user(),
    ),
    (
        "remove a sub-attribute of the matching values",
        user(
            emails=[
                {"type": "work", "value": "a@x", "display": "A"},
                {"type": "home", "value": "b@x", "display": "B"},
            ]
        ),
        [{"op": "remove", "path": 'emails[type eq "work"].display'}],
        changed(emails=[{"type": "work", "value": "a@x"}, {"type": "home", "value": "b@x", "display": "B"}]),
    ),
    (
        "remove a sub-attribute",
        user(),
        [{"op": "remove", "path": "name.givenName"}],
        changed(name={"familyName": "Jensen"}),
    ),
    (
        "remove the last sub-attribute removes the attribute",
        user(name={"givenName": "B"}),
        [{"op": "remove", "path": "name.givenName"}],
        changed(name=...),
    ),
    (
        "remove listed values only",
        user(emails=[{"type": "work", "value": "a@x"}, {"type": "home", "value": "b@x"}]),
        [{"op": "remove", "path": "emails", "value": [{"value": "A@X"}]}],
        changed(emails=[{"type": "home", "value": "b@x"}]),
    ),
    (
        "remove the whole extension",
        with_enterprise(department="D"),
        [{"op": "remove", "path": ENTERPRISE_USER}],
        user(),
    ),
    # ---- several operations, in order
    (
        "operations apply in order",
        user(),
        [
            {"op": "add", "path": "title", "value": "A"},
            {"op": "replace", "path": "title", "value": "B"},
            {"op": "remove", "path": "emails"},
        ],
        changed(title="B", emails=...),
    ),
]


@pytest.mark.parametrize(
    ("name", "resource", "operations", "expected"), USER_CASES, ids=[c[0] for c in USER_CASES]
)
def test_patch_user(
    name: str, resource: dict[str, Any], operations: list[Any], expected: dict[str, Any]
) -> None:
    before = copy.deepcopy(resource)
    assert apply_patch(resource, at_the_edge(operations), USERS) == expected
    assert resource == before  # never mutated


GROUP_CASES = [
    (
        "entra add members with null $ref",
        group("1"),
        [{"op": "Add", "path": "members", "value": [{"$ref": None, "value": "2"}]}],
        group("1", "2"),
    ),
    (
        "add an existing member changes nothing",
        group("1"),
        [{"op": "Add", "path": "members", "value": [{"value": "1"}]}],
        group("1"),
    ),
    (
        "entra remove listed members only",
        group("1", "2", "3"),
        [{"op": "Remove", "path": "members", "value": [{"value": "2"}]}],
        group("1", "3"),
    ),
    (
        "remove listed members as bare ids",
        group("1", "2", "3"),
        [{"op": "Remove", "path": "members", "value": ["1", "3"]}],
        group("2"),
    ),
    (
        "remove an empty list removes nothing",
        group("1", "2"),
        [{"op": "Remove", "path": "members", "value": []}],
        group("1", "2"),
    ),
    (
        "remove a non-member succeeds",
        group("1"),
        [{"op": "Remove", "path": "members", "value": [{"value": "9"}]}],
        group("1"),
    ),
    (
        "entra remove member by filter",
        group("1", "2"),
        [{"op": "remove", "path": 'members[value eq "2"]'}],
        group("1"),
    ),
    (
        "remove a non-member by filter succeeds",
        group("1"),
        [{"op": "remove", "path": 'members[value eq "9"]'}],
        group("1"),
    ),
    (
        "remove all members",
        group("1", "2"),
        [{"op": "remove", "path": "members"}],
        {k: v for k, v in group().items() if k != "members"},
    ),
    (
        "member as a plain string (Microsoft's collection)",
        group("1"),
        [{"op": "add", "path": "members", "value": "string id 1"}],
        group("1", "string id 1"),
    ),
    (
        "replace members",
        group("1", "2"),
        [{"op": "replace", "path": "members", "value": [{"value": "3"}]}],
        group("3"),
    ),
    (
        "add members without path",
        group("1"),
        [{"op": "add", "value": {"members": [{"value": "2", "display": "Two"}]}}],
        {**group("1"), "members": [{"value": "1"}, {"value": "2", "display": "Two"}]},
    ),
    (
        "entra replace displayName",
        group(),
        [{"op": "Replace", "path": "displayName", "value": "Guides"}],
        {**group(), "displayName": "Guides"},
    ),
    (
        "add and remove in one request",
        group("1", "2"),
        [
            {"op": "Add", "path": "members", "value": [{"value": "3"}]},
            {"op": "Remove", "path": "members", "value": [{"value": "1"}]},
        ],
        group("2", "3"),
    ),
]


@pytest.mark.parametrize(
    ("name", "resource", "operations", "expected"), GROUP_CASES, ids=[c[0] for c in GROUP_CASES]
)
def test_patch_group(
    name: str, resource: dict[str, Any], operations: list[Any], expected: dict[str, Any]
) -> None:
    before = copy.deepcopy(resource)
    assert apply_patch(resource, at_the_edge(operations, GROUPS), GROUPS) == expected
    assert resource == before


ERRORS: list[tuple[str, Any, str, str]] = [
    ("operations not a list", {"op": "add"}, "invalidSyntax", "non-empty list"),
    ("no operations", [], "invalidSyntax", "non-empty list"),
    ("operation not an object", ["add"], "invalidSyntax", "must be an object"),
    ("unknown op", [{"op": "move", "path": "title", "value": "x"}], "invalidSyntax", "unknown op"),
    ("missing op", [{"path": "title", "value": "x"}], "invalidSyntax", "unknown op"),
    ("add without value", [{"op": "add", "path": "title"}], "invalidValue", "'add' needs a 'value'"),
    (
        "replace without value",
        [{"op": "Replace", "path": "title"}],
        "invalidValue",
        "'replace' needs a 'value'",
    ),
    ("remove without path", [{"op": "remove"}], "noTarget", "needs a 'path'"),
    ("remove with empty path", [{"op": "remove", "path": " "}], "noTarget", "needs a 'path'"),
    ("path not a string", [{"op": "add", "path": 3, "value": "x"}], "invalidPath", "'path' must be a string"),
    (
        "malformed path",
        [{"op": "add", "path": "emails[type eq", "value": "x"}],
        "invalidPath",
        "unexpected end",
    ),
    ("malformed key in value", [{"op": "add", "value": {"a b": 1}}], "invalidPath", "unexpected 'b'"),
    (
        "filter on single-valued",
        [{"op": "add", "path": "userName[x pr]", "value": "x"}],
        "invalidPath",
        "single-valued",
    ),
    (  # a value filter selects objects: the values of schemas are strings (was a 500)
        "filter on a multi-valued attribute of strings",
        [{"op": "replace", "path": 'schemas[value eq "x"]', "value": "y"}],
        "invalidPath",
        "not objects",
    ),
    (  # the same matching nothing, where an add would make a value from the filter (was a 500)
        "add through a filter on a multi-valued attribute of strings",
        [{"op": "add", "path": 'schemas[value eq "x"]', "value": "y"}],
        "invalidPath",
        "not objects",
    ),
    (
        "remove through a filter on a multi-valued attribute of strings",
        [{"op": "remove", "path": 'schemas[value eq "x"]'}],
        "invalidPath",
        "not objects",
    ),
    (
        "sub of a simple attribute",
        [{"op": "add", "path": "userName.x", "value": "x"}],
        "invalidPath",
        "no sub-attributes",
    ),
    ("replace id", [{"op": "replace", "path": "id", "value": "13"}], "mutability", "'id' is readOnly"),
    ("remove id", [{"op": "remove", "path": "id"}], "mutability", "readOnly"),
    ("replace id without path", [{"op": "replace", "value": {"id": "13"}}], "mutability", "readOnly"),
    ("replace meta", [{"op": "replace", "path": "meta.version", "value": "x"}], "mutability", "readOnly"),
    (
        "replace meta object",
        [{"op": "replace", "path": "meta", "value": {"version": "x"}}],
        "mutability",
        "readOnly",
    ),
    ("remove required", [{"op": "remove", "path": "userName"}], "invalidValue", "required"),
    (
        "replace required with null",
        [{"op": "replace", "path": "userName", "value": None}],
        "invalidValue",
        "required",
    ),
    (
        "boolean not a boolean",
        [{"op": "replace", "path": "active", "value": "yes"}],
        "invalidValue",
        "boolean",
    ),
    ("boolean number", [{"op": "replace", "path": "active", "value": 1}], "invalidValue", "boolean"),
    (
        "string given an object",
        [{"op": "replace", "path": "title", "value": {"a": 1}}],
        "invalidValue",
        "string",
    ),
    ("string given a boolean", [{"op": "replace", "path": "title", "value": True}], "invalidValue", "string"),
    ("path-less value not an object", [{"op": "add", "value": "x"}], "invalidValue", "object of attributes"),
    (
        "extension given a scalar",
        [{"op": "add", "value": {ENTERPRISE_USER: "x"}}],
        "invalidValue",
        "must be an object",
    ),
    (
        "single-valued complex given two",
        [{"op": "add", "path": "manager", "value": [{"value": "1"}, {"value": "2"}]}],
        "invalidValue",
        "single-valued",
    ),
    ("complex given a boolean", [{"op": "add", "path": "name", "value": True}], "invalidValue", "object"),
    (
        "replace through a filter matching nothing, not eq terms",
        [{"op": "replace", "path": 'emails[value co "@work"].value', "value": "x"}],
        "noTarget",
        "matches",
    ),
    (  # the value is checked whatever the resource holds: before the filter's (missing) target
        "a value that does not fit, through a filter matching nothing, not eq terms",
        [{"op": "replace", "path": 'emails[value co "@work"].primary', "value": "maybe"}],
        "invalidValue",
        "boolean",
    ),
    (
        "filter path with several values",
        [{"op": "add", "path": 'emails[type eq "work"]', "value": [{"value": "a"}, {"value": "b"}]}],
        "invalidValue",
        "one value",
    ),
    (
        "readOnly sub-attribute",
        [{"op": "add", "path": "manager.displayName", "value": "M"}],
        "mutability",
        "readOnly",
    ),
]


@pytest.mark.parametrize(("name", "operations", "scim_type", "detail"), ERRORS, ids=[e[0] for e in ERRORS])
def test_patch_errors(name: str, operations: Any, scim_type: str, detail: str) -> None:
    resource = user()
    with pytest.raises(ScimError) as caught:
        apply_patch(resource, operations, USERS)
    assert (caught.value.status, caught.value.scim_type) == (400, scim_type)
    assert detail in caught.value.detail
    assert resource == user()


def test_immutable_sub_attribute_cannot_change() -> None:
    with pytest.raises(ScimError) as caught:
        apply_patch(
            group("1"), [{"op": "replace", "path": 'members[value eq "1"].value', "value": "2"}], GROUPS
        )
    assert caught.value.scim_type == "mutability"


def test_immutable_sub_attribute_may_be_set_once() -> None:
    result = apply_patch(
        group("1"), [{"op": "add", "path": 'members[value eq "1"].type', "value": "User"}], GROUPS
    )
    assert result["members"] == [{"value": "1", "type": "User"}]


def test_patch_is_atomic() -> None:
    resource = user()
    operations = [
        {"op": "replace", "path": "userName", "value": "changed"},
        {"op": "remove", "path": "emails"},
        {"op": "replace", "path": "id", "value": "nope"},
    ]
    with pytest.raises(ScimError) as caught:
        apply_patch(resource, operations, USERS)
    assert caught.value.detail.startswith("Operations[2]: ")
    assert resource == user()


@pytest.mark.parametrize(
    "later",
    [
        {"op": "copy", "path": "title", "value": "x"},  # an op that does not resolve
        {"op": "add", "path": "title"},  # nor does a value missing
        {"op": "add", "path": "emails", "value": "not an email", "extra": {}},  # this one does
    ],
)
def test_the_first_failing_operation_is_reported(later: dict[str, Any]) -> None:
    """Operations are resolved before any is applied; the error is still the first failing one's
    in order (here one that resolves but cannot apply), as if each had been applied in turn."""
    with pytest.raises(ScimError) as caught:
        apply_patch(
            user(),
            [
                {"op": "replace", "path": "userName", "value": "x"},
                {"op": "add", "path": "id", "value": "2"},
                later,
            ],
            USERS,
        )
    assert caught.value.detail.startswith("Operations[1]: ")
    assert caught.value.scim_type == "mutability"


def test_error_body() -> None:
    with pytest.raises(ScimError) as caught:
        apply_patch(user(), [{"op": "remove"}], USERS)
    assert caught.value.to_body() == {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "status": "400",
        "scimType": "noTarget",
        "detail": "Operations[0]: 'remove' needs a 'path'",
    }


@pytest.mark.parametrize(
    ("op", "path", "detail"),
    [
        ("replace", 'emails[primary eq "yes"].value', "'primary' is a boolean attribute"),
        ("add", "emails[type eq 1].value", "'type' is a string attribute"),
        ("add", "emails[type eq true]", "'type' is a string attribute"),
    ],
)
def test_a_value_filter_of_the_wrong_type_is_invalid_filter_with_no_item_to_meet(
    op: str, path: str, detail: str
) -> None:
    """With no email to evaluate the filter against, the item the filter describes was made from
    it: of type 1, or refused as invalidValue. The filter is typed first, as GET's is."""
    resource = {k: v for k, v in user().items() if k != "emails"}
    value: Any = {"value": "x@example.com"} if path.endswith("]") else "x@example.com"
    with pytest.raises(ScimError) as caught:
        apply_patch(resource, [{"op": op, "path": path, "value": value}], USERS)
    assert (caught.value.status, caught.value.scim_type) == (400, "invalidFilter")
    assert detail in caught.value.detail


class _Counting:
    """A resolver that counts how often each sub-attribute path is resolved."""

    def __init__(self, resolver: Resolver) -> None:
        self.inner = resolver
        self.subs: list[str] = []

    def resolve(self, urn: str | None, attribute: str, sub: str | None = None) -> Any:
        if sub is not None:
            self.subs.append(sub)
        return self.inner.resolve(urn, attribute, sub)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_value_filter_is_validated_resolving_each_of_its_paths_once() -> None:
    """The value filter's type check and its unknown sub-attribute check take one resolution of
    each path: the check of the sub-attributes ran a second walk resolving every path again."""
    emails = USERS.resolve(None, "emails")
    counting = _Counting(USERS)
    validate_value(parse_filter('type eq "work" and value pr'), counting, emails)  # type: ignore[arg-type]
    assert sorted(counting.subs) == ["type", "value"]
    counting.subs.clear()
    with pytest.raises(ScimError) as caught:
        validate_value(parse_filter('foo eq 1 and type eq "work"'), counting, emails)  # type: ignore[arg-type]
    assert (caught.value.status, caught.value.scim_type) == (400, "invalidFilter")
    assert "'emails' has no sub-attribute 'foo'" in caught.value.detail
    assert sorted(counting.subs) == ["foo", "type"]
