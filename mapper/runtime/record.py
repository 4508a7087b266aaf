"""What the cache keeps of one object: a :class:`Record` (the import row, its multi-valued
children, its version), its key, the folded index keys, and the :class:`Deduper` that shares equal
strings between records during an import. The codec (:mod:`mapper.runtime.records`) renders them."""

from __future__ import annotations

import hashlib
from typing import Any

Row = tuple[Any, ...]
Children = tuple[tuple[Any, ...], ...]
Key = int | str


class Record:
    """One object in the cache: ``row`` (column values in ``plan.columns`` order), ``children``
    (one sorted tuple of item values per ``plan.multi`` entry) and ``version`` (a weak ETag,
    hashed from the values when the record is made and kept as a 64-bit integer)."""

    __slots__ = ("_hash", "children", "row")

    def __init__(self, row: Row, children: Children = ()) -> None:
        self.row = row
        self.children = children
        digest = hashlib.blake2b(repr((row, children)).encode(), digest_size=8).digest()
        self._hash = int.from_bytes(digest, "big")

    @property
    def version(self) -> str:
        return f'W/"{self._hash:016x}"'

    def __repr__(self) -> str:
        return f"Record({self.row!r}, {self.children!r}, {self.version})"


class Deduper:
    """Shares equal strings between rows during an import (departments, titles, given names):
    one object per distinct value instead of one per row. A column stops being pooled once it
    has more than ``limit`` distinct values, so unique columns cost no lasting memory."""

    def __init__(self, width: int, limit: int = 4096) -> None:
        self.limit = limit
        self.pools: list[dict[str, str] | None] = [{} for _ in range(width)]

    def row(self, row: Row) -> Row:
        out = list(row)
        for i, value in enumerate(out):
            pool = self.pools[i]
            if pool is None or type(value) is not str:
                continue
            shared = pool.setdefault(value, value)
            out[i] = shared
            if len(pool) > self.limit:
                self.pools[i] = None
        return tuple(out)


def anchor_key(value: Any) -> Key:
    """The cache key of an anchor value: integers stay integers, anything else is its string."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return str(value)


def fold(value: Any, case_exact: bool) -> str:
    """An index key: the string, lower-cased unless case-exact (as SQL ``LOWER`` does)."""
    text = value if isinstance(value, str) else str(value)
    if case_exact:
        return text
    folded = text.lower()
    return text if folded == text else folded  # share the row's string when already lower-case
