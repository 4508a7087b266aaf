"""The resource endpoints end to end: create, get, replace, delete, ETags and preconditions,
uniqueness, and the lenient forms of paths and ids real clients send."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.scim import CORE_GROUP, ENTERPRISE, ERROR, LIST, new_user, patch_body

pytestmark = pytest.mark.anyio


def assert_error(response: httpx.Response, status: int, scim_type: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/scim+json")
    body = response.json()
    assert body["schemas"] == [ERROR]
    assert body["status"] == str(status)
    assert body["detail"]
    if scim_type is not None:
        assert body.get("scimType") == scim_type
    return body


async def test_user_lifecycle_on_every_database(any_client: httpx.AsyncClient) -> None:
    created = await any_client.post("/Users", json=new_user("new.person", title="Engineer"))
    assert created.status_code == 201, created.text
    user = created.json()
    assert user["userName"] == "new.person"
    assert user["title"] == "Engineer"
    assert created.headers["location"] == user["meta"]["location"]
    assert created.headers["location"] == f"http://scim.test/scim/v2/Users/{user['id']}"
    assert created.headers["etag"] == user["meta"]["version"]
    assert user["meta"]["resourceType"] == "User"

    got = await any_client.get(f"/Users/{user['id']}")
    assert got.status_code == 200
    assert got.json()["userName"] == "new.person"
    assert got.headers["etag"] == user["meta"]["version"]

    replaced = await any_client.put(
        f"/Users/{user['id']}", json=new_user("new.person", title="Manager", displayName="New Person")
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["title"] == "Manager"
    assert replaced.headers["etag"] != user["meta"]["version"]

    patched = await any_client.patch(
        f"/Users/{user['id']}", json=patch_body({"op": "Replace", "path": "title", "value": "Director"})
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["title"] == "Director"

    deleted = await any_client.delete(f"/Users/{user['id']}")
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert_error(await any_client.get(f"/Users/{user['id']}"), 404)


async def test_group_lifecycle_with_members_on_every_database(any_client: httpx.AsyncClient) -> None:
    created = await any_client.post(
        "/Groups", json={"schemas": [CORE_GROUP], "displayName": "Pilots", "members": [{"value": "2"}]}
    )
    assert created.status_code == 201, created.text
    group = created.json()
    assert [m["value"] for m in group["members"]] == ["2"]
    member = group["members"][0]
    assert member["display"] == "Grace Hopper"
    assert member["$ref"] == "http://scim.test/scim/v2/Users/2"
    assert member["type"] == "User"

    added = await any_client.patch(
        f"/Groups/{group['id']}",
        json=patch_body({"op": "Add", "path": "members", "value": [{"value": "3"}, {"value": "4"}]}),
    )
    assert added.status_code == 204, added.text
    added = await any_client.get(f"/Groups/{group['id']}")
    assert sorted(m["value"] for m in added.json()["members"]) == ["2", "3", "4"]

    removed = await any_client.patch(
        f"/Groups/{group['id']}", json=patch_body({"op": "Remove", "path": 'members[value eq "3"]'})
    )
    assert removed.status_code == 204, removed.text
    removed = await any_client.get(f"/Groups/{group['id']}")
    assert sorted(m["value"] for m in removed.json()["members"]) == ["2", "4"]

    assert (await any_client.delete(f"/Groups/{group['id']}")).status_code == 204


async def test_post_ignores_unmapped_attributes_and_server_owned_ones(client: httpx.AsyncClient) -> None:
    body = new_user(
        "ignores.extras",
        roles=[{"value": "admin"}],
        ims=[{"type": "work", "value": "extras@chat.example"}],
        id="999",
        meta={"created": "2000-01-01T00:00:00Z", "resourceType": "User"},
    )
    body["schemas"].append("http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/User")
    response = await client.post("/Users", json=body)
    assert response.status_code == 201, response.text
    user = response.json()
    assert "roles" not in user and "ims" not in user
    assert user["id"] != "999"
    assert not user["meta"]["created"].startswith("2000")


async def test_adscim_group_schema_is_accepted(client: httpx.AsyncClient) -> None:
    body = {
        "schemas": [CORE_GROUP, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
        "displayName": "AD group",
        "externalId": "ad-1",
        "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group": {"description": "x"},
    }
    response = await client.post("/Groups", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["displayName"] == "AD group"


async def test_enterprise_attributes_and_manager(client: httpx.AsyncClient) -> None:
    body = new_user("has.manager")
    body["schemas"].append(ENTERPRISE)
    body[ENTERPRISE] = {"Department": "Research", "manager": {"value": "3"}}
    response = await client.post("/Users", json=body)
    assert response.status_code == 201, response.text
    extension = response.json()[ENTERPRISE]
    assert extension["department"] == "Research"
    assert extension["manager"]["value"] == "3"


async def test_string_booleans_are_read_as_booleans(client: httpx.AsyncClient) -> None:
    response = await client.post("/Users", json=new_user("string.bool", active="False"))
    assert response.status_code == 201, response.text
    assert response.json()["active"] is False


async def test_duplicate_user_name_is_409_uniqueness(client: httpx.AsyncClient) -> None:
    assert_error(await client.post("/Users", json=new_user("ADA.LOVELACE")), 409, "uniqueness")


async def test_put_that_takes_another_users_name_is_409(client: httpx.AsyncClient) -> None:
    assert_error(await client.put("/Users/2", json=new_user("ada.lovelace")), 409, "uniqueness")


async def test_missing_required_attribute_is_400(client: httpx.AsyncClient) -> None:
    body = new_user("x")
    del body["userName"]
    assert_error(await client.post("/Users", json=body), 400, "invalidValue")
    assert_error(await client.put("/Users/2", json=body), 400, "invalidValue")


async def test_misspelled_attribute_on_put_is_ignored(client: httpx.AsyncClient) -> None:
    response = await client.put("/Users/2", json=new_user("grace.hopper", adreses=[{"country": "Germany"}]))
    assert response.status_code == 200, response.text
    assert "adreses" not in response.json()


async def test_unknown_ids_are_404(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/Users/999999"), 404)
    assert_error(await client.get("/Users/010101001010101011001010101011"), 404)
    assert_error(await client.get("/Users/not-a-number"), 404)
    assert_error(await client.put("/Users/999999", json=new_user("nobody")), 404)
    assert_error(await client.patch("/Users/999999", json=patch_body({"op": "remove", "path": "title"})), 404)
    assert_error(await client.delete("/Users/999999"), 404)
    assert_error(await client.get("/Groups/999999"), 404)


async def test_double_encoded_ids_are_decoded_again(client: httpx.AsyncClient) -> None:
    # Entra ID encodes some ids twice: %2532 is "%32" after one decoding, "2" after two.
    response = await client.get("/Users/%2532")
    assert response.status_code == 200, response.text
    assert response.json()["id"] == "2"
    patched = await client.patch(
        "/Users/%2532", json=patch_body({"op": "replace", "path": "title", "value": "CTO"})
    )
    assert patched.status_code == 200
    assert patched.json()["title"] == "CTO"


async def test_location_percent_encodes_the_id(client: httpx.AsyncClient) -> None:
    from mapper.scim.routes.urls import location

    assert location("https://h/scim/v2", "/Groups", "CN=1,OBJECT=GROUP") == (
        "https://h/scim/v2/Groups/CN%3D1%2COBJECT%3DGROUP"
    )


async def test_lowercase_paths_and_trailing_slashes(client: httpx.AsyncClient) -> None:
    listed = await client.get("/users")
    assert listed.status_code == 200
    assert listed.json()["schemas"] == [LIST]
    filtered = await client.get("/Users/", params={"filter": 'userName eq "grace.hopper"'})
    assert filtered.status_code == 200
    assert [r["id"] for r in filtered.json()["Resources"]] == ["2"]
    assert (await client.get("/GROUPS/2/")).json()["displayName"] == "Engineering"
    assert (await client.get("/users/2")).json()["userName"] == "grace.hopper"


async def test_etag_preconditions(client: httpx.AsyncClient) -> None:
    current = await client.get("/Users/5")
    version = current.headers["etag"]
    assert version.startswith('W/"')

    assert (await client.get("/Users/5", headers={"If-None-Match": version})).status_code == 304
    assert (await client.get("/Users/5", headers={"If-None-Match": 'W/"other"'})).status_code == 200

    stale = {"If-Match": 'W/"stale"'}
    op = patch_body({"op": "replace", "path": "title", "value": "X"})
    assert_error(await client.patch("/Users/5", json=op, headers=stale), 412)
    assert_error(await client.put("/Users/5", json=new_user("margaret.hamilton"), headers=stale), 412)
    assert_error(await client.delete("/Users/5", headers=stale), 412)

    fresh = await client.patch("/Users/5", json=op, headers={"If-Match": version})
    assert fresh.status_code == 200, fresh.text
    assert fresh.headers["etag"] != version
    assert (await client.delete("/Users/5", headers={"If-Match": fresh.headers["etag"]})).status_code == 204


async def test_patch_that_changes_nothing_keeps_the_version(client: httpx.AsyncClient) -> None:
    before = await client.get("/Users/2")
    same = await client.patch(
        "/Users/2", json=patch_body({"op": "replace", "path": "title", "value": before.json()["title"]})
    )
    assert same.status_code == 200
    assert same.headers["etag"] == before.headers["etag"]


async def test_get_by_id_honours_attributes(client: httpx.AsyncClient) -> None:
    response = await client.get("/Users/2", params={"attributes": "userName"})
    body = response.json()
    assert set(body) == {"schemas", "id", "userName", "meta"}
    excluded = (await client.get("/Groups/2", params={"excludedAttributes": "members"})).json()
    assert "members" not in excluded and excluded["displayName"] == "Engineering"


async def test_group_members_are_listed_with_display_names(client: httpx.AsyncClient) -> None:
    group = (await client.get("/Groups/4")).json()
    assert group["members"]
    for member in group["members"]:
        assert member["display"]
        assert member["$ref"].endswith(f"/Users/{member['value']}")


async def test_deleting_a_user_drops_it_from_groups(client: httpx.AsyncClient) -> None:
    group = (await client.get("/Groups/2")).json()
    member = group["members"][0]["value"]
    assert (await client.delete(f"/Users/{member}")).status_code == 204
    after = (await client.get("/Groups/2")).json()
    assert member not in [m["value"] for m in after.get("members", [])]


async def test_member_that_does_not_exist_is_left_out(client: httpx.AsyncClient) -> None:
    """``on missing drop``, the default (test_app_children has both policies on every database)."""
    before = (await client.get("/Groups/2")).json()
    op = patch_body({"op": "add", "path": "members", "value": [{"value": "999999"}]})
    after = await client.patch("/Groups/2", json=op)
    assert after.status_code == 204 and (await client.get("/Groups/2")).json()["members"] == before["members"]


async def test_head_reads_and_never_writes(client: httpx.AsyncClient) -> None:
    head = await client.head("/Users/3")
    assert head.status_code == 200
    assert head.content == b""
    assert (await client.get("/Users/3")).status_code == 200
    assert (await client.head("/Users")).status_code == 200


async def test_member_display_falls_back_to_the_user_name(client: httpx.AsyncClient) -> None:
    user = (await client.post("/Users", json=new_user("no.display.name"))).json()
    assert "displayName" not in user
    op = patch_body({"op": "add", "path": "members", "value": [{"value": user["id"]}]})
    assert (await client.patch("/Groups/1", json=op)).status_code == 204
    group = (await client.get("/Groups/1")).json()
    member = next(m for m in group["members"] if m["value"] == user["id"])
    assert member["display"] == "no.display.name"


async def test_location_follows_the_request_host(client: httpx.AsyncClient) -> None:
    for host in ("idm.example.com", "idm.example.com:8443", "other.example.org"):
        user = (await client.get("/Users/2", headers={"Host": host})).json()
        assert user["meta"]["location"] == f"http://{host}/scim/v2/Users/2"


async def test_create_and_replace_with_a_manager_that_does_not_exist(client: httpx.AsyncClient) -> None:
    body = new_user("dangling.manager")
    body["schemas"].append(ENTERPRISE)
    body[ENTERPRISE] = {"Department": "bob", "Manager": {"Value": "SuzzyQ"}}  # Microsoft's collection
    created = await client.post("/Users", json=body)
    assert created.status_code == 201, created.text
    extension = created.json()[ENTERPRISE]
    assert extension == {"department": "bob"}
    replaced = await client.put(f"/Users/{created.json()['id']}", json=body)
    assert replaced.status_code == 200, replaced.text
    assert "manager" not in replaced.json()[ENTERPRISE]
