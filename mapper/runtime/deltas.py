"""Deltas: the objects changed since the last sync, read through a watermark column or a change
table, with the anchors present now when deletes must be detected by a scan; and the
:class:`Watermark` that says where the next delta starts."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from itertools import islice
from typing import Any

import sqlglot
from sqlglot import exp

from mapper.plan import PlanObject, Statement, dialect_of
from mapper.runtime.cache import CacheState
from mapper.runtime.codec import Codec
from mapper.runtime.database import Tx
from mapper.runtime.keys import Key, anchor_key
from mapper.runtime.record import Record
from mapper.runtime.rows import RowForm, by_owner, driver_pages, watermark_index

#: Anchor types that are their own cache key (:func:`anchor_key`); ``bool`` is not ``int`` here.
_KEY_TYPES = frozenset({int, str})
_DELETE_TYPES = frozenset({"d", "del", "delete", "deleted", "remove", "removed"})


class Delta:
    """What a delta found. ``present``: every anchor in the table, when the delta scanned them
    (:func:`scan_anchors`); the cache's keys outside it were deleted behind the gateway's back."""

    def __init__(
        self, records: list[Record], deletes: list[Key], mark: Any, present: set[Key] | None = None
    ) -> None:
        self.records = records
        self.deletes = deletes
        self.mark = mark
        self.present = present


_anchor_scans: dict[tuple[str, str], Statement] = {}


def anchor_scan(tx: Tx, obj: PlanObject) -> Statement:
    """The import query reduced to its anchor column (see :func:`_anchor_scan_sql`), derived
    from the compiled plan's SQL by sqlglot, once per object and dialect; it binds nothing."""
    dialect = tx.connection.dialect
    key = (dialect.name, obj.import_all.sql)
    found = _anchor_scans.get(key)
    if found is None:
        found = _anchor_scans[key] = Statement(sql=_anchor_scan_sql(obj, dialect.name))
    return found


def _anchor_scan_sql(obj: PlanObject, dialect: str) -> str:
    """The import query projecting the anchor alone, without its ORDER BY (a scan needs no
    order, and the sort or the ordered index scan is most of its cost); its FROM, joins and
    WHERE stay, so it finds exactly the rows the import finds."""
    read = dialect_of(dialect) or dialect
    query = sqlglot.parse_one(obj.import_all.sql, read=read)
    if not isinstance(query, exp.Select):
        return f"SELECT * FROM ({obj.import_all.sql}) scanned"  # not seen: every import is a SELECT
    query.set("order", None)
    # the anchor's output name as the projection spells it (its quoting included)
    named = next((e for e in query.expressions if e.alias_or_name.lower() == obj.anchor_column.lower()), None)
    query.set("expressions", [named if named is not None else exp.column(obj.anchor_column)])
    return query.sql(dialect=read)


def scan_anchors(tx: Tx, obj: PlanObject, page_size: int) -> set[Key]:
    """Every anchor the import query returns now: a delete detector far cheaper than a full
    import (one column, no records built), run in the delta's own snapshot."""
    present: set[Key] = set()
    for page in driver_pages(tx, anchor_scan(tx, obj), {}, page_size):
        column = [row[0] for row in page]
        if _KEY_TYPES.issuperset(map(type, column)):  # already cache keys: no call per anchor
            present.update(column)
        else:
            present.update(map(anchor_key, column))
    return present


def import_delta(
    tx: Tx,
    obj: PlanObject,
    codec: Codec,
    old: CacheState,
    mark: Any,
    *,
    since: Any,
    scan: bool = False,
    page_size: int = 10_000,
    key_of: Callable[[Key], Key] | None = None,
) -> Delta:
    """:func:`changes_since`, and with ``scan`` every anchor present (:func:`scan_anchors`), in
    one snapshot."""
    delta = changes_since(tx, obj, codec, old, mark, since=since, key_of=key_of)
    if scan:
        delta.present = scan_anchors(tx, obj, page_size)
    return delta


def changes_since(
    tx: Tx,
    obj: PlanObject,
    codec: Codec,
    old: CacheState,
    mark: Any,
    *,
    since: Any,
    key_of: Callable[[Key], Key] | None = None,
) -> Delta:
    """The objects changed since ``mark``: watermark rows after ``since`` (see :class:`Watermark`),
    or change-table entries after ``mark``. Rows equal to what ``old`` holds (read again because
    of the rewind) are dropped here, so a large re-read never piles up copies. A watermark row
    the cache holds as it is (its watermark value included: the gateway's own write, read back
    when it committed) has its child rows left unread: a change to them that moves no watermark
    is a change no delta finds, and reading them for the rows the gateway wrote cost a statement
    per 100 of its writes every delta (a whole-table scan each where the child table has no
    statistics; docs/performance.md, round thirteen). ``key_of``: a change
    table's anchor as the cache keys it (a change table shared by several tables often keeps
    integer anchors as text: '8' for 8, else its delete would never reach the cache)."""
    delta = obj.delta
    assert delta.query is not None
    if delta.kind == "watermark":
        index = watermark_index(obj)
        assert index is not None
        records: list[Record] = []
        new_mark = mark
        form = RowForm.of(codec)
        cached = old.records
        for batch in _batches(tx.execute(delta.query, {"since": since}), _owners_per_read(obj)):
            # (key, row, cached record) of the rows the cache holds otherwise, or not at all
            moved: list[tuple[Key, Any, Record | None]] = []
            for fetched in batch:
                value = fetched[index]
                if value is not None and (new_mark is None or value > new_mark):
                    new_mark = value
                native = anchor_key(fetched[codec.anchor_index])
                row = tuple(form.row(fetched))
                previous = cached.get(native)
                if previous is None or previous.row != row:
                    moved.append((native, row, previous))
            if not moved:  # all as cached (the gateway's own writes, read back): no child read
                continue
            items = children_of(tx, obj, [native for native, _row, _previous in moved])
            for native, row, previous in moved:
                record = Record(row, form.children([found.get(native, ()) for found in items]))
                if previous is None or not previous.same(record):
                    records.append(record)
        gone: list[Key] = []
        if delta.tombstoned is not None:  # soft-deleted since: the cache drops them
            for fetched in tx.execute(delta.tombstoned, {"since": since}):
                value = fetched[index]
                if value is not None and (new_mark is None or value > new_mark):
                    new_mark = value
                key = anchor_key(fetched[codec.anchor_index])
                if key in old.records:
                    gone.append(key)
        return Delta(records, gone, new_mark)

    # change table: (sequence, anchor, change type), ordered by sequence; the last change of an anchor wins
    deleted: dict[Key, bool] = {}  # whether each anchor's last change deleted it
    new_mark = mark
    for sequence, anchor, change in (r[:3] for r in tx.rows(delta.query, {"since": mark})):
        key = anchor_key(anchor)
        deleted[key if key_of is None else key_of(key)] = _deleted(change)
        new_mark = sequence if new_mark is None or sequence > new_mark else new_mark
    kept = [key for key, gone in deleted.items() if not gone]
    read = fetch_changed(tx, obj, codec, kept)
    # The change table and the objects are read in one snapshot, so an anchor the batch did not
    # find under its key is either gone (a deletion) or a row whose own anchor is spelled
    # otherwise (case, type), which the batch found too and keys by its own anchor.
    deletes = [key for key, gone in deleted.items() if gone or key not in read]
    return Delta(list(read.values()), deletes, new_mark)


def _deleted(change: Any) -> bool:
    return str(change or "").strip().lower() in _DELETE_TYPES


def fetch_changed(tx: Tx, obj: PlanObject, codec: Codec, anchors: list[Key]) -> dict[Key, Record]:
    """The objects ``anchors`` that exist, by their own key: ``delta.by_anchors`` and each multi's
    ``load_for_anchors`` K anchors a round trip, read together as ``rows.fetch`` reads one
    (:meth:`Tx.rows_together`). As there, a row whose own anchor is spelled otherwise than the
    change table's (case, type) has its children read again by its own."""
    statement = obj.delta.by_anchors
    assert statement is not None  # the compiler sets it for every change-table delta
    found: dict[Key, Record] = {}
    form = RowForm.of(codec)
    size = min(len(statement.params), _owners_per_read(obj))
    for chunk in _batches(anchors, size):
        params = _bound(statement, chunk)  # every multi's load_for_anchors binds the same names
        calls = [(statement, params), *((m.load_for_anchors, params) for m in obj.multi)]
        rows, *read = tx.rows_together(calls)
        items = [by_owner(children) for children in read]
        natives = [anchor_key(row[codec.anchor_index]) for row in rows]
        asked = set(chunk)
        strays = [native for native in dict.fromkeys(natives) if native not in asked]
        for batch in _batches(strays, size):
            for owners, again in zip(items, children_of(tx, obj, batch), strict=True):
                owners.update((native, again.get(native, [])) for native in batch)
        for row, native in zip(rows, natives, strict=True):
            found[native] = form.record(row, form.children([owners.get(native, ()) for owners in items]))
    return found


def _owners_per_read(obj: PlanObject) -> int:
    """How many objects' child rows one read takes: each multi's ``load_for_anchors`` binds that
    many anchors; without multis, 1,000 (a watermark delta holds that many rows at a time)."""
    return min((len(m.load_for_anchors.params) for m in obj.multi), default=1_000)


def _batches(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """``rows`` (a streamed result, one row at a time, or anchors) ``size`` at a time."""
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def _bound(statement: Statement, anchors: list[Key]) -> dict[str, Key]:
    """The parameters of a read by several anchors: its own ``anchor_1`` .. ``anchor_K`` (the
    names the compiler derived it with), bound to ``anchors`` (at most K) in order; those left
    over are NULL, which matches nothing."""
    assert len(anchors) <= len(statement.params)
    return dict(zip(statement.params, anchors, strict=False))


def children_of(tx: Tx, obj: PlanObject, anchors: list[Key]) -> list[dict[Key, list[tuple[Any, ...]]]]:
    """Each multi's child rows of the objects ``anchors`` (at most :func:`_owners_per_read` of
    them: the callers read in batches of that size), grouped by their owner's key as a full
    import groups them (:func:`by_owner`): one statement per multi (``load_for_anchors``), sent
    together where statements pipeline."""
    if not obj.multi or not anchors:
        return [{} for _ in obj.multi]
    params = _bound(obj.multi[0].load_for_anchors, anchors)  # every multi's are anchor_1 .. anchor_K
    return [by_owner(rows) for rows in tx.rows_together([(m.load_for_anchors, params) for m in obj.multi])]


class Watermark:
    """Where the next delta starts.

    A row can commit after a delta already saw a *later* timestamp: its transaction stamped it
    (``now()``, a trigger) before the other but committed after our read. So a delta binds the
    watermark rewound by ``margin`` -- but only until the watermark has *settled*: once a rewound
    read has started at least ``margin`` (local time) after the watermark last moved, every
    transaction that stamped a time up to it has committed and been read (assuming a transaction
    commits within ``margin`` of stamping its row), and deltas bind the watermark itself. So a
    quiet table is not re-read every round, however large its last burst of changes was.
    A change table's sequence needs none of this: it is bound as it is."""

    def __init__(self, margin: timedelta, clock: Callable[[], float] = time.monotonic) -> None:
        self.margin = margin
        self.clock = clock
        self.value: Any = None
        self._moved_at = 0.0
        self._rewound_at: float | None = None

    def reset(self, value: Any, started: float) -> None:
        """After a full import that started at ``started``."""
        self.value, self._moved_at, self._rewound_at = value, started, None

    def since(self) -> tuple[Any, float, bool]:
        """(the value to bind, when this read starts, whether it is rewound)."""
        now = self.clock()
        settled = (
            self._rewound_at is not None and self._rewound_at >= self._moved_at + self.margin.total_seconds()
        )
        if settled:
            return self.value, now, False
        return rewind(self.value, self.margin), now, True

    def done(self, value: Any, started: float, rewound: bool) -> None:
        """After a delta read that started at ``started`` found ``value`` as the greatest mark."""
        if value != self.value:
            self.value, self._moved_at, self._rewound_at = value, started, None
        elif rewound:
            self._rewound_at = started


def rewind(mark: Any, margin: timedelta) -> Any:
    """A watermark moved back by ``margin``: datetimes directly, ISO text in the same format
    (so it still compares as text), an integer by the margin's seconds (a time kept as seconds
    since the epoch, stamped in whole seconds: a row stamped in the second a delta already saw
    would be missed; a row version is only read again a little longer), anything else unchanged."""
    if isinstance(mark, datetime):
        return mark - margin
    if type(mark) is int:
        return mark - math.ceil(margin.total_seconds())
    if isinstance(mark, str):
        try:
            moment = datetime.fromisoformat(mark)
        except ValueError:
            return mark
        fraction = re.search(r"\.(\d+)", mark)
        digits = len(fraction.group(1)) if fraction else 0
        spec = {0: "seconds", 3: "milliseconds"}.get(digits, "microseconds")
        sep = mark[10] if len(mark) > 10 else "T"
        text = (moment - margin).isoformat(sep=sep, timespec=spec)
        return text.replace("+00:00", "Z") if mark.endswith("Z") else text
    return mark
