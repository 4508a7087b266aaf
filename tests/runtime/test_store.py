"""ObjectStore over real databases (SQLite, PostgreSQL, MariaDB), with the compiled HR plan."""

from __future__ import annotations

import anyio
import pytest

from mapper.plan import ENTERPRISE_USER
from mapper.runtime.errors import (
    InvalidValueError,
    NotFoundError,
    PreconditionFailedError,
    UniquenessError,
)
from tests.support.hr import new_user

pytestmark = pytest.mark.anyio

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


async def test_full_import_renders_resources(gateway):
    users, groups = gateway.stores["User"], gateway.stores["Group"]
    assert users.count() == 20 and groups.count() == 4
    assert gateway.store_for_endpoint("/Users") is users
    grace = await users.get("2")
    assert grace["schemas"] == [USER, ENTERPRISE_USER]
    assert grace["id"] == "2"
    assert grace["userName"] == "grace.hopper"
    assert grace["name"] == {"givenName": "Grace", "familyName": "Hopper"}
    assert grace["emails"] == [
        {"type": "work", "value": "grace.hopper@example.com", "primary": True},
        {"type": "home", "value": "grace@hopper.example"},
    ]
    assert grace["phoneNumbers"] == [
        {"type": "work", "value": "+1 555 01002", "primary": True},
        {"type": "mobile", "value": "+1 555 02002"},
    ]
    assert grace["active"] is True
    assert grace[ENTERPRISE_USER]["manager"] == {"value": "1"}
    meta = grace["meta"]
    assert meta["resourceType"] == "User"
    assert meta["created"].endswith("Z") and meta["lastModified"].endswith("Z")
    assert meta["version"].startswith('W/"')
    ada = await users.get("1")
    assert "manager" not in ada[ENTERPRISE_USER] and "nickName" not in ada
    backus = await users.find_by_query("JOHN.BACKUS")
    assert backus["active"] is False
    everyone = await groups.find_by_query("everyone")
    assert len(everyone["members"]) == 20 and {"value": "20"} in everyone["members"]
    assert users.lookup("userName", "Ada.Lovelace")[0]["id"] == "1"
    assert users.lookup("id", "3")[0]["userName"] == "alan.turing"
    assert users.lookup("title", "x") is None
    assert len(list(users.all())) == 20
    assert await users.get("999") is None and await users.get("abc") is None


async def test_create_get_replace_delete(gateway):
    users = gateway.stores["User"]
    created = await users.create(new_user("new.person"))
    assert created["userName"] == "new.person"
    assert created["active"] is True
    assert created[ENTERPRISE_USER] == {"department": "Engineering", "manager": {"value": "2"}}
    assert created["meta"]["created"]  # database default read back
    assert "roles" not in created
    id = created["id"]
    assert await users.get(id) == created
    assert users.count() == 21

    changed = dict(created, title="Engineer", active="False", nickName="np")
    changed[ENTERPRISE_USER] = {"department": "Research"}
    replaced = await users.replace(id, changed)
    assert replaced["title"] == "Engineer" and replaced["nickName"] == "np"
    assert replaced["active"] is False
    assert replaced[ENTERPRISE_USER] == {"department": "Research"}
    assert replaced["meta"]["version"] != created["meta"]["version"]
    assert replaced["meta"]["created"] == created["meta"]["created"]
    assert await users.get(id) == replaced

    await users.delete(id)
    assert await users.get(id) is None
    assert users.count() == 20
    with pytest.raises(NotFoundError):
        await users.delete(id)
    with pytest.raises(NotFoundError):
        await users.replace(id, changed)


async def test_replace_clears_absent_attributes_and_keeps_active(gateway, hr_database):
    users = gateway.stores["User"]
    replaced = await users.replace("6", {"userName": "dennis.ritchie"})
    assert "title" not in replaced and "name" not in replaced and "emails" not in replaced
    assert replaced["active"] is True  # absent active keeps its value
    assert hr_database.execute("SELECT title FROM employees WHERE employee_id = 6") == [(None,)]
    assert hr_database.execute("SELECT COUNT(*) FROM employee_emails WHERE employee_id = 6") == [(0,)]


async def test_read_through_sees_rows_inserted_behind_our_back(gateway, hr_database):
    hr_database.execute("INSERT INTO employees (login, given_name) VALUES ('side.door', 'Side')")
    (anchor,) = hr_database.execute("SELECT employee_id FROM employees WHERE login = 'side.door'")[0]
    users = gateway.stores["User"]
    assert users.lookup("userName", "side.door") == []  # not in the cache yet
    found = await users.find_by_query("Side.Door")
    assert found is not None and found["id"] == str(anchor)
    hr_database.execute("INSERT INTO employees (login) VALUES ('side.door2')")
    (anchor2,) = hr_database.execute("SELECT employee_id FROM employees WHERE login = 'side.door2'")[0]
    assert (await users.get(str(anchor2)))["userName"] == "side.door2"
    assert users.count() == 22  # both read-through results are cached


async def test_uniqueness_against_cache_and_database(gateway, hr_database):
    users = gateway.stores["User"]
    with pytest.raises(UniquenessError) as raised:
        await users.create(new_user("GRACE.hopper"))
    assert raised.value.attribute == "userName"
    # a row the cache has never seen still counts
    hr_database.execute("INSERT INTO employees (login) VALUES ('hidden.user')")
    with pytest.raises(UniquenessError):
        await users.create(new_user("hidden.user"))
    with pytest.raises(UniquenessError):
        await users.replace("3", {"userName": "Hidden.User"})
    assert (await users.get("3"))["userName"] == "alan.turing"
    groups = gateway.stores["Group"]
    with pytest.raises(UniquenessError):
        await groups.create({"displayName": "research"})


async def test_a_stale_cache_does_not_refuse_a_free_user_name(gateway, hr_database):
    hr_database.execute("DELETE FROM employees WHERE employee_id = 16")  # dorothy.vaughan, still cached
    users = gateway.stores["User"]
    created = await users.create(new_user("Dorothy.Vaughan"))
    assert created["id"] != "16" and users.lookup("id", "16") == []
    assert users.lookup("userName", "dorothy.vaughan")[0]["id"] == created["id"]


async def test_concurrent_creates_of_one_user_name(gateway, hr_database):
    users = gateway.stores["User"]
    outcomes: list[object] = []

    async def attempt() -> None:
        try:
            outcomes.append(await users.create(new_user("race.condition")))
        except UniquenessError as error:
            outcomes.append(error)

    async with anyio.create_task_group() as tg:
        for _ in range(8):
            tg.start_soon(attempt)
    assert sum(isinstance(o, dict) for o in outcomes) == 1
    assert sum(isinstance(o, UniquenessError) for o in outcomes) == 7
    assert hr_database.execute("SELECT COUNT(*) FROM employees WHERE login = 'race.condition'") == [(1,)]


async def test_a_group_create_whose_member_is_gone_from_the_database_leaves_it_out(gateway, hr_database):
    """A member insert that fails on its foreign key (user 11 is gone from the database but still
    cached) takes the group row back with it; the users are read again (the cache forgets 11)
    and the group is created once more, without 11, as for an id that never existed."""
    hr_database.execute("DELETE FROM employees WHERE employee_id = 11")
    groups, users = gateway.stores["Group"], gateway.stores["User"]
    before = hr_database.execute("SELECT COUNT(*) FROM groups")[0][0]
    dropped: list = []
    created = await groups.create(
        {"displayName": "Ghosts", "members": [{"value": "1"}, {"value": "11"}]}, dropped=dropped
    )
    assert [m["value"] for m in created["members"]] == ["1"]
    assert [(d.path, d.id) for d in dropped] == [("members.value", "11")]  # the first try's not kept twice
    assert hr_database.execute("SELECT COUNT(*) FROM groups") == [(before + 1,)]
    stored = hr_database.execute(
        "SELECT m.employee_id FROM group_members m JOIN groups g ON g.group_id = m.group_id"
        " WHERE g.name = 'Ghosts'"
    )
    assert stored == [(1,)]
    assert groups.count() == 5 and users.cached("11") is None


async def test_failed_replace_in_database_leaves_everything_unchanged(gateway, hr_database):
    """The clash is only in the database: the transaction fails after the cache check passed."""
    users = gateway.stores["User"]
    before_db = hr_database.execute("SELECT * FROM employees WHERE employee_id = 7")
    before = await users.get("7")
    hr_database.execute("INSERT INTO employees (login) VALUES ('only.in.db')")
    with pytest.raises(UniquenessError):
        await users.replace("7", dict(before, userName="only.in.db", title="changed"))
    assert hr_database.execute("SELECT * FROM employees WHERE employee_id = 7") == before_db
    assert await users.get("7") == before


async def test_invalid_values(gateway, hr_database):
    users = gateway.stores["User"]
    with pytest.raises(InvalidValueError) as raised:
        await users.create(new_user("bad.bool", active="maybe"))
    assert raised.value.path == "active"
    with pytest.raises(InvalidValueError):
        await users.create({"name": {"givenName": "No login"}})
    if hr_database.dialect == "mysql":  # a number is VARCHAR(64) there; text elsewhere
        with pytest.raises(InvalidValueError) as too_long:
            await users.create(new_user("long.phone", phoneNumbers=[{"type": "work", "value": "9" * 300}]))
        assert too_long.value.path == "phoneNumbers.value"
        assert hr_database.execute("SELECT COUNT(*) FROM employees WHERE login = 'long.phone'") == [(0,)]
    assert users.count() == 20


async def test_if_match(gateway):
    users = gateway.stores["User"]
    current = await users.get("8")
    with pytest.raises(PreconditionFailedError):
        await users.replace("8", dict(current, title="x"), if_match='W/"nope"')
    replaced = await users.replace("8", dict(current, title="x"), if_match=current["meta"]["version"])
    assert replaced["title"] == "x"
    with pytest.raises(PreconditionFailedError):
        await users.delete("8", if_match=current["meta"]["version"])
    await users.delete("8", if_match="*")


async def test_members_add_and_remove(gateway, hr_database):
    groups = gateway.stores["Group"]
    research = await groups.find_by_query("Research")
    gid = research["id"]
    members = [m for m in research["members"] if m["value"] != "9"] + [{"value": "1"}, {"value": "2"}]
    replaced = await groups.replace(gid, dict(research, members=members))
    values = sorted(int(m["value"]) for m in replaced["members"])
    assert values == [1, 2, 3, 10, 12, 18]
    rows = hr_database.execute(
        "SELECT employee_id FROM group_members WHERE group_id = :g ORDER BY 1", {"g": int(gid)}
    )
    assert [r[0] for r in rows] == values
    emptied = await groups.replace(gid, {"displayName": "Research"})
    assert "members" not in emptied
    assert hr_database.execute("SELECT COUNT(*) FROM group_members WHERE group_id = :g", {"g": int(gid)}) == [
        (0,)
    ]
    created = await groups.create({"displayName": "Pilots", "members": [{"value": "5"}, {"value": "6"}]})
    assert sorted(m["value"] for m in created["members"]) == ["5", "6"]


async def test_deleting_a_user_drops_it_from_cached_groups(gateway):
    users, groups = gateway.stores["User"], gateway.stores["Group"]
    await users.delete("20")
    everyone = await groups.find_by_query("Everyone")
    assert {"value": "20"} not in everyone["members"] and len(everyone["members"]) == 19
    # a manager's reports keep working (ON DELETE SET NULL)
    await users.delete("6")
    await gateway.sync_delta()
    assert "manager" not in (await users.get("20") or {"urn": {}}).get(ENTERPRISE_USER, {})


async def test_disable_runs_when_active_turns_false(gateway, hr_database):
    users = gateway.stores["User"]
    current = await users.get("13")
    disabled = await users.replace("13", dict(current, active=False))
    assert disabled["active"] is False
    assert hr_database.execute("SELECT active FROM employees WHERE employee_id = 13")[0][0] in (False, 0)


async def test_sync_delta_sees_updates_and_inserts(gateway, hr_database):
    users, groups = gateway.stores["User"], gateway.stores["Group"]
    hr_database.execute("UPDATE employees SET title = 'Updated behind the back' WHERE employee_id = 4")
    hr_database.execute("INSERT INTO employees (login, title) VALUES ('delta.new', 'New')")
    hr_database.execute("INSERT INTO group_members (group_id, employee_id) VALUES (4, 7)")
    await gateway.sync_delta()
    assert users.lookup("id", "4")[0]["title"] == "Updated behind the back"
    assert users.lookup("userName", "delta.new")[0]["title"] == "New"
    assert {"value": "7"} in groups.lookup("id", "4")[0]["members"]
    # a second delta with nothing new changes nothing
    stats = await users.sync_delta()
    assert stats.added == stats.changed == stats.removed == 0


async def test_sync_full_catches_deletes(gateway, hr_database):
    users, groups = gateway.stores["User"], gateway.stores["Group"]
    users.delete_scan = groups.delete_scan = False  # the backstop alone (deltas scan by default)
    hr_database.execute("DELETE FROM employees WHERE employee_id = 19")
    hr_database.execute("DELETE FROM groups WHERE name = 'Managers'")
    await gateway.sync_delta()
    assert users.lookup("id", "19")  # a delta without its anchor scan cannot see deletes
    await gateway.sync_full()
    assert users.lookup("id", "19") == [] and users.count() == 19
    assert groups.lookup("displayName", "Managers") == [] and groups.count() == 3
    everyone = groups.lookup("displayName", "Everyone")[0]
    assert {"value": "19"} not in everyone["members"]
    assert gateway.health()["objects"] == {"User": 19, "Group": 3}


async def test_many_concurrent_writes_all_succeed(gateway, hr_database):
    """Distinct users in parallel: no lock errors (SQLite takes its write lock up front)."""
    users, groups = gateway.stores["User"], gateway.stores["Group"]
    everyone = await groups.find_by_query("Everyone")

    async def make(i: int) -> None:
        await users.create(new_user(f"parallel.{i}"))

    async def touch(i: int) -> None:
        current = await users.get(str(i))
        await users.replace(str(i), dict(current, title=f"Parallel {i}"))

    async with anyio.create_task_group() as tg:
        for i in range(30):
            tg.start_soon(make, i)
        for i in range(1, 16):
            tg.start_soon(touch, i)
        tg.start_soon(groups.replace, everyone["id"], dict(everyone, members=everyone["members"][:5]))
    assert hr_database.execute("SELECT COUNT(*) FROM employees WHERE login LIKE 'parallel.%'") == [(30,)]
    assert users.count() == 50
    assert all(users.lookup("id", str(i))[0]["title"] == f"Parallel {i}" for i in range(1, 16))
    assert len(groups.lookup("id", everyone["id"])[0]["members"]) == 5
