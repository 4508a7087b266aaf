"""Small helpers the checks share: pointing inside a token, and suggesting a close name."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from mapper.diagnostics import Span, listing


def inside(span: Span, text: str, start: int, end: int, quoted: bool = False) -> Span:
    """The span of ``text[start:end]``, where ``text`` is the token that ``span`` covers.

    ``quoted``: the span may include surrounding quotes. When the token's width in the file does
    not match ``text`` (it spans lines, or the parser unescaped something), the whole span is the
    best we can say.
    """
    width = span.end_col - span.col
    shift = 0
    if quoted and width == len(text) + 2:
        shift = 1
    elif width != len(text) or span.end_line != span.line:
        return span
    end = max(end, start + 1)
    return Span(
        line=span.line,
        col=span.col + shift + start,
        end_line=span.line,
        end_col=span.col + shift + end,
        offset=span.offset + shift + start if span.offset or span.end_offset else 0,
        end_offset=span.offset + shift + end if span.offset or span.end_offset else 0,
    )


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The closest candidate to ``word`` (case-insensitive first), or None."""
    pool = sorted(set(candidates))
    for c in pool:
        if c.lower() == word.lower():
            return c
    lowered = {c.lower(): c for c in pool}
    match = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[match[0]] if match else None


def did_you_mean(word: str, candidates: Iterable[str], what: str = "") -> str | None:
    """A hint: "did you mean 'x'? (what: a, b, c)", or just the list, or None when there is nothing;
    at most :data:`~mapper.diagnostics.LISTED` names, then "and N more", as the compiler's hints."""
    pool = sorted(set(candidates), key=str.lower)
    if not pool:
        return None
    best = closest(word, pool)
    names = listing(pool, what)
    return f"did you mean '{best}'? ({names})" if best else names


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
