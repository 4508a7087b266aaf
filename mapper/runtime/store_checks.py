"""The checks every write of an object type passes before its transaction, as one phase
(:meth:`StoreChecks._checked`): immutable attributes kept, references and members resolved to
anchors, then whether anything changes at all (:meth:`StoreChecks._unchanged`); the locks a write
holds (:meth:`StoreChecks._locked`); and the database's refusals turned into SCIM errors."""

from __future__ import annotations

import logging
from collections.abc import Hashable
from typing import Any

from sqlalchemy import exc

from mapper.plan import Statement
from mapper.runtime.blame import Blamed, blame, unexplained_key
from mapper.runtime.codec import Change
from mapper.runtime.database import integrity_kind, refused_by_rule
from mapper.runtime.driver_errors import refuses_characters
from mapper.runtime.errors import (
    InvalidValueError,
    MissingReferenceError,
    MutabilityError,
    SqlRefusedError,
    StillReferencedError,
    UniquenessError,
)
from mapper.runtime.keys import Key, anchor_key
from mapper.runtime.locks import Hold
from mapper.runtime.record import Record, Row
from mapper.runtime.rendering import to_scim
from mapper.runtime.store_base import Dangling
from mapper.runtime.store_reads import StoreReads
from mapper.runtime.values import canonical, coerce

log = logging.getLogger(__name__)

#: the reason a unique key's refusal that no value the client sent explains is given
#: (:func:`~mapper.runtime.blame.unexplained_key`): 503, as the database refusing the mapping's SQL
KEY_BROKEN = (
    "the mapping's own SQL writes a value a unique key of the database already holds"
    " (a create set constant, a procedure's or a write block's own value?)"
)

#: the reason a foreign key's refusal that no value the client sent explains is given: 503 too
#: (OrangeHRM's ``create set user_role_id = 99`` with no role 99 failed every create with 400)
KEY_DANGLING = (
    "the mapping's own SQL writes a value a foreign key of the database finds no row for"
    " (a create set constant, a procedure's or a write block's own value?)"
)


class StoreChecks(StoreReads):
    """What every write checks and resolves before its transaction."""

    # -- before the transaction -------------------------------------------------------------

    async def _checked(self, change: Change, current: Record | None, dropped: list[Dangling]) -> list[Any]:
        """The checks of a create (``current`` None) or a replace of ``current``, in one phase:
        immutable attributes keep their value, references (``manager.value``) are resolved to
        anchors in ``change.values``, and so are each multi's items; a reference to no object is
        refused or left out (appended to ``dropped``) as it declares (``on missing``). Returns
        the items each multi is to hold (None: a multi the mapping cannot write)."""
        if current is not None:
            self._check_immutable(change.values, current)
        await self._resolve_references(change.values, dropped)
        return await self._resolve_members(change, dropped)

    def _anchor_slot(self) -> Any:
        return self.codec.by_path.get((self.obj.anchor_attribute or "").lower())

    def _locked(self, values: dict[str, Any], key: Key | None) -> Hold:
        """A write's locks, held with ``async with``: the object's id, unless it is new, and each
        unique value it writes (the query attribute's and every unique one's), so that two writes
        of this process taking one value run one after the other (the hold itself is returned, not
        a generator's context manager around it: a frame and a generator less per write). Whether
        another object holds a value is asked of the database, in the write's transaction
        (:func:`~mapper.runtime.decisions.unclaimed`), and unique constraints back that."""
        locks: list[Hashable] = [] if key is None else [("id", key)]
        for slot in (self.codec.query, *self.codec.unique):
            value = values.get(slot.param)
            if value is not None and value != slot.null:
                locks.append(("unique", slot.path, self.codec.fold(value, slot.case_exact)))
        return self._locks.hold(locks)

    def _check_immutable(self, values: dict[str, Any], current: Record) -> None:
        """Immutable attributes keep their value; so does the attribute an anchor is taken from
        (changing it would change the resource's id)."""
        by_attribute = self.obj.anchor_generation == "attribute"
        if not by_attribute and not self.codec.immutable:
            return  # nothing to compare: the row is not rebuilt
        row = current.row  # a record rebuilds its row tuple on every read of ``row``
        if by_attribute:
            slot = self._anchor_slot()
            if slot is not None and slot.writable and str(values.get(slot.param)) != str(slot.value(row)):
                raise MutabilityError(
                    slot.attr.path, f"{slot.attr.path} cannot change: it is the resource's id"
                )
        for slot in self.codec.immutable:
            old = slot.value(row)
            new = values.get(slot.param)
            if old is None or old == slot.null:  # no value yet (``null ""``): any may be given
                continue
            if new is None or new == slot.null or str(new) != str(old):
                raise MutabilityError(slot.attr.path)

    async def _resolve_references(self, values: dict[str, Any], dropped: list[Dangling]) -> None:
        """Replace reference ids (``manager.value``) by the referenced anchors. An id that names
        no object is refused (``on missing reject``) or left out (``drop``: the column is NULL)."""
        for slot in self.codec.references:
            attr = slot.attr
            value = values.get(slot.param)
            if value is None:
                continue
            assert attr.reference is not None  # a reference slot's
            target = self.resolver(attr.reference)
            if target is None:
                continue
            record = await target.get_record(str(value))
            if record is None:
                self._dangling(attr.path, str(value), attr.on_missing, dropped)
                values[slot.param] = None
                continue
            values[slot.param] = target.codec.key(record)

    async def _resolve_members(self, change: Change, dropped: list[Dangling]) -> list[Any]:
        """Per multi, the :data:`~mapper.runtime.codec.Item` s a full-state resource asks for
        (references resolved to anchors, or refused or left out as ``on missing`` says); None for
        a multi the mapping cannot write (its items must then stay as they are)."""
        out: list[Any] = []
        for multi_slot, items in zip(self.codec.multis, change.items, strict=True):
            if not multi_slot.writable:  # neither an add nor a remove statement
                out.append(None)
                continue
            multi = multi_slot.multi
            target = self.resolver(multi_slot.reference) if multi_slot.reference else None
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

    async def _references_vanished(
        self, error: MissingReferenceError, resource: dict[str, Any], row: Any
    ) -> bool:
        """After the database refused a write of ``resource`` for a reference to a row it does
        not hold (``error``, which cannot say which one): whether an object the resource refers
        to, which the checks found cached, is gone. Another process or application deleted it
        between the checks and the write. The referenced objects are read again, so the cache
        forgets the gone ones; a second try then treats them as any id that names no object
        (left out under ``on missing drop``, refused by id under ``reject``), not as a 400 for
        some value the database refused."""
        if error.value is not None:  # the checks named it: nothing vanished behind them
            return False
        change = self.codec.change(resource, row)
        referenced: dict[str, tuple[Any, list[Key]]] = {}

        def note(target_name: str, id: object) -> None:
            target = self.resolver(target_name)
            key = target.to_key(str(id)) if target is not None else None
            if target is not None and key is not None and target.cache.get(key) is not None:
                referenced.setdefault(target_name, (target, []))[1].append(key)

        for slot in self.codec.slots:
            value = change.values.get(slot.param)
            if slot.writable and slot.attr.reference is not None and value is not None:
                note(slot.attr.reference, value)
        for multi_slot, items in zip(self.codec.multis, change.items, strict=True):
            multi = multi_slot.multi
            if multi.reference is not None and (multi.add is not None or multi.remove is not None):
                for value, _subs in items:
                    note(multi.reference, value)
        gone = False
        for target, keys in referenced.values():
            await target.reread(keys)
            gone = gone or any(target.cache.get(key) is None for key in keys)
        return gone

    def _dangling(self, path: str, id: str, policy: str, dropped: list[Dangling]) -> None:
        """A reference to ``id``, which names no object: refused, or counted, logged and left out."""
        if policy == "reject":
            raise MissingReferenceError(path, id)
        self.dangling_dropped += 1
        dropped.append(Dangling(path, id))
        log.warning("%s: %s %r names no object; left out (on missing drop)", self.name, path, id)

    def _unchanged(self, change: Change, members: list[Any], current: Record) -> bool:
        """Whether writing ``change`` and ``members`` would store exactly what ``current`` holds:
        each written attribute's value against the current column value read back the way a
        client's value is read (so ``1`` and ``true``, or two spellings of one instant, are the
        same; a value bound as it is stored, such as one kept because it has no SCIM value, is
        the same too), and each multi's items as a set. A write-only attribute (never read back)
        counts as a change whenever the resource gives it."""
        if change.write_only:
            return False
        values = change.values
        row = current.row  # a record rebuilds its row tuple on every read of ``row``
        # those whose values were not bound as stored (Change.compared: kept text, its very value)
        compared = self.codec.compared if change.compared is None else change.compared
        for slot, reference, index in compared:  # a readable slot's index is not None
            new, old = values.get(slot.param), row[index]
            if reference:
                if (None if old is None else anchor_key(old)) != new:
                    return False
            elif old is None or new is None:
                if old is not new:
                    return False
            elif type(new) is type(old) and new == old:  # bound as stored (a value kept as it was)
                continue
            elif slot.attr.transform is not None and slot.attr.transform.kind == "map":
                # both are stored codes (a value map's write gave ``new``): read as the
                # attribute's type, Redmine's status 3 (locked) would be true like 1 (active),
                # and re-enabling a locked user would change nothing
                if canonical(new) != canonical(old):
                    return False
            else:
                try:
                    same = coerce(slot.attr, to_scim(slot.attr.type, old), self.database.dialect) == new
                except InvalidValueError:
                    same = False
                if not same:
                    return False
        children = current.children or tuple(() for _ in self.codec.multis)
        for multi_slot, have, want in zip(self.codec.multis, children, members, strict=True):
            if want is not None and {multi_slot.normal(i) for i in have} != set(want):
                return False
        return True

    # -- the database's refusals ------------------------------------------------------------

    def _blamed(self, error: exc.DBAPIError, current: Row | None = None) -> Blamed:
        """The attribute the database's refusal is about (:mod:`mapper.runtime.blame`), of a write
        replacing ``current`` (None: a create)."""
        return blame(error, self.obj, self.codec.slots, self.database.dialect, self._driver_text, current)

    def _driver_text(self, statement: Statement) -> str:
        return self.database.statements.driver_sql(statement).sql

    def _data_error(self, error: exc.DataError | exc.IntegrityError, current: Row | None = None) -> Exception:
        """A value the column cannot hold (too long, out of range, not a number), or a rule of the
        database's own refusing the write (a trigger's ``RAISE``/``SIGNAL``): the client's fault.
        The rule's own message is the DBA's prose, which may quote other rows: not passed on.
        ``current``: the row a replace started from, whose values fit their columns."""
        if refused_by_rule(error):
            return InvalidValueError(
                "", "the database refused the write (a rule of its own: a trigger or function)"
            )
        blamed = self._blamed(error, current)
        path = blamed.path
        if refuses_characters(error):  # not too long: the column's character set lacks them
            if not path:
                return InvalidValueError(
                    "", "a database column cannot hold a value's characters (its character set lacks them)"
                )
            return InvalidValueError(
                path, "the database column cannot hold these characters (its character set lacks them)"
            )
        if not path and blamed.candidates:  # PostgreSQL names no column, and several are too long
            which = " or ".join(blamed.candidates)
            return InvalidValueError("", f"a value of {which} does not fit its database column")
        if not path:
            return InvalidValueError("", "a value does not fit its database column")
        return InvalidValueError(path, "does not fit the database column")

    def _integrity_error(self, error: exc.IntegrityError, deleting: bool = False) -> Exception:
        """The SCIM error for the database's refusal of a write (``deleting``: of a delete, where a
        foreign key's refusal means the object is still pointed at, not that it points nowhere)."""
        kind = integrity_kind(error)
        if kind == "foreign_key" and deleting:
            return StillReferencedError(self.obj.name)
        blamed = self._blamed(error)
        path = blamed.path
        if kind == "unique" and not path and blamed.multi is None:
            key = unexplained_key(error, self.obj, self.codec.slots, self.database.dialect)
            if key is not None:  # no value the client sent is in the key: the mapping broke it
                log.warning(
                    "database %s refuses the mapping's SQL: %s (unique key %s)",
                    self.database.name,
                    KEY_BROKEN,
                    key,
                )
                return SqlRefusedError(self.database.name, KEY_BROKEN, f"unique key {key}")
        if kind == "unique":  # 409 (RFC 7644 §3.12: "already in use"), a child table's too
            if blamed.own_item:
                return UniquenessError(path, "is already in use by another item of this resource")
            return UniquenessError(path)
        if kind == "foreign_key" and not path and blamed.multi is None:
            key = unexplained_key(error, self.obj, self.codec.slots, self.database.dialect)
            if key is not None:  # no value the client sent is in the key: the mapping's own value
                log.warning(
                    "database %s refuses the mapping's SQL: %s (foreign key %s)",
                    self.database.name,
                    KEY_DANGLING,
                    key,
                )
                return SqlRefusedError(self.database.name, KEY_DANGLING, f"foreign key {key}")
        if kind == "foreign_key":  # a referenced object vanished after we checked it
            multi = blamed.multi
            if multi is not None and multi.reference is not None:
                return MissingReferenceError(f"{multi.attribute}.value", None)
            slot = self.codec.by_path.get(path.lower()) if multi is None else None
            if path and (slot is None or not slot.attr.reference):
                return InvalidValueError(path, "refers to a row the database does not hold")
            return MissingReferenceError(path, None)
        if kind == "not_null":
            if path:
                return InvalidValueError(path, "is required by the database")
            return InvalidValueError("", "a value required by the database is missing")
        if kind == "datatype":  # SQLite's STRICT tables: the wrong type for the column
            return self._data_error(error)
        return InvalidValueError("", "the database rejected the values")
