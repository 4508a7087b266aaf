"""What the cache keeps of one object: a :class:`Record` (the import row, its multi-valued
children, its version); its key and the folded index keys are :mod:`mapper.runtime.keys`'s. The
renderer (:mod:`mapper.runtime.rendering`) renders records; :mod:`mapper.runtime.loading` makes them.

A million records must fit in a few hundred megabytes, so a record is one small object:

* Its values sit in slots of the record itself, not in a separate row tuple, and only the
  non-NULL ones: a record's class is its *shape*, the set of columns it has values in, made once
  per shape (:func:`shape`) and shared by every record with the same NULLs. ``record.row``
  rebuilds the full row, in ``plan.columns`` order, with None for the columns the shape leaves out.
* Its version (the weak ETag) is worked out the first time it is read, from the values, and kept:
  a 60-bit hash of the row and children serialised by :func:`version_bytes`, so it is the same in
  every process and after a restart, changes with any value or child, and costs nothing for
  records nobody reads.
* Timestamps the gateway only reads are kept as integer microseconds since the epoch (UTC), not
  as text or datetimes (:func:`instant`); :func:`mapper.runtime.rendering.format_datetime` renders
  them exactly as it renders the value they came from.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import orjson

Row = tuple[Any, ...]
Children = tuple[tuple[Any, ...], ...]

#: Distinct shapes kept; a row of any further shape is stored with all its columns (NULLs too).
MAX_SHAPES = 1024

_VERSION_BITS = 60  # an int below 2**60 takes 32 bytes; a 64-bit one takes 48
_VERSION_HEX = _VERSION_BITS // 4  # hex digits of the digest kept
_blake2b = hashlib.blake2b


class Record:
    """One object in the cache: ``row`` (column values in ``plan.columns`` order), ``children``
    (one sorted tuple of item values per ``plan.multi`` entry) and ``version`` (a weak ETag).

    ``Record(row, children)`` makes a record of the row's shape. Records are immutable: a change
    is a new record. Two records hold the same object state when :meth:`same` says so."""

    __slots__ = ("_version",)

    _version: int | None
    children: Children = ()  # shapes of records with children keep them in a slot
    make: ClassVar[Callable[..., Record]]
    width: ClassVar[int] = 0
    present: ClassVar[tuple[int, ...]] = ()

    def __new__(cls, row: Sequence[Any], children: Children = ()) -> Record:
        if cls is Record:
            cls = shape(row, children)
        return object.__new__(cls)

    def __init__(self, row: Sequence[Any], children: Children = ()) -> None:  # replaced in every shape
        raise TypeError("records are made by their shape")

    @property
    def row(self) -> Row:  # replaced in every shape
        raise NotImplementedError

    @property
    def version(self) -> str:
        digest = self._version
        if digest is None:
            # the digest's first 15 hex digits are its top 60 bits: the same value and text as
            # int.from_bytes(digest, "big") >> 4 formatted as 016x, for half the instructions
            text = _blake2b(version_bytes(self.row, self.children), digest_size=8).hexdigest()[:_VERSION_HEX]
            self._version = int(text, 16)
            return f'W/"0{text}"'
        return f'W/"{digest:016x}"'

    def matches(self, if_match: str) -> bool:
        """Whether an If-Match header's value names this record's version (:func:`etag_matches`)."""
        return etag_matches(if_match, self.version)

    def holds(self, other: Record) -> bool:
        """Whether this record's version is ``other``'s (another record of the object: the cached
        one a PATCH was applied to), compared by what the versions hash (:func:`version_bytes`):
        the same bytes are the same version, known without the hash (``other``'s, when worked
        out, is then taken as this one's); only bytes that differ are hashed, so the verdict is
        always the versions' own. One serialisation each costs about a third of a version."""
        mine, theirs = self._version, other._version
        if mine is not None and theirs is not None:
            return mine == theirs
        if version_bytes(self.row, self.children) == version_bytes(other.row, other.children):
            if mine is None:
                self._version = theirs
            return True
        return self.version == other.version

    def same(self, other: Record) -> bool:
        """Whether ``other`` holds the same values and children (so the same version)."""
        return other.row == self.row and other.children == self.children

    def __repr__(self) -> str:
        return f"Record({self.row!r}, {self.children!r})"


def etag_matches(if_match: str, version: str) -> bool:
    """If-Match against our weak ETag: ``*``, or any listed tag equal up to the ``W/`` prefix."""
    if if_match.strip() == "*":
        return True
    ours = version.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == ours for tag in if_match.split(","))


def _tagged(value: Any) -> str:
    """A value orjson has no JSON for (dates and times, decimals, bytes...): its ``repr``, after a
    NUL no database text carries, so it never reads as the string it resembles."""
    return f"\x00{value!r}"


_VERSION_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME


def version_bytes(row: Row, children: Children) -> bytes:
    """What a record's version hashes: ``[row, children]`` as orjson writes it (a sixth of the
    cost of ``repr``), every value orjson has no JSON type for by :func:`_tagged`. Integers past
    64 bits, which orjson refuses, take the whole pair's ``repr``. Types stay apart (``1``,
    ``"1"``, ``true`` and ``1.0`` are different bytes); one documented exception: orjson writes
    NaN and the infinities as ``null``, like None."""
    try:
        return orjson.dumps((row, children), default=_tagged, option=_VERSION_OPTIONS)
    except orjson.JSONEncodeError:
        return repr((row, children)).encode()


_NULL = type(None)
_by_types: dict[tuple[Any, ...], type[Record]] = {}  # (value types, has children) -> shape
_by_present: dict[tuple[Any, ...], type[Record]] = {}  # (width, present, has children) -> shape


def column_name(index: int) -> str:
    """The slot holding column ``index`` of a record's row: ``getattr(record, column_name(i),
    None)`` reads that one value without rebuilding the row (None: NULL, which no shape keeps)."""
    return f"_{index}"


def shape(row: Sequence[Any], children: Children = ()) -> type[Record]:
    """The record class for rows with ``row``'s NULLs (and children, or none). Looked up by the
    row's value types, which the C loop of ``map(type, row)`` gives faster than any test for None."""
    key = (tuple(map(type, row)), children != ())
    found = _by_types.get(key)
    if found is None:
        present = tuple(i for i, kind in enumerate(key[0]) if kind is not _NULL)
        if len(_by_present) >= MAX_SHAPES:
            present = tuple(range(len(row)))
        index = (len(row), present, key[1])
        found = _by_present.get(index)
        if found is None:
            found = _by_present[index] = _make_shape(*index)
        if len(_by_types) < 16 * MAX_SHAPES:
            _by_types[key] = found
    return found


def _make_shape(width: int, present: tuple[int, ...], with_children: bool) -> type[Record]:
    """A Record subclass with one slot per present column. Its ``make``, ``__init__`` and
    ``row`` are compiled from the column positions (integers only, never values), as
    ``namedtuple`` builds its methods: a loop over the columns would cost more than the rest of
    the import. ``make(row, children)`` is ``Record(row, children)`` for a row known to be of
    this shape, without looking the shape up again.

    Without ``exec`` (issue #12 asked for it at a cost of at most 5 %), the same slots filled by
    ``deque(map(setattr, repeat(self), names, itemgetter(*present)(row)), 0)`` and ``row`` read by
    one ``attrgetter`` cost 3.49 µs per ``make`` against 0.82 µs, 1.00 µs per ``row`` against
    0.55 µs, and made the full import 11 % slower (0.39× of the raw fetch against 0.44×, 100k users
    on SQLite, interleaved); docs/decisions.md, "A compact record cache"."""
    slots = tuple(f"_{i}" for i in present) + (("children",) if with_children else ())
    fill = [f"    self._{i} = row[{i}]" for i in present]
    fill.append("    self.children = children" if with_children else "    pass")
    fill.append("    self._version = None")
    items = ", ".join(f"self._{i}" if i in present else "None" for i in range(width))
    source = "\n".join(
        [
            "def __init__(self, row, children=()):",
            *fill,
            "def make(row, children=()):" if with_children else "def make(row):",  # none to drop
            "    self = new(cls)",
            *fill,
            "    return self",
            "def row(self):",
            f"    return ({items}{',' if width else ''})",
        ]
    )
    namespace: dict[str, Any] = {"new": object.__new__}
    exec(compile(source, f"<record shape {present}>", "exec"), namespace)  # noqa: S102 - see above
    attributes: dict[str, Any] = {
        "__slots__": slots,
        "__init__": namespace["__init__"],
        "make": staticmethod(namespace["make"]),
        "row": property(namespace["row"]),
        "width": width,
        "present": present,
    }
    cls = namespace["cls"] = type("Record", (Record,), attributes)
    return cls


# ---------------------------------------------------------------------------------------------
# timestamps

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_NAIVE = datetime(1970, 1, 1)
_MICROSECOND = timedelta(microseconds=1)
_from_iso = datetime.fromisoformat


#: the seconds since the epoch that a datetime can hold (0001-01-01 to 9999-12-31 23:59:59)
FIRST_SECOND, LAST_SECOND = -62_135_596_800, 253_402_300_799


def instant(value: Any) -> Any:
    """A dateTime column's value as the cache keeps it: integer microseconds since the epoch (UTC)
    for a datetime or ISO 8601 text (naive ones are UTC, as
    :func:`~mapper.runtime.rendering.format_datetime` reads them); anything else (dates, text
    that is no timestamp) unchanged. An integer from the database is a time kept as seconds since
    the epoch (Moodle's ``timemodified BIGINT``, a Unix time stamp); one beyond the years 1 to
    9999 (milliseconds since the epoch, say) is no time, and None (no value)."""
    if type(value) is int:
        return value * 1_000_000 if FIRST_SECOND <= value <= LAST_SECOND else None
    if type(value) is str:
        try:
            value = _from_iso(value)
        except ValueError:
            return value
    elif not isinstance(value, datetime):
        return value
    return (value - (_EPOCH_NAIVE if value.tzinfo is None else _EPOCH)) // _MICROSECOND
