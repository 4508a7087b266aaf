"""A multi-valued attribute kept in one column (``emails[type eq "work"].value <-> Email``, as the
ECMA example maps it) when a client sends several values that match its filter.

Microsoft's conformance collection posts users with two ``work`` emails, one of them primary, and
Okta marks the address it means as primary. The column can keep one of them: the primary one is
the value the client prefers (RFC 7643 §2.4), so that is the one kept, whatever its place in the
list. Several that differ with no primary among them (or more than one) leave nothing to choose
by, so the write is refused with 400 invalidValue instead of one kept and the others dropped
without a word; nothing is written."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.databases import HrDatabase, ecma_database
from tests.support.scim import CORE_USER, PATCH_OP, ecma_client

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["sqlite", pytest.param("mariadb", marks=pytest.mark.mariadb)])
def ecma_db(request: pytest.FixtureRequest, tmp_path: Path) -> HrDatabase:
    server = request.getfixturevalue("mariadb_url") if request.param == "mariadb" else None
    return ecma_database(tmp_path, server, sample=False)


@pytest.fixture
async def client(ecma_db: HrDatabase) -> AsyncIterator[httpx.AsyncClient]:
    async with ecma_client(ecma_db) as client:
        yield client


def user(login: str, *emails: dict[str, Any]) -> dict[str, Any]:
    return {
        "schemas": [CORE_USER],
        "userName": login,
        "name": {"givenName": "Kim", "familyName": "Baker"},
        "emails": list(emails),
    }


def stored(db: HrDatabase, login: str) -> list[tuple[Any, ...]]:
    return db.execute("SELECT Email FROM Employees WHERE AccountName = :login", {"login": login})


async def test_the_primary_of_two_work_emails_is_kept_wherever_it_is_in_the_list(
    client: httpx.AsyncClient, ecma_db: HrDatabase
) -> None:
    body = user(
        "kim.baker",
        {"type": "work", "primary": False, "value": "kim@gmail.example"},
        {"type": "work", "primary": True, "value": "kim.baker@contoso.example"},
        {"type": "home", "value": "kim@home.example"},
    )
    created = await client.post("/Users", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["emails"] == [{"type": "work", "value": "kim.baker@contoso.example"}]
    assert stored(ecma_db, "kim.baker") == [("kim.baker@contoso.example",)]


async def test_two_different_work_emails_with_no_primary_are_refused_and_nothing_is_written(
    client: httpx.AsyncClient, ecma_db: HrDatabase
) -> None:
    body = user(
        "kim.baker",
        {"type": "work", "value": "a@contoso.example"},
        {"type": "work", "value": "b@contoso.example"},
    )
    refused = await client.post("/Users", json=body)
    assert refused.status_code == 400, refused.text
    error = refused.json()
    assert error["scimType"] == "invalidValue"
    assert "emails" in error["detail"] and "primary" in error["detail"]
    assert stored(ecma_db, "kim.baker") == []


async def test_the_same_work_email_sent_twice_is_one_value(
    client: httpx.AsyncClient, ecma_db: HrDatabase
) -> None:
    same = {"type": "work", "value": "kim.baker@contoso.example"}
    created = await client.post("/Users", json=user("kim.baker", same, {**same, "primary": True}))
    assert created.status_code == 201, created.text
    assert stored(ecma_db, "kim.baker") == [("kim.baker@contoso.example",)]


async def test_a_patch_adding_a_primary_work_email_replaces_the_one_the_column_holds(
    client: httpx.AsyncClient, ecma_db: HrDatabase
) -> None:
    created = await client.post(
        "/Users", json=user("kim.baker", {"type": "work", "value": "old@contoso.example"})
    )
    assert created.status_code == 201, created.text
    add = {
        "op": "add",
        "path": "emails",
        "value": [{"type": "work", "value": "new@contoso.example", "primary": True}],
    }
    patched = await client.patch(
        f"/Users/{created.json()['id']}", json={"schemas": [PATCH_OP], "Operations": [add]}
    )
    assert patched.status_code == 200, patched.text
    assert stored(ecma_db, "kim.baker") == [("new@contoso.example",)]

    # added without primary, the new value and the held one tie: refused, the held one kept
    add = {"op": "add", "path": "emails", "value": [{"type": "work", "value": "other@contoso.example"}]}
    refused = await client.patch(
        f"/Users/{created.json()['id']}", json={"schemas": [PATCH_OP], "Operations": [add]}
    )
    assert refused.status_code == 400, refused.text
    assert refused.json()["scimType"] == "invalidValue"
    assert stored(ecma_db, "kim.baker") == [("new@contoso.example",)]


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ('emails[primary eq "yes"].value', "a boolean attribute"),
        ("emails[type eq 1].value", "a string attribute"),
        ("emails[type eq true].value", "a string attribute"),
        ('emails[type eq "work" and primary eq 1].value', "a boolean attribute"),
    ],
)
@pytest.mark.parametrize("op", ["add", "replace"])
async def test_a_patch_value_filter_of_the_wrong_type_is_400_as_the_same_filter_in_get(
    client: httpx.AsyncClient, ecma_db: HrDatabase, path: str, kind: str, op: str
) -> None:
    """A user with no email: a PATCH whose value filter compares a sub-attribute with a value of
    the wrong type matched no item, so it made one from the filter. ``type eq 1`` made an email
    of type 1, which the one column does not keep: 200, and nothing written; ``primary eq "yes"``
    answered invalidValue. The same filter in GET is 400 invalidFilter, and so is the PATCH now,
    whatever the user holds."""
    created = await client.post("/Users", json=user("kim.baker"))
    assert created.status_code == 201, created.text
    search = await client.get("/Users", params={"filter": path.rsplit(".", 1)[0]})
    assert search.status_code == 400 and search.json()["scimType"] == "invalidFilter", search.text
    operation = {"op": op, "path": path, "value": "kim.baker@contoso.example"}
    patched = await client.patch(
        f"/Users/{created.json()['id']}", json={"schemas": [PATCH_OP], "Operations": [operation]}
    )
    assert patched.status_code == 400, patched.text
    assert patched.json()["scimType"] == "invalidFilter"
    assert patched.json()["detail"].startswith("Operations[0]: ") and kind in patched.json()["detail"]
    assert stored(ecma_db, "kim.baker") == [(None,)]
