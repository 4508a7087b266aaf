"""The user steps: probe, match, create, re-read, duplicate, every PATCH form Entra sends, disable.

Request bodies are Entra's own shapes (Microsoft Learn, *Tutorial: Develop and plan provisioning
for a SCIM endpoint*, and *Known issues ... SCIM 2.0 protocol compliance* for the
``aadOptscim062020`` flag)."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from mapper.plan import CORE_USER, ENTERPRISE_USER, PlanObject
from mapper.simulate.steps import (
    Context,
    Step,
    StepSkipped,
    expect,
    expect_columns,
    expect_created,
    expect_empty,
    expect_error,
    expect_one,
    expect_status,
    expect_values,
    plan_of,
    resource_of,
)

MANAGER = f"{ENTERPRISE_USER}:manager"


def user_name(ctx: Context, role: str) -> str:
    """The role's userName (also its work email and query attribute), as long as their columns take."""
    name = f"sim-{ctx.tag}-{ctx.mode}-{role}@simulate.example"
    users = ctx.model.users
    return name if users is None else users.fit(name, "userName", "emails.work", users.query_key)


def with_required(ctx: Context, body: dict[str, Any], role: str) -> dict[str, Any]:
    """Add to Entra's ``body`` a value for each attribute the target requires that it does not
    carry (the employeeNumber an anchor is taken from...); returns them by key."""
    users = ctx.users()
    sent = {**created_values(body), users.query_key: body["userName"]}
    added: dict[str, Any] = {}
    for key, kind in users.required.items():
        if key in sent or key.endswith("manager"):
            continue
        made = f"{ctx.tag}-{ctx.mode}-{role}"  # distinct for each user of the run
        if kind == "integer":
            value: Any = int(hashlib.blake2b(made.encode(), digest_size=4).hexdigest(), 16) >> 2
        elif kind == "boolean":
            value = True
        else:
            value = users.fit(made, key)
        urn, _, path = key.rpartition(":")
        schema = ENTERPRISE_USER if urn == "enterprise" else urn
        target = body.setdefault(schema, {}) if schema else body
        if schema and schema not in body["schemas"]:
            body["schemas"].append(schema)
        *parents, last = path.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[last] = value
        added[key] = value
    return added


def entra_user(
    name: str, given: str, family: str, external_id: str, query_key: str = "userName"
) -> dict[str, Any]:
    """The body of Entra's POST /Users; the name also goes to the query attribute when that is an
    extension's (``urn:...:ECMA2Host:2.0:User:AccountName``), as Entra's mapping would send it."""
    body: dict[str, Any] = {
        "schemas": [CORE_USER, ENTERPRISE_USER],
        "externalId": external_id,
        "userName": name,
        "active": True,
        "emails": [{"primary": True, "type": "work", "value": name}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": f"{given} {family}", "familyName": family, "givenName": given},
        "roles": [],
    }
    if query_key.startswith("urn:"):
        urn, attribute = query_key.rsplit(":", 1)
        body["schemas"].append(urn)
        body[urn] = {attribute: name}
    return body


def created_values(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "userName": body["userName"],
        "externalId": body["externalId"],
        "name.givenName": body["name"]["givenName"],
        "name.familyName": body["name"]["familyName"],
        "name.formatted": body["name"]["formatted"],
        "emails.work": body["emails"][0]["value"],
        "active": True,
    }


async def expect_row(ctx: Context, role: str, values: dict[str, Any]) -> None:
    """The row of ``role`` holds ``values`` (when the target is a mapping)."""
    obj = plan_of(ctx.users(), ctx.db)
    if obj is None or ctx.db is None:
        return
    anchor = ctx.anchors.get(role)  # None: the create step failed before it found the row
    expect(anchor is not None, f"database: the {role}'s row, which its create step did not find")
    row = await ctx.db.row(obj, anchor)
    expect(row is not None, f"database: the {role}'s row is found by {obj.anchor_column}")
    assert row is not None
    expect_columns(obj, ctx.db.with_ids(obj, row), values)
    await expect_work_email_row(ctx, obj, anchor, values)


async def expect_work_email_row(ctx: Context, obj: PlanObject, anchor: Any, values: dict[str, Any]) -> None:
    """With emails in a child table (``multi emails``), the work email is one of its rows."""
    wanted = values.get("emails.work")
    if wanted is None or ctx.db is None or not any(m.attribute.casefold() == "emails" for m in obj.multi):
        return
    rows = await ctx.db.children(obj, "emails", anchor)
    expect(str(wanted) in rows, f"database: an emails row holds {wanted!r}, not only {sorted(rows)}")


# -- steps -------------------------------------------------------------------------------------


async def probe(ctx: Context) -> None:
    users = ctx.users()
    ex = await ctx.client.get(users.endpoint, {"filter": f'{users.query} eq "{uuid.uuid4()}"'})
    expect_empty(ex)


async def match_new(ctx: Context) -> None:
    users = ctx.users()
    ex = await ctx.client.get(users.endpoint, {"filter": f'{users.query} eq "{user_name(ctx, "user")}"'})
    expect_empty(ex)


async def _create(ctx: Context, role: str, given: str, family: str) -> None:
    users = ctx.users()
    ctx.creatable(users, users.query_key)
    body = entra_user(user_name(ctx, role), given, family, str(uuid.uuid4()), users.query_key)
    added = with_required(ctx, body, role)
    ex = await ctx.client.post(users.endpoint, body)
    created = expect_created(ex, users.endpoint)
    ctx.remember(role, users.endpoint, created["id"], body["userName"])
    values = {**created_values(body), users.query_key: body["userName"], **added}
    expect_values(users, created, values, "in the 201 response")
    obj = plan_of(users, ctx.db)
    if obj is None or ctx.db is None:
        return
    row = await ctx.db.row_by_query(obj, body["userName"])
    expect(row is not None, f"database: a row whose {users.query} is {body['userName']!r}")
    assert row is not None
    anchor = row[obj.anchor_column]
    expect(
        ctx.db.id_of(obj, anchor) == created["id"],
        f"database: the row's {obj.anchor_column} is the id {created['id']!r}",
    )
    ctx.anchors[role] = anchor
    expect_columns(obj, ctx.db.with_ids(obj, row), values)
    await expect_work_email_row(ctx, obj, anchor, values)


async def create_user(ctx: Context) -> None:
    await _create(ctx, "user", "Barbara", "Jensen")


async def create_manager(ctx: Context) -> None:
    await _create(ctx, "manager", "Grace", "Hopper")


async def create_colleague(ctx: Context) -> None:
    await _create(ctx, "colleague", "Alan", "Turing")


async def read_by_id(ctx: Context) -> None:
    users = ctx.users()
    (id,) = ctx.need("user")
    ex = await ctx.client.get(f"{users.endpoint}/{id}")
    expect_status(ex, 200)
    expect_values(users, resource_of(ex, id), {"userName": ctx.names["user"]}, "on GET by id")


async def read_by_filter(ctx: Context) -> None:
    users = ctx.users()
    (id,) = ctx.need("user")
    ex = await ctx.client.get(users.endpoint, {"filter": f'{users.query} eq "{ctx.names["user"]}"'})
    expect_one(ex, id)


async def match_ignores_case(ctx: Context) -> None:
    """Entra's value and the database's may differ in case: the look-up must still match."""
    users = ctx.users()
    (id,) = ctx.need("user")
    if users.query_key in users.case_exact:
        raise StepSkipped(f"skipped: {users.query} is caseExact")
    ex = await ctx.client.get(users.endpoint, {"filter": f'{users.query} eq "{ctx.names["user"].upper()}"'})
    expect_one(ex, id)


async def duplicate(ctx: Context) -> None:
    users = ctx.users()
    ctx.creatable(users, users.query_key)
    ctx.need("user")
    body = entra_user(ctx.names["user"], "B", "J", str(uuid.uuid4()), users.query_key)
    with_required(ctx, body, "duplicate")  # so that only the userName is taken
    ex = await ctx.client.post(users.endpoint, body)
    if ex.status == 201:  # do not leave the duplicate behind
        created = ex.json()
        if isinstance(created, dict) and isinstance(created.get("id"), str):
            ctx.created.append((users.endpoint, created["id"]))
    expect_error(ex, 409, "uniqueness")


async def _patch(ctx: Context, operations: list[dict[str, Any]], values: dict[str, Any]) -> None:
    """PATCH the user: 200 with the resource showing ``values``, the same on re-read, and in the row."""
    users = ctx.users()
    (id,) = ctx.need("user")
    path = f"{users.endpoint}/{id}"
    ex = await ctx.client.patch(path, *operations)
    expect_status(ex, 200)
    expect_values(users, resource_of(ex, id), values, "in the PATCH response")
    again = await ctx.client.get(path)
    expect_status(again, 200)
    expect_values(users, resource_of(again, id), values, "on re-read")
    await expect_row(ctx, "user", values)


async def unknown_id(ctx: Context) -> None:
    """A PATCH of an id the target does not have (deleted behind Entra's back) is a SCIM 404."""
    users = ctx.users()
    (id,) = ctx.need("user")
    missing = "987654321" if id.isdigit() else str(uuid.uuid4())
    operation = {"op": ctx.op("replace"), "path": "active", "value": ctx.boolean(True)}
    expect_error(await ctx.client.patch(f"{users.endpoint}/{missing}", operation), 404)


async def replace_work_email(ctx: Context) -> None:
    users = ctx.users("emails.work")
    value = users.fit(f"sim-{ctx.tag}-{ctx.mode}-mail@simulate.example", "emails.work")
    operation = {"op": ctx.op("replace"), "path": 'emails[type eq "work"].value', "value": value}
    await _patch(ctx, [operation], {"emails.work": value})


#: Paths of the attributes the multi-attribute updates change, by key.
PATHS = {
    "displayName": "displayName",
    "name.givenName": "name.givenName",
    "name.familyName": "name.familyName",
    "enterprise:employeeNumber": f"{ENTERPRISE_USER}:employeeNumber",
    "enterprise:department": f"{ENTERPRISE_USER}:department",
}


def _mapped(ctx: Context, keys: tuple[str, ...]) -> list[str]:
    users = ctx.users()
    mapped = [k for k in keys if users.maps(k)]
    if not mapped:
        raise StepSkipped(f"skipped: not mapped ({', '.join(keys)})")
    return mapped


async def replace_each(ctx: Context) -> None:
    """One operation per attribute, each with a path."""
    keys = _mapped(ctx, ("displayName", "name.familyName", "enterprise:department"))
    values = {k: ctx.users().fit(f"{k.rsplit(':', 1)[-1]} {ctx.mode} {ctx.tag}", k) for k in keys}
    operations = [{"op": ctx.op("replace"), "path": PATHS[k], "value": v} for k, v in values.items()]
    await _patch(ctx, operations, values)


async def replace_without_path(ctx: Context) -> None:
    """One path-less operation whose value keys are dotted and URN-qualified paths."""
    keys = _mapped(ctx, ("displayName", "name.givenName", "enterprise:employeeNumber"))
    values = {k: ctx.users().fit(f"{k.rsplit(':', 1)[-1]} {ctx.mode} {ctx.tag} 2", k) for k in keys}
    operation = {"op": ctx.op("replace"), "value": {PATHS[k]: v for k, v in values.items()}}
    await _patch(ctx, [operation], values)


async def add_nick_name(ctx: Context) -> None:
    ctx.users("nickName")
    await _patch(ctx, [{"op": ctx.op("add"), "path": "nickName", "value": "Babs"}], {"nickName": "Babs"})


async def remove_nick_name(ctx: Context) -> None:
    ctx.users("nickName")
    await _patch(ctx, [{"op": ctx.op("remove"), "path": "nickName"}], {"nickName": None})


async def manager_as_list(ctx: Context) -> None:
    users = ctx.users("enterprise:manager")
    (manager,) = ctx.need("manager")
    value = [{"$ref": f"{users.endpoint.lstrip('/')}/{manager}", "value": manager}]
    await _patch(
        ctx, [{"op": ctx.op("add"), "path": MANAGER, "value": value}], {"enterprise:manager": manager}
    )


async def manager_as_string(ctx: Context) -> None:
    ctx.users("enterprise:manager")
    (colleague,) = ctx.need("colleague")
    operation = {"op": ctx.op("add"), "path": MANAGER, "value": colleague}
    await _patch(ctx, [operation], {"enterprise:manager": colleague})


async def manager_as_object(ctx: Context) -> None:
    ctx.users("enterprise:manager")
    (manager,) = ctx.need("manager")
    operation = {"op": ctx.op("add"), "path": MANAGER, "value": {"value": manager}}
    await _patch(ctx, [operation], {"enterprise:manager": manager})


async def remove_manager(ctx: Context) -> None:
    ctx.users("enterprise:manager")
    ctx.need("manager")
    await _patch(ctx, [{"op": ctx.op("remove"), "path": MANAGER}], {"enterprise:manager": None})


async def rename(ctx: Context) -> None:
    """The user's UPN changed: the query attribute is replaced; look-ups find the new value only."""
    users = ctx.users()
    ctx.users(users.query_key)
    (id,) = ctx.need("user")
    old, new = ctx.names["user"], user_name(ctx, "renamed")
    await _patch(ctx, [{"op": ctx.op("replace"), "path": users.query, "value": new}], {users.query_key: new})
    ctx.names["user"] = new
    expect_one(await ctx.client.get(users.endpoint, {"filter": f'{users.query} eq "{new}"'}), id)
    expect_empty(await ctx.client.get(users.endpoint, {"filter": f'{users.query} eq "{old}"'}))


async def enable(ctx: Context) -> None:
    """Re-assigned after a disable: active back to true."""
    ctx.users("active")
    await _patch(
        ctx, [{"op": ctx.op("replace"), "path": "active", "value": ctx.boolean(True)}], {"active": True}
    )


async def disable(ctx: Context) -> None:
    """PATCH active false; the re-read and the row follow the mapping's disable rule."""
    users = ctx.users("active")
    (id,) = ctx.need("user")
    operation = {"op": ctx.op("replace"), "path": "active", "value": ctx.boolean(False)}
    obj = plan_of(users, ctx.db)
    if obj is None or obj.disable.action != "row":
        await _patch(ctx, [operation], {"active": False})
        return
    # ``disable row``: the disable deletes the row
    ex = await ctx.client.patch(f"{users.endpoint}/{id}", operation)
    expect_status(ex, 200, 204)
    expect_status(await ctx.client.get(f"{users.endpoint}/{id}"), 404)
    assert ctx.db is not None
    expect(await ctx.db.row(obj, ctx.anchors["user"]) is None, "database: the row deleted (disable row)")
    ctx.forget("user")


STEPS: tuple[Step, ...] = (
    ("probe: a random GUID in the query attribute matches nothing", probe),
    ("match: the new user is not there yet", match_new),
    ("create: POST the user (Entra's body)", create_user),
    ("read: GET the user by id", read_by_id),
    ("read: GET the user by filter", read_by_filter),
    ("match: the filter ignores case", match_ignores_case),
    ("create: a duplicate POST is refused with 409 uniqueness", duplicate),
    ("create: POST a second user (the manager)", create_manager),
    ("create: POST a third user (a colleague)", create_colleague),
    ("update: an id the target does not have is 404", unknown_id),
    ("update: replace the work email by its filtered path", replace_work_email),
    ("update: one replace per attribute, each with a path", replace_each),
    ("update: replace without a path (dotted and URN keys)", replace_without_path),
    ("update: add nickName", add_nick_name),
    ("update: add manager as [{$ref, value}]", manager_as_list),
    ("update: add manager as a bare id", manager_as_string),
    ("update: add manager as {value}", manager_as_object),
    ("update: remove manager", remove_manager),
    ("update: remove nickName", remove_nick_name),
    ("update: replace the query attribute (the UPN changed)", rename),
    ("disable: replace active with false", disable),
    ("enable: replace active with true (assigned again)", enable),
)
