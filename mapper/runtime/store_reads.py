"""An object type's reads: by id with read-through, by query attribute, index lookups, and the
searches the database answers (:mod:`mapper.runtime.sqlfilter`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Iterator
from functools import partial
from itertools import compress, repeat
from typing import Any

import anyio
from sqlalchemy import exc
from sqlglot import errors as sqlglot_errors

from mapper.runtime.codec import MISSING
from mapper.runtime.database import Tx
from mapper.runtime.errors import DatabaseUnavailableError, SqlRefusedError
from mapper.runtime.keys import Key
from mapper.runtime.loading import fetch, fetch_by_query
from mapper.runtime.locks import arrived
from mapper.runtime.record import Record, column_name
from mapper.runtime.sqlfilter import Describe, FilterSql, Sort, Untranslatable
from mapper.runtime.store_base import StoreBase
from mapper.scimfilter import Filter

log = logging.getLogger(__name__)

#: cached records searched per turn of the event loop for references to deleted objects (about
#: 5 ms each under load)
NAMING_SLICE = 10_000


class StoreReads(StoreBase):
    """An object type's reads: the cache first, the database on a miss."""

    # -- reads ------------------------------------------------------------------------------

    def count(self) -> int:
        return len(self.cache)

    def records(self) -> list[Record]:
        """A snapshot of the cached records (safe to hand to a worker thread)."""
        return self.cache.records()

    def all(self) -> Iterator[dict[str, Any]]:
        """Every resource in the cache (no database access), rendered as it is iterated."""
        render = self.codec.render
        return (render(record) for record in self.cache.records())

    async def get(self, id: str) -> dict[str, Any] | None:
        """The resource ``id`` names (None: none). An object a write left in doubt is read again
        first (:meth:`settle_doubt`); while the database does not answer, a read is served the
        cached copy, as during any outage, and a write (one that counts from its arrival: a
        PATCH reading what it patches) gets the outage, so that it answers neither "unchanged"
        nor anything else from a copy the database may not hold."""
        record = await self._settled_record(id)
        return None if record is None else self.codec.render(record)

    async def patchable(self, id: str) -> tuple[Record, dict[str, Any]] | None:
        """The object ``id`` names as a PATCH whose operations leave ``meta`` alone applies them
        (None: none), read as :meth:`get` reads it: its record, and its resource without what
        ``meta`` holds (:attr:`Codec.render_bare`: neither its timestamps' text nor its version
        worked out). The PATCH's write then requires the record's version (:meth:`replace`'s
        ``expected``), which is seldom worked out for that (:meth:`Record.holds`)."""
        record = await self._settled_record(id)
        return None if record is None else (record, self.codec.render_bare(record))

    async def _settled_record(self, id: str) -> Record | None:
        """The record ``id`` names (:meth:`get_record`), once a write that left it in doubt is
        settled (:meth:`_settle_for_read`)."""
        if self.in_doubt:
            key = self.to_key(id)
            if key is not None and key in self.in_doubt:
                await self._settle_for_read(key)
        return await self.get_record(id)

    async def _settle_for_read(self, key: Key) -> None:
        """:meth:`settle_doubt` for a read: while the database does not answer, a read is served
        the cached copy, as during any outage; a write (one that counts from its arrival) gets
        the outage."""
        try:
            await self.settle_doubt(key)
        except DatabaseUnavailableError:
            if arrived.get() is not None:
                raise

    async def get_record(self, id: str) -> Record | None:
        """The record ``id`` names: the cached one, else read from the database (None: none)."""
        key = self.to_key(id)
        if key is None:
            return None
        record = self.cache.get(key)
        if record is not None:
            return record
        # a miss reads through: a false "not found" makes clients create duplicates
        return await self._reload(key, forget=False)

    async def settle_doubt(self, key: Key) -> None:
        """Read the object ``key`` again if a write left it in doubt (:attr:`in_doubt`: its
        COMMIT may have landed), so that the cache holds what the database does: on demand, for
        a gateway whose reconnect probe (autosync's) does not run, and before a write decides
        from the cached copy. Bounded by the request's deadline (a write's counts from its
        arrival: :data:`~mapper.runtime.locks.arrived`); :class:`DatabaseUnavailableError` when
        the database does not answer in time, the object still in doubt."""
        if key not in self.in_doubt:
            return
        since = arrived.get()
        deadline = None if since is None else since + self.database.timeouts.statement
        if deadline is not None and deadline <= time.monotonic():  # no time left to read
            raise DatabaseUnavailableError(self.database.name)
        async with self._locks.hold([("id", key)]):
            if key not in self.in_doubt:  # read again meanwhile (another request, the probe)
                return
            marks = self._marks()
            try:
                read = partial(fetch, obj=self.obj, codec=self.codec, anchor=key)
                record = await self.database.run(read, deadline=deadline)
            except exc.DataError:  # no object can have this key: nothing to doubt
                record = None
            self.in_doubt.discard(key)
            if record is not None:
                self._put(self._unforgotten(record, marks))
            elif self.cache.get(key) is not None:
                self._forget(key)

    async def refresh(self, id: str) -> dict[str, Any] | None:
        """Read one object again from the database and bring the cache up to date with it: for a
        write that found the database ahead of the cache (another process, or a cascade)."""
        key = self.to_key(id)
        record = await self._reload(key, forget=True) if key is not None else None
        return self.codec.render(record) if record is not None else None

    async def _reload(self, key: Key, *, forget: bool) -> Record | None:
        # under the id lock, as writes and :meth:`reread`: an older read never lands last
        async with self._locks.hold([("id", key)]):
            marks = self._marks()
            try:
                record = await self.database.run(partial(fetch, obj=self.obj, codec=self.codec, anchor=key))
            except exc.DataError:  # the id cannot be an anchor of this column type
                return None
            if record is not None:
                record = self._unforgotten(record, marks)
                self._put(record)
            elif forget and self.cache.get(key) is not None:
                self._forget(key)
            return record

    async def reread(self, keys: list[Key], *, naming: Collection[Key] | None = None) -> None:
        """Read the objects ``keys`` again (in one transaction) and bring the cache up to date:
        another process wrote or deleted them. Their id locks are held meanwhile, so a write of
        this process that commits during the read is never overwritten by the older read. The
        objects naming those found gone are read again too (:meth:`reread_naming`): of each one,
        or (``naming``) only of those among ``naming``, the others' writer having announced them."""
        gone = []
        async with self._locks.hold([("id", key) for key in keys]):
            obj, codec, marks = self.obj, self.codec, self._marks()
            records = await self.database.run(lambda tx: [fetch(tx, obj, codec, key) for key in keys])
            for key, record in zip(keys, records, strict=True):
                if record is not None:
                    self._put(self._unforgotten(record, marks))
                elif self.cache.get(key) is not None:
                    self._forget(key)
                    gone.append(key)
        if naming is not None:
            gone = [key for key in gone if key in naming]
        await self.reread_naming(gone)  # after the locks: those objects may be among them

    async def reread_naming(self, gone: Collection[Key]) -> None:
        """Objects of this type were deleted behind the gateway's back (a delta's delete scan,
        another application's DELETE announced to this process): read again the cached objects
        whose single-valued reference (``enterprise.manager``) names one of ``gone``. The
        database's ``ON DELETE SET NULL`` (or ``CASCADE``) changed them and moved no watermark,
        and by now no look-up by value finds them, so each referring type's cache is searched,
        in slices of :data:`NAMING_SLICE` records per turn of the event loop. Objects the
        database cannot be asked about now are left in doubt (read again before they are served
        by id or written)."""
        if not gone or not self.referring:
            return
        self.naming_searches += 1
        # compared in C (map, compress): a loop in Python took 1.4-1.9 s per million records
        # under load, this 0.4-0.5 s. A reference column holds the anchor as the database gives
        # it: integer keys compare as they are, any other (text, a UUID) as its text.
        as_is = all(type(key) is int for key in gone)
        wanted = set(gone) if as_is else {str(key) for key in gone}
        found = wanted.__contains__
        for referrer in self.referring:
            store, column = referrer.store, column_name(referrer.column)
            records = store.cache.state.records
            keys, cached = list(records), list(records.values())  # the cache changes meanwhile
            naming: list[Key] = []
            for start in range(0, len(keys), NAMING_SLICE):
                values = map(getattr, cached[start : start + NAMING_SLICE], repeat(column), repeat(None))
                naming += compress(
                    keys[start : start + NAMING_SLICE], map(found, values if as_is else map(str, values))
                )
                await anyio.sleep(0)
            del keys, cached
            await store.reread_or_doubt(naming)

    async def reread_or_doubt(self, keys: list[Key]) -> None:
        """:meth:`reread` ``keys``, the database's doing changed them; those it cannot be asked
        about now are left in doubt (read again before they are served by id or written)."""
        if not keys:
            return
        try:
            await self.reread(keys)
        except DatabaseUnavailableError:
            self.in_doubt.update(keys)

    async def reread_in_doubt(self) -> None:
        """Read again the objects writes left in doubt (:attr:`in_doubt`), when the database
        answers again: the cache then shows what the database holds, committed or not. Those
        it cannot read yet stay in doubt."""
        keys = list(self.in_doubt)
        self.in_doubt.clear()
        try:
            await self.reread(keys)
        except DatabaseUnavailableError:
            self.in_doubt.update(keys)
            raise

    def cached(self, id: str) -> Record | None:
        """The cached record ``id`` names; None when it is not in the cache (no read-through)."""
        key = self.to_key(id)
        return None if key is None else self.cache.get(key)

    def cached_by_query(self, value: str) -> Record | None:
        """The cached record whose query attribute equals ``value``; None when not in the cache,
        and when several cached records hold it (:meth:`cached_holders` lists them)."""
        query = self.codec.query.attr
        stored = self.codec.stored(self.codec.query, value)
        if stored is MISSING or stored is None:
            return None
        key = self.cache.find(query.path, self.cache.state.query_fold(stored, query.case_exact))
        return None if key is None else self.cache.get(key)

    def _holders(self, stored: Any) -> list[Record]:
        """Every cached record whose query attribute holds ``stored`` (a value as its column keeps
        it), in anchor order: one, unless the database holds it in several rows."""
        state = self.cache.state
        folded = state.query_fold(stored, self.codec.query.attr.case_exact)
        key = state.by_query.get(folded)
        if key is not None:  # the common case: one holder, as cheap as the one-key look-up
            record = state.records.get(key)
            return [record] if record is not None else []
        return [r for k in state.holders(folded) if (r := state.records.get(k)) is not None]

    async def find_by_query(self, value: str) -> dict[str, Any] | None:
        """The first, in anchor order, of :meth:`find_all_by_query`; None when there is none."""
        found = await self.find_all_by_query(value)
        return found[0] if found else None

    async def find_all_by_query(self, value: str) -> list[dict[str, Any]]:
        """Every resource whose query attribute (``userName``...) equals ``value``, in anchor
        order: one, unless the database holds the value in several rows (its column has no
        unique constraint), and then all of them, as RFC 7644 §3.4.2.2 asks of a filter. Cached
        ones a write left in doubt are read again first, as :meth:`get` reads them: the write
        may have renamed them (clients look an object up by this attribute before they create
        one). None cached: read through from the database."""
        stored = self.codec.stored(self.codec.query, value)
        if stored is MISSING or stored is None:
            return []
        records = self._holders(stored)
        if records and self.in_doubt:
            doubted = [k for k in map(self.codec.key, records) if k in self.in_doubt]
            for key in doubted:
                await self._settle_for_read(key)
            if doubted:
                records = self._holders(stored)
        if not records:
            try:
                records = await self.database.run(
                    partial(fetch_by_query, obj=self.obj, codec=self.codec, value=stored)
                )
            except exc.DataError:  # a value the column cannot hold is held by no object
                return []
            for record in records:
                self._learn(record)
                self.cache.put(record)
        render = self.codec.render
        return [render(record) for record in records]

    def lookup(self, path: str, value: Any) -> list[dict[str, Any]] | None:
        """Resources with ``path eq value`` from an index; None when ``path`` is not indexed."""
        name = self._strip_urn(path).lower()
        if name == "id":
            key = self.to_key(str(value))
            record = self.cache.get(key) if key is not None else None
            return [self.codec.render(record)] if record is not None else []
        slot = self.codec.by_path.get(name)
        if slot is None or (slot is not self.codec.query and slot not in self.codec.unique):
            return None
        if slot.attr.type == "dateTime":  # an instant has many spellings, the index one of them:
            return None  # the filter is answered as any other (the database compares instants)
        if value is None or isinstance(value, bool | dict | list):
            return []
        value = self.codec.stored(slot, value)
        if value is MISSING or value is None:
            return []
        if slot is self.codec.query:  # the database may hold it in several rows
            return [self.codec.render(record) for record in self._holders(value)]
        key = self.cache.find(slot.attr.path, self.codec.fold(value, slot.attr.case_exact))
        record = self.cache.get(key) if key is not None else None
        return [self.codec.render(record)] if record is not None else []

    def filters(self) -> FilterSql | None:
        """The filter → SQL translation of this type (None when its import cannot be wrapped)."""
        if self._filters is None:
            try:
                self._filters = FilterSql(self.obj, self.codec, self.database.dialect)
            except (ValueError, sqlglot_errors.SqlglotError) as error:
                log.warning("%s: filters are evaluated on the cache: %s", self.name, error)
                return None
        return self._filters

    async def search(
        self,
        node: Filter | None,
        describe: Describe,
        *,
        sort: Sort | None = None,
        offset: int = 0,
        limit: int,
    ) -> tuple[int, list[dict[str, Any]]] | None:
        """(matches, the resources of the page ``[offset, offset + limit)``) for a filter the
        database answers (:mod:`mapper.runtime.sqlfilter`), in anchor order or ``sort``'s; None
        when it cannot answer the filter exactly, or refused the statement, and the caller
        evaluates it on the cache. The translation and the rendering run in worker threads."""
        filters = self.filters()
        if filters is None:
            return None
        try:
            search = await anyio.to_thread.run_sync(
                partial(filters.query, node, describe, sort=sort, offset=offset, limit=limit)
            )
        except Untranslatable as why:
            log.debug("%s: the filter is evaluated on the cache: %s", self.name, why.reason)
            return None
        except RecursionError:  # nested too deeply to translate: the cache says so (400)
            return None
        render = self.codec.render

        def run(tx: Tx) -> tuple[int, list[dict[str, Any]]]:
            total, records = search.run(tx, rows=limit > 0)
            return total, [render(record) for record in records]

        try:
            return await self.database.run(run)
        except (exc.ProgrammingError, exc.DataError) as error:  # a column type the SQL did not expect
            log.warning(
                "%s: the database refused a filter (%s); the cache answers",
                self.name,
                type(error.orig).__name__,
            )
            return None
        except SqlRefusedError:  # the schema changed under the gateway (logged): the cache answers
            return None

    def _strip_urn(self, path: str) -> str:
        for urn in (self.obj.schema_urn, *self.obj.extension_urns):
            if path.lower().startswith(urn.lower() + ":"):
                return path[len(urn) + 1 :]
        return path
