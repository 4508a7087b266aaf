"""The group steps: probe, match, create without members, read with members excluded, add members,
remove one (by value list without Entra's flag, by filter with it), an unknown member, rename."""

from __future__ import annotations

import uuid
from typing import Any

from mapper.plan import CORE_GROUP
from mapper.simulate.steps import (
    Context,
    Step,
    expect,
    expect_columns,
    expect_created,
    expect_empty,
    expect_error,
    expect_one,
    expect_status,
    expect_values,
    patched_values,
    plan_of,
    resource_of,
    value_at,
)

ADSCIM_GROUP = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"
EXCLUDE = {"excludedAttributes": "members"}


def group_name(ctx: Context) -> str:
    name = f"sim-{ctx.tag}-{ctx.mode}-g"  # at most 19 characters: a URL target's widths are unknown
    groups = ctx.model.groups
    return name if groups is None else groups.fit(name, "displayName", groups.query_key)


def query(ctx: Context, value: str) -> dict[str, str]:
    """Entra's group look-up: members excluded, filtered on the query attribute."""
    return {**EXCLUDE, "filter": f'{ctx.groups().query} eq "{value}"'}


async def expect_members(ctx: Context, wanted: set[str]) -> None:
    """GET the group: exactly ``wanted`` are members, there and in the child rows."""
    groups = ctx.groups()
    (id,) = ctx.need("group")
    ex = await ctx.client.get(f"{groups.endpoint}/{id}")
    expect_status(ex, 200)
    expect_values(groups, resource_of(ex, id), {"members": wanted or None}, "on re-read")
    obj = plan_of(groups, ctx.db)
    if obj is not None and ctx.db is not None:
        rows = await ctx.db.children(obj, "members", ctx.anchors["group"])
        expect(rows == wanted, f"database: member rows {sorted(wanted)}, not {sorted(rows)}")


async def probe(ctx: Context) -> None:
    groups = ctx.groups()
    expect_empty(await ctx.client.get(groups.endpoint, query(ctx, str(uuid.uuid4()))))


async def match_new(ctx: Context) -> None:
    groups = ctx.groups()
    expect_empty(await ctx.client.get(groups.endpoint, query(ctx, group_name(ctx))))


async def create(ctx: Context) -> None:
    groups = ctx.groups()
    ctx.creatable(groups, "displayName")
    name = group_name(ctx)
    body = {
        "schemas": [CORE_GROUP, ADSCIM_GROUP],
        "externalId": str(uuid.uuid4()),
        "displayName": name,
        "meta": {"resourceType": "Group"},
    }
    ex = await ctx.client.post(groups.endpoint, body)
    created = expect_created(ex, groups.endpoint)
    ctx.remember("group", groups.endpoint, created["id"], name)
    values: dict[str, Any] = {"displayName": name, "externalId": body["externalId"], "members": None}
    expect_values(groups, created, values, "in the 201 response")
    obj = plan_of(groups, ctx.db)
    if obj is None or ctx.db is None:
        return
    row = await ctx.db.row_by_query(obj, name)
    expect(row is not None, f"database: a row whose {groups.query} is {name!r}")
    assert row is not None
    anchor = row[obj.anchor_column]
    expect(
        ctx.db.id_of(obj, anchor) == created["id"],
        f"database: the row's {obj.anchor_column} is the id {created['id']!r}",
    )
    ctx.anchors["group"] = anchor
    expect_columns(obj, row, values)
    rows = await ctx.db.children(obj, "members", anchor)
    expect(not rows, f"database: no member rows, not {sorted(rows)}")


async def read_by_filter(ctx: Context) -> None:
    groups = ctx.groups()
    (id,) = ctx.need("group")
    found = expect_one(await ctx.client.get(groups.endpoint, query(ctx, ctx.names["group"])), id)
    expect("members" not in found, "no members (excludedAttributes=members)")


async def read_by_id(ctx: Context) -> None:
    """Entra's ``GET /Groups/{id}?excludedAttributes=members``."""
    groups = ctx.groups()
    (id,) = ctx.need("group")
    ex = await ctx.client.get(f"{groups.endpoint}/{id}", EXCLUDE)
    expect_status(ex, 200)
    found = resource_of(ex, id)
    expect("members" not in found, "no members (excludedAttributes=members)")
    expect_values(groups, found, {"displayName": ctx.names["group"]}, "on GET by id")


async def duplicate(ctx: Context) -> None:
    groups = ctx.groups()
    ctx.creatable(groups, "displayName")
    ctx.need("group")
    body = {
        "schemas": [CORE_GROUP, ADSCIM_GROUP],
        "displayName": ctx.names["group"],
        "meta": {"resourceType": "Group"},
    }
    ex = await ctx.client.post(groups.endpoint, body)
    if ex.status == 201:  # do not leave the duplicate behind
        created = ex.json()
        if isinstance(created, dict) and isinstance(created.get("id"), str):
            ctx.created.append((groups.endpoint, created["id"]))
    expect_error(ex, 409, "uniqueness")


async def add_members(ctx: Context) -> None:
    groups = ctx.groups("members")
    group, manager, colleague = ctx.need("group", "manager", "colleague")
    value = [{"$ref": None, "value": manager}, {"$ref": None, "value": colleague}]
    ex = await ctx.client.patch(
        f"{groups.endpoint}/{group}", {"op": ctx.op("add"), "path": "members", "value": value}
    )
    patched = patched_values(ex, group)
    if patched is not None:
        expect_values(groups, patched, {"members": {manager, colleague}}, "in the PATCH response")
    await expect_members(ctx, {manager, colleague})


async def remove_one_member(ctx: Context) -> None:
    """Without the flag: ``Remove`` with a value list; with it: ``remove`` with a filtered path.
    Only the listed member goes."""
    groups = ctx.groups("members")
    group, manager, colleague = ctx.need("group", "manager", "colleague")
    if ctx.flag:
        operation: dict[str, Any] = {"op": "remove", "path": f'members[value eq "{manager}"]'}
    else:
        operation = {"op": "Remove", "path": "members", "value": [{"value": manager}]}
    ex = await ctx.client.patch(f"{groups.endpoint}/{group}", operation)
    patched = patched_values(ex, group)
    if patched is not None:
        expect_values(groups, patched, {"members": {colleague}}, "in the PATCH response")
    await expect_members(ctx, {colleague})


async def current_members(ctx: Context) -> set[str]:
    groups = ctx.groups()
    (id,) = ctx.need("group")
    ex = await ctx.client.get(f"{groups.endpoint}/{id}")
    expect_status(ex, 200)
    members = value_at(resource_of(ex, id), "members")
    return set(members)


async def unknown_member(ctx: Context) -> None:
    """Adding an id no user has is left out (200, ``on missing drop``, the default) or refused
    (400, ``on missing reject``), as the mapping declares; either way the members stay as they
    were. A target known only by discovery may do either."""
    groups = ctx.groups("members")
    users = ctx.users()
    group, colleague = ctx.need("group", "colleague")
    missing = "987654321" if colleague.isdigit() else str(uuid.uuid4())
    expect_status(await ctx.client.get(f"{users.endpoint}/{missing}"), 404)
    before = await current_members(ctx)
    value = [{"$ref": None, "value": missing}]
    operation = {"op": ctx.op("add"), "path": "members", "value": value}
    ex = await ctx.client.patch(f"{groups.endpoint}/{group}", operation)
    multi = next((m for m in groups.plan.multi if m.attribute == "members"), None) if groups.plan else None
    if multi is None:
        expect_status(ex, 200, 204, 400)
    elif multi.on_missing == "reject":
        expect_error(ex, 400)
    else:
        expect_status(ex, 200, 204)
    await expect_members(ctx, before)


async def add_after_member_deleted(ctx: Context) -> None:
    """A group changes after one of its member users was deleted (the database's cascade may have
    touched the group's row behind the gateway): the change must still apply."""
    groups = ctx.groups("members")
    group, manager = ctx.need("group", "manager")
    before = await current_members(ctx)
    value = [{"$ref": None, "value": manager}]
    ex = await ctx.client.patch(
        f"{groups.endpoint}/{group}", {"op": ctx.op("add"), "path": "members", "value": value}
    )
    patched = patched_values(ex, group)
    if patched is not None:
        expect_values(groups, patched, {"members": before | {manager}}, "in the PATCH response")
    await expect_members(ctx, before | {manager})


async def rename(ctx: Context) -> None:
    groups = ctx.groups("displayName")
    (group,) = ctx.need("group")
    name = f"{group_name(ctx)}-renamed"
    operation = {"op": ctx.op("replace"), "path": "displayName", "value": name}
    ex = await ctx.client.patch(f"{groups.endpoint}/{group}", operation)
    patched = patched_values(ex, group)
    if patched is not None:
        expect_values(groups, patched, {"displayName": name}, "in the PATCH response")
    ctx.names["group"] = name
    expect_one(await ctx.client.get(groups.endpoint, query(ctx, name)), group)
    obj = plan_of(groups, ctx.db)
    if obj is not None and ctx.db is not None:
        row = await ctx.db.row(obj, ctx.anchors["group"])
        expect(row is not None, "database: the group's row")
        assert row is not None
        expect_columns(obj, row, {"displayName": name})


STEPS: tuple[Step, ...] = (
    ("group probe: a random GUID displayName matches nothing", probe),
    ("group match: the new group is not there yet", match_new),
    ("group create: POST without members (Entra's body)", create),
    ("group read: by filter with members excluded", read_by_filter),
    ("group read: by id with members excluded", read_by_id),
    ("group create: a duplicate POST is refused with 409 uniqueness", duplicate),
    ("group members: add two", add_members),
    ("group members: remove one, the other stays", remove_one_member),
    ("group members: an id no user has is left out or refused, as declared", unknown_member),
    ("group rename: replace displayName", rename),
)
