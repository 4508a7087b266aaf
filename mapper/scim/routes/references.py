"""References from one resource to another: group members (multi-valued, in a child table) and
single-valued references such as the enterprise ``manager``.

- In responses, each member gets ``$ref``, ``type`` and ``display``, the display name read from the
  referenced object's cached row (:class:`Members`).
- In writes, a reference to an object that does not exist (a member, a manager) follows the
  reference's declared policy, applied by the store: ``on missing drop`` (the default) leaves it
  out, with a warning in the log, a ``dropped`` entry in the audit line (:func:`note_drops`) and
  a count on the store; ``on missing reject`` answers 400 ``invalidValue`` naming the id. Members
  and managers follow the same rule (docs/decisions.md: a stale id must not block every other
  change, and the MIM sync engine drops unresolved references too).
"""

from __future__ import annotations

from typing import Any

from starlette.types import Scope

from mapper.plan import Plan, PlanObject
from mapper.runtime.store import Dangling, ObjectStore
from mapper.scim.audit import note_dropped
from mapper.scim.routes.urls import location


class Members:
    """A multi-valued attribute holding ids of another object type (group members)."""

    __slots__ = ("attribute", "container", "display_columns", "endpoint", "target")

    def __init__(self, attribute: str, container: str | None, target: PlanObject) -> None:
        self.attribute = attribute
        self.container = container  # the extension URN holding it, None at the top level
        self.target = target.name
        self.endpoint = target.endpoint
        self.display_columns = _display_columns(target)

    @classmethod
    def of(cls, obj: PlanObject, plan: Plan) -> tuple[Members, ...]:
        names = {o.name: o for o in plan.objects}
        return tuple(
            cls(m.attribute, None if m.schema_urn == obj.schema_urn else m.schema_urn, names[m.reference])
            for m in obj.multi
            if m.reference in names
        )

    def decorate(self, resource: dict[str, Any], root: str, target: ObjectStore | None) -> None:
        """Fill ``$ref``, ``type`` and ``display`` of each item of this attribute in ``resource``."""
        container = resource.get(self.container) if self.container else resource
        items = container.get(self.attribute) if isinstance(container, dict) else None
        if not isinstance(items, list):
            return
        for item in items:
            value = item.get("value") if isinstance(item, dict) else None
            if value is None:
                continue
            item["$ref"] = location(root, self.endpoint, str(value))
            item["type"] = self.target
            display = _display(target, self.display_columns, str(value)) if target is not None else None
            if display is not None:
                item["display"] = display


def _display_columns(obj: PlanObject) -> tuple[int, ...]:
    """Where a referenced object's display name sits in its cached row (``Record.row`` follows
    ``plan.columns``): ``displayName`` first, then the query attribute."""
    wanted = ("displayname", obj.query_attribute.casefold())
    by_path = {a.path.casefold(): a for a in obj.attributes if a.direction != "export"}
    return tuple(obj.columns.index(by_path[p].column) for p in wanted if p in by_path)


def _display(store: ObjectStore, columns: tuple[int, ...], id_: str) -> str | None:
    """A referenced object's display name, read from its cached row: one dictionary look-up per
    member, where rendering the whole resource would cost a group of 10,000 members seconds."""
    key = store.to_key(id_)
    record = store.cache.get(key) if key is not None else None
    if record is None:
        return None
    for index in columns:
        value = record.row[index]
        if value is not None and value != "":
            return str(value)
    return None


def note_drops(scope: Scope, dropped: list[Dangling]) -> None:
    """Put the references a write left out into its audit line."""
    for dangling in dropped:
        note_dropped(scope, dangling.path, dangling.id)
