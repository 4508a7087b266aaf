"""Hints that teach: the closest known name and the full list."""

from __future__ import annotations

import difflib
from collections.abc import Collection


def suggest(name: str, candidates: Collection[str], noun: str) -> str:
    """A did-you-mean hint listing ``candidates``: "did you mean 'mail'? (columns: id, mail)"."""
    ordered = sorted(candidates)
    close = difflib.get_close_matches(name, ordered, n=1)
    listing = f"({noun}: {', '.join(ordered)})" if ordered else f"(no {noun})"
    return f"did you mean '{close[0]}'? {listing}" if close else listing
