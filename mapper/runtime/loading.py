"""Reading objects from the database into records, in a worker thread: one object, a full
import (keyset pages, children, indexes built off the event loop), and deltas.

Every row becomes a record through :class:`RowForm` (:mod:`mapper.runtime.rows`), wherever it was
read, so a record (and its version) depends only on the database's values. A full import, here,
reads its pages through the driver's own cursor (:func:`driver_pages`) and builds the indexes in
the same pass; deltas and the watermark are :mod:`mapper.runtime.deltas`'."""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import chain
from operator import itemgetter
from typing import Any

from mapper.plan import PlanObject
from mapper.runtime.cache import CacheState, SyncStats
from mapper.runtime.codec import Codec
from mapper.runtime.database import Tx
from mapper.runtime.deltas import Delta, Watermark, changes_since, import_delta, rewind, scan_anchors
from mapper.runtime.keys import Key, anchor_key
from mapper.runtime.record import Record, instant, shape
from mapper.runtime.rows import RowForm, by_owner, driver_pages, fetch, fetch_by_query, watermark_index

__all__ = [
    "Delta",
    "FullImport",
    "RowForm",
    "Watermark",
    "changes_since",
    "driver_pages",
    "fetch",
    "fetch_by_query",
    "import_all",
    "import_delta",
    "rewind",
    "scan_anchors",
]

log = logging.getLogger(__name__)


#: Distinct values a column may have and still be pooled (one object per value) by a full import.
POOL_LIMIT = 4096


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


def share_query_values(state: CacheState) -> None:
    """File again the query values of ``state`` that several records hold (the database does
    not keep the column unique): the import's loop kept the last key of each value, as a unique
    value needs, and counting its entries against the records is how it learns that some value
    may be shared, at no cost per row."""
    holders: dict[str, list[Key]] = {}
    for key, record in state.records.items():
        query = state.query_key(record)
        if query is not None:
            holders.setdefault(query, []).append(key)
    state.shared.clear()
    for query, keys in holders.items():
        if len(keys) > 1:
            state.shared[query] = set(keys)
            state.by_query.pop(query, None)
        else:
            state.by_query[query] = keys[0]


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

    children = [by_owner(chain.from_iterable(driver_pages(tx, m.load, {}, page_size))) for m in obj.multi]

    parents = set().union(*children)  # the keys with any children
    form = RowForm.of(codec)
    none = form.children([()] * len(children))  # the children of those without any
    watermark = watermark_index(obj)
    stamps = form.stamps
    anchor = codec.anchor_index
    state = CacheState(codec)
    records, by_query = state.records, state.by_query
    query: int = codec.query.index  # type: ignore[assignment] # the codec refuses a query attribute without one
    query_exact = codec.query.attr.case_exact
    fold, lower = codec.fold, codec.lower
    uniques = [
        (s.index, s.attr.case_exact, state.by_unique[s.attr.path], state.folds[s.attr.path])
        for s in codec.unique
        if s.index is not None
    ]
    query_fold = state.query_fold  # a dateTime's instant (cache.index_fold), else ``fold``
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
        form.learn(rows)
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
            types = tuple(map(type, row))
            make = shapes.get(types)
            if children:
                # most objects have no children: they share one empty tuple, not one each
                kids = form.children([c.get(key, ()) for c in children]) if key in parents else none
                if make is None:
                    make = shapes[types] = shape(row, kids).make
                record = make(row, kids)
            else:
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
            if type(value) is str and query_fold is fold:
                folded = value if query_exact else lower(value)
                by_query[value if folded == value else folded] = key
            elif value is not None:
                by_query[query_fold(value, query_exact)] = key
            for index, exact, unique, unique_fold in uniques:
                value = row[index]
                if value is not None:
                    unique[unique_fold(value, exact)] = key
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
    if len(by_query) + len(state.shared) < len(records):  # rows without a value, or sharing one
        share_query_values(state)
    stats.added, stats.changed = added, changed
    stats.removed = max(0, len(olds) - (len(records) - added))
    return FullImport(state, mark, stats)
