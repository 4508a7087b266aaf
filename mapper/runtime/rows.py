"""Reading rows into records, wherever they are read (one object, a full import, a delta):
:class:`RowForm` makes every row and its child rows a record the same way, so a record (and its
version) depends only on the database's values; :func:`driver_pages` reads a statement's rows
through the driver's own cursor (plain tuples, none of SQLAlchemy's per-row work)."""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any

from pydantic import BaseModel

from mapper.plan import PlanObject, Statement
from mapper.runtime.codec import Codec
from mapper.runtime.database import Tx
from mapper.runtime.keys import Key, anchor_key, anchor_order
from mapper.runtime.record import Children, Record, instant


class RowForm:
    """How a fetched row is kept in a record, for one object type: the dateTime columns that are
    only read (never written back, compared or bound by a write) become instants (integer
    microseconds, :func:`mapper.runtime.record.instant`), which take 32 bytes where ISO text takes
    80 and a datetime 48, and render the same. The anchor, the query attribute and anything
    written keep the driver's value, and so does a column any statement binds (an explicit
    ``update sql`` may bind ``:updated_at`` to check that nobody changed the row meanwhile)."""

    def __init__(self, codec: Codec) -> None:
        by_column: dict[int, list[Any]] = defaultdict(list)
        for slot in codec.slots:
            if slot.index is not None:
                by_column[slot.index].append(slot)
        self.multis = codec.multis
        bound = {statement.value_of(p) for statement in _statements(codec.obj) for p in statement.params}
        self.stamps = tuple(
            index
            for index, slots in sorted(by_column.items())
            if index != codec.anchor_index
            and all(
                s.attr.type == "dateTime" and not s.writable and s.ident is None and s.param not in bound
                for s in slots
            )
        )
        #: the columns of :attr:`stamps` found holding integers: times kept as seconds since the
        #: epoch (:func:`mapper.runtime.record.instant`), which a filter the database answers
        #: compares as numbers, not as timestamps (:mod:`mapper.runtime.sqlfilter`). Learnt from
        #: every row read (:meth:`row`; a full import looks at each page's first value); it only
        #: grows, since a column's type does not change under a running gateway.
        self.epoch: set[int] = set()
        obj = codec.obj
        self.obj = obj
        self.anchor_index = codec.anchor_index
        #: what :meth:`ObjectRead.of` reads of one object, in order, unlocked and locked: its
        #: row's statement, then each multi's (read from the plan's models once per type, not
        #: per write)
        children = tuple(m.load_for_anchor for m in obj.multi)
        locked = obj.by_anchor_locked if obj.by_anchor_locked is not None else obj.by_anchor
        self.reads = ((obj.by_anchor, *children), (locked, *children))

    @classmethod
    def of(cls, codec: Codec) -> RowForm:
        """The form of ``codec``'s object type, worked out once per codec."""
        form = _forms.get(codec)
        if form is None:
            form = _forms[codec] = cls(codec)
        return form

    def row(self, fetched: Sequence[Any]) -> Sequence[Any]:
        if not self.stamps:
            return fetched
        row = list(fetched)
        for index in self.stamps:
            value = row[index]
            if type(value) is int:
                self.epoch.add(index)
            row[index] = instant(value)
        return row

    def learn(self, rows: Sequence[Sequence[Any]]) -> None:
        """Note which of :attr:`stamps` hold integers (:attr:`epoch`), from the first value of
        each in ``rows`` (a page of a full import, whose loop converts the values itself)."""
        for index in self.stamps:
            if index not in self.epoch:
                for fetched in rows:
                    value = fetched[index]
                    if value is not None:
                        if type(value) is int:
                            self.epoch.add(index)
                        break

    def record(self, fetched: Sequence[Any], children: Any = ()) -> Record:
        return Record(self.row(fetched), children)

    def children(self, rows_per_multi: Sequence[Iterable[tuple[Any, ...]]]) -> Children:
        """A record's children from child rows (owner, value[, extra...]), one iterable per
        multi: each multi's items in one stable order, so equal children compare equal."""
        out: list[tuple[Any, ...]] = []
        for multi_slot, rows in zip(self.multis, rows_per_multi, strict=True):
            if type(rows) is list and len(rows) < 2:  # a read's fetchall found none, or one
                if not rows:
                    out.append(())
                elif multi_slot.extra:
                    out.append((tuple(rows[0][1:]),))
                else:
                    out.append((rows[0][1],))
                continue
            if multi_slot.extra:
                items = sorted((tuple(r[1:]) for r in rows), key=repr)
            else:
                items = sorted((r[1] for r in rows), key=repr)
            out.append(tuple(items))
        return tuple(out)


def _statements(node: Any) -> Iterator[Statement]:
    """Every statement of a plan object, however deep (writes, disable and delete rules, multis)."""
    if isinstance(node, Statement):
        yield node
    elif isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from _statements(getattr(node, name))
    elif isinstance(node, tuple | list):
        for item in node:
            yield from _statements(item)


_forms: weakref.WeakKeyDictionary[Codec, RowForm] = weakref.WeakKeyDictionary()


def by_owner(rows: Iterable[tuple[Any, ...]]) -> dict[Key, list[tuple[Any, ...]]]:
    """Child rows (owner, value[, extra...]) grouped by their owner's key (:func:`anchor_key`), as
    a full import and a delta both group them before :meth:`RowForm.children`."""
    owners: dict[Key, list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        owners[anchor_key(row[0])].append(row)
    return owners


def driver_pages(
    tx: Tx, statement: Statement, params: Mapping[str, Any], size: int
) -> Iterator[Sequence[Any]]:
    """The rows of ``statement`` as the driver's cursor returns them (tuples), ``size`` at a time:
    :meth:`Tx.pages`, so the same SQL and bound parameters as every other read, and driver errors
    raised as SQLAlchemy's with a lost connection invalidated, as ``Tx`` raises them."""
    return tx.pages(statement, params, size)


@dataclass(slots=True)
class ObjectRead:
    """One object read by its anchor: the statements (its row by ``by_anchor``, then each multi's
    items), read together (:meth:`Tx.read_object`: one round trip where statements pipeline), and
    how their rows make its record. :func:`fetch` runs one; a write of an existing object declares
    the one it needs, which its transaction runs before and after the write's statements.

    Not changed once made, but not ``frozen``: every write makes one or two, and a frozen
    dataclass's ``__init__`` sets each field through ``object.__setattr__``, a third of the
    make's cost (see :meth:`of`)."""

    calls: tuple[tuple[Statement, Mapping[str, Any]], ...]
    anchor: Key
    anchor_index: int
    form: RowForm
    obj: PlanObject

    @classmethod
    def of(cls, obj: PlanObject, codec: Codec, anchor: Any, *, locked: bool = False) -> ObjectRead:
        """The read of object ``anchor``; ``locked`` for a write that changes it: its row is read
        with the lock the write will take (``by_anchor_locked``, where the plan has one), so a
        concurrent writer's commit is waited for and seen before the write decides anything."""
        form = RowForm.of(codec)
        params = {"anchor": anchor}
        if obj is form.obj:  # the statements as the form took them from the plan
            calls = tuple(zip(form.reads[locked], repeat(params)))
        else:
            row = obj.by_anchor_locked if locked and obj.by_anchor_locked is not None else obj.by_anchor
            calls = ((row, params), *((m.load_for_anchor, params) for m in obj.multi))
        return cls(calls, anchor_key(anchor), form.anchor_index, form, obj)

    def moved(self, found: Sequence[tuple[Any, ...]]) -> list[tuple[Statement, Mapping[str, Any]]]:
        """The child rows' statements again, by the row's own anchor, when the row ``found`` has
        an anchor other than the one asked for (case, type); else none."""
        if not found or not self.obj.multi:
            return []
        native = anchor_key(found[0][self.anchor_index])  # ids bind as int or text, never driver objects
        if native == self.anchor:
            return []
        return [(m.load_for_anchor, {"anchor": native}) for m in self.obj.multi]

    def record(self, results: Sequence[Sequence[tuple[Any, ...]]]) -> Record | None:
        """The record of what :attr:`calls` returned (the row, then each multi's rows), or None."""
        found, *children = results
        if not found:
            return None
        return self.form.record(found[0], self.form.children(children))


def fetch(tx: Tx, obj: PlanObject, codec: Codec, anchor: Any) -> Record | None:
    """One object by anchor (the import projection and its children), or None."""
    return tx.read_object(ObjectRead.of(obj, codec, anchor))


def fetch_by_query(tx: Tx, obj: PlanObject, codec: Codec, value: str) -> list[Record]:
    """Every object whose query attribute equals ``value`` (compared as the database's look-up
    does), in anchor order: one, unless the column has no unique constraint and several rows
    hold it (:attr:`mapper.runtime.cache.CacheState.shared`)."""
    anchors = dict.fromkeys(
        anchor_key(row[codec.anchor_index]) for row in tx.rows(obj.by_query, {"value": value})
    )
    found = (fetch(tx, obj, codec, anchor) for anchor in sorted(anchors, key=anchor_order))
    return [record for record in found if record is not None]


def watermark_index(obj: PlanObject) -> int | None:
    if obj.delta.kind != "watermark" or obj.delta.watermark_column is None:
        return None
    return obj.columns.index(obj.delta.watermark_column)
