"""SCIM attribute paths for PATCH and ``attributes=``."""

from __future__ import annotations

import pytest

from mapper.plan import ENTERPRISE_USER
from mapper.scim.errors import ScimError
from mapper.scim.filter import And, AttrPath, Compare
from mapper.scim.paths import AttributePath, parse_path, split_list

WORK = Compare(AttrPath(None, "type", None), "eq", "work")

PATHS = [
    ("userName", AttributePath(None, "userName")),
    ("  userName ", AttributePath(None, "userName")),
    ("name.givenName", AttributePath(None, "name", None, "givenName")),
    ("name.FamilyName", AttributePath(None, "name", None, "FamilyName")),
    ("members.$ref", AttributePath(None, "members", None, "$ref")),
    (f"{ENTERPRISE_USER}:manager", AttributePath(ENTERPRISE_USER, "manager")),
    (f"{ENTERPRISE_USER}:manager.value", AttributePath(ENTERPRISE_USER, "manager", None, "value")),
    # a whole extension parses as its last segment; PATCH and projection recognise the URN
    (ENTERPRISE_USER, AttributePath("urn:ietf:params:scim:schemas:extension:enterprise:2.0", "User")),
    ('emails[type eq "work"]', AttributePath(None, "emails", WORK)),
    ('emails[type eq "work"].value', AttributePath(None, "emails", WORK, "value")),
    ("emails[type eq work].value", AttributePath(None, "emails", WORK, "value")),
    (
        'members[value eq "2819c223-7f76-453a-919d-413861904646"]',
        AttributePath(
            None, "members", Compare(AttrPath(None, "value"), "eq", "2819c223-7f76-453a-919d-413861904646")
        ),
    ),
    (
        'addresses[type eq "work" and primary eq true].streetAddress',
        AttributePath(
            None,
            "addresses",
            And(WORK, Compare(AttrPath(None, "primary"), "eq", True)),
            "streetAddress",
        ),
    ),
    (
        'urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work"].value',
        AttributePath("urn:ietf:params:scim:schemas:core:2.0:User", "emails", WORK, "value"),
    ),
]


@pytest.mark.parametrize(("text", "expected"), PATHS, ids=[t for t, _ in PATHS])
def test_parse_path(text: str, expected: AttributePath) -> None:
    assert parse_path(text) == expected


BAD = [
    "",
    " ",
    "emails[",
    'emails[type eq "work"',
    'emails[type eq "work"]value',
    'emails[type eq "work"].value.x',
    "name.givenName.x",
    'name.givenName[type eq "x"]',
    "1name",
    "emails[]",
    "userName eq",
    'emails[type eq "a"][value pr]',
    "a b",
    "emails[type[x pr]]",
]


@pytest.mark.parametrize("text", BAD)
def test_bad_path_is_invalid_path(text: str) -> None:
    with pytest.raises(ScimError) as caught:
        parse_path(text)
    assert (caught.value.status, caught.value.scim_type) == (400, "invalidPath")


def test_non_string_path_is_invalid_path() -> None:
    with pytest.raises(ScimError) as caught:
        parse_path(None)  # type: ignore[arg-type]
    assert caught.value.scim_type == "invalidPath"


def test_attr_path_and_str() -> None:
    path = parse_path('emails[type eq "work"].value')
    assert path.attr_path == AttrPath(None, "emails", "value")
    assert str(path) == "emails[...].value"
    assert str(parse_path(f"{ENTERPRISE_USER}:manager")) == f"{ENTERPRISE_USER}:manager"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("userName,emails", ["userName", "emails"]),
        (" userName , , emails ", ["userName", "emails"]),
        ('emails[type eq "a,b"],name', ['emails[type eq "a,b"]', "name"]),
        ('emails[value eq "x\\",y"],id', ['emails[value eq "x\\",y"]', "id"]),
        ("", []),
    ],
)
def test_split_list(text: str, expected: list[str]) -> None:
    assert split_list(text) == expected


def test_repeated_paths_parse_alike_and_bad_ones_fail_every_time() -> None:
    """parse_path remembers the paths it parsed (provisioning repeats a few); a remembered answer
    equals a fresh one, a malformed path is refused on every call, and a client cannot grow the
    memory with long paths (those are parsed afresh each time)."""
    first = parse_path('emails[type eq "work"].value')
    assert parse_path('  emails[type eq "work"].value ') is first
    for _ in range(2):
        with pytest.raises(ScimError):
            parse_path("emails[type eq")
    long = "members[" + " or ".join(f'value eq "{n}"' for n in range(40)) + "]"
    assert len(long) > 256
    assert parse_path(long) == parse_path(long) and parse_path(long) is not parse_path(long)
