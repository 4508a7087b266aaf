"""Filters parsed once per shape: the values lifted out of a filter's text, the rest parsed by
the grammar (:mod:`mapper.scim.filter`) once and remembered, and the values put back into the
very nodes it built. Every filter the gateway reads, on the cached-read fast path
(:mod:`mapper.scim.routes.reads`) as on the general one (:mod:`mapper.scim.routes.search`), goes
through :func:`parse`, so both accept, refuse and answer the same filters.

Given the object type's resolver, :func:`parse` answers the filter with canonical attribute
paths (:func:`mapper.scim.names.filter_paths`), made so once per shape and type: a request pays
for the names no more than for the grammar.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator

from mapper.runtime.values import text_problem
from mapper.scim import names
from mapper.scim.attributes import AttributeResolver
from mapper.scim.errors import ScimError, invalid_filter
from mapper.scim.filter import (
    MAX_DEPTH,
    MAX_LENGTH,
    And,
    Compare,
    Filter,
    Not,
    Or,
    ValuePath,
    parse_filter,
)

TOO_DEEP = "the filter is nested too deeply (or has too many terms) to evaluate"

#: A string as the filter grammar's ``STRING`` terminal reads it (``grammar/scim_filter.lark``);
#: no other token holds a ``"``, so every match, left to right, is one of the lexer's strings.
_STRING = re.compile(r'("(?:[^"\\]|\\.)*")')


def parse(
    text: str,
    max_length: int = MAX_LENGTH,
    max_depth: int = MAX_DEPTH,
    resolver: AttributeResolver | None = None,
) -> Filter:
    """:func:`~mapper.scim.filter.parse_filter`, with the grammar's work done once per shape;
    with ``resolver``, its paths canonical (:func:`mapper.scim.names.filter_paths`).

    Parsing with the grammar costs ~150 µs, and provisioning clients send the same few filters
    with a different value each time (``userName eq "..."``, Entra's probe before every create).
    So the string values are lifted out (``userName eq ""``), the rest (the shape) is parsed by
    the grammar once and remembered (512 shapes, each at most ``max_length`` long: the memory
    kept is bounded by configuration), and the values are put back into the very nodes the
    grammar built. A value the grammar would refuse, or anything unexpected, goes to the grammar
    whole, which reports it as it always does. The shapes are remembered per resolver (an
    object type's lives as long as its gateway), canonical already."""
    if len(text) > max_length:  # the values count too: a long one is no more welcome lifted
        raise invalid_filter(f"the filter is longer than {max_length} characters")
    try:
        if '"' not in text:
            return _shape(text, max_length, max_depth, resolver)[0]
        one = one_string(text)
        if one is not None:  # one string, no escapes: the common case
            shape_text, value = one
            values: list[str | None] = [value]
        else:
            parts = _STRING.split(text)
            values = [_string(token) for token in parts[1::2]]
            shape_text = '""'.join(parts[::2])
        lifted = [v for v in values if v is not None and text_problem(v) is None]
        if len(lifted) != len(values):  # the grammar refuses it: let it say how
            return _whole(text, max_length, max_depth, resolver)
        try:
            shape, strings = _shape(shape_text, max_length, max_depth, resolver)
        except ScimError:  # positions in the shape are not the text's: the grammar says it right
            return _whole(text, max_length, max_depth, resolver)
        if strings != len(lifted):
            return _whole(text, max_length, max_depth, resolver)
        if type(shape) is Compare:
            return Compare(shape.path, shape.op, lifted[0])
        return _fill(shape, iter(lifted))
    except RecursionError:
        raise invalid_filter(TOO_DEEP) from None


def one_string(text: str) -> tuple[str, str] | None:
    """``(shape, value)`` of a filter holding one string and no escapes (``userName eq ""`` and
    what was between its quotes), the form :func:`parse` lifts without a regular expression;
    None for any other filter."""
    if text.count('"') != 2 or "\\" in text:
        return None
    first, last = text.index('"'), text.rindex('"')
    return text[: first + 1] + text[last:], text[first + 1 : last]


def _whole(text: str, max_length: int, max_depth: int, resolver: AttributeResolver | None) -> Filter:
    """``text`` parsed by the grammar, values and all (not remembered). With ``resolver``, a path
    naming an attribute the type's schemas do not define is ``invalidFilter`` (RFC 7644 §3.4.2.2
    and §3.12: "the specified attribute and filter comparison combination is not supported"):
    a misspelled attribute answered an empty list, which a provisioning client reads as "no such
    user" and creates one. Checked here, once per shape (:func:`_shape` remembers it)."""
    node = parse_filter(text, max_length=max_length, max_depth=max_depth)
    if resolver is None:
        return node
    node = names.filter_paths(node, resolver)
    unknown = names.unknown_attribute(node, resolver)
    if unknown is not None:
        raise invalid_filter(f"{unknown}; the filter cannot compare it")
    return node


def equality(text: str, max_length: int = MAX_LENGTH, max_depth: int = MAX_DEPTH) -> Compare | None:
    """The filter ``text`` when it is one ``attr eq "string"`` comparison (Entra's probe), else
    None: also when it is malformed, which the general path reports."""
    try:
        node = parse(text, max_length, max_depth)
    except ScimError:
        return None
    if isinstance(node, Compare) and node.op == "eq" and isinstance(node.value, str):
        return node
    return None


def _string(token: str) -> str | None:
    """A lifted ``STRING`` token's value as the grammar reads it (JSON, control characters
    allowed), or None when it is not valid JSON."""
    if "\\" not in token:  # without escapes, a JSON string is its own text
        return token[1:-1]
    try:
        value = json.loads(token, strict=False)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, str) else None


def _strings(node: Filter) -> int:
    """How many comparisons with ``""`` the shape holds: one per lifted string (a bare word is
    never empty)."""
    return _count(node, lambda leaf: isinstance(leaf, Compare) and leaf.value == "")


def _count(node: Filter | None, leaf: Callable[[Filter | None], bool]) -> int:
    """How many of the filter's comparisons (``pr`` and the compares) ``leaf`` holds true of."""
    if isinstance(node, And | Or):
        return _count(node.left, leaf) + _count(node.right, leaf)
    if isinstance(node, Not):
        return _count(node.inner, leaf)
    if isinstance(node, ValuePath):
        return _count(node.filter, leaf)
    return 1 if leaf(node) else 0


def _fill(node: Filter, values: Iterator[str]) -> Filter:
    """The shape with its ``""`` values replaced by ``values``, in the order of the text (the
    grammar builds each node's children left to right)."""
    if isinstance(node, Compare):
        return Compare(node.path, node.op, next(values)) if node.value == "" else node
    if isinstance(node, And):
        return And(_fill(node.left, values), _fill(node.right, values))
    if isinstance(node, Or):
        return Or(_fill(node.left, values), _fill(node.right, values))
    if isinstance(node, Not):
        return Not(_fill(node.inner, values))
    if isinstance(node, ValuePath):
        return ValuePath(node.path, _fill(node.filter, values))
    return node


@functools.lru_cache(maxsize=512)
def _shape(
    text: str, max_length: int, max_depth: int, resolver: AttributeResolver | None
) -> tuple[Filter, int]:
    """The filter the grammar parses from ``text`` (its paths canonical for ``resolver``), and
    how many comparisons with ``""`` it has."""
    node = _whole(text, max_length, max_depth, resolver)
    return node, _strings(node)


def leaves(node: Filter | None) -> int:
    """How many comparisons a filter makes per resource (at least 1)."""
    return _count(node, lambda leaf: True)
