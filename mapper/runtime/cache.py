"""The in-memory state of one object type: records by anchor key, plus look-up indexes (the query
attribute, and every attribute marked unique) from folded value to key.

The database may hold one query-attribute value in several rows (a column without a unique
constraint: a legacy table, a hand-written import). :attr:`CacheState.by_query` keeps the values
one key holds, :attr:`CacheState.shared` (small, usually empty) the others, with every key holding
each: a value is in exactly one of the two, so the one-key look-up of the cached filtered read
costs what it did, and a value several rows hold misses there and is answered with all of them.

Syncs build a whole new :class:`CacheState` off the event loop and swap it in. Writes that commit
while a sync is building are remembered (:meth:`Cache.begin_tracking`) and win over what the sync
read, so a sync that started before a write can never undo it in the cache.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from mapper.runtime.codec import Codec
from mapper.runtime.keys import Fold, Key, anchor_order
from mapper.runtime.record import Record, Row, instant
from mapper.runtime.slots import Slot


def instant_key(value: Any, case_exact: bool) -> str:
    """The index key of a dateTime value: its instant, however it is spelled (SQLite keeps text
    as written: ``2024-01-01 10:00:00`` and the gateway's ``2024-01-01T10:00:00.000Z`` are one
    instant, as the database's look-up by the column's type finds them); a day is its midnight."""
    if type(value) is int:  # already an instant: the cache's microseconds (record.instant)
        return f"@{value}"
    if type(value) is date:
        value = datetime(value.year, value.month, value.day)
    moment = instant(value)
    return f"@{moment}" if type(moment) is int else str(moment)


def index_fold(codec: Codec, slot: Slot) -> Fold:
    """How ``slot``'s values are keyed in an index: an instant for a dateTime, else the
    database's folding (:attr:`Codec.fold`)."""
    return instant_key if slot.attr.type == "dateTime" else codec.fold


class CacheState:
    """Records and indexes. Mutated only on the event loop once live; built in a worker thread."""

    __slots__ = ("by_query", "by_unique", "codec", "folds", "query_fold", "records", "shared")

    def __init__(self, codec: Codec) -> None:
        self.codec = codec
        self.records: dict[Key, Record] = {}
        #: folded query-attribute value -> the one key holding it
        self.by_query: dict[str, Key] = {}
        #: folded query-attribute value -> the keys holding it, for values several keys hold
        #: (never in :attr:`by_query` then)
        self.shared: dict[str, set[Key]] = {}
        self.by_unique: dict[str, dict[str, Key]] = {s.attr.path: {} for s in codec.unique}
        #: the key function of each index (:func:`index_fold`): the query's, each unique one's
        self.query_fold = index_fold(codec, codec.query)
        self.folds: dict[str, Fold] = {s.attr.path: index_fold(codec, s) for s in codec.unique}

    def put(self, record: Record, key: Key | None = None, row: Row | None = None) -> None:
        """File ``record`` under its key and index keys; ``key`` and ``row`` are its
        :meth:`Codec.key` and ``row`` when the caller has them (a record rebuilds its row on every
        read of ``row``)."""
        if key is None:
            key = self.codec.key(record)
        old = self.records.get(key)
        if old is not None:
            self._unindex(key, old)
        self.records[key] = record
        if row is None:
            row = record.row
        query = self.query_key(record, row)
        if query is not None:
            self._index_query(query, key)
        for path, value in self.unique_keys(record, row):
            self.by_unique[path][value] = key

    def _index_query(self, query: str, key: Key) -> None:
        """File ``key`` under the folded query value ``query``: in :attr:`by_query` when no other
        key holds it, else in :attr:`shared` with the others."""
        shared = self.shared
        if shared and query in shared:
            shared[query].add(key)
            return
        held = self.by_query.setdefault(query, key)
        if held != key:
            del self.by_query[query]
            shared[query] = {held, key}

    def holders(self, query: str) -> list[Key]:
        """Every key holding the folded query value ``query``, in anchor order."""
        held = self.by_query.get(query)
        if held is not None:
            return [held]
        return sorted(self.shared.get(query, ()), key=anchor_order)

    def shared_rows(self) -> int:
        """How many records hold a query value another record holds too."""
        return sum(map(len, self.shared.values()))

    def query_key(self, record: Record, row: Row | None = None) -> str | None:
        """The record's key in :attr:`by_query`: its query attribute's value, folded (``row``:
        the record's, when the caller has it)."""
        query = self.codec.query
        value = query.value(record.row if row is None else row)
        return None if value is None else self.query_fold(value, query.case_exact)

    def unique_keys(self, record: Record, row: Row | None = None) -> list[tuple[str, str]]:
        """(attribute path, folded value) of each unique attribute the record has a value for
        (``row``: the record's, when the caller has it)."""
        keys: list[tuple[str, str]] = []
        folds = self.folds
        unique = self.codec.unique
        if not unique:
            return keys
        if row is None:
            row = record.row  # rebuilt on every read of ``row``: once
        for slot in unique:
            value = slot.value(row)
            if value is not None and value != slot.null:  # a ``null ""`` attribute's '': no value
                path = slot.path
                keys.append((path, folds[path](value, slot.case_exact)))
        return keys

    def others_holding(self, record: Record, key: Key, row: Row | None = None) -> set[Key]:
        """The keys other than ``key`` that the unique indexes file under one of ``record``'s
        unique values: those the database holds equal to it, since the indexes fold as its
        look-ups do (``Codec.fold``; SQLite's LOWER folds ASCII letters only, so 'Émile' and
        'émile' are two keys there, as they are two values in the database). Not the query
        attribute's: the database may hold its value in several rows (:attr:`shared`), so another
        holder is no sign that it no longer holds it, and dropping it would hide a row."""
        found: set[Key] = set()
        records = self.records
        unique = self.codec.unique
        if not unique:
            return found
        if row is None:
            row = record.row  # rebuilt on every read of ``row``: once
        for slot in unique:
            value = slot.value(row)
            if value is None or value == slot.null:
                continue
            path = slot.attr.path
            other = self.by_unique[path].get(self.folds[path](value, slot.case_exact), key)
            if other != key and other in records:
                found.add(other)
        return found

    def stale_holders(self, record: Record, key: Key, row: Row) -> list[Key]:
        """The other keys filed under ``record``'s query value when ``key`` is not filed under it
        yet: the value is new to the object, so a write that gave it checked that no other row
        holds it, and those are stale (renamed or deleted behind the gateway's back)."""
        query = self.query_key(record, row)
        if query is None:
            return []
        held = self.by_query.get(query)
        if held is not None:
            return [] if held == key else [held]
        holders = self.shared.get(query)
        return [] if not holders or key in holders else list(holders)

    def remove(self, key: Key) -> Record | None:
        old = self.records.pop(key, None)
        if old is not None:
            self._unindex(key, old)
        return old

    def _unindex(self, key: Key, record: Record) -> None:
        row = record.row  # rebuilt on every read of ``row``: once
        query = self.query_key(record, row)
        if query is not None:
            if self.by_query.get(query) == key:
                del self.by_query[query]
            elif query in self.shared:
                holders = self.shared[query]
                holders.discard(key)
                if len(holders) == 1:  # one holder left: a plain entry again
                    self.by_query[query] = holders.pop()
                    del self.shared[query]
        for path, value in self.unique_keys(record, row):
            index = self.by_unique[path]
            if index.get(value) == key:
                del index[value]


@dataclass
class SyncStats:
    """What a sync changed in the cache."""

    rows: int = 0
    added: int = 0
    changed: int = 0
    removed: int = 0


class Cache:
    def __init__(self, codec: Codec) -> None:
        self.codec = codec
        self.state = CacheState(codec)
        self._tracked: dict[Key, Record | None] | None = None

    def __len__(self) -> int:
        return len(self.state.records)

    def get(self, key: Key) -> Record | None:
        return self.state.records.get(key)

    def find(self, path: str, folded: str) -> Key | None:
        """The key whose ``path`` (the query attribute or a unique one) has the folded value; None
        also when several keys hold that query value (:meth:`CacheState.holders` lists them)."""
        if path == self.codec.query.attr.path:
            return self.state.by_query.get(folded)
        index = self.state.by_unique.get(path)
        return index.get(folded) if index is not None else None

    def records(self) -> list[Record]:
        """A snapshot of the records (safe to iterate across awaits)."""
        return list(self.state.records.values())

    # -- writes (event loop) ----------------------------------------------------------------

    def put(self, record: Record, *, written: bool = False) -> None:
        """Keep ``record``, as the database just gave it (a write's outcome, a read-through).
        Another record filed under one of its unique values no longer holds that value in the
        database (it was deleted or changed behind the gateway's back): it is dropped, and a
        later read of it reads it through. So are the others filed under its query attribute's
        value when it is a write's outcome (``written``) and the value is new to it: the write's
        transaction found no other row holding it (:func:`mapper.runtime.decisions.unclaimed`).
        Without that proof another holder stays: the database may hold the value in several
        rows (:attr:`CacheState.shared`)."""
        state, key, row = self.state, self.codec.key(record), record.row
        others = state.others_holding(record, key, row)
        if written:
            others.update(state.stale_holders(record, key, row))
        for other in others:
            self.remove(other)
        state.put(record, key, row)
        if self._tracked is not None:
            self._tracked[key] = record

    def remove(self, key: Key) -> None:
        self.state.remove(key)
        if self._tracked is not None:
            self._tracked[key] = None

    # -- syncs ------------------------------------------------------------------------------

    def begin_tracking(self) -> None:
        self._tracked = {}

    def end_tracking(self) -> dict[Key, Record | None]:
        tracked, self._tracked = self._tracked or {}, None
        return tracked

    def swap(self, new: CacheState) -> None:
        """Install a fully built state; writes made since :meth:`begin_tracking` are replayed on it."""
        for key, record in self.end_tracking().items():
            if record is None:
                new.remove(key)
            else:
                new.put(record)
        self.state = new

    def apply(self, records: Iterable[Record], deletes: Iterable[Key], stats: SyncStats) -> None:
        """Apply (part of) a delta, counting into ``stats``. Keys written since
        :meth:`begin_tracking` keep their newer state; the caller ends tracking when done."""
        tracked = self._tracked or {}
        state = self.state
        for record in records:
            stats.rows += 1
            key = self.codec.key(record)
            if key in tracked:
                continue
            old = state.records.get(key)
            if old is None:
                stats.added += 1
            elif old.same(record):
                continue
            else:
                stats.changed += 1
            state.put(record)
        for key in deletes:
            stats.rows += 1
            if key not in tracked and state.remove(key) is not None:
                stats.removed += 1
