"""The state and the keys of an object type's store (:class:`StoreBase`): what its reads, writes
and syncs share. :class:`~mapper.runtime.store.ObjectStore` is the class to use."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import anyio

from mapper.plan import PlanObject, Statement
from mapper.runtime.cache import Cache
from mapper.runtime.codec import Codec
from mapper.runtime.database import Database
from mapper.runtime.decisions import Updates
from mapper.runtime.errors import DatabaseUnavailableError
from mapper.runtime.inserts import Inserts, Revivals
from mapper.runtime.keys import Key, anchor_key
from mapper.runtime.loading import Watermark
from mapper.runtime.locks import KeyedLocks
from mapper.runtime.record import Record
from mapper.runtime.sqlfilter import FilterSql
from mapper.runtime.values import INT64_MAX

if TYPE_CHECKING:
    from mapper.runtime.store import ObjectStore

Resolver = Callable[[str], "ObjectStore | None"]
#: how many of the latest forgotten objects a store remembers (:meth:`StoreBase.gone_since`)
FORGOTTEN = 4096


@dataclass(frozen=True)
class Dangling:
    """A reference a write left out because it names no object (``on missing drop``): the
    attribute's path and the id as sent (an identifier, never a secret value)."""

    path: str
    id: str


@dataclass(frozen=True)
class Referrer:
    """A single-valued reference attribute (``enterprise.manager``) of ``store``'s objects that
    names objects of another store: ``lookup`` finds those naming one (binds ``:value``), and
    ``column`` is the attribute's position in ``store``'s import projection."""

    store: ObjectStore
    lookup: Statement
    column: int


class StoreBase:
    """What the store of one object type keeps, its ids, and its cache upkeep; the reads, writes
    and syncs build on it (:class:`~mapper.runtime.store.ObjectStore`).

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
        #: the single-valued reference attributes naming our objects from the same database
        #: (:class:`Referrer`): the removal of a row changes the objects naming it (ON DELETE SET NULL)
        self.referring: list[Referrer] = []
        #: how many times the referring types' caches were searched for objects naming ones of
        #: this type found gone (:meth:`StoreReads.reread_naming`: a pass over each cache)
        self.naming_searches = 0
        #: (multi index, the store of the objects its items name): the inverse of ``referrers``
        self.targets: list[tuple[int, ObjectStore]] = []
        #: how many times the cache has forgotten an object of this type, and the latest of those
        #: (number, key): a read of objects referring to them that began before a forget must not
        #: bring the forgotten back as an item when it lands after (:meth:`_marks`)
        self.forgets = 0
        self._forgotten: deque[tuple[int, Key]] = deque(maxlen=FORGOTTEN)
        #: objects a write failed on as an outage: its COMMIT may have reached the database, so
        #: they are read again once the database answers (:meth:`StoreReads.reread_in_doubt`)
        self.in_doubt: set[Key] = set()
        # a write waits for another of the same object within its own bound (then 503)
        self._locks = KeyedLocks(database.timeouts.statement, lambda: DatabaseUnavailableError(database.name))
        self._sync_lock = anyio.Lock()
        self._mark = Watermark(margin)
        self._loaded = False
        self.importing = False  # a full import is running
        self.imported = 0  # rows that import has read so far (progress for /readyz)
        self._warned_no_mark = False
        self._shared_seen = 0  # query-attribute values held by several rows, as last warned
        self.delete_scan = True  # every watermark delta also scans anchors for deletes
        self._filters: FilterSql | None = None  # filters answered by the database (see ``search``)
        self.scans = anyio.CapacityLimiter(2)  # cache scans of this type running at once (``search``)
        self._inserts = Inserts(obj, database.dialect)  # creates leave absent columns to their DEFAULT
        self._revivals = Revivals(obj, database.dialect)  # and so do revives, where SQL allows
        self._updates = Updates(obj, database.dialect)  # replaces set only the columns that change
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
        # digits alone, no leading zero (``str(int(id)) == id``)
        if id.isascii() and id.isdigit() and len(id) <= 19 and (id[0] != "0" or len(id) == 1):
            number = int(id)
            if number <= INT64_MAX:
                return number
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

    def _put(self, record: Record, *, written: bool = False) -> None:
        """The cache takes ``record`` (``written``: a write's outcome, see :meth:`Cache.put`)."""
        self._learn(record)
        if self.codec.dated:  # a dateTime column not known yet to hold days or timestamps
            self.codec.learn(record.row)
        self.cache.put(record, written=written)

    def _put_written(self, record: Record) -> None:
        """The cache takes a create's outcome."""
        self._put(record, written=True)

    def _settle(self, key: Key, after: Record | None) -> None:
        """The cache takes a write's outcome: the object ``key`` as written, or its absence."""
        if after is None:
            self._forget(key)
        else:
            self._put(after, written=True)

    def _forget(self, key: Key) -> None:
        self.cache.remove(key)
        self.forgotten(key)

    def forgotten(self, key: Key) -> None:
        """The object ``key`` is gone: drop it from the cached objects that list it (the database
        cascaded its delete), and note it for the reads of those objects under way
        (:meth:`_marks`)."""
        self.forgets += 1
        self._forgotten.append((self.forgets, key))
        for store, index in self.referrers:
            store.forget_member(index, key)

    def gone_since(self, mark: int) -> set[Key]:
        """The objects forgotten since ``forgets`` was ``mark`` and not in the cache again."""
        if not self._forgotten or self._forgotten[-1][0] <= mark:
            return set()
        return {key for n, key in self._forgotten if n > mark and self.cache.get(key) is None}

    def _marks(self) -> list[int]:
        """Taken before a read of objects of this type from the database: where each store their
        items name stands in its forgets. A read that began before another object was deleted may
        still list it (read before the delete's cascade committed) and land in the cache after
        the delete dropped it from the cached objects; :meth:`_unforgotten` drops it again."""
        return [target.forgets for _, target in self.targets]

    def _unforgotten(self, record: Record, marks: list[int]) -> Record:
        """``record``, read from the database after :meth:`_marks` gave ``marks``, without the
        items naming objects forgotten since (and not back)."""
        children = record.children
        for (index, target), mark in zip(self.targets, marks, strict=True):
            gone = target.gone_since(mark)
            items = children[index] if gone and index < len(children) else ()
            kept = tuple(i for i in items if anchor_key(i if not isinstance(i, tuple) else i[0]) not in gone)
            if len(kept) != len(items):
                children = children[:index] + (kept,) + children[index + 1 :]
        return record if children is record.children else Record(record.row, children)

    def forget_member(self, index: int, value: Key) -> None:
        """Drop ``value`` from multi-valued attribute ``index`` of every cached object (the
        database cascaded the delete of the referenced object)."""
        for record in self.cache.records():
            items = record.children[index] if index < len(record.children) else ()
            kept = tuple(i for i in items if anchor_key(i if not isinstance(i, tuple) else i[0]) != value)
            if len(kept) != len(items):
                children = record.children[:index] + (kept,) + record.children[index + 1 :]
                self.cache.put(Record(record.row, children))
