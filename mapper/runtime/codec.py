"""The codec: a :class:`Codec` turns records into SCIM resources (rendered by
:mod:`mapper.runtime.rendering`) and SCIM resources into column values for writes, per attribute
of the plan. A value is found in a resource a client sent by :func:`field`, by its canonical name
(:data:`MISSING`: an attribute the client did not send).

The records themselves (what the cache keeps of one object, one small object per shape) are
:mod:`mapper.runtime.record`'s. Resources are rendered on demand, never kept.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from operator import itemgetter
from typing import Any, cast

from mapper.plan import PlanObject, Statement
from mapper.runtime.dn import DnRenderer
from mapper.runtime.errors import InvalidValueError
from mapper.runtime.keys import Fold, Key, anchor_key, folding, lowering
from mapper.runtime.record import Record, Row, column_name
from mapper.runtime.rendering import OMIT, ShapeRenderers, render_steps, to_scim
from mapper.runtime.slots import SUBS, Item, MultiSlot, Slot
from mapper.runtime.values import (
    PLAIN,
    PLAIN_STRICT,
    TEXT_TYPES,
    bind_day,
    coerce,
    parse_boolean,
    text_problem,
)

__all__ = ["MISSING", "Change", "Codec", "Item", "field"]


MISSING: Any = object()  # an attribute the client did not send
#: the types whose stored value may have no SCIM value (rendered as none: see rendering.to_scim)
_LEFT_OUT = frozenset({"boolean", "dateTime", "decimal", "integer"})
#: the stored values of a kept text attribute that :meth:`Codec.values` binds as they are
_TEXT_OR_NONE = frozenset({str, type(None)})


def field(mapping: Any, key: str) -> Any:
    """``mapping[key]``, MISSING when absent or when ``mapping`` is no object. Names are exact: the
    SCIM front end gives the store resources with canonical names (:mod:`mapper.scim.names`)."""
    return mapping.get(key, MISSING) if isinstance(mapping, dict) else MISSING


@dataclass(frozen=True, slots=True)
class Change:
    """A full-state resource encoded for a write, in one step (:meth:`Codec.change`).

    ``values``: the bind value of every writable attribute, by parameter name (references still
    as the ids the client sent: the store resolves them to anchors in place). ``items``: per
    multi, the items the resource asks for (:meth:`Codec.items`). ``write_only``: it gives an
    attribute that is never read back (so it always counts as a change). ``deactivates``: it sets
    ``active`` to false (the disable rule may then run). ``compared``: of a replace, the entries
    of :attr:`Codec.compared` whose values were not bound as stored (kept text, :func:`_kept`: the
    very value of the row, so the same), the only ones that can differ from it; None: every one."""

    values: dict[str, Any]
    items: tuple[list[tuple[str, Item]], ...]
    write_only: bool
    deactivates: bool
    compared: list[tuple[Slot, bool, int]] | None = None


class Codec:
    """Renders records of one object type as SCIM resources and reads SCIM resources into column
    values. Built once per object type; everything per-attribute is precomputed.

    The resource's ``id`` is the anchor's text, or with ``id dn`` the DN, made from the anchor
    alone (:mod:`mapper.runtime.dn`); :attr:`id_of` and :attr:`anchor_of` go from one to the
    other; :meth:`dn` is every object's DN whatever the id is."""

    #: ``render(record)``: a fresh resource dict (callers decorate it), made in one call by the
    #: type's renderer (:meth:`mapper.runtime.rendering.ShapeRenderers.render`)
    render: Callable[[Record], dict[str, Any]]
    #: ``render_bare(record)``: the resource as :attr:`render` makes it, without what ``meta``
    #: holds but its ``resourceType`` (its timestamps, its version), unless a writable attribute
    #: is mapped there (then without its version only): what :meth:`values` reads of it, for a
    #: PATCH whose operations leave ``meta`` alone, at the cost of neither
    render_bare: Callable[[Record], dict[str, Any]]

    def __init__(self, obj: PlanObject, dialect: str) -> None:
        self.obj = obj
        self.dialect = dialect
        #: a value's index key as this database's look-ups fold it (``keys.folding``), and its LOWER
        self.fold: Fold = folding(dialect)
        self.lower: Callable[[str], str] = lowering(dialect)
        index = {c: i for i, c in enumerate(obj.columns)}
        self.anchor_index = index[obj.anchor_column]
        #: the record slot holding the anchor (:func:`~mapper.runtime.record.column_name`): read
        #: by :meth:`key` without rebuilding the row
        self._anchor_slot = column_name(self.anchor_index)
        self.dn_ids = obj.id_source == "dn"
        self.dns = DnRenderer(obj.dn, obj.columns, obj.anchor_column, ids=self.dn_ids)
        self.id_of: Callable[[Any], str] = self.dns.of_anchor if self.dn_ids else str  # anchor -> id
        #: id -> the anchor (as text) it names: the id itself, or the anchor of a DN id (None when
        #: the id is not a DN of this type's template)
        self.anchor_of: Callable[[str], str | None] = self.dns.anchor_of if self.dn_ids else str
        self.slots = tuple(Slot(a, index.get(a.column), obj) for a in obj.attributes)
        self.multis = tuple(MultiSlot(m, obj) for m in obj.multi)
        self.by_path = {s.attr.path.lower(): s for s in self.slots}
        #: each slot's value in a row by its parameter, ``{s.param: s.value(row) for s in slots}``
        #: (of two slots of one parameter, the later one's), in C calls:
        #: :func:`mapper.runtime.decisions.row_params` zips ``held_params`` with ``held_values`` of
        #: the row with a None appended (that None, at -1, for a slot the import projection lacks;
        #: picked once more at the end, so that the getter returns a tuple even for one slot)
        self.held_params = tuple(s.param for s in self.slots)
        self.held_values = itemgetter(*(-1 if s.index is None else s.index for s in self.slots), -1)
        self._renderer()
        query = self.by_path.get(obj.query_attribute.lower())
        if query is None:
            raise ValueError(f"{obj.name}: query attribute {obj.query_attribute} is not mapped")
        self.query = query
        self.unique = tuple(s for s in self.slots if s.attr.unique and s is not query and s.index is not None)
        lookups = {u.attribute.lower(): u.lookup for u in obj.by_unique}
        #: each value no two objects may hold, and the statement that finds who holds one in the
        #: database: the query attribute's (``by_query``), then each other unique attribute's
        self.unique_lookups: tuple[tuple[Slot, Statement], ...] = (
            (query, obj.by_query),
            *((s, lookups[s.attr.path.lower()]) for s in self.unique if s.attr.path.lower() in lookups),
        )
        #: written but never read back: a write that gives one always changes something
        self.write_only = tuple(s for s in self.slots if s.writable and not s.readable)
        #: the slots each of a write's checks goes through (:mod:`mapper.runtime.store_checks`),
        #: picked once: written and read back (compared against the current row; with whether
        #: each is a reference, and its column's index in a row), written and immutable, written
        #: references
        self.compared: tuple[tuple[Slot, bool, int], ...] = tuple(
            (s, s.attr.reference is not None, cast(int, s.index))  # readable: in the projection
            for s in self.slots
            if s.writable and s.readable
        )
        self.immutable = tuple(s for s in self.slots if s.writable and s.attr.mutability == "immutable")
        self.references = tuple(s for s in self.slots if s.writable and s.attr.reference is not None)
        #: the dateTime slots not yet known to hold days or timestamps (:meth:`learn`)
        self.dated = tuple(s for s in self.slots if s.dates is None)
        active = self.by_path.get("active")
        self.active = active if active is not None and active.writable else None  # as written
        #: what :meth:`values` needs of each writable slot, looked up once (a plan attribute is a
        #: pydantic model: each of its attributes read costs a ``__getattr__`` hook's lookup): (slot,
        #: its attribute, the attribute's name when :meth:`values` reads it itself (a
        #: single-valued attribute that is not complex; else None: :meth:`read` reads it), its
        #: sub-attribute or None, ``coerce``'s ``strict``, whether a stored value with no SCIM
        #: value is kept, the attribute's name in its container, whether it is required, whether
        #: it is ``active``, for a text type the pattern of text ``coerce`` takes as it is
        #: (:data:`~mapper.runtime.values.PLAIN`), else None, and for a kept text attribute (see
        #: :func:`_kept`) its column's index in a row, else None, and its :attr:`compared` entry
        #: or None)
        writable = [s for s in self.slots if s.writable]
        params = [s.param for s in writable]
        compared = {entry[0]: entry for entry in self.compared}
        self._writes = tuple(
            (
                s,
                s.attr,
                None if s.attr.multi_valued or s.complex else s.attr.attribute,
                s.attr.sub_attribute,
                s.attr.required or s is query,
                s.attr.type in _LEFT_OUT,  # absent, kept as stored when it had no SCIM value
                s.attr.attribute,
                s.attr.required,
                s.attr.path == "active",
                (
                    (PLAIN_STRICT if s.attr.required or s is query else PLAIN)
                    if s.attr.type in TEXT_TYPES
                    else None
                ),
                s.index if _kept(s, query) and params.count(s.param) == 1 else None,
                compared.get(s),
            )
            for s in writable
        )
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
        self._renderer()

    def _renderer(self) -> None:
        """(Re)build the type's renderers, and :attr:`render` and :attr:`render_bare` with them."""
        self._steps = render_steps(self.slots)
        self._renderers = ShapeRenderers(
            self._steps, self.multis, self.obj.schema_urn, self.obj.name, self.id_of, self.anchor_index
        )
        self.render = self._renderers.render
        # what a PATCH is applied to, when no writable attribute is in ``meta`` (values() reads none)
        written_meta = any(s.meta for s in self.slots if s.writable)
        bare = self._renderers if written_meta else self._renderers.without_meta()
        self.render_bare = partial(bare.render, versioned=False)

    def key(self, record: Record) -> Key:
        """The record's cache key: its anchor's (:func:`~mapper.runtime.keys.anchor_key`), read from
        its slot (a record rebuilds its whole row on every read of ``row``; None: NULL)."""
        return anchor_key(getattr(record, self._anchor_slot, None))

    def dn(self, record: Record) -> str:
        """The object's DN, as the mapping's ``dn`` says (the anchor's text by default)."""
        return self.dns.render(record.row)

    def scim(self, slot: Slot, stored: Any) -> Any:
        """A stored value of ``slot``'s column as its SCIM value (None when null or unmapped)."""
        if stored is None or (slot.null is not None and stored == slot.null):
            return None
        if slot.transform is not None:
            value = slot.transform.read(stored)
            return None if value is OMIT else value
        return to_scim(slot.attr.type, stored)

    def stored(self, slot: Slot, value: Any) -> Any:
        """A SCIM value (a filter's, say) as ``slot``'s column stores it; MISSING when no stored
        value can equal it (it does not fit the type, or is outside a value map)."""
        if slot.transform is None:
            return value
        try:
            return slot.transform.write(coerce(slot.attr, value, self.dialect))
        except InvalidValueError:
            return MISSING

    # -- SCIM -> database -------------------------------------------------------------------

    def read(self, slot: Slot, resource: dict[str, Any]) -> Any:
        """The raw JSON value of a mapped attribute in a resource; MISSING when absent."""
        attr = slot.attr
        container = resource if slot.extension is None else field(resource, slot.extension)
        if container is MISSING or not isinstance(container, dict):
            return MISSING
        value = field(container, attr.attribute)
        if value is MISSING or value is None:
            return value
        if attr.multi_valued:
            if not isinstance(value, list):
                raise InvalidValueError(attr.attribute, "expected a list")
            item = pick_item(value, attr.filter, attr.attribute)
            if item is MISSING:
                return MISSING
            if not isinstance(item, dict):
                raise InvalidValueError(attr.path, "expected an object")
            return field(item, attr.sub_attribute or "value")
        if attr.sub_attribute:
            if isinstance(value, str | int) and attr.reference and attr.sub_attribute == "value":
                return value  # "manager": "42" as some clients send it
            if not isinstance(value, dict):
                raise InvalidValueError(attr.attribute, "expected an object")
            return field(value, attr.sub_attribute)
        if slot.complex and isinstance(value, dict):
            return field(value, "value")
        return value

    def change(self, resource: dict[str, Any], current: Row | None) -> Change:
        """Everything a create (``current`` None) or a replace of ``current`` writes, from a
        full-state resource: see :class:`Change`."""
        compared: list[tuple[Slot, bool, int]] = []
        values = self.values(resource, current, compared)
        items = tuple([self.items(multi_slot, resource) for multi_slot in self.multis])
        write_only = False
        for slot in self.write_only:
            if self.read(slot, resource) not in (MISSING, None):
                write_only = True
                break
        active = self.active
        deactivates = active is not None and self.scim(active, values.get(active.param)) is False
        return Change(values, items, write_only, deactivates, compared if current is not None else None)

    def values(
        self, resource: dict[str, Any], current: Row | None, compared: list[Any] | None = None
    ) -> dict[str, Any]:
        """Bind values (by parameter name) for every writable attribute of a full-state resource.

        Absent attributes are cleared (``None``, or the value their column stores for none:
        ``null ""``), except ``active``: absent on create means true,
        absent on replace keeps the current value. Required attributes must be present.
        References are returned as id strings; the store resolves them. ``compared`` (a list)
        receives the :attr:`compared` entries of the attributes not bound as stored (kept text)."""
        if not isinstance(resource, dict):
            raise InvalidValueError("", "expected a JSON object")
        if compared is None:
            compared = []
        out: dict[str, Any] = {}
        for (
            slot,
            attr,
            name,
            sub,
            strict,
            keeps,
            member,
            required,
            is_active,
            plain,
            kept,
            check,
        ) in self._writes:
            if kept is not None and current is not None:  # kept text: a value equal to the stored
                held = current[kept]  # str or None is bound as it is stored (see _kept)
                if type(held) in _TEXT_OR_NONE:
                    container = resource if slot.extension is None else resource.get(slot.extension)
                    if type(container) is dict:
                        raw = container.get(member)  # None: absent, cleared as None is
                        if sub is not None:  # read in a member object (absent or null: absent)
                            raw = raw.get(sub) if type(raw) is dict else (None if raw is None else MISSING)
                        if raw == held:
                            out[slot.param] = held
                            continue
            if check is not None:
                compared.append(check)
            if name is None:  # read() reads it, unless the resource lacks its attribute altogether
                container = resource if slot.extension is None else resource.get(slot.extension, MISSING)
                if type(container) is dict and member not in container:
                    raw = MISSING
                else:
                    raw = self.read(slot, resource)
            else:  # as read() reads a single-valued attribute, or its sub-attribute in an object
                container = resource if slot.extension is None else resource.get(slot.extension, MISSING)
                raw = container.get(name, MISSING) if isinstance(container, dict) else MISSING
                if sub is not None and raw is not MISSING and raw is not None:
                    # not an object: read() answers (a bare reference id, or the error)
                    raw = raw.get(sub, MISSING) if type(raw) is dict else self.read(slot, resource)
            if raw is MISSING and current is not None and not slot.readable:
                out[slot.param] = slot.value(current)  # never returned, so never sent back: keep it
                continue
            absent = raw is MISSING
            if absent and is_active:
                raw = True if current is None else self.scim(slot, slot.value(current))
            if raw is MISSING or raw is None:
                if required:
                    raise InvalidValueError(attr.path, "is required")
                # cleared: NULL, or the value its column stores for none (``null ""``), which a
                # create's derived insert leaves out as it leaves out NULL, so the DEFAULT applies
                out[slot.param] = slot.null
                if keeps and absent and current is not None:
                    # a stored value SCIM has no value for (MySQL's 0000-00-00, a NaN) is not
                    # rendered, so a resource as read lacks it: written back as stored, not cleared
                    stored = slot.value(current)
                    if stored is not None and self.scim(slot, stored) is None:
                        out[slot.param] = stored
                continue
            if plain is not None and type(raw) is str and plain.fullmatch(raw):
                value = raw  # text coerce takes as it is (its own first test), without the call
            else:
                try:
                    value = coerce(attr, raw, self.dialect, strict=strict)
                except InvalidValueError:
                    # a value the gateway would not accept, stored by another application (MySQL's
                    # 0000-00-00, a tab in a login), and left as it was: written back as stored, so
                    # that it does not refuse every other change to the object (Entra's disable)
                    if current is None or raw != self.scim(slot, slot.value(current)):
                        raise
                    out[slot.param] = slot.value(current)
                    continue
            if slot.dates is not False:  # a dateTime column that may hold days
                value = self._day(slot, value, current)
            if required and isinstance(value, str) and not value.strip():
                raise InvalidValueError(attr.path, "is required")
            if slot.transform is None:
                out[slot.param] = value
            elif current is not None and slot.transform.reads_as(held := slot.value(current), value):
                out[slot.param] = held  # a stored value the map reads as this one: kept as it is
            else:
                out[slot.param] = slot.transform.write(value)
        return out

    def _day(self, slot: Slot, value: Any, current: Row | None) -> Any:
        """A dateTime value for ``slot``'s column: the day (:func:`bind_day`) where it holds days,
        learned from ``current`` if not yet known; else as bound."""
        if slot.dates is None and current is not None:
            self.learn(current)
        return bind_day(slot.attr, value, self.dialect) if slot.dates else value

    def learn(self, row: Row) -> None:
        """Learn from ``row`` (a record's, as the database holds it) which dateTime columns hold
        days (:attr:`Slot.dates`), for those not known yet (:attr:`dated`)."""
        for slot in self.dated:
            slot.learn(row)
        self.dated = tuple(s for s in self.dated if s.dates is None)

    def items(self, multi_slot: MultiSlot, resource: dict[str, Any]) -> list[tuple[str, Item]]:
        """The items a full-state resource asks for in a multi-valued attribute: each as its value
        (an id, as a string) and its sub-attributes in ``multi_slot.extra`` order (``primary``
        false when not given). Every sub-attribute the child table keeps goes in; one it cannot
        keep is refused (400), never dropped: except the ``type``, ``display`` and ``$ref`` of a
        reference (group members), which the gateway fills in itself. At most one item is
        primary (RFC 7643 §2.4); none being primary is fine, and stays so."""
        name = multi_slot.attribute
        reference = multi_slot.reference
        container = resource if multi_slot.extension is None else field(resource, multi_slot.extension)
        items = field(container, name) if isinstance(container, dict) else MISSING
        if items is MISSING or items is None:
            return []
        if not isinstance(items, list):
            raise InvalidValueError(name, "expected a list")
        found: dict[tuple[Any, ...], tuple[str, list[Any]]] = {}
        for item in items:
            value = field(item, "value") if isinstance(item, dict) else item
            if not isinstance(value, str | int) or isinstance(value, bool) or str(value) == "":
                raise InvalidValueError(
                    f"{name}.value", "expected an id" if reference else "expected a string"
                )
            if (
                isinstance(value, str)
                and not PLAIN.fullmatch(value)
                and (problem := text_problem(value)) is not None
            ):
                raise InvalidValueError(f"{name}.value", problem)
            subs = [self._sub(multi_slot, item, sub) for sub in multi_slot.extra]
            for sub in SUBS:
                if sub not in multi_slot.extra and not reference and isinstance(item, dict):
                    given = field(item, sub)
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
    def _sub(multi_slot: MultiSlot, item: Any, sub: str) -> Any:
        given = field(item, sub) if isinstance(item, dict) else MISSING
        if sub == "primary":
            if given is MISSING or given is None:
                return False
            flag = parse_boolean(given)
            if flag is None:
                raise InvalidValueError(f"{multi_slot.multi.attribute}.{sub}", "expected a boolean")
            return flag
        if given is MISSING or given is None:
            return None
        if not isinstance(given, str) or isinstance(given, bool):
            raise InvalidValueError(f"{multi_slot.multi.attribute}.{sub}", "expected a string")
        if not PLAIN.fullmatch(given) and (problem := text_problem(given)) is not None:
            raise InvalidValueError(f"{multi_slot.multi.attribute}.{sub}", problem)
        return given


def _kept(slot: Slot, query: Slot) -> bool:
    """Whether ``slot`` is *kept text*: written and read back, of a text type (``string``,
    ``binary``), no reference, read as a member's value (or a member object's sub-attribute), not
    ``required``, not the query attribute (whose text is checked strictly), without a transform or
    ``null ""``. For such an attribute :meth:`Codec.values` binds a stored ``str`` given back as
    it is (text ``coerce`` takes as it is, or text it would refuse, kept as stored), and clears an
    absent value or None: so a value equal to the stored one, when that is a ``str`` or None, is
    bound as stored, without those steps. (Its caller also asks that no other attribute shares
    the parameter: of two, the later one's value is bound.)"""
    attr = slot.attr
    return (
        slot.readable
        and attr.type in TEXT_TYPES
        and attr.reference is None
        and not (attr.multi_valued or slot.complex)
        and not attr.required
        and slot is not query
        and slot.transform is None
        and slot.null is None
        and slot.dates is False
        and attr.path != "active"
    )


def pick_item(items: list[Any], filter: tuple[tuple[str, str], ...], name: str = "value") -> Any:
    """The item of a multi-valued attribute that matches the mapping's value filter. When several
    match (two ``work`` emails for one column), the primary one is taken (RFC 7643 §2.4: the
    preferred value); several that differ with none or more than one of them primary are refused,
    rather than one kept and the others dropped unsaid. When none matches a ``type`` filter, an
    item without any type stands in (the primary one, else the only one). ``name`` is the
    attribute, for the error."""
    matching = [
        item
        for item in items
        if isinstance(item, dict)
        and all(isinstance(field(item, k), str) and field(item, k).lower() == v.lower() for k, v in filter)
    ]
    if len(matching) == 1:
        return matching[0]
    if matching:
        primary = [item for item in matching if field(item, "primary") is True]
        if len(primary) == 1:
            return primary[0]
        if all(_same_item(item, matching[0]) for item in matching[1:]):
            return matching[0]
        where = " and ".join(f'{k} eq "{v}"' for k, v in filter)
        raise InvalidValueError(
            name,
            f"{len(matching)} values match [{where}] and {'more than one' if primary else 'none'} "
            "of them is primary; the mapping keeps one value there: mark one primary, or send one",
        )
    if not filter or [k.lower() for k, _ in filter] != ["type"]:
        return MISSING
    untyped = [i for i in items if isinstance(i, dict) and field(i, "type") in (MISSING, None)]
    primary = [i for i in untyped if field(i, "primary") is True]
    if primary:
        return primary[0]
    return untyped[0] if len(untyped) == 1 and len(items) == 1 else MISSING


def _same_item(item: dict[str, Any], other: dict[str, Any]) -> bool:
    """Two items that say the same thing, ``primary`` aside (a value sent twice)."""
    return {k: v for k, v in item.items() if k != "primary"} == {
        k: v for k, v in other.items() if k != "primary"
    }
