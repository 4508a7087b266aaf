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
import uuid
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any, TypeVar

import anyio
from sqlalchemy import exc
from sqlglot import errors as sqlglot_errors

from mapper.plan import PlanObject, Statement
from mapper.runtime.cache import Cache, SyncStats
from mapper.runtime.codec import MISSING, Codec
from mapper.runtime.database import Database, Tx, integrity_kind, integrity_mentions
from mapper.runtime.errors import (
    InvalidValueError,
    MissingReferenceError,
    MutabilityError,
    NotFoundError,
    PreconditionFailedError,
    SyncError,
    UniquenessError,
)
from mapper.runtime.inserts import Inserts
from mapper.runtime.loading import Watermark, fetch, fetch_by_query, import_all, import_delta
from mapper.runtime.locks import KeyedLocks
from mapper.runtime.record import Key, Record, anchor_key, fold
from mapper.runtime.sqlfilter import Describe, FilterSql, Sort, Untranslatable
from mapper.runtime.values import INT64_MAX, coerce, to_scim
from mapper.scimfilter import Filter

log = logging.getLogger(__name__)

APPLY_SLICE = 5000

T = TypeVar("T")

Resolver = Callable[[str], "ObjectStore | None"]


@dataclass(frozen=True)
class Dangling:
    """A reference a write left out because it names no object (``on missing drop``): the
    attribute's path and the id as sent (an identifier, never a secret value)."""

    path: str
    id: str


def etag_matches(if_match: str, version: str) -> bool:
    """If-Match against our weak ETag: ``*``, or any listed tag equal up to the ``W/`` prefix."""
    if if_match.strip() == "*":
        return True
    ours = version.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == ours for tag in if_match.split(","))


class ObjectStore:
    """The resources of one object type (``/Users``...).

    ``resolver`` finds the store of another object type (to check references such as group
    members and managers); ``margin`` is how far a watermark delta looks back."""

    def __init__(
        self,
        obj: PlanObject,
        database: Database,
        *,
        resolver: Resolver | None = None,
        page_size: int = 10_000,
        progress_every: int = 100_000,
        margin: timedelta = timedelta(seconds=5),
    ) -> None:
        self.obj = obj
        self.name = obj.name
        self.endpoint = obj.endpoint
        self.database = database
        self.codec = Codec(obj, database.dialect)
        self.cache = Cache(self.codec)
        self.resolver = resolver or (lambda _name: None)
        self.page_size = page_size
        self.progress_every = progress_every
        self.margin = margin
        self.referrers: list[tuple[ObjectStore, int]] = []  # (store, multi index) holding our ids
        self._locks = KeyedLocks()
        self._sync_lock = anyio.Lock()
        self._mark = Watermark(margin)
        self._loaded = False
        self.importing = False  # a full import is running
        self.imported = 0  # rows that import has read so far (progress for /readyz)
        self._warned_no_mark = False
        self.delete_scan = True  # every watermark delta also scans anchors for deletes
        self._filters: FilterSql | None = None  # filters answered by the database (see ``search``)
        self.scans = anyio.CapacityLimiter(2)  # cache scans of this type running at once (``search``)
        self._inserts = Inserts(obj, database.dialect)  # creates leave absent columns to their DEFAULT
        self._int_anchors: bool | None = None  # learned from the first record seen
        self.dangling_dropped = 0  # references left out by ``on missing drop``, since start

    # -- ids --------------------------------------------------------------------------------

    def to_key(self, id: str) -> Key | None:
        """The anchor key of a SCIM id, or None when no object can have it. With ``id dn`` the id
        is a DN, read back to its anchor (a DN of another template names nothing). Whether
        anchors are integers is learned from the first record; until then database-made anchors
        are guessed to be (a wrong guess only costs a read-through that finds nothing)."""
        if not isinstance(id, str) or not id:
            return None
        if self.codec.dn_ids:
            anchor = self.codec.anchor_of(id)
            if not anchor:
                return None
            id = anchor
        ints = self._int_anchors
        if ints is None:
            ints = self.obj.anchor_generation == "database"
        if not ints:
            return id
        # at most 19 digits, within a signed 64-bit integer: the widest integer anchor column of
        # every dialect (longer numbers are no anchor, and would overflow SQLite's binding)
        if id.isascii() and id.isdigit() and len(id) <= 19 and str(int(id)) == id and int(id) <= INT64_MAX:
            return int(id)
        return None if self._int_anchors else id

    def key_of(self, anchor: Any) -> Key | None:
        """The cache key of an anchor another process announced (an integer, or a string of
        digits where anchors are integers; a string); None when no object can have it."""
        if isinstance(anchor, bool) or not isinstance(anchor, int | str):
            return None
        ints = self._int_anchors
        if ints is None:
            ints = self.obj.anchor_generation == "database"
        if not ints:
            return str(anchor)
        if isinstance(anchor, int):
            return anchor
        text = anchor.strip()
        return int(text) if text.isascii() and text.isdigit() and int(text) <= INT64_MAX else None

    def _learn(self, record: Record) -> None:
        if self._int_anchors is None:
            self._int_anchors = isinstance(self.codec.key(record), int)

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
        record = await self._record(id)
        return None if record is None else self.codec.render(record)

    async def get_record(self, id: str) -> Record | None:
        return await self._record(id)

    async def _record(self, id: str) -> Record | None:
        key = self.to_key(id)
        if key is None:
            return None
        record = self.cache.get(key)
        if record is not None:
            return record
        # a miss reads through: a false "not found" makes clients create duplicates
        return await self._reload(key, forget=False)

    async def refresh(self, id: str) -> dict[str, Any] | None:
        """Read one object again from the database and bring the cache up to date with it: for a
        write that found the database ahead of the cache (another process, or a cascade)."""
        key = self.to_key(id)
        record = await self._reload(key, forget=True) if key is not None else None
        return self.codec.render(record) if record is not None else None

    async def _reload(self, key: Key, *, forget: bool) -> Record | None:
        # under the id lock, as writes and :meth:`reread`: an older read never lands last
        async with self._locks.hold([("id", key)]):
            try:
                record = await self.database.run(partial(fetch, obj=self.obj, codec=self.codec, anchor=key))
            except exc.DataError:  # the id cannot be an anchor of this column type
                return None
            if record is not None:
                self._put(record)
            elif forget and self.cache.get(key) is not None:
                self._forget(key)
            return record

    async def reread(self, keys: list[Key]) -> None:
        """Read the objects ``keys`` again (in one transaction) and bring the cache up to date:
        another process wrote or deleted them. Their id locks are held meanwhile, so a write of
        this process that commits during the read is never overwritten by the older read."""
        async with self._locks.hold([("id", key) for key in keys]):
            obj, codec = self.obj, self.codec
            records = await self.database.run(lambda tx: [fetch(tx, obj, codec, key) for key in keys])
            for key, record in zip(keys, records, strict=True):
                if record is not None:
                    self._put(record)
                elif self.cache.get(key) is not None:
                    self._forget(key)

    def cached(self, id: str) -> Record | None:
        """The cached record ``id`` names; None when it is not in the cache (no read-through)."""
        key = self.to_key(id)
        return None if key is None else self.cache.get(key)

    def cached_by_query(self, value: str) -> Record | None:
        """The cached record whose query attribute equals ``value``; None when not in the cache."""
        query = self.codec.query.attr
        stored = self.codec.stored(self.codec.query, value)
        if stored is MISSING or stored is None:
            return None
        key = self.cache.find(query.path, fold(stored, query.case_exact))
        return None if key is None else self.cache.get(key)

    async def find_by_query(self, value: str) -> dict[str, Any] | None:
        """The resource whose query attribute (``userName``...) equals ``value``."""
        record = self.cached_by_query(value)
        stored = self.codec.stored(self.codec.query, value)
        if record is None and stored is not MISSING and stored is not None:
            try:
                record = await self.database.run(
                    partial(fetch_by_query, obj=self.obj, codec=self.codec, value=stored)
                )
            except exc.DataError:  # a value the column cannot hold is held by no object
                return None
            if record is not None:
                self._learn(record)
                self.cache.put(record)
        return None if record is None else self.codec.render(record)

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
        if value is None or isinstance(value, bool | dict | list):
            return []
        value = self.codec.stored(slot, value)
        if value is MISSING or value is None:
            return []
        key = self.cache.find(slot.attr.path, fold(value, slot.attr.case_exact))
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

    def _strip_urn(self, path: str) -> str:
        for urn in (self.obj.schema_urn, *self.obj.extension_urns):
            if path.lower().startswith(urn.lower() + ":"):
                return path[len(urn) + 1 :]
        return path

    # -- writes -----------------------------------------------------------------------------

    async def create(
        self, resource: dict[str, Any], *, dropped: list[Dangling] | None = None
    ) -> dict[str, Any]:
        """Create the object ``resource`` describes. References to objects that do not exist are
        refused or left out, as each declares (``on missing``); those left out are appended to
        ``dropped``."""
        obj = self.obj
        if obj.insert is None:
            raise MutabilityError(obj.name, f"{obj.name} resources cannot be created through this mapping")
        values = self.codec.values(resource, None)
        gone: list[Dangling] = [] if dropped is None else dropped
        await self._resolve_references(values, gone)
        members = await self._resolve_members(resource, gone)
        anchor = self._new_anchor(values)
        async with self._locks.hold(self._unique_locks(values)):
            await self._check_unique_in_cache(values, None)
            record = await self._write(partial(self._create_tx, values, anchor, members), self._put)
        return self.codec.render(record)

    def _new_anchor(self, values: dict[str, Any]) -> Any:
        """The anchor of a new object when the gateway chooses it (None: the database does)."""
        obj = self.obj
        if obj.anchor_generation == "uuid":
            return str(uuid.uuid4())
        if obj.anchor_generation == "attribute":
            slot = self._anchor_slot()
            value = values.get(slot.param) if slot is not None else None
            if value is None or value == "":
                raise InvalidValueError(obj.anchor_attribute or "", "is required (it is the object's anchor)")
            return anchor_key(value)
        return None

    def _anchor_slot(self) -> Any:
        return self.codec.by_path.get((self.obj.anchor_attribute or "").lower())

    def _create_tx(self, values: dict[str, Any], anchor: Any, members: list[Any] | None, tx: Tx) -> Record:
        obj = self.obj
        assert obj.insert is not None
        query_value = values.get(self.codec.query.param)
        if query_value is not None and tx.first(obj.by_query, {"value": query_value}) is not None:
            raise UniquenessError(self.codec.query.attr.path)
        revived = self._revive(tx, values, query_value)
        if revived is not None:  # a revived row's child rows are its old ones: replace them too
            anchor = revived
            rows = [tx.rows(m.load_for_anchor, {"anchor": anchor}) for m in obj.multi]
            current = self.codec.children_of(rows)
        else:
            anchor = self._insert(tx, values, anchor, query_value)
            current = tuple(() for _ in obj.multi)
        self._write_children(tx, anchor, current, members)
        record = fetch(tx, obj, self.codec, anchor)
        if record is None:  # the import query does not show the new row: do not keep it
            raise InvalidValueError("", f"the new object is not visible through the {obj.name} import query")
        return record

    def _insert(self, tx: Tx, values: dict[str, Any], anchor: Any, query_value: Any) -> Any:
        """Run the insert and return the new row's anchor."""
        obj = self.obj
        assert obj.insert is not None
        returned = tx.insert(self._inserts.for_values(values), {**values, "anchor": anchor})
        if obj.insert.returning in ("returning", "lastrowid"):
            anchor = anchor_key(returned)
        elif obj.insert.returning == "query":
            found = tx.first(obj.by_query, {"value": query_value})
            if found is None:
                raise InvalidValueError("", "the new object could not be found by its query attribute")
            anchor = anchor_key(found[self.codec.anchor_index])
        return anchor

    def _revive(self, tx: Tx, values: dict[str, Any], query_value: Any) -> Any:
        """Soft delete: when a deleted (tombstoned) row holds the new object's query attribute,
        revive it (clear the tombstone, write the new values, keep its anchor) and return its
        anchor; the caller then replaces its child rows with the new object's items, as a create
        states the whole object, or answer 409 under ``recreate conflict``. None: no deleted row, insert."""
        soft = self.obj.tombstone
        if soft is None or soft.find is None or query_value is None:
            return None
        found = tx.first(soft.find, {"value": query_value})
        if found is None:
            return None
        if soft.policy == "conflict" or self.obj.update is None:
            raise UniquenessError(self.codec.query.attr.path)
        anchor = anchor_key(found[0])
        if soft.revive is not None:
            tx.run(soft.revive, {"anchor": anchor})
        tx.run(self.obj.update, {**values, "anchor": anchor})
        return anchor

    async def replace(
        self,
        id: str,
        resource: dict[str, Any],
        *,
        if_match: str | None = None,
        dropped: list[Dangling] | None = None,
    ) -> dict[str, Any]:
        """Replace object ``id`` by ``resource`` (PUT, and PATCH after applying its operations).
        When no stored value would change, nothing is written: no statement runs, and the
        version (ETag) and ``meta.lastModified`` stay as they are."""
        obj = self.obj
        key = self.to_key(id)
        current = await self._record(id) if key is not None else None
        if current is None or key is None:
            raise NotFoundError(obj.name, id)
        values = self.codec.values(resource, current.row)
        self._check_immutable(values, current)
        gone: list[Dangling] = [] if dropped is None else dropped
        await self._resolve_references(values, gone)
        members = await self._resolve_members(resource, gone)
        if self._unchanged(resource, values, members, current):
            if if_match is not None and not etag_matches(if_match, current.version):
                raise PreconditionFailedError()
            return self.codec.render(current)
        locks: list[Hashable] = [("id", key), *self._unique_locks(values)]
        async with self._locks.hold(locks):
            await self._check_unique_in_cache(values, key)
            anchor = anchor_key(current.row[self.codec.anchor_index])
            try:
                record = await self._write(
                    partial(self._replace_tx, anchor, values, members, if_match, id), self._put
                )
            except NotFoundError:
                self._forget(key)
                raise
        return self.codec.render(record)

    def _replace_tx(
        self,
        anchor: Any,
        values: dict[str, Any],
        members: list[Any] | None,
        if_match: str | None,
        id: str,
        tx: Tx,
    ) -> Record:
        obj, codec = self.obj, self.codec
        fresh = fetch(tx, obj, codec, anchor)
        if fresh is None:
            raise NotFoundError(obj.name, id)
        if if_match is not None and not etag_matches(if_match, fresh.version):
            raise PreconditionFailedError()
        query = codec.query
        new_query = values.get(query.param)
        old_query = query.value(fresh.row)
        if new_query is not None and (
            old_query is None
            or fold(new_query, query.attr.case_exact) != fold(old_query, query.attr.case_exact)
        ):
            clash = tx.first(obj.by_query, {"value": new_query})
            if clash is not None and anchor_key(clash[codec.anchor_index]) != anchor_key(anchor):
                raise UniquenessError(query.attr.path)
        if obj.update is not None:
            params = {s.param: s.value(fresh.row) for s in codec.slots}  # unmapped params keep their value
            tx.run(obj.update, {**params, **values, "anchor": anchor})
        elif any(values.get(s.param) != s.value(fresh.row) for s in codec.slots if s.writable):
            raise MutabilityError(obj.name, f"{obj.name} resources cannot be modified through this mapping")
        self._maybe_disable(tx, anchor, values, fresh)
        self._write_children(tx, anchor, fresh.children, members)
        record = fetch(tx, obj, codec, anchor)
        if record is None:
            raise NotFoundError(obj.name, id)
        return record

    def _unchanged(
        self, resource: dict[str, Any], values: dict[str, Any], members: list[Any], current: Record
    ) -> bool:
        """Whether writing ``values`` and ``members`` would store exactly what ``current`` holds:
        each written attribute's value against the current column value read back the way a
        client's value is read (so ``1`` and ``true``, or two spellings of one instant, are the
        same), and each multi's items as a set. A write-only attribute (never read back) counts
        as a change whenever the resource gives it."""
        codec = self.codec
        for slot in codec.slots:
            if not slot.writable:
                continue
            if not slot.readable:
                if codec.read(slot, resource) not in (MISSING, None):
                    return False
                continue
            new, old = values.get(slot.param), slot.value(current.row)
            if slot.attr.reference is not None:
                if (None if old is None else anchor_key(old)) != new:
                    return False
            elif old is None or new is None:
                if old is not new:
                    return False
            else:
                try:
                    same = coerce(slot.attr, to_scim(slot.attr.type, old), self.database.dialect) == new
                except InvalidValueError:
                    same = False
                if not same:
                    return False
        children = current.children or tuple(() for _ in codec.multis)
        for multi_slot, have, want in zip(codec.multis, children, members, strict=True):
            if want is not None and {multi_slot.normal(i) for i in have} != set(want):
                return False
        return True

    def _maybe_disable(self, tx: Tx, anchor: Any, values: dict[str, Any], fresh: Record) -> None:
        rule = self.obj.disable
        slot = self.codec.by_path.get("active")
        if rule.action == "ignore" or rule.statement is None or slot is None or not slot.writable:
            return
        was = self.codec.scim(slot, slot.value(fresh.row))
        if was is not False and self.codec.scim(slot, values.get(slot.param)) is False:
            tx.run(rule.statement, {"anchor": anchor})

    async def delete(self, id: str, *, if_match: str | None = None) -> None:
        obj = self.obj
        key = self.to_key(id)
        current = await self._record(id) if key is not None else None
        if current is None or key is None:
            raise NotFoundError(obj.name, id)
        anchor = anchor_key(current.row[self.codec.anchor_index])
        async with self._locks.hold([("id", key)]):
            try:
                await self._write(
                    partial(self._delete_tx, anchor, if_match, id, self._memberships(key)),
                    lambda after: self._forget(key) if after is None else self._put(after),
                    key,
                )
            except NotFoundError:
                self._forget(key)
                raise

    def _memberships(self, key: Key) -> list[tuple[Statement, Any]]:
        """Soft delete: (remove statement, owner anchor) for each cached membership of ``key`` in
        the same database. A soft delete ends them as a hard delete's cascade would, so that a
        revived object comes back without its old groups."""
        if self.obj.tombstone is None or self.obj.deprovision_delete.action != "set":
            return []
        found = []
        for store, index in self.referrers:
            remove = store.obj.multi[index].remove
            if remove is None or store.database is not self.database:
                continue
            for record in store.cache.records():
                items = record.children[index] if index < len(record.children) else ()
                if any(anchor_key(i[0] if isinstance(i, tuple) else i) == key for i in items):
                    found.append((remove, record.row[store.codec.anchor_index]))
        return found

    def _delete_tx(
        self, anchor: Any, if_match: str | None, id: str, memberships: list[tuple[Statement, Any]], tx: Tx
    ) -> Record | None:
        obj = self.obj
        fresh = fetch(tx, obj, self.codec, anchor)
        if fresh is None:
            raise NotFoundError(obj.name, id)
        if if_match is not None and not etag_matches(if_match, fresh.version):
            raise PreconditionFailedError()
        rule = obj.deprovision_delete
        statement = rule.statement or (obj.delete if rule.action == "row" else None)
        if rule.action == "row" and statement is None:
            raise MutabilityError(obj.name, f"{obj.name} resources cannot be deleted through this mapping")
        if statement is not None:
            tx.run(statement, {"anchor": anchor})
        for remove, owner in memberships:
            tx.run(remove, {**dict.fromkeys(remove.params), "anchor": owner, "value": anchor})
        return fetch(tx, obj, self.codec, anchor)  # None once gone (or hidden by the import query)

    async def _write(self, fn: Callable[[Tx], T], apply: Callable[[T], None], key: Key | None = None) -> T:
        """Run a write transaction, then ``apply`` its result to the cache. Shielded: a request
        cancelled while its transaction runs must not leave the cache behind the database. The
        transaction notes the object it wrote (a record's anchor, else ``key`` as deleted) for
        the other gateway processes (:mod:`mapper.runtime.coherence`)."""

        def noted(tx: Tx) -> T:
            result = fn(tx)
            if isinstance(result, Record):
                tx.changed(self.name, self.codec.key(result), "upsert")
            elif key is not None:
                tx.changed(self.name, key, "delete")
            return result

        with anyio.CancelScope(shield=True):
            try:
                result = await self.database.run(noted, write=True)
            except exc.IntegrityError as e:
                raise self._integrity_error(e) from None
            except exc.DataError as e:
                raise self._data_error(e) from None
            apply(result)
        return result

    def _put(self, record: Record) -> None:
        self._learn(record)
        self.cache.put(record)

    def _forget(self, key: Key) -> None:
        self.cache.remove(key)
        for store, index in self.referrers:
            store.forget_member(index, key)

    def forget_member(self, index: int, value: Key) -> None:
        """Drop ``value`` from multi-valued attribute ``index`` of every cached object (the
        database cascaded the delete of the referenced object)."""
        for record in self.cache.records():
            items = record.children[index] if index < len(record.children) else ()
            kept = tuple(i for i in items if anchor_key(i if not isinstance(i, tuple) else i[0]) != value)
            if len(kept) != len(items):
                children = record.children[:index] + (kept,) + record.children[index + 1 :]
                self.cache.put(Record(record.row, children))

    # -- write helpers ----------------------------------------------------------------------

    def _unique_locks(self, values: dict[str, Any]) -> list[Hashable]:
        keys: list[Hashable] = []
        for slot in (self.codec.query, *self.codec.unique):
            value = values.get(slot.param)
            if value is not None:
                keys.append(("unique", slot.attr.path, fold(value, slot.attr.case_exact)))
        return keys

    async def _check_unique_in_cache(self, values: dict[str, Any], own: Key | None) -> None:
        """Refuse a value another cached object holds -- after confirming in the database that it
        still does (a stale cache must not refuse a name whose owner is gone). The transaction
        checks the query attribute in the database again, and unique constraints back both."""
        for slot in (self.codec.query, *self.codec.unique):
            value = values.get(slot.param)
            if value is None:
                continue
            folded = fold(value, slot.attr.case_exact)
            holder = self.cache.find(slot.attr.path, folded)
            if holder is None or holder == own:
                continue
            fresh = await self.database.run(partial(fetch, obj=self.obj, codec=self.codec, anchor=holder))
            if fresh is None:
                self._forget(holder)
            else:
                self.cache.put(fresh)
                current = slot.value(fresh.row)
                if current is not None and fold(current, slot.attr.case_exact) == folded:
                    raise UniquenessError(slot.attr.path)

    def _check_immutable(self, values: dict[str, Any], current: Record) -> None:
        """Immutable attributes keep their value; so does the attribute an anchor is taken from
        (changing it would change the resource's id)."""
        if self.obj.anchor_generation == "attribute":
            slot = self._anchor_slot()
            if (
                slot is not None
                and slot.writable
                and str(values.get(slot.param)) != str(slot.value(current.row))
            ):
                raise MutabilityError(
                    slot.attr.path, f"{slot.attr.path} cannot change: it is the resource's id"
                )
        for slot in self.codec.slots:
            if slot.attr.mutability != "immutable" or not slot.writable:
                continue
            old = slot.value(current.row)
            new = values.get(slot.param)
            if old is not None and (new is None or str(new) != str(old)):
                raise MutabilityError(slot.attr.path)

    async def _resolve_references(self, values: dict[str, Any], dropped: list[Dangling]) -> None:
        """Replace reference ids (``manager.value``) by the referenced anchors. An id that names
        no object is refused (``on missing reject``) or left out (``drop``: the column is NULL)."""
        for slot in self.codec.slots:
            attr = slot.attr
            value = values.get(slot.param)
            if not slot.writable or attr.reference is None or value is None:
                continue
            target = self.resolver(attr.reference)
            if target is None:
                continue
            record = await target.get_record(str(value))
            if record is None:
                self._dangling(attr.path, str(value), attr.on_missing, dropped)
                values[slot.param] = None
                continue
            values[slot.param] = target.codec.key(record)

    async def _resolve_members(self, resource: dict[str, Any], dropped: list[Dangling]) -> list[Any]:
        """Per multi, the :data:`~mapper.runtime.codec.Item` s a full-state resource asks for
        (references resolved to anchors, or refused or left out as ``on missing`` says); None for
        a multi the mapping cannot write (its items must then stay as they are)."""
        out: list[Any] = []
        for multi_slot in self.codec.multis:
            multi = multi_slot.multi
            items = self.codec.items(multi_slot, resource)
            if multi.add is None and multi.remove is None:
                out.append(None)
                continue
            target = self.resolver(multi.reference) if multi.reference else None
            wanted: list[Any] = []
            for value, subs in items:
                if target is None:
                    wanted.append((anchor_key(value), *subs))
                    continue
                record = await target.get_record(value)
                if record is None:
                    self._dangling(f"{multi.attribute}.value", value, multi.on_missing, dropped)
                    continue
                wanted.append((target.codec.key(record), *subs))
            out.append(wanted)
        return out

    def _dangling(self, path: str, id: str, policy: str, dropped: list[Dangling]) -> None:
        """A reference to ``id``, which names no object: refused, or counted, logged and left out."""
        if policy == "reject":
            raise MissingReferenceError(path, id)
        self.dangling_dropped += 1
        dropped.append(Dangling(path, id))
        log.warning("%s: %s %r names no object; left out (on missing drop)", self.name, path, id)

    def _write_children(self, tx: Tx, anchor: Any, current: Any, desired: list[Any] | None) -> None:
        """Bring each multi's child rows from ``current`` (a record's children) to ``desired``
        (items from :meth:`_resolve_members`), binding every sub-attribute the table keeps.

        A ``remove`` matches rows by what it binds (``:value``, or ``:value`` and ``:type``...),
        so it can take away rows that are still wanted (the same address kept under another
        type): those are added again. An item whose ``primary`` or ``display`` changes is
        removed and added."""
        if desired is None:
            return
        for multi_slot, have_items, want in zip(self.codec.multis, current, desired, strict=True):
            if want is None:
                continue
            multi = multi_slot.multi
            names = ("value", *multi_slot.extra)
            have = list(dict.fromkeys(multi_slot.normal(i) for i in have_items))
            wanted = list(dict.fromkeys(want))
            stale = [h for h in have if h not in wanted]
            if not stale and len(have) == len(wanted):
                continue
            bound = [i for i, n in enumerate(names) if multi.remove is not None and n in multi.remove.params]
            removed = list(dict.fromkeys(tuple(h[i] for i in bound) for h in stale))
            gone = {h for h in have if tuple(h[i] for i in bound) in removed}
            adds = [w for w in wanted if w not in have or w in gone]
            if (adds and multi.add is None) or (removed and multi.remove is None):
                raise MutabilityError(multi.attribute)
            for key in removed:
                assert multi.remove is not None
                params = {names[i]: v for i, v in zip(bound, key, strict=True)}
                tx.run(multi.remove, {"anchor": anchor, **params})
            for item in adds:
                assert multi.add is not None
                tx.run(multi.add, {"anchor": anchor, **dict(zip(names, item, strict=True))})

    def _data_error(self, error: exc.DataError) -> Exception:
        """A value the column cannot hold (too long, out of range): the client's fault."""
        for slot in self.codec.slots:
            if slot.writable and integrity_mentions(error, slot.param):
                return InvalidValueError(slot.attr.path, "does not fit the database column")
        for multi in self.obj.multi:
            for column, sub in zip(multi.columns[1:], ("value", *multi.sub_attributes), strict=False):
                if integrity_mentions(error, column):
                    return InvalidValueError(f"{multi.attribute}.{sub}", "does not fit the database column")
        return InvalidValueError("", "a value does not fit its database column")

    def _integrity_error(self, error: exc.IntegrityError) -> Exception:
        kind = integrity_kind(error)
        if kind == "unique":
            for slot in self.codec.unique:
                if integrity_mentions(error, slot.param):
                    return UniquenessError(slot.attr.path)
            return UniquenessError(self.codec.query.attr.path)
        if kind == "foreign_key":  # a referenced object vanished after we checked it
            for slot in self.codec.slots:
                if slot.attr.reference and integrity_mentions(error, slot.param):
                    return MissingReferenceError(slot.attr.path, None)
            if self.obj.multi:
                return MissingReferenceError(f"{self.obj.multi[0].attribute}.value", None)
            return MissingReferenceError(self.obj.name, None)
        if kind == "not_null":
            for slot in self.codec.slots:
                if slot.writable and integrity_mentions(error, slot.param):
                    return InvalidValueError(slot.attr.path, "is required by the database")
            return InvalidValueError("", "a value required by the database is missing")
        return InvalidValueError("", "the database rejected the values")

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
            try:
                result = await self.database.run(
                    partial(
                        import_all,
                        obj=self.obj,
                        codec=self.codec,
                        old=self.cache.state,
                        page_size=self.page_size,
                        progress_every=self.progress_every,
                        on_page=self._imported,
                    ),
                    snapshot=True,  # members and objects from one consistent state
                )
            except exc.DBAPIError as e:
                self.cache.end_tracking()
                raise _sync_error(self.name, e) from e
            except BaseException:
                self.cache.end_tracking()
                raise
            finally:
                self.importing = False
            self.cache.swap(result.state)
            self._mark.reset(result.mark, started)
            self._loaded = True
            if result.state.records:
                self._learn(next(iter(result.state.records.values())))
            log.info(
                "%s: full import of %d rows (%d added, %d changed, %d removed)",
                self.name,
                result.stats.rows,
                result.stats.added,
                result.stats.changed,
                result.stats.removed,
            )
            return result.stats

    def _imported(self, rows: int) -> None:
        self.imported = rows  # from the import's worker thread: one attribute, read by /readyz

    async def sync_delta(self) -> SyncStats:
        """Apply the changes since the last sync; a full import when there is no starting point."""
        if self.obj.delta.kind == "none" or self.obj.delta.query is None:
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
            try:
                delta = await self.database.run(
                    partial(
                        import_delta,
                        obj=self.obj,
                        codec=self.codec,
                        old=self.cache.state,
                        mark=self._mark.value,
                        since=since,
                        scan=scan,
                        page_size=self.page_size,
                    ),
                    snapshot=True,
                )
            except exc.DBAPIError as e:
                self.cache.end_tracking()
                raise _sync_error(self.name, e) from e
            except BaseException:
                self.cache.end_tracking()
                raise
            stats = SyncStats()
            if delta.present is not None:  # deleted behind our back (tracked writes win in apply)
                present = delta.present
                delta.deletes.extend(key for key in self.cache.state.records if key not in present)
            try:  # in slices, so a large delta never holds the event loop for long
                for start in range(0, max(len(delta.records), len(delta.deletes)), APPLY_SLICE):
                    self.cache.apply(
                        delta.records[start : start + APPLY_SLICE],
                        delta.deletes[start : start + APPLY_SLICE],
                        stats,
                    )
                    await anyio.sleep(0)
            finally:
                self.cache.end_tracking()
            for key in delta.deletes:
                for store, index in self.referrers:
                    store.forget_member(index, key)
            self._mark.done(delta.mark, started, rewound)
            if stats.added or stats.changed or stats.removed:
                log.info(
                    "%s: delta %d added, %d changed, %d removed",
                    self.name,
                    stats.added,
                    stats.changed,
                    stats.removed,
                )
            return stats


def _sync_error(name: str, error: exc.DBAPIError) -> SyncError:
    message = str(error.orig or error).strip().splitlines()
    return SyncError(name, message[0] if message else type(error.orig or error).__name__)
