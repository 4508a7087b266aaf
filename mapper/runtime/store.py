"""One :class:`ObjectStore` per object type: SCIM resources in, SCIM resources out, over the plan's
statements and the cache.

Rules every write follows: the database is the source of truth. All statements of one write run
in one worker thread, in one transaction (shared with the writes that arrived with it, each in a
savepoint of its own: see :class:`~mapper.runtime.database.GroupCommitter`); the cache changes
only after the commit, so a failed write leaves database and cache as they were. Uniqueness is
checked under a per-value lock against the cache and the database, and the database's own unique
constraints back it across processes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Container
from functools import partial
from itertools import filterfalse, islice
from typing import TypeVar

import anyio
from sqlalchemy import exc

from mapper.runtime.cache import SyncStats
from mapper.runtime.errors import (
    SyncError,
)
from mapper.runtime.keys import Key, anchor_order
from mapper.runtime.loading import collector_paused, import_all, import_delta, scan_anchors
from mapper.runtime.record import Record, etag_matches
from mapper.runtime.store_base import Dangling, Resolver
from mapper.runtime.store_writes import StoreWrites
from mapper.runtime.tx import Tx

__all__ = ["APPLY_SLICE", "Dangling", "ObjectStore", "Resolver", "etag_matches"]

T = TypeVar("T")

log = logging.getLogger(__name__)

APPLY_SLICE = 5000
#: how many records of a full import are looked at to learn which dateTime columns hold days
#: (:meth:`Codec.learn`): those whose column is NULL in all of them are learned on a later write
LEARN_FROM = 1000
#: Cached keys compared with a delete scan's anchors per turn of the event loop.
ABSENT_SLICE = 50_000
#: How many anchors of the rows sharing a query-attribute value a warning names.
SHARED_SHOWN = 10


class ObjectStore(StoreWrites):
    """The resources of one object type (``/Users``...).

    ``resolver`` finds the store of another object type (to check references such as group
    members and managers); ``margin`` is how far a watermark delta looks back."""

    # -- syncs ------------------------------------------------------------------------------

    @property
    def loaded(self) -> bool:
        return self._loaded

    async def sync_full(self) -> SyncStats:
        """Import everything into a new state (built in a worker thread) and swap it in."""
        async with self._sync_lock:
            self.cache.begin_tracking()
            started = self._mark.clock()
            self.importing, self.imported = True, 0
            try:  # members and objects from one consistent state
                result = await self._tracked_read(
                    partial(
                        import_all,
                        obj=self.obj,
                        codec=self.codec,
                        old=self.cache.state,
                        page_size=self.page_size,
                        progress_every=self.progress_every,
                        on_page=self._imported,
                    )
                )
            finally:
                self.importing = False
            self.cache.swap(result.state)
            self._mark.reset(result.mark, started)
            self._loaded = True
            if result.state.records:
                self._learn(next(iter(result.state.records.values())))
            for record in islice(result.state.records.values(), LEARN_FROM):
                if not self.codec.dated:  # whether dateTime columns hold days: known
                    break
                self.codec.learn(record.row)
            log.info(
                "%s: full import of %d rows (%d added, %d changed, %d removed)",
                self.name,
                result.stats.rows,
                result.stats.added,
                result.stats.changed,
                result.stats.removed,
            )
            self._warn_shared(always=True)
            return result.stats

    def _warn_shared(self, *, always: bool) -> None:
        """One warning when query-attribute values are held by several rows (after every full
        import; after a delta, when their number changed): how many values and rows, and up to
        :data:`SHARED_SHOWN` of the rows' anchors, never the values (a userName is often an
        e-mail address: personal data, which logs keep out)."""
        shared = self.cache.state.shared
        if len(shared) == self._shared_seen and not always:
            return
        self._shared_seen = len(shared)
        if not shared:
            return
        anchors = sorted((k for keys in shared.values() for k in keys), key=anchor_order)
        shown = ", ".join(map(str, anchors[:SHARED_SHOWN])) + (", ..." if len(anchors) > SHARED_SHOWN else "")
        log.warning(
            "%s: %d %s value(s) held by several rows (%d rows, anchors %s): the database does not"
            " keep the column unique; a filter on it answers every such row",
            self.name,
            len(shared),
            self.obj.query_attribute,
            len(anchors),
            shown,
        )

    def _imported(self, rows: int) -> None:
        self.imported = rows  # from the import's worker thread: one attribute, read by /readyz

    async def sync_delta(self) -> SyncStats:
        """Apply the changes since the last sync; a full import when there is no starting point."""
        if self.obj.delta.kind == "none" or self.obj.delta.query is None:
            if self.delete_scan and self._loaded:
                return await self._scan_deletes()
            return SyncStats()
        if not self._loaded:
            return await self.sync_full()
        if self._mark.value is None:
            if self.obj.delta.kind == "watermark":
                if self.count() == 0 or not self._warned_no_mark:
                    # nothing to start from (an empty start, then rows written through the
                    # gateway): a full import, which takes the watermark from the rows now there
                    stats = await self.sync_full()
                    if self._mark.value is None and self.count() and not self._warned_no_mark:
                        log.warning("%s: no watermark values; only full imports will see changes", self.name)
                        self._warned_no_mark = True
                    return stats
                return SyncStats()
            self._mark.value = 0  # an empty change table: every sequence is after 0
        scan = self.obj.delta.kind == "watermark" and self.delete_scan
        async with self._sync_lock:
            self.cache.begin_tracking()
            if self.obj.delta.kind == "watermark":
                since, started, rewound = self._mark.since()
            else:
                since, started, rewound = self._mark.value, self._mark.clock(), False
            with collector_paused():  # see _absent
                delta = await self._tracked_read(
                    partial(
                        import_delta,
                        obj=self.obj,
                        codec=self.codec,
                        old=self.cache.state,
                        mark=self._mark.value,
                        since=since,
                        scan=scan,
                        page_size=self.page_size,
                        key_of=self._cached_key,
                    )
                )
                stats = await self._apply(delta.records, delta.deletes, delta.present)
                delta.present = None
            self._mark.done(delta.mark, started, rewound)
            if stats.added or stats.changed or stats.removed:
                log.info(
                    "%s: delta %d added, %d changed, %d removed",
                    self.name,
                    stats.added,
                    stats.changed,
                    stats.removed,
                )
            self._warn_shared(always=False)
            return stats

    def _cached_key(self, key: Key) -> Key:
        """A change table's anchor as the cache keys it. A change table often keeps the anchors of
        several tables in one text column: an integer anchor 8 noted as '8' is read the way a SCIM
        id is (:meth:`to_key`), or its delete would never reach the cache."""
        if isinstance(key, str) and key not in self.cache.state.records:
            as_id = self.to_key(key)
            if as_id is not None:
                return as_id
        return key

    async def _scan_deletes(self) -> SyncStats:
        """A type without a delta strategy (``delta none``) still loses, at every autosync tick,
        what was deleted behind the gateway's back: the anchor scan alone. Its other changes
        (updates, memberships) wait for the full import, which is all such a type declares."""
        async with self._sync_lock:
            self.cache.begin_tracking()
            with collector_paused():  # see _absent
                scan = partial(scan_anchors, obj=self.obj, page_size=self.page_size)
                present = await self._tracked_read(scan)
                stats = await self._apply([], [], present)  # tracked writes (made meanwhile) win in apply
                del present
            if stats.removed:
                log.info("%s: delete scan removed %d", self.name, stats.removed)
            return stats

    async def _tracked_read(self, fn: Callable[[Tx], T]) -> T:
        """``fn`` in one snapshot, while the cache tracks the gateway's own writes (the caller
        began tracking); a failure ends the tracking, and a driver error names this type."""
        try:
            return await self.database.run(fn, snapshot=True)
        except exc.DBAPIError as e:
            self.cache.end_tracking()
            raise _sync_error(self.name, e) from e
        except BaseException:
            self.cache.end_tracking()
            raise

    async def _absent(self, present: Container[Key]) -> list[Key]:
        """The cached keys a delete scan did not find. At 1M records the comparison in one piece
        held the event loop for 60-130 ms every delta (each request waiting behind it), so the
        keys are copied (one C pass: the cache changes meanwhile, and what the gateway writes is
        tracked and wins in :meth:`Cache.apply`) and compared in slices. ``present`` (a set of a
        million keys) is the reason syncs run with the collector paused: every collection of the
        oldest generation walks a container's items, so each one the scan's allocations set off
        stopped the process for 15-55 ms, several times per delta."""
        keys = list(self.cache.state.records)
        absent: list[Key] = []
        for start in range(0, len(keys), ABSENT_SLICE):
            absent.extend(filterfalse(present.__contains__, keys[start : start + ABSENT_SLICE]))
            await anyio.sleep(0)
        return absent

    async def _apply(
        self, records: list[Record], deletes: list[Key], present: Container[Key] | None = None
    ) -> SyncStats:
        """Apply what a delta or a delete scan read, in slices so a large one never holds the
        event loop for long; end the tracking; drop the deleted from the groups that list them.
        With ``present`` (a delete scan's anchors), the cached keys not in it are deleted too:
        deleted behind the gateway's back."""
        stats = SyncStats()
        try:
            if present is not None:
                deletes = [*deletes, *await self._absent(present)]
            for start in range(0, max(len(records), len(deletes)), APPLY_SLICE):
                self.cache.apply(
                    records[start : start + APPLY_SLICE], deletes[start : start + APPLY_SLICE], stats
                )
                await anyio.sleep(0)
        finally:
            self.cache.end_tracking()
        for key in deletes:
            self.forgotten(key)
        await self.reread_naming(deletes)
        return stats


def _sync_error(name: str, error: exc.DBAPIError) -> SyncError:
    message = str(error.orig or error).strip().splitlines()
    return SyncError(name, message[0] if message else type(error.orig or error).__name__)
