"""What a write of an existing object sends, decided from the object as its transaction read it:
pure functions of that record (no connection, no cache), so each is testable on its own.

A replace or a delete is run as an :class:`ObjectWrite`: the transaction reads
the object the write declares (refusing a gone object, or one whose version an If-Match does not
name), calls its decision (:class:`Replacement`, :class:`Deletion`) with what it read, sends the
statements the decision returns (:class:`Decided`) and reads the object back. A create's
statements after its insert depend on what the insert returns (the new anchor): a create is a
:class:`Creation`, its checks and insert as data and what follows as a function of the transaction
and the new anchor (a create that may revive a deleted row, or finds its new row by its query
attribute, stays a function of the transaction: :meth:`StoreWrites._create_tx`); its child rows
are decided here too (:func:`child_writes`)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mapper.plan import PlanMulti, PlanObject, Statement
from mapper.runtime.codec import Change, Codec
from mapper.runtime.errors import MutabilityError, UniquenessError
from mapper.runtime.inserts import update_reshaped, update_sets
from mapper.runtime.record import Record, Row
from mapper.runtime.shapes import ShapeCache

if TYPE_CHECKING:
    from sqlglot import exp

    from mapper.runtime.rows import ObjectRead
    from mapper.runtime.tx import Tx

#: a statement a write sends, with its parameters
Write = tuple[Statement, Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class Unclaimed:
    """A value the write takes that no other object may hold: refused with ``error`` when
    ``statement`` finds a row whose anchor is not the written object's."""

    statement: Statement
    params: Mapping[str, Any]
    error: Exception


def unclaimed(codec: Codec, values: Mapping[str, Any], held: Row | None) -> tuple[Unclaimed, ...]:
    """The values a write takes that its transaction must find no other object holding: of the
    query attribute and each other unique attribute (:attr:`Codec.unique_lookups`), those it
    writes that differ, case-folded unless caseExact, from what the object holds (``held``: its
    row as the transaction read it; None for a new object, whose every such value is checked).
    The database is asked, not the cache, which can lag another process's or application's write."""
    found = []
    for slot, lookup in codec.unique_lookups:
        new = values.get(slot.param)
        if new is None or new == slot.null:  # no value (``null ""``): nothing to hold
            continue
        old = None if held is None else slot.value(held)
        if old is not None and old == slot.null:
            old = None
        exact = slot.attr.case_exact
        if old is not None and codec.fold(new, exact) == codec.fold(old, exact):
            continue
        found.append(Unclaimed(lookup, {"value": new}, UniquenessError(slot.attr.path)))
    return tuple(found)


@dataclass(frozen=True, slots=True)
class PerRow:
    """A statement a write sends once for each row ``lookup`` finds in its transaction, looked up
    before the write's other statements run: ``write`` with ``params`` and the row's first column
    bound as ``anchor``. A soft delete ends each membership the database holds this way (the
    owners of the items whose value is the deleted object), not only those the cache knows."""

    lookup: Statement
    lookup_params: Mapping[str, Any]
    write: Statement
    params: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Referring:
    """Which objects name the object a delete removes, asked in its transaction before the row
    goes (``lookup`` with ``params``): the database's ``ON DELETE SET NULL`` or ``CASCADE``
    changes them, and then they cannot be found by the value any more. The transaction leaves
    their anchors (each row's ``anchor_index``-th column) in ``found``, which the delete reads
    again once committed, and notes them as changed objects of ``object_type`` for the other
    gateway processes."""

    object_type: str
    lookup: Statement
    params: Mapping[str, Any]
    anchor_index: int
    found: list[Any] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Decided:
    """What a write sends, in order, once its transaction has found each value of ``unclaimed``
    held by no other object; then the statements of each :class:`PerRow` (``per_row``), for the
    rows looked up before the others were sent. The look-ups of ``referring`` go with those."""

    statements: Sequence[Write]
    unclaimed: Sequence[Unclaimed] = ()
    per_row: Sequence[PerRow] = ()
    referring: Sequence[Referring] = ()


@dataclass(frozen=True, slots=True)
class ObjectWrite:
    """A write of one existing object (a replace, a delete) as data: the object it needs
    (``read``, run by the transaction first), its preconditions (the object is there, else
    ``gone()`` is raised; its version is one ``if_match`` names), its decision of what to send
    given what was read (``decide``: :class:`Replacement`, :class:`Deletion`), and the object type
    its change is noted under for the other processes. Unless the write ``deletes``, the object
    must still be there after it (else ``gone()``, the write undone). ``expected``: a record of
    the object whose version it must hold, as an If-Match naming that version would require
    (a PATCH's own precondition: the cached record it was applied to), compared without working
    out either version when the object holds the very values (:meth:`Record.holds`). Run as a
    batch's job by :meth:`Tx.write <mapper.runtime.tx.Tx.write>`."""

    object_type: str
    read: ObjectRead
    decide: Callable[[Record], Decided]
    gone: Callable[[], Exception]
    if_match: str | None = None
    deletes: bool = False
    expected: Record | None = None


@dataclass(frozen=True, slots=True)
class Creation:
    """A create whose first statements depend on nothing its transaction reads, as data: the
    values it must find held by no row (``unclaimed``), then its insert (``insert``, which
    returns the new anchor when ``returns``; else the anchor is ``anchor``, the gateway's), then
    what follows, given the new anchor (``finish``: the child rows and the read-back). Run as a
    batch's job by :meth:`Tx.create <mapper.runtime.tx.Tx.create>`; where statements pipeline,
    its checks and insert may go with the read-back of the job before it
    (:class:`~mapper.runtime.tx.Ahead`)."""

    unclaimed: Sequence[Unclaimed]
    insert: Write
    returns: bool
    anchor: Any
    anchor_index: int
    finish: Callable[[Tx, Any], Record]

    @property
    def calls(self) -> tuple[Write]:
        """What the create sends first, after its checks: its insert."""
        return (self.insert,)


class Updates:
    """The update a replace of one object type runs, decided from the row its transaction read:
    a derived update (``write table``: the plan keeps its insert's columns) sets only the columns
    whose value changes, unless none or all of them do (see :mod:`mapper.runtime.inserts`, which
    reshapes the statement once per set of unchanged columns; the shapes are kept here, up to
    ``limit``). The mapping's own ``update sql`` and procedures always run as written."""

    def __init__(self, obj: PlanObject, dialect: str, limit: int = 64) -> None:
        self.statement = obj.update
        self.dialect = dialect
        self.limit = limit
        self._shapes: ShapeCache[tuple[str, ...], Statement] = ShapeCache(self._shape, limit)
        self._lock = threading.Lock()
        self._parsed: exp.Update | None = None
        #: the value names the update's SET list binds; None: not parsed yet, or not reshapable
        self._sets: tuple[str, ...] | None = None
        self._reshapable: bool | None = None if obj.insert_columns and obj.update is not None else False

    def for_values(self, held: Mapping[str, Any], values: Mapping[str, Any]) -> Statement:
        """The update writing ``values`` (by parameter) over a row that holds ``held``: without
        the columns whose value is the very one held (same type and equal, or a boolean where
        the row holds the 1 or 0 drivers bind it as), unless that is none or all of them."""
        statement = self.statement
        assert statement is not None
        if self._reshapable is not True:
            if self._reshapable is False or not self._parse(statement):
                return statement
        sets = self._sets
        assert sets is not None
        unchanged = []
        for name in sets:
            old = held.get(name)
            new = values.get(name, old)
            if new == old and (type(new) is type(old) or (type(new) is bool and type(old) is int)):
                unchanged.append(name)
        if not unchanged or len(unchanged) == len(sets):
            return statement
        # keyed by the names in the SET list's order (mapper.runtime.shapes)
        return self._shapes.find(tuple(unchanged))

    def _shape(self, unchanged: tuple[str, ...]) -> Statement:
        statement, parsed = self.statement, self._parsed
        assert statement is not None and parsed is not None
        return update_reshaped(statement, parsed, frozenset(unchanged), self.dialect)

    def _parse(self, statement: Statement) -> bool:
        """Parse the update once; whether it can be reshaped."""
        parsed = update_sets(statement, self.dialect)
        with self._lock:
            if parsed is not None:
                self._parsed, self._sets = parsed
            self._reshapable = parsed is not None
        return parsed is not None


def row_params(codec: Codec, row: Row) -> dict[str, Any]:
    """Each of ``codec``'s slots' value in ``row`` by its parameter, as ``{s.param: s.value(row)
    for s in codec.slots}`` makes it, by C calls where that made a Python call per slot (a
    replace's decision reads the row it locked this way, in the commit thread)."""
    return dict(zip(codec.held_params, codec.held_values((*row, None)), strict=False))  # one pick more


@dataclass(frozen=True, slots=True)
class Replacement:
    """A replace (PUT, PATCH) of the object ``anchor`` by ``change`` and ``members`` (each multi's
    items; None for one the mapping cannot write): called with the object as the transaction read
    it, it decides which unique values must be checked as unclaimed (those it changes), the
    update (setting only the columns that change, where ``updates`` may reshape it:
    :class:`Updates`), the disable rule when ``active`` turns false, and the
    child rows' removes and adds."""

    obj: PlanObject
    codec: Codec
    anchor: Any
    change: Change
    members: list[Any] | None
    updates: Updates | None = None

    def __call__(self, fresh: Record) -> Decided:
        obj, codec, anchor, values = self.obj, self.codec, self.anchor, self.change.values
        row = fresh.row  # a record rebuilds its row tuple on every read of ``row``
        writes: list[Write] = []
        if obj.update is not None:
            params = row_params(codec, row)  # unmapped params keep their value
            update = obj.update if self.updates is None else self.updates.for_values(params, values)
            writes.append((update, {**params, **values, "anchor": anchor}))
        elif any(values.get(s.param) != s.value(row) for s in codec.slots if s.writable):
            raise MutabilityError(obj.name, f"{obj.name} resources cannot be modified through this mapping")
        rule, slot = obj.disable, codec.active
        if (
            self.change.deactivates
            and rule.action != "ignore"
            and rule.statement is not None
            and slot is not None
            and codec.scim(slot, slot.value(row)) is not False
        ):
            writes.append((rule.statement, {"anchor": anchor}))
        writes += child_writes(codec, anchor, fresh.children, self.members)
        return Decided(writes, unclaimed(codec, values, row))


@dataclass(frozen=True, slots=True)
class Deletion:
    """A delete of the object ``anchor``, as its ``deprovision`` rule says (the row deleted, a
    statement run, or nothing), and the rows it ends before: those of ``memberships`` (the multis
    of this database holding this type's objects) naming it, for a soft delete and for a derived
    hard delete (``ends_items``), and a derived hard delete's own items (``codec``: its multis), so
    that a schema without ``ON DELETE CASCADE`` keeps no orphan and refuses nothing. A multi whose
    remove derived a statement for every row (``remove_for_value``, ``remove_for_anchor``) takes
    it; else its ``remove`` runs once per row: per owner the transaction's look-up finds
    (:class:`PerRow`), per item of the object as the transaction read it."""

    obj: PlanObject
    anchor: Any
    memberships: Sequence[PlanMulti]
    #: the objects of other types (or this one) whose reference attribute may name this object:
    #: filled by the transaction (:class:`Referring`); empty unless the delete removes the row
    referring: Sequence[Referring] = ()
    codec: Codec | None = None

    def __call__(self, fresh: Record) -> Decided:
        obj, anchor = self.obj, self.anchor
        rule = obj.deprovision_delete
        statement = rule.statement or (obj.delete if rule.action == "row" else None)
        if rule.action == "row" and statement is None:
            raise MutabilityError(obj.name, f"{obj.name} resources cannot be deleted through this mapping")
        writes: list[Write] = []
        ends = []
        for multi in self.memberships:
            if multi.remove_for_value is not None:
                writes.append((multi.remove_for_value, {"value": anchor}))
            elif multi.load_for_value is not None and multi.remove is not None:
                remove = multi.remove
                params = {**dict.fromkeys(remove.params), "value": anchor}
                ends.append(PerRow(multi.load_for_value, {"value": anchor}, remove, params))
        if rule.ends_items and self.codec is not None:
            writes += item_ends(self.codec, anchor, fresh.children)
        if statement is not None:
            writes.append((statement, {"anchor": anchor}))
        for referring in self.referring:
            referring.found.clear()  # a batch retried runs its jobs again
        return Decided(writes, per_row=ends, referring=self.referring)


def item_ends(codec: Codec, anchor: Any, children: Sequence[Any]) -> list[Write]:
    """The statements that remove every child row of the object ``anchor`` (``children``: its
    items as its delete's transaction read them): each multi's ``remove_for_anchor``, else its
    ``remove`` once per item; nothing for a multi without a remove (the database's own ``ON
    DELETE`` rule, if any, is left to it)."""
    writes: list[Write] = []
    for multi_slot, have in zip(codec.multis, children, strict=False):
        multi = multi_slot.multi
        if multi.remove_for_anchor is not None:
            writes.append((multi.remove_for_anchor, {"anchor": anchor}))
        elif multi.remove is not None and have:
            removes, _ = multi_slot.diff(have, ())
            writes += [(multi.remove, {"anchor": anchor, **params}) for params in removes]
    return writes


def child_writes(codec: Codec, anchor: Any, current: Any, desired: list[Any] | None) -> list[Write]:
    """The statements that bring each multi's child rows from ``current`` (a record's children) to
    ``desired`` (the items the checks resolved; None: none to write): each multi's removes, then
    its adds (:meth:`MultiSlot.diff`)."""
    writes: list[Write] = []
    if desired is None:
        return writes
    for multi_slot, have, want in zip(codec.multis, current, desired, strict=True):
        if want is None:
            continue
        multi = multi_slot.multi
        removes, adds = multi_slot.diff(have, want)
        if (adds and multi.add is None) or (removes and multi.remove is None):
            raise MutabilityError(multi.attribute)
        for params in removes:
            assert multi.remove is not None
            writes.append((multi.remove, {"anchor": anchor, **params}))
        for params in adds:
            assert multi.add is not None
            writes.append((multi.add, {"anchor": anchor, **params}))
    return writes
