"""The checks and pieces every write of an object type uses: uniqueness under per-value locks,
immutable attributes, references and members resolved to anchors, multi-valued children, and
the database's refusals turned into SCIM errors."""

from __future__ import annotations

import logging
from collections.abc import Hashable
from functools import partial
from typing import Any

from sqlalchemy import exc

from mapper.runtime.database import Tx, integrity_kind, integrity_mentions
from mapper.runtime.errors import (
    InvalidValueError,
    MissingReferenceError,
    MutabilityError,
    UniquenessError,
)
from mapper.runtime.loading import fetch
from mapper.runtime.record import Key, Record, anchor_key, fold
from mapper.runtime.store_base import Dangling
from mapper.runtime.store_reads import StoreReads

log = logging.getLogger(__name__)


class StoreChecks(StoreReads):
    """What every write checks and resolves before and inside its transaction."""

    # -- write helpers ----------------------------------------------------------------------

    def _anchor_slot(self) -> Any:
        return self.codec.by_path.get((self.obj.anchor_attribute or "").lower())

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
                tx.send(multi.remove, {"anchor": anchor, **params})
            for item in adds:
                assert multi.add is not None
                tx.send(multi.add, {"anchor": anchor, **dict(zip(names, item, strict=True))})

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
