"""DN templates on their own: what RFC 4514 allows, and where each problem is."""

from __future__ import annotations

import pytest

from mapper.checks.dn import problems

COLUMNS = ["login", "department", "employee_id"]


@pytest.mark.parametrize(
    "template",
    [
        "CN={anchor},OBJECT=USER",
        "CN={anchor},OU=Users,DC=contoso,DC=com",
        "CN={anchor}, OU={department}, O=Contoso",
        "CN={anchor}+UID={login},DC=example",
        "2.5.4.3={anchor},DC=example",
        r"CN=Smith\, {anchor},DC=example",
        r"CN={anchor} \<x\>,DC=example",
        "cn={Anchor},dc=example",
    ],
)
def test_valid(template: str) -> None:
    assert problems(template, COLUMNS) == []


@pytest.mark.parametrize(
    ("template", "code", "start", "end"),
    [
        ("{anchor}@contoso.com", "MAP130", 0, 20),
        ("{anchor}", "MAP130", 0, 8),
        ("USER-{anchor}", "MAP130", 0, 13),
        ("CN={anchor},,DC=x", "MAP130", 11, 12),
        ("CN={anchor},OU=", "MAP130", 12, 15),
        ("C N={anchor}", "MAP130", 0, 3),
        ("CN={anchor};OU=x", "MAP130", 11, 12),
        ("CN={anchor},DC=a<b", "MAP130", 16, 17),
        ("CN={login},OU=x", "MAP131", 0, 15),
        ("CN={anchor},OU={dept}", "MAP132", 15, 21),
        ("CN={anchor},OU={}", "MAP132", 15, 17),
        ("CN={anchor", "MAP133", 3, 4),
        ("CN=x},{anchor}", "MAP133", 4, 5),
        ("CN={{anchor}}", "MAP133", 3, 4),
    ],
)
def test_problem(template: str, code: str, start: int, end: int) -> None:
    (found,) = problems(template, COLUMNS)
    assert (found.code.code, found.start, found.end) == (code, start, end)


def test_upn_hint_names_the_domain_components() -> None:
    (found,) = problems("{anchor}@corp.contoso.com", COLUMNS, "User")
    assert found.hint == (
        "that is a user principal name, not a DN: write it as CN={anchor},OU=Users,DC=corp,DC=contoso,DC=com"
    )


def test_placeholder_did_you_mean() -> None:
    (found,) = problems("CN={anchor},OU={departmnt}", COLUMNS)
    assert (found.hint or "").startswith("did you mean 'department'?")
