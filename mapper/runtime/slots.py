"""What the codec (:mod:`mapper.runtime.codec`) knows of each mapped attribute, worked out once
per object type: a :class:`Slot` per attribute map entry, a :class:`MultiSlot` per multi-valued
block."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from mapper.plan import PlanAttribute, PlanMulti, PlanObject
from mapper.runtime.keys import anchor_key
from mapper.runtime.record import Row
from mapper.runtime.rendering import to_scim
from mapper.runtime.values import Transform, is_day
from mapper.scimschema import COMMON, STANDARD_SCHEMAS


def _is_complex(urn: str, attribute: str) -> bool:
    schema = STANDARD_SCHEMAS.get(urn)
    definition = (schema.attribute(attribute) if schema else None) or COMMON.attribute(attribute)
    return definition is not None and definition.type == "complex"


class Slot:
    """Precomputed facts about one mapped attribute."""

    __slots__ = (
        "attr",
        "case_exact",
        "complex",
        "dates",
        "extension",
        "ident",
        "index",
        "meta",
        "null",
        "param",
        "path",
        "readable",
        "transform",
        "writable",
    )

    def __init__(self, attr: PlanAttribute, index: int | None, obj: PlanObject) -> None:
        self.attr = attr
        #: ``attr.path`` and ``attr.case_exact``, read once (a plan model's attribute read costs a
        #: ``__getattr__`` hook's lookup): the index keys of every write use them
        self.path = attr.path
        self.case_exact = attr.case_exact
        # a reference to an object type whose ids are DNs: the id of the referenced anchor
        self.ident: Callable[[Any], str] | None = None
        self.index = index  # None: written only, not in the import projection
        self.meta = attr.attribute == "meta"
        core = attr.schema_urn in ("", obj.schema_urn) or self.meta
        self.extension: str | None = None if core else attr.schema_urn
        self.complex = (
            attr.sub_attribute is None
            and not attr.multi_valued
            and _is_complex(attr.schema_urn, attr.attribute)
        )
        self.readable = (
            attr.direction in ("both", "import") and attr.mutability != "writeOnly" and index is not None
        )
        # every write statement binds an attribute under its column in the import projection
        # (mapper/plan.py), whether derived from ``write table`` or written out in the mapping
        self.writable = attr.direction in ("both", "export") and attr.mutability != "readOnly"
        self.param = attr.column
        #: the stored value that means no value (``null ""``), or None: it reads as absent, is no
        #: value of a unique attribute, and an attribute cleared is written as it
        self.null: str | None = attr.null_value
        # ``not COLUMN`` or ``map { ... }``: stored values are not SCIM values
        self.transform = Transform(attr) if attr.transform is not None else None
        #: a dateTime attribute whose column holds days (a ``DATE`` column; ISO days as SQLite
        #: text): True once a stored value showed it (:meth:`learn`), False once one showed a
        #: timestamp, None until then; False for every other attribute
        self.dates: bool | None = (
            None
            if attr.type == "dateTime" and self.writable and index is not None and not attr.transform
            else False
        )

    def value(self, row: Row) -> Any:
        """This attribute's column value in an import row (None when the projection lacks it)."""
        return None if self.index is None else row[self.index]

    def learn(self, row: Row) -> None:
        """Whether the column holds days (:attr:`dates`), from its value in ``row`` if it has one."""
        stored = self.value(row)
        if stored is not None:
            self.dates = is_day(stored)


#: an item of a multi-valued attribute as the store compares and writes it: the value's key (an
#: anchor, or the value itself), then the sub-attributes the child table keeps, in plan order
Item = tuple[Any, ...]

SUBS = ("type", "display", "primary")


class MultiSlot:
    __slots__ = ("attribute", "extension", "extra", "ident", "multi", "reference", "writable")

    def __init__(self, multi: PlanMulti, obj: PlanObject) -> None:
        self.multi = multi
        #: the multi's ``attribute``, ``reference`` and whether the mapping can write it (an add or
        #: a remove statement), read once: a plan model's attribute read costs a ``__getattr__``
        #: hook's lookup on every write
        self.attribute = multi.attribute
        self.reference = multi.reference
        self.writable = multi.add is not None or multi.remove is not None
        self.ident: Callable[[Any], str] = str  # an item's value (an anchor) as the id it renders
        self.extension = None if multi.schema_urn in ("", obj.schema_urn) else multi.schema_urn
        self.extra = tuple(multi.sub_attributes) or _guess_subs(multi.columns[2:])

    def normal(self, item: Any) -> Item:
        """A child of a record as an :data:`Item`: absent ``primary`` is false, text is text."""
        if not self.extra:
            return (anchor_key(item),)
        return (anchor_key(item[0]), *(_normal_sub(n, v) for n, v in zip(self.extra, item[1:], strict=False)))

    def diff(
        self, have: Sequence[Any], want: Sequence[Item]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The child rows to remove and to add to go from ``have`` (a record's children) to
        ``want`` (items), each as the parameters its statement binds (``value`` and the
        sub-attributes the table keeps, by name): none when they are the same items.

        A ``remove`` matches rows by what it binds (``:value``, or ``:value`` and ``:type``...),
        so it can take away rows that are still wanted (the same address kept under another
        type): those are added again. An item whose ``primary`` or ``display`` changes is
        removed and added."""
        names = ("value", *self.extra)
        if not have:  # nothing to remove (a create's children, an empty multi): every item is added
            return [], [dict(zip(names, w, strict=True)) for w in dict.fromkeys(want)]
        had = list(dict.fromkeys(self.normal(i) for i in have))
        wanted = list(dict.fromkeys(want))
        stale = [h for h in had if h not in wanted]
        if not stale and len(had) == len(wanted):
            return [], []
        remove = self.multi.remove
        bound = [i for i, n in enumerate(names) if remove is not None and n in remove.params]
        removed = list(dict.fromkeys(tuple(h[i] for i in bound) for h in stale))
        gone = {h for h in had if tuple(h[i] for i in bound) in removed}
        removes = [{names[i]: v for i, v in zip(bound, key, strict=True)} for key in removed]
        adds = [dict(zip(names, w, strict=True)) for w in wanted if w not in had or w in gone]
        return removes, adds


def _guess_subs(columns: Sequence[str]) -> tuple[str, ...]:
    """The sub-attributes of extra columns, for a plan compiled before ``sub_attributes``."""
    extra: list[str] = []
    for position, column in enumerate(c.lower() for c in columns):
        found = next((o for o in SUBS if o in column and o not in extra), None)
        extra.append(found or SUBS[min(position, 2)])
    return tuple(extra)


def _normal_sub(name: str, value: Any) -> Any:
    if name == "primary":
        return False if value is None else bool(to_scim("boolean", value))
    return None if value is None else str(value)
