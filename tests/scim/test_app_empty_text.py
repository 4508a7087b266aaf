"""Text columns that keep "no value" as ``''`` (``NOT NULL DEFAULT ''``), mapped ``null ""``: the
WordPress and Moodle schemas of tests/scaffold/schemas, served through the mappings ``mapper init``
drafts for them (tests/fixtures/scaffold/*.map), on SQLite, PostgreSQL and MariaDB.

Entra ID clears an attribute whose source attribute was emptied with the requests below; each
wrote NULL into the NOT NULL column, so the database refused it and every such sync failed. A
column's ``''`` was served as ``""``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from mapper.scim.routes import search as search_route
from tests.support.databases import HrDatabase
from tests.support.scaffold import GOLDEN, KINDS, load_schema
from tests.support.scim import CORE_USER, PATCH_OP, scim_client

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def served(
    schema: str,
    kind: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    edit: tuple[str, str] | None = None,
) -> AsyncIterator[tuple[httpx.AsyncClient, HrDatabase]]:
    """``schema`` loaded into a database of ``kind`` and served through its drafted mapping
    (``edit``: a replacement made in the mapping's text first)."""
    db = load_schema(schema, kind, tmp_path, request)
    text = (GOLDEN / f"{schema}.{kind}.map").read_text(encoding="utf-8")
    if edit is not None:
        assert edit[0] in text
        text = text.replace(*edit)
    mapping = tmp_path / f"{schema}.map"
    mapping.write_text(text, encoding="utf-8")
    database = HrDatabase(kind, db.dialect, db.url)
    async with scim_client(database, mapping=mapping, environ={"SCRATCH_DATABASE_URL": db.url}) as client:
        yield client, database


def patch(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


async def search(client: httpx.AsyncClient, filter: str) -> list[str]:
    found = await client.get(f"/Users?filter={quote(filter)}")
    assert found.status_code == 200, found.text
    return sorted(r["userName"] for r in found.json().get("Resources", []))


# -- WordPress: wp_users.display_name, user_url, user_email NOT NULL DEFAULT '' ------------------

WP_USER = {
    "schemas": [CORE_USER],
    "userName": "joan",
    "displayName": "Joan Clarke",
    "profileUrl": "https://example.com/joan",
    "emails": [{"type": "work", "value": "joan@example.com", "primary": True}],
}

#: Entra's requests that clear an attribute: a Remove with a path (operation names capitalised, as
#: Entra sends them without aadOptscim062020), a Replace with null or "", the flag's path-less form
CLEARING = {
    "remove": {"op": "Remove", "path": "displayName"},
    "remove-lower-case": {"op": "remove", "path": "displayName"},
    "replace-null": {"op": "Replace", "path": "displayName", "value": None},
    "replace-empty": {"op": "Replace", "path": "displayName", "value": ""},
    "replace-without-path": {"op": "replace", "value": {"displayName": None}},
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("operation", CLEARING.values(), ids=CLEARING.keys())
async def test_entra_clears_an_attribute_kept_as_empty_text(
    kind: str, operation: dict[str, Any], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    async with served("wordpress", kind, tmp_path, request) as (client, db):
        created = await client.post("/Users", json=WP_USER)
        assert created.status_code == 201, created.text
        id = created.json()["id"]
        cleared = await client.patch(f"/Users/{id}", json=patch(operation))
        assert cleared.status_code in (200, 204), cleared.text
        assert db.execute("SELECT display_name FROM wp_users WHERE user_login = 'joan'") == [("",)]
        fetched = (await client.get(f"/Users/{id}")).json()
        assert "displayName" not in fetched
        assert fetched["profileUrl"] == "https://example.com/joan"  # the others are kept


@pytest.mark.parametrize("kind", KINDS)
async def test_entra_clears_each_attribute_in_one_patch(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    async with served("wordpress", kind, tmp_path, request) as (client, db):
        created = await client.post("/Users", json=WP_USER)
        id = created.json()["id"]
        cleared = await client.patch(
            f"/Users/{id}",
            json=patch(
                {"op": "Remove", "path": 'emails[type eq "work"].value'},
                {"op": "Replace", "path": "profileUrl", "value": None},
                {"op": "Remove", "path": "displayName"},
            ),
        )
        assert cleared.status_code in (200, 204), cleared.text
        rows = db.execute("SELECT user_email, user_url, display_name FROM wp_users WHERE user_login = 'joan'")
        assert rows == [("", "", "")]
        fetched = (await client.get(f"/Users/{id}")).json()
        assert not {"emails", "profileUrl", "displayName"} & set(fetched), fetched
        # and set again
        again = await client.patch(
            f"/Users/{id}", json=patch({"op": "Add", "path": "displayName", "value": "J"})
        )
        assert again.status_code in (200, 204), again.text
        assert (await client.get(f"/Users/{id}")).json()["displayName"] == "J"


@pytest.mark.parametrize("kind", KINDS)
async def test_a_put_without_the_attribute_clears_it(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    async with served("wordpress", kind, tmp_path, request) as (client, db):
        created = await client.post("/Users", json=WP_USER)
        id = created.json()["id"]
        replaced = await client.put(
            f"/Users/{id}", json={"schemas": [CORE_USER], "userName": "joan", "profileUrl": None}
        )
        assert replaced.status_code == 200, replaced.text
        assert not {"emails", "profileUrl", "displayName"} & set(replaced.json())
        rows = db.execute("SELECT user_email, user_url, display_name FROM wp_users WHERE user_login = 'joan'")
        assert rows == [("", "", "")]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("answer", ["cache", "database"])
async def test_empty_text_reads_as_absent_and_filters_agree(
    kind: str, answer: str, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A create without the attributes leaves them to the columns' DEFAULT ''; such a row, and the
    seeded admin (user_url ''), are served without them, and filters find no value there, whether
    the small cache answers them or (with search.SMALL at 0, as for a cache of thousands of users)
    the database."""
    if answer == "database":
        monkeypatch.setattr(search_route, "SMALL", 0)
    async with served("wordpress", kind, tmp_path, request) as (client, db):
        bare = await client.post("/Users", json={"schemas": [CORE_USER], "userName": "alan"})
        assert bare.status_code == 201, bare.text
        assert not {"emails", "profileUrl", "displayName"} & set(bare.json()), bare.text
        assert db.execute(
            "SELECT user_email, user_url, display_name FROM wp_users WHERE user_login = 'alan'"
        ) == [("", "", "")]
        assert (await client.post("/Users", json=WP_USER)).status_code == 201
        [admin] = (await client.get('/Users?filter=userName eq "admin"')).json()["Resources"]
        assert "profileUrl" not in admin and admin["displayName"] == "admin"
        assert await search(client, "profileUrl pr") == ["joan"]
        assert await search(client, "displayName pr") == ["admin", "joan"]
        assert await search(client, "not (displayName pr)") == ["alan"]
        assert await search(client, 'displayName eq ""') == []
        assert await search(client, "displayName eq null") == ["alan"]
        assert await search(client, "emails.value pr") == ["admin", "joan"]


@pytest.mark.parametrize("kind", KINDS)
async def test_a_unique_attribute_never_clashes_on_empty_text(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Rows holding '' hold no value: clearing a unique attribute that other rows have cleared is
    no clash, and they stay found; a real value still is one (409)."""
    edit = (
        'displayName                  <-> display_name    null ""',
        'displayName <-> display_name unique null ""',
    )
    async with served("wordpress", kind, tmp_path, request, edit) as (client, db):
        first = await client.post("/Users", json={"schemas": [CORE_USER], "userName": "alan"})
        assert first.status_code == 201, first.text
        second = await client.post("/Users", json=WP_USER)
        assert second.status_code == 201, second.text
        cleared = await client.patch(
            f"/Users/{second.json()['id']}", json=patch({"op": "Remove", "path": "displayName"})
        )
        assert cleared.status_code in (200, 204), cleared.text
        third = await client.post(
            "/Users", json={"schemas": [CORE_USER], "userName": "ada", "displayName": ""}
        )
        assert third.status_code == 201, third.text
        for created in (first, second, third):
            assert (await client.get(f"/Users/{created.json()['id']}")).status_code == 200
        assert await search(client, "displayName pr") == ["admin"]
        assert await search(client, 'displayName eq ""') == []
        # the cache keeps all four: none was taken for another holding its '' (and dropped)
        assert len(client.state["gateway"].stores["User"].cache) == 4  # type: ignore[attr-defined]
        clash = await client.patch(
            f"/Users/{first.json()['id']}",
            json=patch({"op": "Replace", "path": "displayName", "value": "admin"}),
        )
        assert clash.status_code == 409, clash.text


# -- Moodle: mdl_user.city and country NOT NULL DEFAULT '' --------------------------------------

MOODLE_USER = {
    "schemas": [CORE_USER],
    "userName": "joan",
    "name": {"givenName": "Joan", "familyName": "Clarke"},
    "emails": [{"type": "work", "value": "joan@example.com", "primary": True}],
    "addresses": [{"type": "work", "locality": "Bletchley", "country": "GB"}],
}


@pytest.mark.parametrize("kind", KINDS)
async def test_entra_clears_a_moodle_address(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    async with served("moodle", kind, tmp_path, request) as (client, db):
        created = await client.post("/Users", json=MOODLE_USER)
        assert created.status_code == 201, created.text
        id = created.json()["id"]
        cleared = await client.patch(
            f"/Users/{id}", json=patch({"op": "Remove", "path": 'addresses[type eq "work"].locality'})
        )
        assert cleared.status_code in (200, 204), cleared.text
        assert db.execute("SELECT city, country FROM mdl_user WHERE username = 'joan'") == [("", "GB")]
        assert (await client.get(f"/Users/{id}")).json()["addresses"] == [{"type": "work", "country": "GB"}]
        cleared = await client.patch(
            f"/Users/{id}",
            json=patch({"op": "Replace", "path": 'addresses[type eq "work"].country', "value": None}),
        )
        assert cleared.status_code in (200, 204), cleared.text
        assert db.execute("SELECT city, country FROM mdl_user WHERE username = 'joan'") == [("", "")]
        assert "addresses" not in (await client.get(f"/Users/{id}")).json()
        # the seeded admin has neither: served without addresses too
        [admin] = (await client.get('/Users?filter=userName eq "admin"')).json()["Resources"]
        assert "addresses" not in admin


@pytest.mark.parametrize("kind", KINDS)
async def test_a_create_without_the_attribute_takes_the_column_default(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """``null ""`` on Moodle's ``lang NOT NULL DEFAULT 'en'``: a create that leaves the attribute out
    leaves the column out of its insert, so the DEFAULT applies, rather than writing ''; a change
    that removes it writes ''."""
    edit = ("preferredLanguage                  <-> lang", 'preferredLanguage <-> lang null ""')
    async with served("moodle", kind, tmp_path, request, edit) as (client, db):
        user = {k: v for k, v in MOODLE_USER.items() if k != "addresses"}
        created = await client.post("/Users", json=user)
        assert created.status_code == 201, created.text
        assert created.json()["preferredLanguage"] == "en"
        assert "addresses" not in created.json()
        assert db.execute("SELECT lang, city FROM mdl_user WHERE username = 'joan'") == [("en", "")]
        removed = await client.patch(
            f"/Users/{created.json()['id']}", json=patch({"op": "Remove", "path": "preferredLanguage"})
        )
        assert removed.status_code in (200, 204), removed.text
        assert db.execute("SELECT lang FROM mdl_user WHERE username = 'joan'") == [("",)]
