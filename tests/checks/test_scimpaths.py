"""Resolving SCIM paths as a mapping writes them."""

from __future__ import annotations

import pytest

from mapper.checks.scimpaths import PathProblem, Resolved, Schemas, resolve
from mapper.scimschema import ENTERPRISE, GROUP, USER

USER_SCHEMAS = Schemas(core=USER, prefixes={"enterprise": ENTERPRISE})


@pytest.mark.parametrize(
    ("path", "canonical", "urn_end"),
    [
        ("userName", "userName", ":User"),
        ("USERNAME", "userName", ":User"),
        ("name.givenName", "name.givenName", ":User"),
        ('emails[type eq "work"].value', 'emails[type eq "work"].value', ":User"),
        (
            'emails[type eq "work" and primary eq "true"].value',
            'emails[type eq "work" and primary eq "true"].value',
            ":User",
        ),
        ("emails", "emails.value", ":User"),
        ("enterprise.manager", "manager.value", "enterprise:2.0:User"),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
            "department",
            "enterprise:2.0:User",
        ),
        ("meta.lastModified", "meta.lastModified", ""),
        ("externalId", "externalId", ""),
    ],
)
def test_resolves(path: str, canonical: str, urn_end: str) -> None:
    resolved = resolve(path, USER_SCHEMAS)
    assert isinstance(resolved, Resolved)
    assert str(resolved) == canonical
    assert resolved.schema.urn.endswith(urn_end)


@pytest.mark.parametrize(
    ("path", "code", "start", "end"),
    [
        ("usrName", "MAP140", 0, 7),
        ("manager", "MAP140", 0, 7),
        ("name.givnName", "MAP140", 5, 13),
        ("urn:example:nope:dept", "MAP141", 0, 16),
        ("entreprise.department", "MAP141", 0, 10),
        ('emails[type ne "work"].value', "MAP142", 6, 22),
        ('name[type eq "x"].givenName', "MAP142", 4, 17),
        ("name", "MAP144", 0, 4),
    ],
)
def test_problem(path: str, code: str, start: int, end: int) -> None:
    found = resolve(path, USER_SCHEMAS)
    assert isinstance(found, PathProblem)
    assert (found.code.code, found.start, found.end) == (code, start, end)


def test_enterprise_is_for_users_only() -> None:
    found = resolve("enterprise.department", Schemas(core=GROUP, prefixes={}))
    assert isinstance(found, PathProblem) and found.code.code == "MAP140"


def test_same_value_same_key() -> None:
    a, b = resolve("enterprise.manager", USER_SCHEMAS), resolve("enterprise.manager.value", USER_SCHEMAS)
    assert isinstance(a, Resolved) and isinstance(b, Resolved) and a.key == b.key
