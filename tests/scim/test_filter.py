"""SCIM filters: parsing (RFC 7644 §3.4.2.2 and the forms real clients send), errors, evaluation."""

from __future__ import annotations

from typing import Any

import pytest

from mapper.plan import CORE_USER, ENTERPRISE_USER, PlanAttribute, PlanObject
from mapper.scim.attributes import Resolver
from mapper.scim.errors import ScimError
from mapper.scim.filter import (
    And,
    AttrPath,
    Compare,
    Not,
    Or,
    Present,
    ValuePath,
    equality_terms,
    matches,
    parse_filter,
    validate,
)

USERS = Resolver.for_type("User")
GROUPS = Resolver.for_type("Group")

USER = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE_USER],
    "id": "2819c223",
    "externalId": "BJ-1",
    "userName": "BJensen",
    "name": {"familyName": "Jensen", "givenName": "Barbara"},
    "displayName": "",
    "title": None,
    "active": True,
    "emails": [
        {"type": "work", "value": "bjensen@example.com", "primary": True},
        {"type": "home", "value": "babs@jensen.org"},
    ],
    "phoneNumbers": [],
    ENTERPRISE_USER: {"employeeNumber": "701984", "manager": {"value": "26118915"}},
    "meta": {
        "resourceType": "User",
        "created": "2011-08-01T18:29:49.793Z",
        "lastModified": "2011-08-01T21:32:44Z",
    },
}

GROUP = {"id": "g1", "displayName": "Tour Guides", "members": [{"value": "2819c223"}, {"value": "902c246b"}]}


def a(attribute: str, sub: str | None = None, urn: str | None = None) -> AttrPath:
    return AttrPath(urn, attribute, sub)


# ---------------------------------------------------------------------------- parsing

PARSED = [
    ('userName eq "bjensen"', Compare(a("userName"), "eq", "bjensen")),
    ('name.familyName co "O\'Malley"', Compare(a("name", "familyName"), "co", "O'Malley")),
    ('userName sw "J"', Compare(a("userName"), "sw", "J")),
    ("title pr", Present(a("title"))),
    (
        'meta.lastModified gt "2011-05-13T04:42:34Z"',
        Compare(a("meta", "lastModified"), "gt", "2011-05-13T04:42:34Z"),
    ),
    ("count ge 5", Compare(a("count"), "ge", 5)),
    ("score lt -1.5e2", Compare(a("score"), "lt", -150.0)),
    ("active eq true", Compare(a("active"), "eq", True)),
    ("active ne false", Compare(a("active"), "ne", False)),
    ("title eq null", Compare(a("title"), "eq", None)),
    ('a eq "tab\\there \\"q\\" \\u00e9"', Compare(a("a"), "eq", 'tab\there "q" é')),
    (
        'title pr and userType eq "Employee"',
        And(Present(a("title")), Compare(a("userType"), "eq", "Employee")),
    ),
    (
        'title pr or userType eq "Intern"',
        Or(Present(a("title")), Compare(a("userType"), "eq", "Intern")),
    ),
    # precedence: not > and > or
    ("a pr or b pr and c pr", Or(Present(a("a")), And(Present(a("b")), Present(a("c"))))),
    ("a pr and b pr or c pr", Or(And(Present(a("a")), Present(a("b"))), Present(a("c")))),
    ("(a pr or b pr) and c pr", And(Or(Present(a("a")), Present(a("b"))), Present(a("c")))),
    ("a pr and not (b pr)", And(Present(a("a")), Not(Present(a("b"))))),
    ("a pr and b pr and c pr", And(And(Present(a("a")), Present(a("b"))), Present(a("c")))),
    (
        'userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")',
        And(
            Compare(a("userType"), "eq", "Employee"),
            Or(Compare(a("emails"), "co", "example.com"), Compare(a("emails", "value"), "co", "example.org")),
        ),
    ),
    (
        'emails[type eq "work" and value co "@example.com"]',
        ValuePath(
            a("emails"), And(Compare(a("type"), "eq", "work"), Compare(a("value"), "co", "@example.com"))
        ),
    ),
    (
        'userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")',
        And(
            Compare(a("userType"), "ne", "Employee"),
            Not(
                Or(
                    Compare(a("emails"), "co", "example.com"),
                    Compare(a("emails", "value"), "co", "example.org"),
                )
            ),
        ),
    ),
    (
        f'{ENTERPRISE_USER}:employeeNumber eq "701984"',
        Compare(a("employeeNumber", urn=ENTERPRISE_USER), "eq", "701984"),
    ),
    (
        f'{ENTERPRISE_USER}:manager.value eq "7"',
        Compare(a("manager", "value", ENTERPRISE_USER), "eq", "7"),
    ),
    (
        'urn:ietf:params:scim:schemas:core:2.0:User:name.familyName eq "J"',
        Compare(a("name", "familyName", "urn:ietf:params:scim:schemas:core:2.0:User"), "eq", "J"),
    ),
    ("members.$ref pr", Present(a("members", "$ref"))),
    # case-insensitive keywords and operators
    (
        'userName EQ "x" AND not(title PR) Or active Eq TRUE',
        Or(
            And(Compare(a("userName"), "eq", "x"), Not(Present(a("title")))), Compare(a("active"), "eq", True)
        ),
    ),
    # an attribute whose name starts with a keyword stays an attribute
    (
        "notes pr and order pr and andrew pr",
        And(And(Present(a("notes")), Present(a("order"))), Present(a("andrew"))),
    ),
    ('prefix eq "x"', Compare(a("prefix"), "eq", "x")),
    # leniency: bare words (Microsoft's SCIM test collection)
    ("userName sw O", Compare(a("userName"), "sw", "O")),
    (
        "name.FamilyName eq Employee and (emails.Value co example.com or emails.Value co example.org)",
        And(
            Compare(a("name", "FamilyName"), "eq", "Employee"),
            Or(
                Compare(a("emails", "Value"), "co", "example.com"),
                Compare(a("emails", "Value"), "co", "example.org"),
            ),
        ),
    ),
    (
        "meta.Created gt 2015-10-10T14:38:21.8617979-07:00",
        Compare(a("meta", "Created"), "gt", "2015-10-10T14:38:21.8617979-07:00"),
    ),
    ("emails[type eq work]", ValuePath(a("emails"), Compare(a("type"), "eq", "work"))),
    ("employeeNumber eq 00123", Compare(a("employeeNumber"), "eq", "00123")),
    ('  userName   eq   "x"  ', Compare(a("userName"), "eq", "x")),
]


@pytest.mark.parametrize(("text", "expected"), PARSED, ids=[t for t, _ in PARSED])
def test_parse(text: str, expected: object) -> None:
    assert parse_filter(text) == expected


MALFORMED = [
    ("", "empty filter"),
    ("   ", "empty filter"),
    ("userName", "expected '[', 'pr' or a comparison operator"),
    ("userName eq", "unexpected end of filter: expected a value"),
    ('userName xx "a"', "unexpected 'xx' at position 10"),
    ('userName eq "a', "unterminated string at position 13"),
    ('userName eq "a" "b"', "unexpected value at position 17"),
    ('userName eq "a" and', "expected '(', 'not (' or an attribute name"),
    ("(title pr", "expected ')'"),
    ("title pr)", "unexpected ')' at position 9"),
    ('emails[type eq "work"', "unexpected end of filter: expected ']'"),
    ('emails[type eq "work" x', "expected ']', 'and' or 'or'"),
    ('emails[type eq "work"]]', "unexpected ']'"),
    ("not title pr", "unexpected 'title' at position 5"),
    ("title pr and", "unexpected end"),
    ('"x" eq title', "expected '(', 'not (' or an attribute name"),
    ("name.familyName.x pr", "unexpected '.x'"),
    ("1abc pr", "unexpected value at position 1"),
    ('a eq "bad \\x escape"', "invalid string"),
    ("a gt true", "cannot compare with a boolean"),
    ("a co false", "cannot compare with a boolean"),
    ("a lt null", "cannot compare with null"),
    ('emails[type eq "a" and x[y pr]]', "cannot be nested"),
    ("name.givenName[x pr]", "not the sub-attribute"),
    ("a eq (b)", "unexpected '('"),
]


@pytest.mark.parametrize(("text", "detail"), MALFORMED, ids=[t or "<empty>" for t, _ in MALFORMED])
def test_malformed_filter_is_invalid_filter(text: str, detail: str) -> None:
    with pytest.raises(ScimError) as caught:
        parse_filter(text)
    error = caught.value
    assert (error.status, error.scim_type) == (400, "invalidFilter")
    assert detail in error.detail
    assert error.to_body()["scimType"] == "invalidFilter"


# ---------------------------------------------------------------------------- evaluation

MATCHES = [
    ('userName eq "bjensen"', True),  # userName is not caseExact
    ('userName eq "BJENSEN"', True),
    ('userName eq "bjensen2"', False),
    ('id eq "2819c223"', True),
    ('id eq "2819C223"', False),  # id is caseExact
    ('externalId eq "bj-1"', False),  # externalId is caseExact
    ('externalId eq "BJ-1"', True),
    ('USERNAME Eq "bjensen"', True),
    ('name.familyName co "ens"', True),
    ('name.FamilyName sw "jen"', True),
    ('name.familyName ew "SEN"', True),
    ('name.familyName ew "x"', False),
    ("title pr", False),  # null
    ("displayName pr", False),  # empty string
    ("phoneNumbers pr", False),  # empty list
    ("nickName pr", False),  # missing
    ("emails pr", True),
    ("name pr", True),
    ("title eq null", True),
    ("nickName eq null", True),
    ("userName eq null", False),
    ("userName ne null", True),
    ('nickName ne "x"', True),
    ('userName ne "bjensen"', False),
    ('userName gt "a"', True),
    ('userName gt "C"', False),
    ('userName lt "c"', True),
    ('userName ge "BJENSEN"', True),
    ('userName le "bjensen"', True),
    # dateTime: chronological, whatever the offset or precision
    ('meta.created gt "2011-08-01T18:29:49Z"', True),
    ('meta.created lt "2011-08-01T11:29:50-07:00"', True),
    ('meta.created eq "2011-08-01T11:29:49.793-07:00"', True),
    ("meta.Created gt 2015-10-10T14:38:21.8617979-07:00", False),
    ("meta.Created lt 2015-10-10T14:38:21.8617979-07:00", True),
    ('meta.lastModified ge "2011-08-01T21:32:44+00:00"', True),
    # booleans
    ("active eq true", True),
    ("active eq false", False),
    ("active ne false", True),
    ('active eq "True"', True),
    ("active eq TRUE", True),
    # multi-valued: any value
    ('emails.value eq "babs@jensen.org"', True),
    ('emails co "example.com"', True),  # complex without sub-attribute: its value
    ('emails.type eq "other"', False),
    ('emails[type eq "work" and value co "@example.com"]', True),
    ('emails[type eq "home" and value co "@example.com"]', False),
    ('emails[type eq "WORK"]', True),
    ("emails[primary eq true]", True),
    ('emails[not (type eq "work")]', True),
    ('emails[type eq "work"] and userName sw "b"', True),
    # extension attributes, qualified or not
    (f'{ENTERPRISE_USER}:employeeNumber eq "701984"', True),
    ('employeeNumber eq "701984"', True),
    ('manager eq "26118915"', True),
    ('manager.value eq "26118915"', True),
    (f'{ENTERPRISE_USER.upper()}:MANAGER.VALUE eq "26118915"', True),
    (f"{ENTERPRISE_USER}:department pr", False),
    # logic
    ('userName eq "x" or title eq null', True),
    ('userName eq "x" or title pr', False),
    ('not (userName eq "x")', True),
    ('not (userName eq "bjensen") or (active eq true and emails pr)', True),
    # Microsoft's collection
    ("name.FamilyName eq Jensen and (emails.Value co example.com or emails.Value co example.org)", True),
    ("userName sw B", True),
    ("userName sw O", False),
    # unknown attributes have no value
    ('nosuch eq "x"', False),
    ("nosuch.sub pr", False),
]


@pytest.mark.parametrize(("text", "expected"), MATCHES, ids=[t for t, _ in MATCHES])
def test_matches_user(text: str, expected: bool) -> None:
    assert matches(parse_filter(text), USER, USERS) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('members.value eq "902c246b"', True),
        ('members eq "902c246b"', True),
        ('members[value eq "2819c223"]', True),
        ('members[value eq "nobody"]', False),
        ('displayName eq "tour guides"', True),
    ],
)
def test_matches_group(text: str, expected: bool) -> None:
    assert matches(parse_filter(text), GROUP, GROUPS) is expected


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("active gt 1", "boolean"),
        ('active co "t"', "boolean"),
        ('meta.created gt "yesterday"', "is no date and time"),
        # a string attribute takes a string: not a number's text, nor a boolean's
        ("employeeNumber eq 701984", "'employeeNumber' is a string attribute"),
        ("userName eq true", "the value compared with it is a boolean"),
        ("name.familyName co 5", "the value compared with it is a number"),
        ("emails eq false", "'emails' is a string attribute"),  # compared through its value
        ('emails[value eq "x" or type eq 1]', "'type' is a string attribute"),
        ("manager eq 26118915", "'manager' is a string attribute"),
        ("meta.location eq 1", "'meta.location' is a reference attribute"),
        ('x509Certificates gt "AAAA"', "'gt' is not supported for the binary attribute"),
    ],
)
def test_type_misuse_is_invalid_filter(text: str, detail: str) -> None:
    node = parse_filter(text)
    with pytest.raises(ScimError) as caught:
        matches(node, USER, USERS)
    assert caught.value.scim_type == "invalidFilter"
    assert detail in caught.value.detail


def test_validate_reports_type_misuse_without_a_resource() -> None:
    with pytest.raises(ScimError) as caught:
        validate(parse_filter('userName pr and emails[primary gt "x"]'), USERS)
    assert caught.value.scim_type == "invalidFilter"
    validate(parse_filter("userName pr and emails[primary eq true]"), USERS)


# ---------------------------------------------------------------------------- equality terms

TERMS = [
    ('userName eq "bjensen"', [(a("userName"), "bjensen")]),
    ('id eq "7" and externalId eq "x"', [(a("id"), "7"), (a("externalId"), "x")]),
    ('a eq "1" and (b eq "2" and c eq 3)', [(a("a"), "1"), (a("b"), "2"), (a("c"), 3)]),
    ("userName eq O", [(a("userName"), "O")]),
    ('userName ne "x"', None),
    ('userName eq "x" or id eq "y"', None),
    ("userName eq null", None),
    ('userName eq "x" and title pr', None),
    ('not (userName eq "x")', None),
    ('emails[type eq "work"]', None),
]


@pytest.mark.parametrize(("text", "expected"), TERMS, ids=[t for t, _ in TERMS])
def test_equality_terms(text: str, expected: object) -> None:
    assert equality_terms(parse_filter(text)) == expected


def test_ast_is_frozen_and_hashable() -> None:
    node = parse_filter('userName eq "x" and emails[type eq "work"]')
    assert hash(node) == hash(parse_filter('userName eq "x" and emails[type eq "work"]'))
    with pytest.raises(AttributeError):
        node.left = None  # type: ignore[misc, union-attr]


def test_attr_path_str() -> None:
    assert str(a("manager", "value", ENTERPRISE_USER)) == f"{ENTERPRISE_USER}:manager.value"
    assert str(a("userName")) == "userName"


CANONICAL_TERMS = [
    ('USERNAME eq "b"', [(a("userName"), "b")]),
    ('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "b"', [(a("userName"), "b")]),
    ('employeeNumber eq "42"', [(a("employeeNumber", urn=ENTERPRISE_USER), "42")]),
    ('ACTIVE eq "true"', [(a("active"), True)]),
    ('name.FAMILYNAME eq "J" and id eq "7"', [(a("name", "familyName"), "J"), (a("id"), "7")]),
    ('nosuch eq "x"', [(a("nosuch"), "x")]),
]


@pytest.mark.parametrize(("text", "expected"), CANONICAL_TERMS, ids=[t for t, _ in CANONICAL_TERMS])
def test_equality_terms_canonical(text: str, expected: object) -> None:
    assert equality_terms(parse_filter(text), USERS) == expected


# ---------------------------------------------------------------------------- plan-aware resolution


def _object(**fields: Any) -> PlanObject:
    return PlanObject.model_construct(**fields)


def _bound(path: str, attribute: str, sub: str | None = None, **fields: Any) -> PlanAttribute:
    return PlanAttribute(
        path=path,
        schema_urn=fields.pop("schema_urn", CORE_USER),
        attribute=attribute,
        sub_attribute=sub,
        column=attribute.lower(),
        **fields,
    )


def test_plan_case_exact_applies_to_filters() -> None:
    plan_user = _object(
        schema_urn=CORE_USER,
        extension_urns=(ENTERPRISE_USER,),
        attributes=(_bound("userName", "userName", case_exact=True),),
    )
    resolver = Resolver.for_object(plan_user)
    assert matches(parse_filter('userName eq "BJensen"'), USER, resolver)
    assert not matches(parse_filter('userName eq "bjensen"'), USER, resolver)
    assert resolver.resolve(None, "USERNAME").mapped


def test_custom_object_type_from_the_plan() -> None:
    urn = "urn:example:schemas:Badge"
    badge = _object(
        schema_urn=urn,
        extension_urns=(),
        attributes=(
            _bound("code", "code", schema_urn=urn, case_exact=True),
            _bound("level", "level", schema_urn=urn, type="integer"),
            _bound('doors[type eq "main"].value', "doors", "value", schema_urn=urn, multi_valued=True),
        ),
    )
    resolver = Resolver.for_object(badge)
    level = resolver.resolve(None, "LEVEL")
    assert (level.urn, level.name, level.type, level.known) == (urn, "level", "integer", True)
    doors = resolver.resolve(None, "doors")
    assert (doors.type, doors.multi_valued, doors.sub_attributes) == ("complex", True, ("value",))
    resource = {"id": "1", "code": "AB", "level": 3, "doors": [{"type": "main", "value": "D1"}]}
    assert matches(parse_filter('level gt 2 and code eq "AB" and doors.value eq "d1"'), resource, resolver)
    assert not matches(parse_filter('code eq "ab"'), resource, resolver)
    assert resolver.schema_urn(urn.upper()) == urn


def test_resolver_search_order_and_unknowns() -> None:
    manager = USERS.resolve(None, "Manager")
    assert (manager.urn, manager.name, manager.complex) == (ENTERPRISE_USER, "manager", True)
    assert USERS.resolve(None, "id").urn == ""
    assert USERS.resolve(None, "schemas").mutability == "readOnly"
    assert USERS.resolve(None, "meta", "created").mutability == "readOnly"
    assert USERS.resolve(None, "emails", "VALUE").path == "emails.value"
    unknown = USERS.resolve(None, "favourite")
    assert (unknown.known, unknown.type, unknown.urn) == (False, "string", CORE_USER)
    assert not USERS.resolve(None, "name", "nosuch").known
    assert USERS.resolve("urn:example:unknown", "x").urn == "urn:example:unknown"
    assert USERS.schema_urn(ENTERPRISE_USER.lower()) == ENTERPRISE_USER
    assert USERS.schema_urn("urn:nope") is None
    assert GROUPS.resolve(None, "members", "value").mutability == "immutable"
