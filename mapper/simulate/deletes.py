"""The hard deletes: the user, a group member (the group forgets it), the group, the manager."""

from __future__ import annotations

from mapper.simulate.groups import add_after_member_deleted, current_members, expect_members
from mapper.simulate.model import ObjectModel
from mapper.simulate.steps import (
    Context,
    Step,
    expect,
    expect_status,
    plan_of,
)


async def _delete(ctx: Context, model: ObjectModel, role: str) -> None:
    """DELETE → 204; then GET → 404 and the row gone, or flagged, per the mapping's delete rule."""
    (id,) = ctx.need(role)
    path = f"{model.endpoint}/{id}"
    expect_status(await ctx.client.delete(path), 204)
    obj = plan_of(model, ctx.db)
    action = obj.deprovision_delete.action if obj is not None else "row"
    hidden = action == "row" or (obj is not None and obj.tombstone is not None)  # a soft delete hides it
    after = await ctx.client.get(path)
    if hidden:
        expect_status(after, 404)
    anchor = ctx.anchors.get(role)
    ctx.forget(role)
    if obj is None or ctx.db is None or anchor is None:
        return
    row = await ctx.db.row(obj, anchor)
    if action == "row":
        expect(row is None, f"database: the row is gone (delete row), not {row!r}")
    elif hidden:
        expect(row is None, f"database: the import hides the row as deleted (delete {action}), not {row!r}")
    else:
        expect(row is not None, f"database: the row is kept (delete {action})")


async def delete_user(ctx: Context) -> None:
    await _delete(ctx, ctx.users(), "user")


async def delete_member(ctx: Context) -> None:
    """Deleting a member user drops it from its group (and its member row); a user the delete
    keeps (``delete ignore``, Mattermost's deactivated users) stays a member."""
    groups = ctx.model.groups
    (colleague,) = ctx.need("colleague")
    before: set[str] | None = None
    if "group" in ctx.ids and groups is not None and groups.maps("members"):
        before = await current_members(ctx)
    obj = plan_of(ctx.users(), ctx.db)
    kept = obj is not None and obj.deprovision_delete.action != "row" and obj.tombstone is None
    await _delete(ctx, ctx.users(), "colleague")
    if before is not None:
        await expect_members(ctx, before if kept else before - {colleague})


async def delete_group(ctx: Context) -> None:
    groups = ctx.groups()
    anchor = ctx.anchors.get("group")
    await _delete(ctx, groups, "group")
    obj = plan_of(groups, ctx.db)
    # a soft delete keeps the group's own rows, members included, hidden with it (docs/language.md)
    soft = obj is not None and obj.deprovision_delete.action != "row"
    if obj is not None and ctx.db is not None and anchor is not None and obj.multi and not soft:
        rows = await ctx.db.children(obj, "members", anchor)
        expect(not rows, f"database: no member rows left, not {sorted(rows)}")


async def delete_manager(ctx: Context) -> None:
    await _delete(ctx, ctx.users(), "manager")


STEPS: tuple[Step, ...] = (
    ("delete: DELETE the user", delete_user),
    ("delete: DELETE a group member; the group forgets it", delete_member),
    ("group members: add one after a member user was deleted", add_after_member_deleted),
    ("delete: DELETE the group", delete_group),
    ("delete: DELETE the manager", delete_manager),
)
