"""Value transforms and soft delete through the object stores, on a SQLite file: the status-enum
and soft-delete recipes of mappings/ (the same flows run on PostgreSQL and MariaDB through
``mapper simulate`` in tests/simulate/test_simulate_recipes.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from mapper.pipeline import load
from mapper.runtime.database import bootstrap_sqlite
from mapper.runtime.errors import InvalidValueError, NotFoundError, UniquenessError
from mapper.runtime.gateway import Gateway

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]
USER = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ada", "active": True}


async def started(recipe: str, tmp_path: Path, source: str | None = None) -> tuple[Gateway, str]:
    url = f"sqlite:///{tmp_path / 'recipe.db'}"
    bootstrap_sqlite(url, [ROOT / "examples" / recipe / "schema.sql"])
    path = ROOT / "mappings" / f"{recipe}.map"
    if source is not None:
        path = tmp_path / "recipe.map"
        path.write_text(source, encoding="utf-8")
    gw = Gateway(load(str(path)), environ={f"{recipe.upper()}_DATABASE_URL": url}, autosync=False)
    await gw.start()
    return gw, url


def column(url: str, sql: str) -> list[tuple]:
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = [tuple(r) for r in connection.execute(text(sql))]
    engine.dispose()
    return rows


@pytest.fixture
async def status(tmp_path: Path) -> AsyncIterator[tuple[Gateway, str]]:
    gw, url = await started("status_enum", tmp_path)
    yield gw, url
    await gw.stop()


async def test_a_value_map_writes_and_reads_the_stored_codes(status: tuple[Gateway, str]) -> None:
    gw, url = status
    users = gw.stores["User"]
    created = await users.create({**USER, "active": False})
    assert created["active"] is False
    assert column(url, "SELECT status FROM staff") == [("T",)]
    replaced = await users.replace(created["id"], {**USER, "active": "True"})
    assert replaced["active"] is True and column(url, "SELECT status FROM staff") == [("A",)]
    with pytest.raises(InvalidValueError) as refused:
        await users.replace(created["id"], {**USER, "active": "maybe"})
    assert "maybe" not in str(refused.value)


async def test_a_stored_code_outside_the_map_reads_as_the_default(status: tuple[Gateway, str]) -> None:
    gw, url = status
    engine = create_engine(url)
    with engine.begin() as connection:  # a code the map does not know ('else false'), past the CHECK
        connection.execute(text("PRAGMA ignore_check_constraints = ON"))
        connection.execute(text("INSERT INTO staff (login, status) VALUES ('bob', 'X')"))
    engine.dispose()
    await gw.sync_full()
    assert (await gw.stores["User"].find_by_query("bob") or {}).get("active") is False


async def test_delete_hides_the_row_and_a_create_revives_it(status: tuple[Gateway, str]) -> None:
    gw, url = status
    users, groups = gw.stores["User"], gw.stores["Group"]
    user = await users.create(USER)
    group = await groups.create({"displayName": "crew", "members": [{"value": user["id"]}]})
    await users.delete(user["id"])
    assert column(url, "SELECT status FROM staff") == [("D",)]  # the row stays, as a tombstone
    assert await users.get(user["id"]) is None
    assert await users.find_by_query("ada") is None
    assert "members" not in (await groups.get(group["id"]) or {})
    await gw.sync_full()  # a full import agrees: neither the user nor the membership comes back
    assert users.count() == 0 and "members" not in (await groups.get(group["id"]) or {})
    with pytest.raises(NotFoundError):
        await users.delete(user["id"])
    revived = await users.create({**USER, "title": "Countess"})
    assert revived["id"] == user["id"] and revived["title"] == "Countess"  # the anchor is kept
    assert column(url, "SELECT staff_id, status FROM staff") == [(int(user["id"]), "A")]


async def test_recreate_conflict_answers_409(tmp_path: Path) -> None:
    source = (ROOT / "mappings" / "soft_delete.map").read_text(encoding="utf-8")
    gw, url = await started("soft_delete", tmp_path, source.replace("recreate revive", "recreate conflict"))
    try:
        users = gw.stores["User"]
        user = await users.create(USER)
        await users.delete(user["id"])
        assert column(url, "SELECT COUNT(*) FROM members WHERE deleted_at IS NOT NULL") == [(1,)]
        with pytest.raises(UniquenessError):
            await users.create(USER)
    finally:
        await gw.stop()


async def test_disable_is_not_delete(tmp_path: Path) -> None:
    gw, url = await started("soft_delete", tmp_path)
    try:
        users = gw.stores["User"]
        user = await users.create(USER)
        disabled = await users.replace(user["id"], {**USER, "active": False})
        assert disabled["active"] is False and await users.get(user["id"]) is not None
        assert column(url, "SELECT active, deleted_at FROM members") == [(0, None)]
    finally:
        await gw.stop()


async def test_a_revived_object_comes_back_without_its_old_groups(status: tuple[Gateway, str]) -> None:
    gw, url = status
    users, groups = gw.stores["User"], gw.stores["Group"]
    user = await users.create(USER)
    group = await groups.create({"displayName": "crew", "members": [{"value": user["id"]}]})
    await users.delete(user["id"])
    assert column(url, "SELECT COUNT(*) FROM team_members") == [(0,)]  # ended, as a cascade would
    revived = await users.create(USER)
    await gw.sync_full()
    assert revived["id"] == user["id"] and "members" not in (await groups.get(group["id"]) or {})


async def test_a_revived_object_keeps_only_the_child_rows_its_create_states(tmp_path: Path) -> None:
    """A create that revives a tombstoned row states the whole object, child tables included: the
    deleted user's old emails do not come back beside the new ones (two primaries would then
    refuse every later PATCH), and a create without emails leaves none."""
    fixture = ROOT / "tests" / "fixtures" / "runtime" / "helpdesk"
    url = f"sqlite:///{tmp_path / 'helpdesk.db'}"
    bootstrap_sqlite(url, [fixture / "schema.sql"])
    gw = Gateway(load(str(fixture / "helpdesk.map")), environ={"HELPDESK_DATABASE_URL": url}, autosync=False)
    await gw.start()
    try:
        users = gw.stores["User"]
        old = {"value": "zed@old.example", "type": "work", "primary": True}
        home = {"value": "zed@home.example", "type": "home"}
        user = await users.create({**USER, "userName": "zed", "emails": [old, home]})
        await users.delete(user["id"])
        new = {"value": "zed@new.example", "type": "work", "primary": True}
        revived = await users.create({**USER, "userName": "zed", "emails": [new]})
        assert revived["id"] == user["id"]
        assert revived["emails"] == [new]
        stored = column(url, "SELECT addr, kind, is_primary FROM account_emails")
        assert stored == [("zed@new.example", "work", 1)]
        patched = await users.replace(user["id"], {**revived, "active": False})  # Entra's disable
        assert patched["active"] is False
        await users.delete(user["id"])
        again = await users.create({**USER, "userName": "zed"})
        assert "emails" not in again
        assert column(url, "SELECT COUNT(*) FROM account_emails") == [(0,)]
    finally:
        await gw.stop()
