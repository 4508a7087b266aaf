"""Every PATCH form Microsoft Entra ID sends, end to end through HTTP into the database and back,
plus the PATCH errors a client can cause."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.scim import ENTERPRISE, patch_body, scim_client

pytestmark = pytest.mark.anyio


async def patch(client: httpx.AsyncClient, path: str, *operations: dict[str, Any]) -> dict[str, Any]:
    """PATCH ``path``; the resource as stored afterwards. A User PATCH answers 200 with what was
    stored; a Group PATCH (membership lists) 204 with the stored version as its ETag."""
    response = await client.patch(path, json=patch_body(*operations))
    stored = (await client.get(path)).json()  # what the database now holds
    if path.startswith("/Groups"):
        assert response.status_code == 204, response.text
        assert response.content == b"" and response.headers["etag"] == stored["meta"]["version"]
    else:
        assert response.status_code == 200, response.text
        assert stored == response.json()
    return stored


def work_email(user: dict[str, Any]) -> str | None:
    return next((e["value"] for e in user.get("emails", []) if e.get("type") == "work"), None)


async def test_entra_user_update_on_every_database(any_client: httpx.AsyncClient) -> None:
    user = await patch(
        any_client,
        "/Users/6",
        {"op": "Replace", "path": "displayName", "value": "D. Ritchie"},
        {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "dmr@example.com"},
        {"op": "Replace", "path": "name.givenName", "value": "Dennis M."},
        {"op": "Add", "path": f"{ENTERPRISE}:department", "value": "Unix"},
        {"op": "Replace", "path": "active", "value": "False"},
    )
    assert user["displayName"] == "D. Ritchie"
    assert work_email(user) == "dmr@example.com"
    assert user["name"]["givenName"] == "Dennis M."
    assert user[ENTERPRISE]["department"] == "Unix"
    assert user["active"] is False


async def test_op_in_any_case_and_boolean_strings(client: httpx.AsyncClient) -> None:
    user = await patch(client, "/Users/2", {"op": "replace", "path": "active", "value": "false"})
    assert user["active"] is False
    user = await patch(client, "/Users/2", {"op": "REPLACE", "path": "active", "value": True})
    assert user["active"] is True


async def test_pathless_replace_with_dotted_and_urn_keys(client: httpx.AsyncClient) -> None:
    user = await patch(
        client,
        "/Users/7",
        {
            "op": "Replace",
            "value": {
                "displayName": "Kenneth Thompson",
                "name.familyName": "Thompson II",
                f"{ENTERPRISE}:employeeNumber": "E9999",
                "active": False,
            },
        },
    )
    assert user["displayName"] == "Kenneth Thompson"
    assert user["name"]["familyName"] == "Thompson II"
    assert user[ENTERPRISE]["employeeNumber"] == "E9999"
    assert user["active"] is False


async def test_pathless_add_with_an_extension_object(client: httpx.AsyncClient) -> None:
    user = await patch(client, "/Users/7", {"op": "add", "value": {ENTERPRISE: {"department": "Plan 9"}}})
    assert user[ENTERPRISE]["department"] == "Plan 9"


async def test_add_work_email_to_a_user_without_one(client: httpx.AsyncClient) -> None:
    await patch(client, "/Users/8", {"op": "remove", "path": 'emails[type eq "work"]'})
    assert work_email((await client.get("/Users/8")).json()) is None
    user = await patch(
        client, "/Users/8", {"op": "Add", "path": 'emails[type eq "work"].value', "value": "bl@example.com"}
    )
    assert work_email(user) == "bl@example.com"


async def test_manager_set_as_a_bare_id_and_removed(any_client: httpx.AsyncClient) -> None:
    user = await patch(any_client, "/Users/20", {"op": "Add", "path": f"{ENTERPRISE}:manager", "value": "2"})
    assert user[ENTERPRISE]["manager"]["value"] == "2"
    user = await patch(
        any_client, "/Users/20", {"op": "Replace", "path": f"{ENTERPRISE}:manager", "value": {"value": "3"}}
    )
    assert user[ENTERPRISE]["manager"]["value"] == "3"
    user = await patch(any_client, "/Users/20", {"op": "Remove", "path": f"{ENTERPRISE}:manager"})
    assert "manager" not in user.get(ENTERPRISE, {})


async def test_a_manager_that_does_not_exist_is_dropped_with_a_warning(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING"):
        user = await patch(
            client,
            "/Users/20",
            {"op": "Add", "path": f"{ENTERPRISE}:manager", "value": "424242"},
            {"op": "Replace", "path": "title", "value": "Still updated"},
        )
    assert "manager" not in user.get(ENTERPRISE, {})
    assert user["title"] == "Still updated"
    assert "manager.value '424242' names no object; left out" in caplog.text


async def test_entra_group_membership_on_every_database(any_client: httpx.AsyncClient) -> None:
    group = await patch(any_client, "/Groups/3", {"op": "Add", "path": "members", "value": [{"value": "20"}]})
    assert "20" in [m["value"] for m in group["members"]]
    group = await patch(
        any_client, "/Groups/3", {"op": "Remove", "path": "members", "value": [{"value": "20"}]}
    )
    assert "20" not in [m["value"] for m in group.get("members", [])]
    group = await patch(any_client, "/Groups/3", {"op": "Replace", "path": "displayName", "value": "R&D"})
    assert group["displayName"] == "R&D"


async def test_member_add_is_idempotent_and_remove_of_a_non_member_succeeds(
    client: httpx.AsyncClient,
) -> None:
    before = (await client.get("/Groups/2")).json()
    present = before["members"][0]["value"]
    again = await patch(client, "/Groups/2", {"op": "add", "path": "members", "value": [{"value": present}]})
    assert len(again["members"]) == len(before["members"])
    same = await patch(client, "/Groups/2", {"op": "remove", "path": 'members[value eq "19"]'})
    assert len(same["members"]) == len(before["members"])


async def test_remove_all_members_and_replace_them(client: httpx.AsyncClient) -> None:
    group = await patch(client, "/Groups/2", {"op": "remove", "path": "members"})
    assert not group.get("members")
    group = await patch(
        client, "/Groups/2", {"op": "replace", "path": "members", "value": [{"value": "1"}, {"value": "2"}]}
    )
    assert sorted(m["value"] for m in group["members"]) == ["1", "2"]


async def test_member_given_as_a_plain_string(client: httpx.AsyncClient) -> None:
    group = await patch(client, "/Groups/1", {"op": "add", "path": "members", "value": "19"})
    assert "19" in [m["value"] for m in group["members"]]


async def test_patch_is_atomic(client: httpx.AsyncClient) -> None:
    before = (await client.get("/Users/9")).json()
    response = await client.patch(
        "/Users/9",
        json=patch_body(
            {"op": "replace", "path": "title", "value": "Changed"},
            {"op": "frobnicate", "path": "title", "value": "x"},
        ),
    )
    assert response.status_code == 400
    assert (await client.get("/Users/9")).json() == before


@pytest.mark.parametrize(
    ("operations", "scim_type"),
    [
        ([{"op": "frobnicate", "path": "title", "value": "x"}], "invalidSyntax"),
        ([{"op": "replace", "path": "title"}], "invalidValue"),
        ([{"op": "remove"}], "noTarget"),
        ([{"op": "replace", "path": "title[", "value": "x"}], "invalidPath"),
        ([{"op": "replace", "path": "meta.created", "value": "2020-01-01T00:00:00Z"}], "mutability"),
        ([{"op": "replace", "path": "active", "value": "maybe"}], "invalidValue"),
        ([], "invalidSyntax"),
    ],
)
async def test_patch_errors(client: httpx.AsyncClient, operations: list[Any], scim_type: str) -> None:
    response = await client.patch("/Users/9", json=patch_body(*operations))
    assert response.status_code == 400, response.text
    assert response.json()["scimType"] == scim_type


@pytest.mark.parametrize(
    ("op", "path", "value"),
    [
        ("replace", "emails[foo eq 1].value", "x@example.com"),
        ("add", "emails[foo eq 1].value", "x@example.com"),
        ("add", 'emails[type eq "work" and Foo eq "x"].value', "x@example.com"),
        ("add", "emails[foo pr]", {"value": "x@example.com"}),
        ("remove", "emails[foo eq 1]", None),
    ],
)
async def test_a_value_filter_on_a_sub_attribute_emails_lack_is_invalid_filter_and_writes_nothing(
    any_client: httpx.AsyncClient, hr_database: Any, op: str, path: str, value: Any
) -> None:
    """``emails[foo eq 1].value`` matched no item, so add and replace made one from the filter: a
    new row in the emails table holding the value, on every database. RFC 7644 §3.12's
    invalidFilter covers a PATCH path's filter naming an attribute it cannot compare."""
    before = (await any_client.get("/Users/6")).json()
    operation = {"op": op, "path": path} | ({} if value is None else {"value": value})
    response = await any_client.patch("/Users/6", json=patch_body(operation))
    assert response.status_code == 400, response.text
    assert response.json()["scimType"] == "invalidFilter"
    assert response.json()["detail"] == (
        f"Operations[0]: 'emails' has no sub-attribute '{'Foo' if 'Foo' in path else 'foo'}'"
        " (it has value, display, type, primary)"
    )
    assert (await any_client.get("/Users/6")).json() == before
    rows = hr_database.execute("SELECT address FROM employee_emails WHERE employee_id = 6 ORDER BY address")
    assert rows == [("dennis.ritchie@example.com",), ("dmr@bell-labs.example",)]


async def test_patch_without_operations_is_400(client: httpx.AsyncClient) -> None:
    response = await client.patch(
        "/Users/9", json={"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}
    )
    assert response.status_code == 400
    assert response.json()["scimType"] == "invalidSyntax"


async def test_renaming_to_a_taken_user_name_is_409(client: httpx.AsyncClient) -> None:
    response = await client.patch(
        "/Users/9", json=patch_body({"op": "replace", "path": "userName", "value": "ADA.lovelace"})
    )
    assert response.status_code == 409
    assert response.json()["scimType"] == "uniqueness"


async def test_patch_never_overwrites_a_change_made_behind_the_gateway(hr_database: Any) -> None:
    async with scim_client(hr_database) as client:
        assert (await client.get("/Users/6")).json()["title"] == "Senior Engineer"  # cached
        hr_database.execute("UPDATE employees SET title = 'Changed in HR' WHERE employee_id = 6")
        user = await patch(client, "/Users/6", {"op": "replace", "path": "displayName", "value": "DMR"})
        assert user["displayName"] == "DMR"
        assert user["title"] == "Changed in HR"
        rows = hr_database.execute("SELECT title, display_name FROM employees WHERE employee_id = 6")
        assert rows == [("Changed in HR", "DMR")]


async def test_writing_meta_version_as_it_is_changes_nothing(client: httpx.AsyncClient) -> None:
    """A readOnly attribute written with the value it has is a no-op: ``meta.version`` too, though
    a PATCH that leaves ``meta`` alone is applied to the cached resource without its version."""
    before = (await client.get("/Users/2")).json()
    version = before["meta"]["version"]
    operation = {"op": "replace", "path": "meta.version", "value": version}
    response = await client.patch("/Users/2", json=patch_body(operation))
    assert response.status_code == 200, response.text
    assert response.json() == before and response.headers["etag"] == version


async def test_meta_written_without_its_version_is_a_change_to_a_read_only_attribute(
    client: httpx.AsyncClient,
) -> None:
    meta = (await client.get("/Users/2")).json()["meta"]
    given = {k: v for k, v in meta.items() if k not in ("version", "location")}
    response = await client.patch(
        "/Users/2", json=patch_body({"op": "replace", "path": "meta", "value": given})
    )
    assert response.status_code == 400, response.text
    assert response.json()["scimType"] == "mutability"


async def test_okta_deactivation_with_the_id_in_the_value(client: httpx.AsyncClient) -> None:
    user = await patch(client, "/Users/2", {"op": "replace", "value": {"id": "2", "active": False}})
    assert user["active"] is False


async def test_unmapped_attributes_in_patch_are_accepted_and_ignored(client: httpx.AsyncClient) -> None:
    user = await patch(
        client,
        "/Users/4",
        {"op": "Add", "path": 'ims[type eq "work"].value', "value": "babs@chat.example"},
        {"op": "Add", "path": "roles", "value": [{"value": "admin", "primary": "True"}]},
        {"op": "Replace", "path": "preferredLanguage", "value": "en-GB"},
        {"op": "Replace", "path": "title", "value": "CFO"},
    )
    assert user["title"] == "CFO"
    assert "ims" not in user and "roles" not in user and "preferredLanguage" not in user


async def test_concurrent_member_additions_all_land(any_client: httpx.AsyncClient) -> None:
    """Entra ID adds members with concurrent PATCHes; none may be refused or lost."""
    import anyio

    created = await any_client.post(
        "/Groups", json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Crowd"}
    )
    assert created.status_code == 201, created.text
    group = created.json()["id"]
    members = [str(n) for n in range(2, 10)]
    statuses: list[int] = []

    async def add(member: str) -> None:
        body = patch_body({"op": "Add", "path": "members", "value": [{"value": member}]})
        statuses.append((await any_client.patch(f"/Groups/{group}", json=body)).status_code)

    async with anyio.create_task_group() as tasks:
        for member in members:
            tasks.start_soon(add, member)
    assert statuses == [204] * len(members)
    stored = (await any_client.get(f"/Groups/{group}")).json()
    assert sorted(m["value"] for m in stored["members"]) == sorted(members)


async def test_patch_after_a_member_was_deleted_needs_no_if_match(client: httpx.AsyncClient) -> None:
    """Deleting a user cascades to its memberships in the database; the next PATCH of the group,
    sent without If-Match, applies to the group as the database now holds it."""
    created = await client.post(
        "/Groups",
        json={
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "Cascade",
            "members": [{"value": "2"}, {"value": "3"}],
        },
    )
    group = created.json()["id"]
    assert (await client.delete("/Users/3")).status_code == 204
    stored = await patch(
        client, f"/Groups/{group}", {"op": "Add", "path": "members", "value": [{"value": "4"}]}
    )
    assert sorted(m["value"] for m in stored["members"]) == ["2", "4"]
