"""Hints that teach: the closest known name and the list of known ones, capped as sqlglot's
``concat_messages`` caps its errors ("... and N more"): a table of sixty columns is no hint."""

from __future__ import annotations

import difflib
from collections.abc import Collection

from mapper.diagnostics import listing


def suggest(name: str, candidates: Collection[str], noun: str) -> str:
    """A did-you-mean hint listing ``candidates``: "did you mean 'mail'? (columns: id, mail)";
    beyond :data:`~mapper.diagnostics.LISTED` of them, the first few and how many more."""
    close = meant(name, candidates)
    names = f"({listed(candidates, noun)})" if candidates else f"(no {noun})"
    return f"did you mean '{close}'? {names}" if close else names


def meant(name: str, candidates: Collection[str]) -> str | None:
    """The candidate closest to ``name``, or None when none is close."""
    close = difflib.get_close_matches(name, sorted(candidates), n=1)
    return close[0] if close else None


def listed(candidates: Collection[str], noun: str) -> str:
    """ "columns: a, b, c", sorted, at most :data:`~mapper.diagnostics.LISTED` names, then "and N
    more" (:func:`~mapper.diagnostics.listing`)."""
    return listing(sorted(candidates), noun)
