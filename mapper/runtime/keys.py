"""How the gateway keys objects and unique values: an anchor's key (:func:`anchor_key`), which
the cache, the coherence messages and every write use for an object, and a value's folded index
key (:func:`fold`), which the cache's indexes and the write's uniqueness locks compare."""

from __future__ import annotations

from typing import Any

Key = int | str


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
