"""SCIM filters (RFC 7644 §3.4.2.2): parsing into a frozen AST and evaluation against resources.

``parse_filter(text)`` returns a :data:`Filter` (the AST of :mod:`mapper.scimfilter`) or raises
:class:`~mapper.scim.errors.ScimError` (400 ``invalidFilter``) saying where the filter went wrong
and what was expected there; Lark's exceptions never escape this module.
``matches(node, resource, resolver)`` evaluates a filter against a resource dict;
``equality_terms(node)`` recognises the filters the cache's indexes
can answer (``userName eq "x"``, ``id eq "7" and ...``). Both live in :mod:`mapper.scim.matching`
and are re-exported here; this module parses.

Syntax accepted beyond the RFC's ABNF, because real clients send it:

- Unquoted values: ``userName sw O``, ``emails.value co example.com`` and
  ``meta.created gt 2015-10-10T14:38:21.86-07:00`` (Microsoft's SCIM test collection). A bare
  word is ``true``/``false``/``null`` (any case), else a JSON number, else a string.
- Keywords and operators in any case (``EQ``, ``And``, ``NOT``); attribute names in any case.
- ``not`` needs its parenthesis but not a space before it (``not(title pr)``).

Evaluation (RFC 7644 §3.4.2.2 where it speaks, else noted):

- A multi-valued attribute matches if any of its values matches; a complex attribute without a
  sub-attribute is compared through its ``value`` sub-attribute (``members eq "7"``).
- Strings compare case-insensitively unless the resolver says caseExact; ``gt``/``lt`` on
  strings are lexicographic, on dateTime attributes chronological, on numbers numeric.
- ``pr`` is false for a missing attribute, null, ``""``, ``[]`` and ``{}``.
- ``eq null`` matches an unassigned attribute and ``ne null`` an assigned one (RFC 7643 §2.5:
  unassigned and null are the same state). Any other operator with null is ``invalidFilter``.
- ``ne`` is the negation of ``eq`` over the whole attribute: a missing attribute is ``ne`` anything.
- Booleans support only ``eq``/``ne`` (and ``pr``); ordering or substring operators on a
  boolean attribute or with a boolean value are ``invalidFilter``. A string ``"true"`` compared
  with a boolean attribute is read as the boolean.
- Ordering operators on a binary attribute are ``invalidFilter`` (RFC 7644 §3.4.2.2).
- A value of the wrong type for its attribute is ``invalidFilter`` (RFC 7644 §3.12), never a
  filter that matches nothing: a number or boolean with a string, reference or binary attribute
  (``employeeNumber eq 42``: a string is quoted), a string or boolean with an integer or decimal
  one, what is neither a boolean nor ``"true"``/``"false"`` with a boolean one, what is no date
  and time with a dateTime one. A complex attribute compared whole is typed by its ``value``.
  An attribute the type does not have takes any value (it matches nothing).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from lark import Lark, Token, Transformer, UnexpectedCharacters, UnexpectedInput, v_args
from lark.exceptions import VisitError

from mapper.language.grammar import grammar_text
from mapper.runtime.values import text_problem
from mapper.scim.errors import ScimError, invalid_filter
from mapper.scim.matching import equality_terms, matches, matches_value, validate
from mapper.scimfilter import (
    And,
    AttrPath,
    Compare,
    Filter,
    Not,
    Or,
    Present,
    Scalar,
    ValuePath,
)

#: the AST and the evaluation are re-exported: this is the front end's one filter module
__all__ = [
    "MAX_DEPTH",
    "MAX_LENGTH",
    "And",
    "AttrPath",
    "Compare",
    "Filter",
    "Not",
    "Or",
    "Present",
    "Scalar",
    "ValuePath",
    "check_size",
    "equality_terms",
    "matches",
    "matches_value",
    "parse",
    "parse_filter",
    "validate",
]

GRAMMAR_FILE = "scim_filter.lark"

# ---------------------------------------------------------------------------- parsing


@functools.lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark(
        grammar_text(GRAMMAR_FILE), parser="lalr", start=["filter", "path"], propagate_positions=False
    )


_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?")
_BARE_CONSTANTS: dict[str, Scalar] = {"true": True, "false": False, "null": None}


def _bare_value(text: str) -> Scalar:
    lowered = text.lower()
    if lowered in _BARE_CONSTANTS:
        return _BARE_CONSTANTS[lowered]
    number = _NUMBER.fullmatch(text)
    if number:
        return float(text) if number.group(1) or number.group(2) else int(text)
    return text


@v_args(inline=True)
class _ToAst(Transformer[Token, Any]):
    def string(self, token: Token) -> Scalar:
        try:
            value = json.loads(token, strict=False)
        except json.JSONDecodeError as exc:
            raise invalid_filter(f"invalid string at position {token.column}: {exc.msg}") from None
        return _checked(value, token)

    def bare(self, token: Token) -> Scalar:
        return _checked(_bare_value(str(token)), token)

    def compare(self, path: Token, op: Token, value: Scalar) -> Compare:
        lowered = op.lower()
        if isinstance(value, bool) and lowered not in ("eq", "ne"):
            raise invalid_filter(f"operator '{op}' cannot compare with a boolean (position {op.column})")
        if value is None and lowered not in ("eq", "ne"):
            raise invalid_filter(f"operator '{op}' cannot compare with null (position {op.column})")
        return Compare(AttrPath.parse_token(path), lowered, value)

    def present(self, path: Token, _pr: Token) -> Present:
        return Present(AttrPath.parse_token(path))

    def value_path(self, path: Token, inner: Filter) -> ValuePath:
        if _has_value_path(inner):
            raise invalid_filter(f"value filters cannot be nested (in '{path}[...]')")
        parsed = AttrPath.parse_token(path)
        if parsed.sub:
            raise invalid_filter(f"a value filter applies to an attribute, not the sub-attribute '{path}'")
        return ValuePath(parsed, inner)

    def and_(self, left: Filter, _op: Token, right: Filter) -> And:
        return And(left, right)

    def or_(self, left: Filter, _op: Token, right: Filter) -> Or:
        return Or(left, right)

    def not_(self, _op: Token, inner: Filter) -> Not:
        return Not(inner)

    def plain_path(self, path: Token) -> tuple[AttrPath, Filter | None, str | None]:
        return AttrPath.parse_token(path), None, None

    def filtered_path(
        self, path: Token, inner: Filter, sub: Token | None = None
    ) -> tuple[AttrPath, Filter | None, str | None]:
        node = self.value_path(path, inner)
        return node.path, node.filter, (str(sub)[1:] if sub else None)


def _checked(value: Scalar, token: Token) -> Scalar:
    """A value as compared: never text no database can hold (a NUL, a lone surrogate), so such a
    filter is refused here, once, rather than by a driver (see :func:`text_problem`)."""
    if isinstance(value, str):
        problem = text_problem(value)
        if problem is not None:
            raise invalid_filter(f"the value at position {token.column} {problem}")
    return value


def _shown(token: Token) -> str:
    """A token as an error detail names it: a value is never echoed, a name is (shortened)."""
    if token.type in ("STRING", "BAREWORD"):
        return "value"
    text = str(token)
    return repr(text if len(text) <= 40 else text[:40] + "...")


def _has_value_path(node: Filter) -> bool:
    if isinstance(node, ValuePath):
        return True
    if isinstance(node, And | Or):
        return _has_value_path(node.left) or _has_value_path(node.right)
    if isinstance(node, Not):
        return _has_value_path(node.inner)
    return False


_EXPECTED = {
    "ATTRPATH": "an attribute name",
    "SUBATTR": "'.' and a sub-attribute name",
    "COMPAREOP": "a comparison operator (eq ne co sw ew gt ge lt le)",
    "PR": "'pr'",
    "AND": "'and'",
    "OR": "'or'",
    "NOT": "'not ('",
    "STRING": "a value",
    "BAREWORD": "a value",
    "LPAR": "'('",
    "RPAR": "')'",
    "LSQB": "'['",
    "RSQB": "']'",
    "$END": "the end",
}


def _expected(names: Iterator[str] | set[str]) -> str:
    described = sorted({_EXPECTED.get(n, n) for n in names})
    if not described:
        return "nothing more"
    return described[0] if len(described) == 1 else ", ".join(described[:-1]) + " or " + described[-1]


def _open_brackets(prefix: str) -> tuple[int, int]:
    """Unclosed ``(`` and ``[`` in ``prefix``, ignoring quoted strings."""
    unquoted = re.sub(r'"(?:[^"\\]|\\.)*"?', '""', prefix)
    return unquoted.count("(") - unquoted.count(")"), unquoted.count("[") - unquoted.count("]")


def _expected_at(names: set[str], text: str, pos: int) -> str:
    """What was expected at ``pos``; LALR offers ')' and ']' even outside brackets, so those are
    narrowed to the brackets actually open."""
    parens, squares = _open_brackets(text[:pos])
    names = set(names)
    if parens <= 0:
        names.discard("RPAR")
    if squares <= 0:
        names.discard("RSQB")
    if names and not names & {"RPAR", "RSQB", "ATTRPATH", "STRING", "BAREWORD", "SUBATTR", "COMPAREOP"}:
        if parens <= 0 and squares <= 0:
            names.add("$END")
    return _expected(names or {"$END"})


#: The longest filter (or PATCH path) parsed, in characters, unless the caller says otherwise.
MAX_LENGTH = 8192
#: The most levels a filter may have: each ``(`` or ``[`` open at once and each ``and``, ``or`` or
#: ``not`` counts one. It bounds the depth of the parsed tree, which the parser's transformer
#: and the evaluator walk recursively (a chain of 5,000 ``and`` once raised RecursionError).
MAX_DEPTH = 64

_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"?')
_LEVELS = re.compile(r"[(\[]|[)\]]|\b(?:and|or|not)\b", re.IGNORECASE)


def check_size(
    text: str, start: str, error: Callable[[str], ScimError], max_length: int, max_depth: int
) -> None:
    """Refuse ``text`` longer than ``max_length`` or with more than ``max_depth`` levels (see
    :data:`MAX_DEPTH`), before any parsing: a linear scan, strings skipped."""
    if len(text) > max_length:
        raise error(f"the {start} is longer than {max_length} characters")
    depth = deepest = operators = 0
    for match in _LEVELS.finditer(_STRINGS.sub('""', text)):
        mark = match.group()
        if mark in "([":
            depth += 1
            deepest = max(deepest, depth)
        elif mark in ")]":
            depth -= 1
        else:  # every operator counts: a chain of them nests the tree as deep as it is long
            operators += 1
        if deepest + operators > max_depth:
            raise error(f"the {start} has more than {max_depth} levels of nesting and operators")


def parse(
    text: str,
    start: str,
    error: Callable[[str], ScimError],
    *,
    max_length: int = MAX_LENGTH,
    max_depth: int = MAX_DEPTH,
) -> Any:
    """Parse ``text`` from grammar rule ``start`` (``filter`` or ``path``); any syntax error
    becomes ``error(detail)`` with a 1-based position and what was expected there. Text over the
    limits (:func:`check_size`) is refused before parsing."""
    if not text or not text.strip():
        raise error(f"empty {start}")
    check_size(text, start, error, max_length, max_depth)
    try:
        tree = _parser().parse(text, start=start)
    except UnexpectedCharacters as exc:
        pos = exc.pos_in_stream or 0
        found = text[pos] if pos < len(text) else ""
        if found == '"':
            raise error(f"unterminated string at position {exc.column} of {start}") from None
        shown = repr(found) if found.isprintable() and found.isascii() else "character"
        expected = _expected_at(set(exc.allowed or ()), text, pos)
        detail = f"unexpected {shown} at position {exc.column} of {start}: expected {expected}"
        raise error(detail) from None
    except UnexpectedInput as exc:  # UnexpectedToken, UnexpectedEOF
        token = getattr(exc, "token", None)
        names = set(getattr(exc, "expected", ()) or ())
        if token is None or token.type == "$END":
            expected = _expected_at(names, text, len(text))
            raise error(f"unexpected end of {start}: expected {expected}") from None
        expected = _expected_at(names, text, token.start_pos or 0)
        detail = f"unexpected {_shown(token)} at position {token.column} of {start}: expected {expected}"
        raise error(detail) from None
    try:
        return _ToAst().transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, ScimError):
            raise error(exc.orig_exc.detail) from None
        raise


def parse_filter(text: str, *, max_length: int = MAX_LENGTH, max_depth: int = MAX_DEPTH) -> Filter:
    """Parse a SCIM filter; raise ``invalidFilter`` (400) with a precise detail when malformed or
    over the limits (:func:`check_size`)."""
    return parse(text, "filter", invalid_filter, max_length=max_length, max_depth=max_depth)
