"""An object type's writes: create, replace (PUT and PATCH), delete, each one transaction in a
group-commit batch, the cache changed only after the commit.

A create or a replace runs in four phases: the codec encodes the resource (:meth:`Codec.change`),
the checks run (:meth:`StoreChecks._checked`), then the transaction (the object read again, its
statements decided and sent, the object read back) and last the cache takes the result."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import anyio
from sqlalchemy import exc

from mapper.plan import Statement
from mapper.runtime.codec import Change
from mapper.runtime.database import Tx
from mapper.runtime.errors import (
    InvalidValueError,
    MutabilityError,
    NotFoundError,
    PreconditionFailedError,
    UniquenessError,
)
from mapper.runtime.keys import Key, anchor_key, fold
from mapper.runtime.loading import fetch
from mapper.runtime.record import Record
from mapper.runtime.rows import RowForm
from mapper.runtime.store_base import Dangling
from mapper.runtime.store_checks import StoreChecks

T = TypeVar("T")

#: a statement a write sends, with its parameters
Write = tuple[Statement, dict[str, Any]]


def etag_matches(if_match: str, version: str) -> bool:
    """If-Match against our weak ETag: ``*``, or any listed tag equal up to the ``W/`` prefix."""
    if if_match.strip() == "*":
        return True
    ours = version.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == ours for tag in if_match.split(","))


class StoreWrites(StoreChecks):
    """An object type's writes: create, replace, delete."""

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
        change = self.codec.change(resource, None)
        members = await self._checked(change, None, [] if dropped is None else dropped)
        anchor = self._new_anchor(change.values)
        async with self._claimed(change.values, None):
            record = await self._write(partial(self._create_tx, change.values, anchor, members), self._put)
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
            current = RowForm.of(self.codec).children(rows)
        else:
            anchor = self._insert(tx, values, anchor, query_value)
            current = tuple(() for _ in obj.multi)
        for statement, params in self._child_writes(anchor, current, members):
            tx.send(statement, params)
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
            tx.send(soft.revive, {"anchor": anchor})
        tx.send(self.obj.update, {**values, "anchor": anchor})
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
        current = await self.get_record(id) if key is not None else None
        if current is None or key is None:
            raise NotFoundError(obj.name, id)
        change = self.codec.change(resource, current.row)
        anchor = self.codec.key(current)  # the row the transaction writes
        members = await self._checked(change, current, [] if dropped is None else dropped)
        if self._unchanged(change, members, current):
            if if_match is not None and not etag_matches(if_match, current.version):
                raise PreconditionFailedError()
            return self.codec.render(current)
        async with self._claimed(change.values, key):
            try:
                record = await self._write(
                    partial(self._replace_tx, anchor, change, members, if_match, id), self._put
                )
            except NotFoundError:
                self._forget(key)
                raise
        return self.codec.render(record)

    def _replace_tx(
        self,
        anchor: Any,
        change: Change,
        members: list[Any] | None,
        if_match: str | None,
        id: str,
        tx: Tx,
    ) -> Record:
        """The object read again, its If-Match and query attribute checked against what the
        database holds, its statements sent (:meth:`_replace_writes`), and the object read back."""
        obj, codec = self.obj, self.codec
        values = change.values
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
        for statement, params in self._replace_writes(anchor, change, members, fresh):
            tx.send(statement, params)  # sent with the read back, where statements pipeline
        record = fetch(tx, obj, codec, anchor)
        if record is None:
            raise NotFoundError(obj.name, id)
        return record

    def _replace_writes(
        self, anchor: Any, change: Change, members: list[Any] | None, fresh: Record
    ) -> list[Write]:
        """The statements of a replace of ``fresh`` (the object as the transaction read it), in
        the order they run: the update, the disable rule when ``active`` turns false, and the
        child rows' removes and adds."""
        obj, codec, values = self.obj, self.codec, change.values
        writes: list[Write] = []
        if obj.update is not None:
            params = {s.param: s.value(fresh.row) for s in codec.slots}  # unmapped params keep their value
            writes.append((obj.update, {**params, **values, "anchor": anchor}))
        elif any(values.get(s.param) != s.value(fresh.row) for s in codec.slots if s.writable):
            raise MutabilityError(obj.name, f"{obj.name} resources cannot be modified through this mapping")
        rule = obj.disable
        slot = codec.active
        if (
            change.deactivates
            and rule.action != "ignore"
            and rule.statement is not None
            and slot is not None
            and codec.scim(slot, slot.value(fresh.row)) is not False
        ):
            writes.append((rule.statement, {"anchor": anchor}))
        writes += self._child_writes(anchor, fresh.children, members)
        return writes

    def _child_writes(self, anchor: Any, current: Any, desired: list[Any] | None) -> list[Write]:
        """The statements that bring each multi's child rows from ``current`` (a record's
        children) to ``desired`` (items from :meth:`_resolve_members`): each multi's removes, then
        its adds (:meth:`MultiSlot.diff`)."""
        writes: list[Write] = []
        if desired is None:
            return writes
        for multi_slot, have, want in zip(self.codec.multis, current, desired, strict=True):
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

    async def delete(self, id: str, *, if_match: str | None = None) -> None:
        obj = self.obj
        key = self.to_key(id)
        current = await self.get_record(id) if key is not None else None
        if current is None or key is None:
            raise NotFoundError(obj.name, id)
        anchor = self.codec.key(current)
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
            tx.send(statement, {"anchor": anchor})
        for remove, owner in memberships:
            tx.send(remove, {**dict.fromkeys(remove.params), "anchor": owner, "value": anchor})
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
