"""Hints that teach: the closest known name and the list of known ones, capped as sqlglot's
``concat_messages`` caps its errors ("... and N more"): a table of sixty columns is no hint."""

from __future__ import annotations

import difflib
from collections.abc import Collection

#: the most names a hint lists; the rest are counted
LISTED = 8


def suggest(name: str, candidates: Collection[str], noun: str) -> str:
    """A did-you-mean hint listing ``candidates``: "did you mean 'mail'? (columns: id, mail)";
    beyond :data:`LISTED` of them, the first few and how many more."""
    close = meant(name, candidates)
    listing = f"({listed(candidates, noun)})" if candidates else f"(no {noun})"
    return f"did you mean '{close}'? {listing}" if close else listing


def meant(name: str, candidates: Collection[str]) -> str | None:
    """The candidate closest to ``name``, or None when none is close."""
    close = difflib.get_close_matches(name, sorted(candidates), n=1)
    return close[0] if close else None


def listed(candidates: Collection[str], noun: str) -> str:
    """ "columns: a, b, c", at most :data:`LISTED` names, then "and N more"."""
    ordered = sorted(candidates)
    shown = ", ".join(ordered[:LISTED])
    more = f" and {len(ordered) - LISTED} more" if len(ordered) > LISTED else ""
    return f"{noun}: {shown}{more}"
