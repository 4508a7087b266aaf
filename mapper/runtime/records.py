"""The codec: a :class:`Codec` turns records into SCIM resources and SCIM resources into column
values for writes, per attribute of the plan.

The records themselves (what the cache keeps of one object, one small object per shape) are
:mod:`mapper.runtime.record`'s. Resources are rendered on demand, never kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import Any

from mapper.plan import PlanAttribute, PlanMulti, PlanObject
from mapper.runtime.dn import DnRenderer
from mapper.runtime.errors import InvalidValueError
from mapper.runtime.record import Children, Key, Record, Row, anchor_key, fold
from mapper.runtime.values import OMIT, Transform, coerce, parse_boolean, text_problem, to_scim
from mapper.scimschema import COMMON, STANDARD_SCHEMAS

MISSING: Any = object()  # an attribute the client did not send


def ci_get(mapping: Any, key: str) -> Any:
    """``mapping[key]`` with SCIM's case-insensitive attribute names; MISSING when absent."""
    if not isinstance(mapping, dict):
        return MISSING
    if key in mapping:
        return mapping[key]
    lowered = key.lower()
    for k, v in mapping.items():
        if isinstance(k, str) and k.lower() == lowered:
            return v
    return MISSING


# ---------------------------------------------------------------------------------------------
# the codec of one object type


def _is_complex(urn: str, attribute: str) -> bool:
    schema = STANDARD_SCHEMAS.get(urn)
    definition = (schema.attribute(attribute) if schema else None) or COMMON.attribute(attribute)
    return definition is not None and definition.type == "complex"


class _Slot:
    """Precomputed facts about one mapped attribute."""

    __slots__ = (
        "attr",
        "complex",
        "extension",
        "ident",
        "index",
        "meta",
        "param",
        "readable",
        "transform",
        "writable",
    )

    def __init__(self, attr: PlanAttribute, index: int | None, obj: PlanObject) -> None:
        self.attr = attr
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
        # ``not COLUMN`` or ``map { ... }``: stored values are not SCIM values
        self.transform = Transform(attr) if attr.transform is not None else None

    def value(self, row: Row) -> Any:
        """This attribute's column value in an import row (None when the projection lacks it)."""
        return None if self.index is None else row[self.index]


#: an item of a multi-valued attribute as the store compares and writes it: the value's key (an
#: anchor, or the value itself), then the sub-attributes the child table keeps, in plan order
Item = tuple[Any, ...]

_SUBS = ("type", "display", "primary")


class _MultiSlot:
    __slots__ = ("extension", "extra", "ident", "multi")

    def __init__(self, multi: PlanMulti, obj: PlanObject) -> None:
        self.multi = multi
        self.ident: Callable[[Any], str] = str  # an item's value (an anchor) as the id it renders
        self.extension = None if multi.schema_urn in ("", obj.schema_urn) else multi.schema_urn
        self.extra = tuple(multi.sub_attributes) or _guess_subs(multi.columns[2:])

    def normal(self, item: Any) -> Item:
        """A child of a record as an :data:`Item`: absent ``primary`` is false, text is text."""
        if not self.extra:
            return (anchor_key(item),)
        return (anchor_key(item[0]), *(_normal_sub(n, v) for n, v in zip(self.extra, item[1:], strict=False)))


def _guess_subs(columns: Sequence[str]) -> tuple[str, ...]:
    """The sub-attributes of extra columns, for a plan compiled before ``sub_attributes``."""
    extra: list[str] = []
    for position, column in enumerate(c.lower() for c in columns):
        found = next((o for o in _SUBS if o in column and o not in extra), None)
        extra.append(found or _SUBS[min(position, 2)])
    return tuple(extra)


def _normal_sub(name: str, value: Any) -> Any:
    if name == "primary":
        return False if value is None else bool(to_scim("boolean", value))
    return None if value is None else str(value)


class Codec:
    """Renders records of one object type as SCIM resources and reads SCIM resources into column
    values. Built once per object type; everything per-attribute is precomputed.

    The resource's ``id`` is the anchor's text, or with ``id dn`` the DN, made from the anchor
    alone (:mod:`mapper.runtime.dn`); :meth:`dn` is every object's DN whatever the id is."""

    def __init__(self, obj: PlanObject, dialect: str) -> None:
        self.obj = obj
        self.dialect = dialect
        index = {c: i for i, c in enumerate(obj.columns)}
        self.anchor_index = index[obj.anchor_column]
        self.dn_ids = obj.id_source == "dn"
        self.dns = DnRenderer(obj.dn, obj.columns, obj.anchor_column, ids=self.dn_ids)
        self.id_of: Callable[[Any], str] = self.dns.of_anchor if self.dn_ids else str  # anchor -> id
        self.slots = tuple(_Slot(a, index.get(a.column), obj) for a in obj.attributes)
        self.multis = tuple(_MultiSlot(m, obj) for m in obj.multi)
        self.by_path = {s.attr.path.lower(): s for s in self.slots}
        self._steps = _render_steps(self.slots)
        query = self.by_path.get(obj.query_attribute.lower())
        if query is None:
            raise ValueError(f"{obj.name}: query attribute {obj.query_attribute} is not mapped")
        self.query = query
        self.unique = tuple(s for s in self.slots if s.attr.unique and s is not query and s.index is not None)
        if query.index is None:
            raise ValueError(
                f"{obj.name}: query attribute {obj.query_attribute} is not in the import projection"
            )

    # -- database -> SCIM -------------------------------------------------------------------

    def link(self, codecs: Mapping[str, Codec]) -> None:
        """Render references (``manager.value``, group members) to object types whose ids are
        DNs as those DNs; ``codecs`` are every object type's, by name. References stay anchors
        in records: only their rendering changes."""
        for slot in self.slots:
            target = codecs.get(slot.attr.reference or "")
            slot.ident = target.id_of if target is not None and target.dn_ids else None
        for multi_slot in self.multis:
            target = codecs.get(multi_slot.multi.reference or "")
            multi_slot.ident = target.id_of if target is not None and target.dn_ids else str
        self._steps = _render_steps(self.slots)

    def key(self, record: Record) -> Key:
        return anchor_key(record.row[self.anchor_index])

    def dn(self, record: Record) -> str:
        """The object's DN, as the mapping's ``dn`` says (the anchor's text by default)."""
        return self.dns.render(record.row)

    def anchor_of(self, id: str) -> str | None:
        """The anchor (as text) an id names: the id itself, or the anchor of a DN id (None when
        the id is not a DN of this type's template)."""
        return self.dns.anchor_of(id) if self.dn_ids else id

    def render(self, record: Record) -> dict[str, Any]:
        """A fresh resource dict (callers decorate it): ``schemas``, ``id``, the mapped attributes
        in mapping order, multi-valued children, then ``meta``. The per-attribute work is planned
        once (:func:`_render_step`); here each non-null column is converted and placed."""
        row = record.row
        resource: dict[str, Any] = {
            "schemas": [self.obj.schema_urn],
            "id": self.id_of(row[self.anchor_index]),
        }
        meta: dict[str, Any] = {"resourceType": self.obj.name}
        for index, text, convert, key, place in self._steps:
            value = row[index]
            if value is None:
                continue
            if text is None or type(value) is not str:  # a str of a text type is its own JSON
                value = convert(value)
            if place is None:
                resource[key] = value
            else:
                place(resource, meta, value)
        for multi_slot, items in zip(self.multis, record.children, strict=False):
            if not items:
                continue
            target = (
                resource if multi_slot.extension is None else self._extension(resource, multi_slot.extension)
            )
            target[multi_slot.multi.attribute] = [self._child(multi_slot, item) for item in items]
        meta["version"] = record.version
        resource["meta"] = meta
        return resource

    @staticmethod
    def _extension(resource: dict[str, Any], urn: str) -> dict[str, Any]:
        container = resource.get(urn)
        if container is None:
            container = resource[urn] = {}
            resource["schemas"].append(urn)
        return container

    @staticmethod
    def _child(multi_slot: _MultiSlot, item: Any) -> dict[str, Any]:
        if not multi_slot.extra:
            return {"value": multi_slot.ident(item)}
        rendered: dict[str, Any] = {"value": multi_slot.ident(item[0])}
        for name, value in zip(multi_slot.extra, item[1:], strict=False):
            if value is None:
                continue
            if name != "primary":
                rendered[name] = str(value)
            elif to_scim("boolean", value):  # false is the default: left out, as clients send it
                rendered[name] = True
        return rendered

    def scim(self, slot: _Slot, stored: Any) -> Any:
        """A stored value of ``slot``'s column as its SCIM value (None when null or unmapped)."""
        if stored is None:
            return None
        if slot.transform is not None:
            value = slot.transform.read(stored)
            return None if value is OMIT else value
        return to_scim(slot.attr.type, stored)

    def stored(self, slot: _Slot, value: Any) -> Any:
        """A SCIM value (a filter's, say) as ``slot``'s column stores it; MISSING when no stored
        value can equal it (it does not fit the type, or is outside a value map)."""
        if slot.transform is None:
            return value
        try:
            return slot.transform.write(coerce(slot.attr, value, self.dialect))
        except InvalidValueError:
            return MISSING

    def query_key(self, record: Record) -> str | None:
        value = self.query.value(record.row)
        return None if value is None else fold(value, self.query.attr.case_exact)

    def unique_keys(self, record: Record) -> list[tuple[str, str]]:
        keys = []
        for slot in self.unique:
            value = slot.value(record.row)
            if value is not None:
                keys.append((slot.attr.path, fold(value, slot.attr.case_exact)))
        return keys

    def children_of(self, rows_per_multi: Sequence[Iterable[tuple[Any, ...]]]) -> Children:
        """Children tuples from load rows (owner, value[, extra...]), one iterable per multi."""
        out = []
        for multi_slot, rows in zip(self.multis, rows_per_multi, strict=True):
            if multi_slot.extra:
                items = sorted((tuple(r[1:]) for r in rows), key=repr)
            else:
                items = sorted((r[1] for r in rows), key=repr)
            out.append(tuple(items))
        return tuple(out)

    # -- SCIM -> database -------------------------------------------------------------------

    def read(self, slot: _Slot, resource: dict[str, Any]) -> Any:
        """The raw JSON value of a mapped attribute in a resource; MISSING when absent."""
        attr = slot.attr
        container = resource if slot.extension is None else ci_get(resource, slot.extension)
        if container is MISSING or not isinstance(container, dict):
            return MISSING
        value = ci_get(container, attr.attribute)
        if value is MISSING or value is None:
            return value
        if attr.multi_valued:
            if not isinstance(value, list):
                raise InvalidValueError(attr.attribute, "expected a list")
            item = _pick_item(value, attr.filter)
            if item is MISSING:
                return MISSING
            if not isinstance(item, dict):
                raise InvalidValueError(attr.path, "expected an object")
            return ci_get(item, attr.sub_attribute or "value")
        if attr.sub_attribute:
            if isinstance(value, str | int) and attr.reference and attr.sub_attribute == "value":
                return value  # "manager": "42" as some clients send it
            if not isinstance(value, dict):
                raise InvalidValueError(attr.attribute, "expected an object")
            return ci_get(value, attr.sub_attribute)
        if slot.complex and isinstance(value, dict):
            return ci_get(value, "value")
        return value

    def values(self, resource: dict[str, Any], current: Row | None) -> dict[str, Any]:
        """Bind values (by parameter name) for every writable attribute of a full-state resource.

        Absent attributes are cleared (``None``), except ``active``: absent on create means true,
        absent on replace keeps the current value. Required attributes must be present.
        References are returned as id strings; the store resolves them."""
        if not isinstance(resource, dict):
            raise InvalidValueError("", "expected a JSON object")
        out: dict[str, Any] = {}
        for slot in self.slots:
            if not slot.writable:
                continue
            raw = self.read(slot, resource)
            attr = slot.attr
            if raw is MISSING and current is not None and not slot.readable:
                out[slot.param] = slot.value(current)  # never returned, so never sent back: keep it
                continue
            if raw is MISSING and attr.path == "active":
                raw = True if current is None else self.scim(slot, slot.value(current))
            if raw is MISSING or raw is None:
                if attr.required:
                    raise InvalidValueError(attr.path, "is required")
                out[slot.param] = None
                continue
            value = coerce(attr, raw, self.dialect, strict=attr.required or slot is self.query)
            if attr.required and isinstance(value, str) and not value.strip():
                raise InvalidValueError(attr.path, "is required")
            out[slot.param] = value if slot.transform is None else slot.transform.write(value)
        return out

    def items(self, multi_slot: _MultiSlot, resource: dict[str, Any]) -> list[tuple[str, Item]]:
        """The items a full-state resource asks for in a multi-valued attribute: each as its value
        (an id, as a string) and its sub-attributes in ``multi_slot.extra`` order (``primary``
        false when not given). Every sub-attribute the child table keeps goes in; one it cannot
        keep is refused (400), never dropped: except the ``type``, ``display`` and ``$ref`` of a
        reference (group members), which the gateway fills in itself. At most one item is
        primary (RFC 7643 §2.4); none being primary is fine, and stays so."""
        multi = multi_slot.multi
        name = multi.attribute
        container = resource if multi_slot.extension is None else ci_get(resource, multi_slot.extension)
        items = ci_get(container, name) if isinstance(container, dict) else MISSING
        if items is MISSING or items is None:
            return []
        if not isinstance(items, list):
            raise InvalidValueError(name, "expected a list")
        found: dict[tuple[Any, ...], tuple[str, list[Any]]] = {}
        for item in items:
            value = ci_get(item, "value") if isinstance(item, dict) else item
            if not isinstance(value, str | int) or isinstance(value, bool) or str(value) == "":
                raise InvalidValueError(
                    f"{name}.value", "expected an id" if multi.reference else "expected a string"
                )
            if isinstance(value, str) and (problem := text_problem(value)) is not None:
                raise InvalidValueError(f"{name}.value", problem)
            subs = [self._sub(multi_slot, item, sub) for sub in multi_slot.extra]
            for sub in _SUBS:
                if sub not in multi_slot.extra and not multi.reference and isinstance(item, dict):
                    given = ci_get(item, sub)
                    if given not in (MISSING, None, False) and not (sub == "primary" and given == "false"):
                        raise InvalidValueError(
                            f"{name}.{sub}", f"cannot be stored: the mapping keeps no {sub} for {name}"
                        )
            key = (str(value), *(v for n, v in zip(multi_slot.extra, subs, strict=True) if n == "type"))
            kept = found.get(key)
            if kept is None:
                found[key] = (str(value), subs)
            else:  # the same value twice: one item, primary when either is
                kept[1][:] = [a if a is not None else b for a, b in zip(kept[1], subs, strict=True)]
                if "primary" in multi_slot.extra:
                    at = multi_slot.extra.index("primary")
                    kept[1][at] = bool(kept[1][at]) or bool(subs[at])
        out = [(value, tuple(subs)) for value, subs in found.values()]
        if "primary" in multi_slot.extra:
            at = multi_slot.extra.index("primary")
            if sum(1 for _, subs in out if subs[at]) > 1:
                raise InvalidValueError(f"{name}.primary", "more than one value is primary")
        return out

    @staticmethod
    def _sub(multi_slot: _MultiSlot, item: Any, sub: str) -> Any:
        name = f"{multi_slot.multi.attribute}.{sub}"
        given = ci_get(item, sub) if isinstance(item, dict) else MISSING
        if sub == "primary":
            if given is MISSING or given is None:
                return False
            flag = parse_boolean(given)
            if flag is None:
                raise InvalidValueError(name, "expected a boolean")
            return flag
        if given is MISSING or given is None:
            return None
        if not isinstance(given, str) or isinstance(given, bool):
            raise InvalidValueError(name, "expected a string")
        problem = text_problem(given)
        if problem is not None:
            raise InvalidValueError(name, problem)
        return given


# ---------------------------------------------------------------------------------------------
# rendering, planned per attribute

Place = Callable[[dict[str, Any], dict[str, Any], Any], None]  # (resource, meta, value)
#: (row index, text type or None, converter, key, placer)
RenderStep = tuple[int, str | None, Callable[[Any], Any], str, Place | None]

#: The SCIM types whose database value :func:`to_scim` converts; a ``str`` of any other type
#: (string, reference, binary) is its own JSON value.
_CONVERTED = frozenset({"boolean", "integer", "decimal", "dateTime"})


def _render_steps(slots: Sequence[_Slot]) -> tuple[RenderStep, ...]:
    """One step per readable attribute. A step without a placer sets ``resource[key]`` (a core
    attribute with a plain value, the common case); a text step skips the converter for a str."""
    return tuple(_render_step(slot) for slot in slots if slot.readable)


def _render_step(slot: _Slot) -> RenderStep:
    attr = slot.attr
    assert slot.index is not None  # readable slots are in the import projection
    if slot.transform is not None:  # converted by the transform; a value outside a map is left out
        place = _placer(slot)

        def place_known(resource: dict[str, Any], meta: dict[str, Any], value: Any) -> None:
            if value is not OMIT:
                place(resource, meta, value)

        return slot.index, None, slot.transform.read, attr.attribute, place_known
    text = None if slot.ident is not None or attr.type in _CONVERTED else attr.type
    convert = slot.ident if slot.ident is not None else partial(to_scim, attr.type)
    simple = not (slot.meta or attr.multi_valued or attr.sub_attribute or slot.complex)
    if simple and slot.extension is None:
        return slot.index, text, convert, attr.attribute, None
    return slot.index, text, convert, attr.attribute, _placer(slot)


def _placer(slot: _Slot) -> Place:
    """Where a converted value goes in the resource (or in ``meta``)."""
    attr = slot.attr
    name, sub, extension = attr.attribute, attr.sub_attribute, slot.extension

    extend = Codec._extension  # the extension's object in a resource, made on first use

    if slot.meta:

        def place_meta(resource: dict[str, Any], meta: dict[str, Any], value: Any) -> None:
            if sub:
                meta[sub] = value

        return place_meta
    if attr.multi_valued:
        filter_ = attr.filter
        key = sub or "value"

        def place_item(resource: dict[str, Any], meta: dict[str, Any], value: Any) -> None:
            target = resource if extension is None else extend(resource, extension)
            items: list[dict[str, Any]] | None = target.get(name)
            if items is None:  # the first item: nothing to look for
                first: dict[str, Any] = dict(filter_)
                first[key] = value
                target[name] = [first]
                return
            found = next((i for i in items if all(i.get(k) == v for k, v in filter_)), None)
            item: dict[str, Any] = dict(filter_) if found is None else found
            if found is None:
                items.append(item)
            item[key] = value

        return place_item
    if sub:

        def place_sub(resource: dict[str, Any], meta: dict[str, Any], value: Any) -> None:
            (resource if extension is None else extend(resource, extension)).setdefault(name, {})[sub] = value

        return place_sub
    if slot.complex:

        def place_complex(resource: dict[str, Any], meta: dict[str, Any], value: Any) -> None:
            (resource if extension is None else extend(resource, extension))[name] = {"value": value}

        return place_complex

    def place(resource: dict[str, Any], meta: dict[str, Any], value: Any) -> None:
        (resource if extension is None else extend(resource, extension))[name] = value

    return place


def _pick_item(items: list[Any], filter: tuple[tuple[str, str], ...]) -> Any:
    """The item of a multi-valued attribute that matches the mapping's value filter. When none
    matches a ``type`` filter, an item without any type stands in (the primary one, else the only one)."""
    for item in items:
        if isinstance(item, dict) and all(
            isinstance(ci_get(item, k), str) and ci_get(item, k).lower() == v.lower() for k, v in filter
        ):
            return item
    if not filter or [k.lower() for k, _ in filter] != ["type"]:
        return MISSING
    untyped = [i for i in items if isinstance(i, dict) and ci_get(i, "type") in (MISSING, None)]
    primary = [i for i in untyped if ci_get(i, "primary") is True]
    if primary:
        return primary[0]
    return untyped[0] if len(untyped) == 1 and len(items) == 1 else MISSING
