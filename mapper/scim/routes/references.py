"""References from one resource to another: group members (multi-valued, in a child table) and
single-valued references such as the enterprise ``manager``.

- In responses, each member gets ``$ref``, ``type`` and ``display``, the display name read from the
  referenced object's cached row (:class:`Members`).
- In writes, a single-valued reference to an object that does not exist is dropped, with a
  warning, and the rest of the write goes through (:func:`without_dangling`). One stale manager id
  must not block every other change to an employee: Entra ID provisions managers before their
  reports, so a manager it names and we lack has been deleted here, where "no manager" is the
  truth (the HR schema says the same: ``ON DELETE SET NULL``). A member that does not exist stays
  an error (400 ``invalidValue``): membership is what a group write is about.
"""

from __future__ import annotations

import logging
from typing import Any

from mapper.plan import Plan, PlanAttribute, PlanObject
from mapper.runtime.errors import MissingReferenceError
from mapper.runtime.store import ObjectStore
from mapper.scim.attributes import AttributeResolver, container_key, key_ci
from mapper.scim.routes.requests import location

log = logging.getLogger("mapper.scim")


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


def single_references(obj: PlanObject) -> tuple[PlanAttribute, ...]:
    """The single-valued reference attributes of an object type (``manager.value``)."""
    return tuple(a for a in obj.attributes if a.reference and not a.multi_valued and a.direction != "import")


def without_dangling(
    resource: dict[str, Any],
    error: MissingReferenceError,
    references: tuple[PlanAttribute, ...],
    resolver: AttributeResolver,
    object_type: str,
) -> dict[str, Any] | None:
    """``resource`` without the single-valued reference ``error`` names, or None when the error
    is about something else (a group member, or a reference that vanished mid-write)."""
    attr = next((a for a in references if a.path.casefold() == str(error.path).casefold()), None)
    if attr is None or error.value is None:
        return None
    info = resolver.resolve(attr.schema_urn, attr.attribute)
    outer = container_key(resolver, info)
    holder_key = key_ci(resource, outer) if outer else None
    container = resource.get(holder_key) if holder_key else (None if outer else resource)
    if not isinstance(container, dict):
        return None
    key = key_ci(container, info.name)
    if key is None:
        return None
    log.warning(
        "%s: %s %r names no %s; written without it", object_type, attr.path, error.value, attr.reference
    )
    kept = {k: v for k, v in container.items() if k != key}
    if holder_key is None:
        return kept
    return {**resource, holder_key: kept}
