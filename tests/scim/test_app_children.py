"""Issue 10, items 4-6 end to end on SQLite, PostgreSQL and MariaDB: emails and phone numbers kept
in child tables with every sub-attribute, the primary rule, the dangling-reference policies of
members and manager, the no-op PATCH, and strict PATCH."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.databases import HrDatabase
from tests.support.scim import ENTERPRISE, HR_MAP, new_user, patch_body, scim_client

pytestmark = pytest.mark.anyio


def emails_of(db: HrDatabase, anchor: str) -> set[tuple[Any, ...]]:
    rows = db.execute(
        "SELECT email_type, address, is_primary FROM employee_emails WHERE employee_id = :id",
        {"id": int(anchor)},
    )
    return {(kind, address, bool(primary)) for kind, address, primary in rows}


def phones_of(db: HrDatabase, anchor: str) -> set[tuple[Any, ...]]:
    rows = db.execute(
        "SELECT phone_type, number, is_primary FROM employee_phones WHERE employee_id = :id",
        {"id": int(anchor)},
    )
    return {(kind, number, bool(primary)) for kind, number, primary in rows}


def as_set(items: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    return {(i.get("type"), i["value"], i.get("primary", False)) for i in items}


EMAILS = [
    {"type": "work", "value": "kim@example.com", "primary": True},
    {"type": "work", "value": "kim@example.org"},  # Microsoft's collection: a second work email
    {"type": "home", "value": "kim@home.example"},
]
PHONES = [
    {"type": "work", "value": "+1 555 0100"},
    {"type": "mobile", "value": "+1 555 0199", "primary": True},
]


async def test_every_sub_attribute_goes_in_and_comes_back(
    any_client: httpx.AsyncClient, hr_database: HrDatabase
) -> None:
    created = await any_client.post("/Users", json=new_user("kim", emails=EMAILS, phoneNumbers=PHONES))
    assert created.status_code == 201, created.text
    kim = created.json()
    assert as_set(kim["emails"]) == as_set(EMAILS) and as_set(kim["phoneNumbers"]) == as_set(PHONES)
    assert emails_of(hr_database, kim["id"]) == {
        ("work", "kim@example.com", True),
        ("work", "kim@example.org", False),
        ("home", "kim@home.example", False),
    }
    assert phones_of(hr_database, kim["id"]) == {
        ("work", "+1 555 0100", False),
        ("mobile", "+1 555 0199", True),
    }

    # the import reads them back the same (a fresh gateway over the same database)
    async with scim_client(hr_database) as fresh:
        again = (await fresh.get(f"/Users/{kim['id']}")).json()
    assert as_set(again["emails"]) == as_set(EMAILS) and as_set(again["phoneNumbers"]) == as_set(PHONES)
    found = await any_client.get("/Users", params={"filter": 'emails.value co "example.org"'})
    assert [u["id"] for u in found.json()["Resources"]] == [kim["id"]]

    # a PUT moves primary, drops the home email and adds a type-less one
    emails = [
        {"type": "work", "value": "kim@example.com"},
        {"type": "work", "value": "kim@example.org", "primary": True},
        {"value": "kim@untyped.example"},
    ]
    replaced = await any_client.put(
        f"/Users/{kim['id']}", json=new_user("kim", emails=emails, phoneNumbers=PHONES)
    )
    assert replaced.status_code == 200, replaced.text
    assert as_set(replaced.json()["emails"]) == as_set(emails)
    assert emails_of(hr_database, kim["id"]) == {
        ("work", "kim@example.com", False),
        ("work", "kim@example.org", True),
        (None, "kim@untyped.example", False),
    }


async def test_patch_of_child_table_items(any_client: httpx.AsyncClient, hr_database: HrDatabase) -> None:
    # Grace (2) has a primary work email and a home one; a new primary clears the old (RFC 7643 §2.4)
    add = {
        "op": "add",
        "path": "emails",
        "value": [{"type": "other", "value": "g@x.example", "primary": True}],
    }
    patched = await any_client.patch("/Users/2", json=patch_body(add))
    assert patched.status_code == 200, patched.text
    assert emails_of(hr_database, "2") == {
        ("work", "grace.hopper@example.com", False),
        ("home", "grace@hopper.example", False),
        ("other", "g@x.example", True),
    }
    # Entra's filtered path replaces the work value in place, keeping its other sub-attributes
    work = {"op": "replace", "path": 'emails[type eq "work"].value', "value": "grace@navy.example"}
    patched = await any_client.patch("/Users/2", json=patch_body(work))
    assert patched.status_code == 200, patched.text
    assert ("work", "grace@navy.example", False) in emails_of(hr_database, "2")
    assert len(emails_of(hr_database, "2")) == 3
    remove = {"op": "remove", "path": 'phoneNumbers[type eq "mobile"]'}
    patched = await any_client.patch("/Users/2", json=patch_body(remove))
    assert patched.status_code == 200, patched.text
    assert phones_of(hr_database, "2") == {("work", "+1 555 01002", True)}


async def test_primary_rules(any_client: httpx.AsyncClient, hr_database: HrDatabase) -> None:
    two = [{"value": "a@x.example", "primary": True}, {"value": "b@x.example", "primary": True}]
    refused = await any_client.post("/Users", json=new_user("two.primaries", emails=two))
    assert refused.status_code == 400 and refused.json()["scimType"] == "invalidValue"
    assert "emails.primary" in refused.json()["detail"]
    assert hr_database.execute("SELECT COUNT(*) FROM employees WHERE login = 'two.primaries'") == [(0,)]
    # none primary: stored as sent, no primary is made up
    none = [{"type": "work", "value": "a@x.example"}, {"type": "home", "value": "b@x.example"}]
    created = await any_client.post("/Users", json=new_user("no.primary", emails=none))
    assert created.status_code == 201, created.text
    assert all("primary" not in e for e in created.json()["emails"])
    assert {p for _, _, p in emails_of(hr_database, created.json()["id"])} == {False}


@pytest.mark.parametrize(
    ("emails", "path"),
    [
        ([{"value": "a@x.example", "display": "A"}], "emails.display"),  # no column keeps it
        ([{"value": "a@x.example", "type": 42}], "emails.type"),
        ([{"value": "a@x.example", "primary": "sometimes"}], "emails.primary"),
    ],
)
async def test_values_that_cannot_be_stored_are_400_and_nothing_is_written(
    any_client: httpx.AsyncClient, hr_database: HrDatabase, emails: list[Any], path: str
) -> None:
    refused = await any_client.post("/Users", json=new_user("not.stored", emails=emails))
    assert refused.status_code == 400 and refused.json()["scimType"] == "invalidValue"
    assert path in refused.json()["detail"]
    assert hr_database.execute("SELECT COUNT(*) FROM employees WHERE login = 'not.stored'") == [(0,)]


# ---------------------------------------------------------------------------------------------
# dangling references


def audit_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "mapper.audit"]


async def test_dangling_references_are_dropped_by_default(
    any_client: httpx.AsyncClient, hr_database: HrDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    stores = any_client.state["gateway"].stores  # type: ignore[attr-defined]
    before = stores["Group"].dangling_dropped + stores["User"].dangling_dropped
    with caplog.at_level(logging.INFO):
        add = {"op": "add", "path": "members", "value": [{"value": "999999"}, {"value": "20"}]}
        group = await any_client.patch("/Groups/3", json=patch_body(add))
        manager = {"op": "replace", "path": f"{ENTERPRISE}:manager", "value": "424242"}
        title = {"op": "replace", "path": "title", "value": "Still updated"}
        user = await any_client.patch("/Users/20", json=patch_body(manager, title))
        created = await any_client.post(
            "/Groups", json={"displayName": "Ghosts", "members": [{"value": "4242"}]}
        )
    assert group.status_code == 204, group.text
    stored = (await any_client.get("/Groups/3")).json()
    assert {m["value"] for m in stored["members"]} == {"3", "9", "10", "12", "18", "20"}
    assert hr_database.execute("SELECT COUNT(*) FROM group_members WHERE group_id = 3") == [(6,)]
    assert user.status_code == 200 and user.json()["title"] == "Still updated"
    assert "manager" not in user.json()[ENTERPRISE]
    assert hr_database.execute("SELECT manager_id FROM employees WHERE employee_id = 20") == [(None,)]
    assert created.status_code == 201 and "members" not in created.json()
    assert stores["Group"].dangling_dropped + stores["User"].dangling_dropped == before + 3
    assert "members.value '999999' names no object" in caplog.text
    assert "manager.value '424242' names no object" in caplog.text
    dropped = [line.get("dropped") for line in audit_lines(caplog)]
    assert dropped == [
        [{"path": "members.value", "id": "999999"}],
        [{"path": "manager.value", "id": "424242"}],
        [{"path": "members.value", "id": "4242"}],
    ]


@pytest.fixture
def rejecting_map(tmp_path: Path) -> Path:
    text = HR_MAP.read_text(encoding="utf-8")
    text = text.replace("reference User\n", "reference User on missing reject\n")
    text = text.replace("multi members reference User {", "multi members reference User on missing reject {")
    assert text.count("on missing reject") == 2
    path = tmp_path / "rejecting.map"
    path.write_text(text, encoding="utf-8")
    return path


async def test_dangling_references_are_refused_with_reject(
    hr_database: HrDatabase, rejecting_map: Path
) -> None:
    async with scim_client(hr_database, mapping=rejecting_map) as client:
        before = hr_database.execute("SELECT COUNT(*) FROM group_members")
        add = {"op": "add", "path": "members", "value": [{"value": "20"}, {"value": "999999"}]}
        refused = await client.patch("/Groups/3", json=patch_body(add))
        assert refused.status_code == 400 and refused.json()["scimType"] == "invalidValue"
        assert "members.value" in refused.json()["detail"] and "999999" in refused.json()["detail"]
        assert hr_database.execute("SELECT COUNT(*) FROM group_members") == before
        manager = {"op": "replace", "path": f"{ENTERPRISE}:manager", "value": "424242"}
        title = {"op": "replace", "path": "title", "value": "Not written"}
        refused = await client.patch("/Users/20", json=patch_body(manager, title))
        assert refused.status_code == 400 and "424242" in refused.json()["detail"]
        assert hr_database.execute("SELECT title, manager_id FROM employees WHERE employee_id = 20") == [
            ("Kernel Engineer", 6)
        ]
        body = new_user("orphan")
        body[ENTERPRISE] = {"manager": {"value": "424242"}}
        assert (await client.post("/Users", json=body)).status_code == 400
        assert hr_database.execute("SELECT COUNT(*) FROM employees WHERE login = 'orphan'") == [(0,)]
        existing = await client.patch("/Groups/3", json=patch_body({**add, "value": [{"value": "20"}]}))
        assert existing.status_code == 204, existing.text


# ---------------------------------------------------------------------------------------------
# no-op PATCH


def count_updates(db: HrDatabase) -> None:
    """A table that counts UPDATEs of employees, in every dialect (MariaDB's ON UPDATE leaves
    updated_at alone when no value changes, so it cannot tell on its own)."""
    db.execute("CREATE TABLE employee_updates (employee_id INTEGER)")
    if db.dialect == "postgres":
        db.execute(
            "CREATE FUNCTION log_update() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            " INSERT INTO employee_updates VALUES (NEW.employee_id); RETURN NULL; END; $$"
        )
        db.execute(
            "CREATE TRIGGER log_updates AFTER UPDATE ON employees FOR EACH ROW EXECUTE FUNCTION log_update()"
        )
    elif db.dialect == "mysql":
        db.execute(
            "CREATE TRIGGER log_updates AFTER UPDATE ON employees FOR EACH ROW"
            " INSERT INTO employee_updates VALUES (NEW.employee_id)"
        )
    else:
        db.execute(
            "CREATE TRIGGER log_updates AFTER UPDATE ON employees"
            " BEGIN INSERT INTO employee_updates VALUES (NEW.employee_id); END"
        )


def updates(db: HrDatabase) -> int:
    return int(db.execute("SELECT COUNT(*) FROM employee_updates")[0][0])


async def test_a_patch_that_changes_nothing_writes_nothing(
    any_client: httpx.AsyncClient, hr_database: HrDatabase
) -> None:
    count_updates(hr_database)
    before = (await any_client.get("/Users/5")).json()
    stamp = hr_database.execute("SELECT updated_at FROM employees WHERE employee_id = 5")
    same = [
        {"op": "replace", "path": "title", "value": before["title"]},
        {"op": "replace", "path": "active", "value": "True"},  # the same value, spelled as Entra does
        {
            "op": "add",
            "path": "emails",
            "value": [{"type": "work", "value": "margaret.hamilton@example.com"}],
        },
        {"op": "replace", "path": f"{ENTERPRISE}:manager", "value": "2"},
        {"op": "replace", "path": "profileUrl", "value": "https://example.com/maggie"},  # not mapped
        {"op": "add", "path": "roles", "value": [{"value": "admin"}]},  # not mapped
    ]
    for operation in same:
        patched = await any_client.patch("/Users/5", json=patch_body(operation))
        assert patched.status_code == 200, (operation, patched.text)
        assert patched.headers["etag"] == before["meta"]["version"], operation
        assert patched.json()["meta"]["lastModified"] == before["meta"]["lastModified"]
    assert updates(hr_database) == 0
    assert hr_database.execute("SELECT updated_at FROM employees WHERE employee_id = 5") == stamp
    # the same through PUT: the resource as read
    put = await any_client.put("/Users/5", json=before)
    assert put.status_code == 200 and put.headers["etag"] == before["meta"]["version"]
    assert updates(hr_database) == 0
    # and a real change does write (so the counter can tell)
    changed = await any_client.patch(
        "/Users/5", json=patch_body({"op": "replace", "path": "title", "value": "Lead"})
    )
    assert changed.status_code == 200 and changed.headers["etag"] != before["meta"]["version"]
    assert updates(hr_database) >= 1


async def test_a_no_op_still_honours_the_clients_if_match(any_client: httpx.AsyncClient) -> None:
    same = patch_body({"op": "replace", "path": "title", "value": "Engineering Manager"})
    stale = await any_client.patch("/Users/5", json=same, headers={"If-Match": 'W/"0000000000000000"'})
    assert stale.status_code == 412


# ---------------------------------------------------------------------------------------------
# strict


async def test_strict_patch_refuses_unmapped_attributes(hr_database: HrDatabase) -> None:
    async with scim_client(hr_database, strict=True) as client:
        for operation in (
            {"op": "replace", "path": "profileUrl", "value": "https://example.com/x"},
            {"op": "add", "path": "roles", "value": [{"value": "admin"}]},
            {"op": "replace", "value": {"profileUrl": "https://example.com/x"}},
            {"op": "replace", "path": 'addresses[type eq "home"].locality', "value": "Home Town"},
            {"op": "replace", "path": "name.middleName", "value": "Q"},
            {"op": "replace", "path": f"{ENTERPRISE}:costCenter", "value": "42"},
        ):
            refused = await client.patch("/Users/5", json=patch_body(operation))
            assert refused.status_code == 400, (operation, refused.text)
            assert refused.json()["scimType"] == "invalidPath"
        for operation in (
            {"op": "replace", "path": "title", "value": "Lead"},
            {"op": "replace", "path": 'emails[type eq "work"].value', "value": "m@example.com"},
            {"op": "add", "path": "phoneNumbers", "value": [{"type": "fax", "value": "+1 555 0"}]},
            {"op": "replace", "path": 'addresses[type eq "work"].locality', "value": "Work Town"},
            {"op": "replace", "value": {"name.givenName": "Maggie", "active": True}},
            {"op": "replace", "path": f"{ENTERPRISE}:manager", "value": "2"},
        ):
            accepted = await client.patch("/Users/5", json=patch_body(operation))
            assert accepted.status_code == 200, (operation, accepted.text)
    async with scim_client(hr_database) as lenient:  # the default: ignored, 200
        unmapped = patch_body({"op": "replace", "path": "profileUrl", "value": "https://example.com/x"})
        assert (await lenient.patch("/Users/5", json=unmapped)).status_code == 200
