"""Reading objects from the database into records, in a worker thread: one object, a full
import (keyset pages, children, indexes built off the event loop), and deltas."""

from __future__ import annotations

import logging
import re
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from mapper.plan import PlanObject
from mapper.runtime.cache import CacheState, SyncStats
from mapper.runtime.database import Tx
from mapper.runtime.record import Deduper, Key, Record, anchor_key
from mapper.runtime.records import Codec

log = logging.getLogger(__name__)

_DELETE_TYPES = frozenset({"d", "del", "delete", "deleted", "remove", "removed"})


def fetch(tx: Tx, obj: PlanObject, codec: Codec, anchor: Any) -> Record | None:
    """One object by anchor (the import projection and its children), or None."""
    row = tx.first(obj.by_anchor, {"anchor": anchor})
    if row is None:
        return None
    native = anchor_key(row[codec.anchor_index])  # ids bind as int or text, never driver objects
    children = [tx.rows(m.load_for_anchor, {"anchor": native}) for m in obj.multi]
    return Record(row, codec.children_of(children))


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


def import_all(
    tx: Tx, obj: PlanObject, codec: Codec, old: CacheState, *, page_size: int, progress_every: int
) -> FullImport:
    """Every object, page by page, into a new :class:`CacheState`. ``old`` is only read (``get``),
    to count what changed."""
    mark: Any = None
    if obj.delta.kind == "table" and obj.delta.max_sequence is not None:
        first = tx.first(obj.delta.max_sequence)
        mark = first[0] if first else None  # changes after this point are replayed by the next delta

    children: list[dict[Key, list[tuple[Any, ...]]]] = []
    for multi in obj.multi:
        grouped: dict[Key, list[tuple[Any, ...]]] = defaultdict(list)
        for item in tx.execute(multi.load):
            grouped[anchor_key(item[0])].append(tuple(item))
        children.append(grouped)

    watermark_index = _watermark_index(obj)
    state = CacheState(codec)
    dedupe = Deduper(len(obj.columns))
    stats = SyncStats()
    after: Any = None
    next_log = progress_every
    while True:
        if after is None:
            rows = tx.rows(obj.import_first_page, {"limit": page_size})
        else:
            rows = tx.rows(obj.import_page, {"after": after, "limit": page_size})
        for fetched in rows:
            row = dedupe.row(fetched)
            key = anchor_key(row[codec.anchor_index])
            record = Record(row, codec.children_of([c.get(key, ()) for c in children]))
            previous = old.records.get(key)
            if previous is None:
                stats.added += 1
            elif previous.version != record.version:
                stats.changed += 1
            else:  # unchanged: keep the old record, so a re-import holds one copy of the data, not two
                record = previous
            state.put(record)
            if watermark_index is not None:
                value = row[watermark_index]
                if value is not None and (mark is None or value > mark):
                    mark = value
        stats.rows += len(rows)
        if stats.rows >= next_log:
            log.info("%s: imported %d rows", obj.name, stats.rows)
            next_log += progress_every
        if len(rows) < page_size:
            break
        after = rows[-1][codec.anchor_index]
    stats.removed = max(0, len(old.records) - (len(state.records) - stats.added))
    return FullImport(state, mark, stats)


def _watermark_index(obj: PlanObject) -> int | None:
    if obj.delta.kind != "watermark" or obj.delta.watermark_column is None:
        return None
    return obj.columns.index(obj.delta.watermark_column)


class Delta:
    def __init__(self, records: list[Record], deletes: list[Key], mark: Any) -> None:
        self.records = records
        self.deletes = deletes
        self.mark = mark


def import_delta(tx: Tx, obj: PlanObject, codec: Codec, old: CacheState, mark: Any, *, since: Any) -> Delta:
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
        for fetched in tx.execute(delta.query, {"since": since}):  # one row at a time, not a list
            row = tuple(fetched)
            value = row[index]
            if value is not None and (new_mark is None or value > new_mark):
                new_mark = value
            native = anchor_key(row[codec.anchor_index])
            kids = [tx.rows(m.load_for_anchor, {"anchor": native}) for m in obj.multi]
            record = Record(row, codec.children_of(kids))
            previous = old.records.get(native)
            if previous is None or previous.version != record.version:
                records.append(record)
        return Delta(records, [], new_mark)

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
