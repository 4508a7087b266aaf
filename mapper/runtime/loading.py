"""Reading objects from the database into records, in a worker thread: one object, a full
import (keyset pages, children, indexes built off the event loop), and deltas.

Every row becomes a record through :class:`RowForm`, wherever it was read, so a record (and its
version) depends only on the database's values. A full import reads its pages through the
driver's own cursor (:func:`driver_pages`: plain tuples, none of SQLAlchemy's per-row work) and
builds the indexes in the same pass."""

from __future__ import annotations

import gc
import logging
import re
import time
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from operator import itemgetter
from typing import Any

import sqlglot
from pydantic import BaseModel
from sqlalchemy import exc
from sqlglot import exp

from mapper.plan import PlanObject, Statement
from mapper.runtime.cache import CacheState, SyncStats
from mapper.runtime.database import Tx
from mapper.runtime.record import Key, Record, anchor_key, fold, instant, shape
from mapper.runtime.records import Codec

log = logging.getLogger(__name__)

_DELETE_TYPES = frozenset({"d", "del", "delete", "deleted", "remove", "removed"})


#: Distinct values a column may have and still be pooled (one object per value) by a full import.
POOL_LIMIT = 4096


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
            row[index] = instant(row[index])
        return row

    def record(self, fetched: Sequence[Any], children: Any = ()) -> Record:
        return Record(self.row(fetched), children)


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


def driver_pages(
    tx: Tx, statement: Statement, params: Mapping[str, Any], size: int
) -> Iterator[Sequence[Any]]:
    """The rows of ``statement`` as the driver's cursor returns them (tuples), ``size`` at a time:
    the same SQL and bound parameters as :meth:`Tx.execute`, in the driver's paramstyle, without
    SQLAlchemy's Row objects. Driver errors are raised as SQLAlchemy's, as ``Tx`` raises them."""
    dialect = tx.connection.dialect
    compiled = tx.database.compiled(statement).compile(dialect=dialect)
    convert = tx.database.convert
    named = compiled.construct_params(
        {n: convert(params.get(statement.value_of(n))) for n in statement.params}
    )
    bound: Any = named
    if compiled.positional:
        bound = tuple(named[n] for n in compiled.positiontup or ())
    dbapi_error = dialect.loaded_dbapi.Error
    cursor = tx.connection.connection.cursor()
    try:
        cursor.execute(compiled.string, bound)
        while page := cursor.fetchmany(size):
            yield page
    except dbapi_error as e:
        raise exc.DBAPIError.instance(compiled.string, bound, e, dbapi_error, dialect=dialect) from e
    finally:
        cursor.close()


def fetch(tx: Tx, obj: PlanObject, codec: Codec, anchor: Any) -> Record | None:
    """One object by anchor (the import projection and its children), or None."""
    row = tx.first(obj.by_anchor, {"anchor": anchor})
    if row is None:
        return None
    native = anchor_key(row[codec.anchor_index])  # ids bind as int or text, never driver objects
    children = [tx.rows(m.load_for_anchor, {"anchor": native}) for m in obj.multi]
    return RowForm.of(codec).record(row, codec.children_of(children))


def fetch_by_query(tx: Tx, obj: PlanObject, codec: Codec, value: str) -> Record | None:
    row = tx.first(obj.by_query, {"value": value})
    if row is None:
        return None
    return fetch(tx, obj, codec, anchor_key(row[codec.anchor_index]))


class FullImport:
    """The result of a full import: the new state, the delta starting point and the diff."""

    def __init__(self, state: CacheState, mark: Any, stats: SyncStats) -> None:
        self.state = state
        self.mark = mark
        self.stats = stats


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a full import builds its records. Records hold no
    reference cycles (reference counting frees them), but every collection of the oldest
    generation would traverse all records built so far, again and again as they pile up: a
    quarter of a 200k-row import. The switch is process-wide: it is turned back on only if it
    was on, and garbage cycles made meanwhile wait for the next collection after the import."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def import_all(
    tx: Tx,
    obj: PlanObject,
    codec: Codec,
    old: CacheState,
    *,
    page_size: int,
    progress_every: int,
    on_page: Callable[[int], None] | None = None,
) -> FullImport:
    """Every object, page by page, into a new :class:`CacheState`. ``old`` is only read, to count
    what changed (and to keep its record where nothing did, so a re-import holds one copy).
    ``on_page`` is told the rows imported so far after each page (from this worker thread)."""
    with collector_paused():
        return _import_all(
            tx, obj, codec, old, page_size=page_size, progress_every=progress_every, on_page=on_page
        )


def _import_all(
    tx: Tx,
    obj: PlanObject,
    codec: Codec,
    old: CacheState,
    *,
    page_size: int,
    progress_every: int,
    on_page: Callable[[int], None] | None = None,
) -> FullImport:
    mark: Any = None
    if obj.delta.kind == "table" and obj.delta.max_sequence is not None:
        first = tx.first(obj.delta.max_sequence)
        mark = first[0] if first else None  # changes after this point are replayed by the next delta

    children: list[dict[Key, list[tuple[Any, ...]]]] = []
    for multi in obj.multi:
        grouped: dict[Key, list[tuple[Any, ...]]] = defaultdict(list)
        for page in driver_pages(tx, multi.load, {}, page_size):
            for item in page:
                grouped[anchor_key(item[0])].append(item)
        children.append(grouped)

    watermark = _watermark_index(obj)
    form = RowForm.of(codec)
    stamps = form.stamps
    anchor = codec.anchor_index
    state = CacheState(codec)
    records, by_query = state.records, state.by_query
    query: int = codec.query.index  # type: ignore[assignment] # the codec refuses a query attribute without one
    query_exact = codec.query.attr.case_exact
    uniques = [
        (s.index, s.attr.case_exact, state.by_unique[s.attr.path])
        for s in codec.unique
        if s.index is not None
    ]
    # strings repeated across rows (departments, titles) are pooled: one object per value
    pools: dict[int, dict[Any, Any]] = {i: {} for i in range(len(obj.columns)) if i != anchor}
    shapes: dict[tuple[type, ...], Callable[..., Record]] = {}  # value types -> maker of records
    stats = SyncStats()
    added = changed = 0
    olds = old.records
    after: Any = None
    next_log = progress_every
    while True:
        if after is None:
            pages = driver_pages(tx, obj.import_first_page, {"limit": page_size}, page_size)
        else:
            pages = driver_pages(tx, obj.import_page, {"after": after, "limit": page_size}, page_size)
        rows = [row for page in pages for row in page]
        if watermark is not None:
            marks = [v for v in map(itemgetter(watermark), rows) if v is not None]
            if marks and (mark is None or max(marks) > mark):
                mark = max(marks)
        for fetched in rows:
            row = list(fetched)
            stamp = moment = None  # created and updated are often the same moment: convert it once
            for index in stamps:
                value = row[index]
                if value is not None:
                    if value != stamp:
                        stamp, moment = value, instant(value)
                    row[index] = moment
            for index, pool in pools.items():
                value = row[index]
                if type(value) is str:
                    row[index] = pool.setdefault(value, value)
            key = row[anchor]
            if type(key) is not int:
                key = anchor_key(key)
            if children:
                record = Record(row, codec.children_of([c.get(key, ()) for c in children]))
            else:
                types = tuple(map(type, row))
                make = shapes.get(types)
                if make is None:
                    make = shapes[types] = shape(row).make
                record = make(row)
            previous = olds.get(key)
            if previous is None:
                added += 1
            elif previous.same(record):
                record = previous
            else:
                changed += 1
            if records.setdefault(key, record) is not record:
                state.put(record)  # the same key twice: replace it as a write would
                continue
            value = row[query]
            if type(value) is str:
                folded = value if query_exact else value.lower()
                by_query[value if folded == value else folded] = key
            elif value is not None:
                by_query[fold(value, query_exact)] = key
            for index, exact, unique in uniques:
                value = row[index]
                if value is not None:
                    unique[fold(value, exact)] = key
        for index in [i for i, pool in pools.items() if not pool or len(pool) > POOL_LIMIT]:
            del pools[index]  # no text, or (nearly) unique values: pooling would save nothing
        stats.rows += len(rows)
        if on_page is not None:
            on_page(stats.rows)
        if stats.rows >= next_log:
            log.info("%s: imported %d rows", obj.name, stats.rows)
            next_log += progress_every
        if len(rows) < page_size:
            break
        after = rows[-1][anchor]
    stats.added, stats.changed = added, changed
    stats.removed = max(0, len(olds) - (len(records) - added))
    return FullImport(state, mark, stats)


def _watermark_index(obj: PlanObject) -> int | None:
    if obj.delta.kind != "watermark" or obj.delta.watermark_column is None:
        return None
    return obj.columns.index(obj.delta.watermark_column)


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
    read = _SQLGLOT_DIALECTS.get(dialect, dialect)
    query = sqlglot.parse_one(obj.import_all.sql, read=read)
    if not isinstance(query, exp.Select):
        return f"SELECT * FROM ({obj.import_all.sql}) scanned"  # not seen: every import is a SELECT
    query.set("order", None)
    # the anchor's output name as the projection spells it (its quoting included)
    named = next((e for e in query.expressions if e.alias_or_name.lower() == obj.anchor_column.lower()), None)
    query.set("expressions", [named if named is not None else exp.column(obj.anchor_column)])
    return query.sql(dialect=read)


_SQLGLOT_DIALECTS = {"postgresql": "postgres", "mariadb": "mysql"}


def scan_anchors(tx: Tx, obj: PlanObject, page_size: int) -> set[Key]:
    """Every anchor the import query returns now: a delete detector far cheaper than a full
    import (one column, no records built), run in the delta's own snapshot."""
    present: set[Key] = set()
    for page in driver_pages(tx, anchor_scan(tx, obj), {}, page_size):
        present.update(anchor_key(row[0]) for row in page)
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
) -> Delta:
    """:func:`changes_since`, and with ``scan`` every anchor present (:func:`scan_anchors`), in
    one snapshot."""
    delta = changes_since(tx, obj, codec, old, mark, since=since)
    if scan:
        delta.present = scan_anchors(tx, obj, page_size)
    return delta


def changes_since(tx: Tx, obj: PlanObject, codec: Codec, old: CacheState, mark: Any, *, since: Any) -> Delta:
    """The objects changed since ``mark``: watermark rows after ``since`` (see :class:`Watermark`),
    or change-table entries after ``mark``. Rows equal to what ``old`` holds (read again because
    of the rewind) are dropped here, so a large re-read never piles up copies."""
    delta = obj.delta
    assert delta.query is not None
    if delta.kind == "watermark":
        index = _watermark_index(obj)
        assert index is not None
        records: list[Record] = []
        new_mark = mark
        form = RowForm.of(codec)
        for fetched in tx.execute(delta.query, {"since": since}):  # one row at a time, not a list
            value = fetched[index]
            if value is not None and (new_mark is None or value > new_mark):
                new_mark = value
            native = anchor_key(fetched[codec.anchor_index])
            kids = [tx.rows(m.load_for_anchor, {"anchor": native}) for m in obj.multi]
            record = form.record(tuple(fetched), codec.children_of(kids))
            previous = old.records.get(native)
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
    last: dict[Key, tuple[Any, Any]] = {}
    new_mark = mark
    for sequence, anchor, change in (r[:3] for r in tx.rows(delta.query, {"since": mark})):
        last[anchor_key(anchor)] = (anchor, change)
        new_mark = sequence if new_mark is None or sequence > new_mark else new_mark
    changed: list[Record] = []
    deletes: list[Key] = []
    for key, (anchor, change) in last.items():
        found = None
        if str(change or "").strip().lower() not in _DELETE_TYPES:
            found = fetch(tx, obj, codec, anchor_key(anchor))
        if found is None:
            deletes.append(key)
        else:
            changed.append(found)
    return Delta(changed, deletes, new_mark)


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
    (so it still compares as text), anything else (sequences) unchanged."""
    if isinstance(mark, datetime):
        return mark - margin
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
