"""How the gateway keys objects and unique values: an anchor's key (:func:`anchor_key`), which
the cache, the coherence messages and every write use for an object, and a value's folded index
key (:func:`folding`, as the database's equality folds it), which the cache's indexes and the
write's uniqueness locks compare."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from typing import Any

Key = int | str

#: base32's alphabet as Mattermost writes its ids (``model.NewId``): lower-case letters and digits
_RANDOM_ID = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "ybndrfg8ejkmcpqxot1uwisza345h769")


def random_id() -> str:
    """A new ``anchor COLUMN random`` value: 128 random bits in base32, 26 lower-case letters and
    digits, as Mattermost's ``NewId`` makes its keys (``VARCHAR(26)``, which a UUID overflows)."""
    return base64.b32encode(secrets.token_bytes(16)).decode("ascii")[:26].translate(_RANDOM_ID)


def anchor_key(value: Any) -> Key:
    """The cache key of an anchor value: integers stay integers, anything else is its string."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return str(value)


#: ``fold(value, case_exact)``: a value's index key, as one database's equality folds it
Fold = Callable[[Any, bool], str]

_DOTTED_CAPITAL_I = "\u0130"  # Python lowers it to 'i' + a combining dot; one letter's table to 'i'


def lower_ascii(text: str) -> str:
    """SQLite's ``LOWER``: ASCII letters only ('Émile' stays 'Émile')."""
    if text.isascii():
        return text.lower()
    return text.encode("utf-8", "surrogatepass").lower().decode("utf-8", "surrogatepass")


def lower_each(text: str) -> str:
    """PostgreSQL's ``LOWER`` under a libc locale: each letter lowered on its own, by the one-letter
    table, so without Python's final sigma ('ΟΔΟΣ' is 'οδοσ', not 'οδος') and with 'İ' as 'i'."""
    lowered = text.lower()
    if text.isascii() or ("ς" not in lowered and _DOTTED_CAPITAL_I not in text):
        return lowered
    return "".join("i" if c == _DOTTED_CAPITAL_I else c.lower() for c in text)


#: how each database's ``LOWER`` folds letters, by SQLAlchemy's backend name, where it is not
#: Python's ``str.lower`` (MariaDB's case-insensitive collations and the others are left to it)
_LOWERS: dict[str, Callable[[str], str]] = {"sqlite": lower_ascii, "postgresql": lower_each}


def lowering(dialect: str) -> Callable[[str], str]:
    """``LOWER`` as the database of SQLAlchemy backend ``dialect`` applies it (Python's
    ``str.lower`` where not known)."""
    return _LOWERS.get(dialect, str.lower)


def folding(dialect: str) -> Fold:
    """The index key of a value as the database of backend ``dialect`` compares it in a look-up
    (``LOWER(col) = LOWER(:value)`` unless case-exact): two values share a key exactly when the
    database finds one by the other, so the cache's indexes answer what a look-up there would."""
    lower = lowering(dialect)

    def fold(value: Any, case_exact: bool) -> str:
        text = value if isinstance(value, str) else str(value)
        if case_exact:
            return text
        folded = lower(text)
        return text if folded == text else folded  # share the row's string when already lower-case

    return fold


def anchor_order(key: Key) -> tuple[bool, int | str]:
    """A sort key of anchor keys: integers in order, then text (a type's keys are of one kind)."""
    return (type(key) is str, key)
