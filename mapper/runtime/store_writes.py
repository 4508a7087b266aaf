"""An object type's writes: create, replace (PUT and PATCH), delete, each one transaction in a
group-commit batch, the cache changed only after the commit.

A create or a replace runs in four phases: the codec encodes the resource (:meth:`Codec.change`),
the checks run (:meth:`StoreChecks._checked`), then the transaction and last the cache takes the
result. A replace's or a delete's transaction is an :class:`~mapper.runtime.tx.ObjectWrite`: the
transaction reads the object, the write's decision (:mod:`mapper.runtime.decisions`, a pure
function of what was read) says what to send, and the transaction sends it and reads the object
back."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import exc

from mapper.plan import PlanMulti
from mapper.runtime.database import Tx
from mapper.runtime.decisions import (
    Creation,
    Deletion,
    ObjectWrite,
    Referring,
    Replacement,
    child_writes,
    unclaimed,
)
from mapper.runtime.errors import (
    DatabaseUnavailableError,
    InvalidValueError,
    MissingReferenceError,
    MutabilityError,
    NotFoundError,
    PreconditionFailedError,
    UniquenessError,
)
from mapper.runtime.keys import Key, anchor_key, random_id
from mapper.runtime.record import Record, Row
from mapper.runtime.rows import ObjectRead, RowForm
from mapper.runtime.shields import shielded
from mapper.runtime.store_base import Dangling
from mapper.runtime.store_checks import StoreChecks

if TYPE_CHECKING:
    from mapper.runtime.store import ObjectStore

T = TypeVar("T")


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
        for last_try in (False, True):
            found: list[Dangling] = []
            change = self.codec.change(resource, None)
            members = await self._checked(change, None, found)
            anchor = self._new_anchor(change.values)
            try:
                async with self._locked(change.values, None):
                    record = await self._write(
                        self._creation(change.values, anchor, members), self._put_written
                    )
            except MissingReferenceError as error:
                if last_try or not await self._references_vanished(error, resource, None):
                    raise
                continue
            if dropped is not None:
                dropped.extend(found)
            return self.codec.render(record)
        raise AssertionError("unreachable: the last try returns or raises")

    def _creation(
        self, values: dict[str, Any], anchor: Any, members: list[Any] | None
    ) -> Callable[[Tx], Record]:
        """The create's job: a :class:`Creation` (its checks and insert as data, which may go with
        the write before it in the batch) when its insert depends on nothing the transaction
        reads; else :meth:`_create_tx` (a deleted row it may revive, a new anchor found by the
        query attribute)."""
        obj = self.obj
        assert obj.insert is not None
        soft = obj.tombstone
        query_value = values.get(self.codec.query.param)
        may_revive = soft is not None and soft.find is not None and query_value is not None
        if may_revive or obj.insert.returning == "query":
            return partial(self._create_tx, values, anchor, members)
        empty = tuple(() for _ in obj.multi)
        creation = Creation(
            unclaimed(self.codec, values, None),
            (self._inserts.for_values(values), {**values, "anchor": anchor}),
            obj.insert.returning in ("returning", "lastrowid"),
            anchor,
            self.codec.anchor_index,
            partial(self._created, empty, members),
        )
        return partial(Tx.create, creation=creation)

    def _new_anchor(self, values: dict[str, Any]) -> Any:
        """The anchor of a new object when the gateway chooses it (None: the database does)."""
        obj = self.obj
        if obj.anchor_generation == "uuid":
            return str(uuid.uuid4())
        if obj.anchor_generation == "random":
            return random_id()
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
        tx.refuse_held(unclaimed(self.codec, values, None), self.codec.anchor_index)
        revived = self._revive(tx, values, query_value)
        if revived is not None:  # a revived row's child rows are its old ones: replace them too
            anchor = revived
            rows = [tx.rows(m.load_for_anchor, {"anchor": anchor}) for m in obj.multi]
            current = RowForm.of(self.codec).children(rows)
        else:
            anchor = self._insert(tx, values, anchor, query_value)
            current = tuple(() for _ in obj.multi)
        return self._created(current, members, tx, anchor)

    def _created(self, current: Any, members: list[Any] | None, tx: Tx, anchor: Any) -> Record:
        """A create's last statements, once its row is there (``anchor``): its child rows, from
        ``current`` (a revived row's) to ``members``, then the object read back."""
        obj = self.obj
        for statement, params in child_writes(self.codec, anchor, current, members):
            tx.send(statement, params)
        record = tx.read_back(ObjectRead.of(obj, self.codec, anchor))
        if record is None:  # the import query does not show the new row: do not keep it
            raise InvalidValueError("", f"the new object is not visible through the {obj.name} import query")
        tx.changed(self.name, self.codec.key(record), "upsert")  # for the other processes
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
        update = self._revivals.for_values(values)
        assert update is not None
        tx.send(update, {**values, "anchor": anchor})
        return anchor

    async def replace(
        self,
        id: str,
        resource: dict[str, Any],
        *,
        if_match: str | None = None,
        expected: Record | None = None,
        dropped: list[Dangling] | None = None,
    ) -> dict[str, Any]:
        """Replace object ``id`` by ``resource`` (PUT, and PATCH after applying its operations).
        ``if_match``: an If-Match header's value the object's version must match (else
        :class:`PreconditionFailedError`); ``expected``: a record whose version it must hold, as
        an If-Match naming that version would require (a PATCH applied to the cached record:
        :meth:`Record.holds`, which seldom needs either version worked out).
        When no stored value would change, nothing is written: no statement runs, and the
        version (ETag) and ``meta.lastModified`` stay as they are. "No change" is the database's
        word, not the cache's: the cached copy may lag an application's ``UPDATE`` or another
        process's write, and a write skipped on its word would answer what the database does not
        hold. So when the cached copy says nothing changes, the object is read again from the
        database (:meth:`_reload`, which the cache takes too) and the write is decided against
        that; a write that changes the cached copy is sent, and its transaction reads the row
        it writes."""
        obj = self.obj
        current = await self._current(id)
        confirmed = False  # whether ``current`` was read from the database for this write
        last_try = False
        while True:
            found: list[Dangling] = []
            change = self.codec.change(resource, current.row)
            anchor = self.codec.key(current)  # the row the transaction writes
            members = await self._checked(change, current, found)
            if self._unchanged(change, members, current):
                if not confirmed:
                    confirmed = True
                    fresh = await self._reload(anchor, forget=True)
                    if fresh is None:
                        raise NotFoundError(obj.name, id)
                    if not fresh.same(current):  # the cache lagged: decide against the database's
                        current = fresh
                        continue
                if if_match is not None and not current.matches(if_match):
                    raise PreconditionFailedError()
                if expected is not None and not current.holds(expected):
                    raise PreconditionFailedError()
                record = current
                break
            try:
                async with self._locked(change.values, anchor):
                    try:
                        read = ObjectRead.of(obj, self.codec, anchor, locked=True)
                        decision = Replacement(obj, self.codec, anchor, change, members, self._updates)
                        gone = partial(NotFoundError, obj.name, id)
                        write = ObjectWrite(self.name, read, decision, gone, if_match, expected=expected)
                        settle = partial(self._settle, anchor)
                        written = await self._write(
                            partial(Tx.write, write=write), settle, key=anchor, current=current.row
                        )
                    except NotFoundError:
                        self._forget(anchor)
                        raise
            except MissingReferenceError as error:
                if last_try or not await self._references_vanished(error, resource, current.row):
                    raise
                last_try = True
                continue
            assert written is not None  # the write raised NotFoundError otherwise
            record = written
            break
        if dropped is not None:
            dropped.extend(found)
        return self.codec.render(record)

    async def delete(self, id: str, *, if_match: str | None = None) -> None:
        obj = self.obj
        anchor = self.codec.key(await self._current(id))
        referring = self._referring(anchor)
        async with self._locks.hold([("id", anchor)]):
            try:
                read = ObjectRead.of(obj, self.codec, anchor, locked=True)
                decision = Deletion(obj, anchor, self._memberships(), [r for _, r in referring], self.codec)
                gone = partial(NotFoundError, obj.name, id)
                write = ObjectWrite(self.name, read, decision, gone, if_match, deletes=True)
                settle = partial(self._settle, anchor)
                await self._write(partial(Tx.write, write=write), settle, deleting=True, key=anchor)
            except NotFoundError:
                self._forget(anchor)
                raise
            except DatabaseUnavailableError:  # in doubt: and so, if it committed, are its cascades
                self._doubt_referring(anchor, referring)
                raise
        await self._reread_referring(anchor, referring)

    def _referring(self, anchor: Key) -> list[tuple[ObjectStore, Referring]]:
        """The look-ups of the objects whose single-valued reference names object ``anchor``
        (``enterprise.manager``), for a delete that removes its row: the database's ``ON DELETE
        SET NULL`` or ``CASCADE`` changes them as it goes (:class:`Referring`)."""
        if not self.referring or self.obj.deprovision_delete.action != "row":
            return []
        return [
            (r.store, Referring(r.store.name, r.lookup, {"value": anchor}, r.store.codec.anchor_index))
            for r in self.referring
        ]

    def _doubt_referring(self, anchor: Key, referring: list[tuple[ObjectStore, Referring]]) -> None:
        """A delete whose outcome is unknown (its COMMIT may have reached the database and its
        answer been lost): the objects its transaction found naming the deleted one are left in
        doubt beside it, read again before they are served by id or written, since the database's
        ``ON DELETE`` rule changed them in the same commit if it landed. The look-up runs before
        the row goes, so a delete that reached its COMMIT has found them."""
        for store, named in self._named(anchor, referring):
            store.in_doubt.update(named)

    async def _reread_referring(self, anchor: Key, referring: list[tuple[ObjectStore, Referring]]) -> None:
        """After a delete committed: read again the objects that named it, so that a report's
        manager does not outlive the manager's row in the cache. The delete stands whatever this
        read meets; objects it cannot read now are left in doubt (read again before they are
        served by id or written)."""
        for store, named in self._named(anchor, referring):
            await store.reread_or_doubt(named)

    def _named(
        self, anchor: Key, referring: list[tuple[ObjectStore, Referring]]
    ) -> list[tuple[ObjectStore, list[Key]]]:
        """The keys each store's look-up found naming object ``anchor``, but that object."""
        named = []
        for store, found in referring:
            keys = dict.fromkeys(map(anchor_key, found.found))
            if store is self:
                keys.pop(anchor, None)  # a user who is their own manager: not the deleted one
            named.append((store, list(keys)))
        return named

    async def _current(self, id: str) -> Record:
        """The object ``id`` names, as a write finds it (404 when there is none). A write then
        goes by the object's own key, not the id's: the database may equate an id with a
        key it is not (PostgreSQL and MariaDB find a ``CHAR`` anchor 'B001' by 'B001 ')."""
        if self.in_doubt:  # never decide from a copy the database may not hold
            key = self.to_key(id)
            if key is not None:
                await self.settle_doubt(key)
        record = await self.get_record(id)  # None too for an id no object can have
        if record is None:
            raise NotFoundError(self.obj.name, id)
        return record

    def _memberships(self) -> list[PlanMulti]:
        """The multis in this object's database that hold objects of its type, whose rows naming
        the deleted object a delete ends (:class:`Deletion`): a soft delete's, as a hard delete's
        cascade would, so that a revived object comes back without its old groups; and a hard
        delete's derived from ``write table`` (``ends_items``), so that a schema without ``ON
        DELETE CASCADE`` keeps no orphan membership and refuses no delete. A multi without a remove
        is left to the database."""
        rule = self.obj.deprovision_delete
        soft = self.obj.tombstone is not None and rule.action == "set"
        if not soft and not rule.ends_items:
            return []
        found = []
        for store, index in self.referrers:
            multi = store.obj.multi[index]
            if multi.remove is not None and store.database is self.database:
                found.append(multi)
        return found

    async def _write(
        self,
        job: Callable[[Tx], T],
        apply: Callable[[T], None],
        deleting: bool = False,
        key: Key | None = None,
        current: Row | None = None,
    ) -> T:
        """Run a write transaction, then ``apply`` its result to the cache. Shielded: a request
        cancelled while its transaction runs must not leave the cache behind the database. The
        transaction notes the object it wrote for the other gateway processes
        (:mod:`mapper.runtime.coherence`). A write that fails as an outage is in doubt (its
        COMMIT may have reached the database and its answer been lost): the object it wrote
        (``key``) is read again once the database answers (:attr:`in_doubt`). ``current``: the row
        a replace starts from, which tells which bound values it changes when one does not fit."""
        with shielded():  # a CancelScope(shield=True) where a cancel scope is active, else nothing
            # a member deleted meanwhile may still be in what it reads back (see _marks; written
            # out: a write of an object without references costs no call)
            marks = [target.forgets for _, target in self.targets] if self.targets else []
            try:
                result = await self.database.run(job, write=True)
            except DatabaseUnavailableError:
                if key is not None:
                    self.in_doubt.add(key)
                raise
            except exc.IntegrityError as e:
                raise self._integrity_error(e, deleting) from None
            except exc.DataError as e:
                raise self._data_error(e, current) from None
            if marks and isinstance(result, Record):
                result = self._unforgotten(result, marks)  # type: ignore[assignment]
            apply(result)
        return result
