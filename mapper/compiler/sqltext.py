"""Parsing the SQL blocks of a mapping file, with every sqlglot error turned into a diagnostic
placed at its file line:col.

sqlglot reports a parse error at the line and column where the offending token *ends*; the
token's text is in ``highlight``. Both are converted to character offsets in the block's text,
and ``SqlBlock.text_span`` turns those into file positions. A misspelled keyword (``FORM``) is
usually read as a column alias and the error falls on the word after it; when a word that near
the failure is a near miss of an SQL keyword, the error is placed on that word instead.
"""

from __future__ import annotations

import difflib
import functools
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from copy import deepcopy
from dataclasses import dataclass
from typing import TypeVar

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ErrorLevel, ParseError, TokenError
from sqlglot.parser import Parser
from sqlglot.tokens import Tokenizer

from mapper.compiler import codes
from mapper.compiler.context import Context
from mapper.diagnostics import Span
from mapper.language.model import Name, SqlBlock

E = TypeVar("E", bound=exp.Expr)


@dataclass(frozen=True)
class Parameter:
    """A ``:name`` placeholder as written, with its character offsets in the block's text."""

    name: str
    start: int
    end: int  # exclusive


def locate(block: SqlBlock, start: int, end: int) -> Span:
    """The file span of characters ``start``..``end`` (exclusive) of ``block.text``."""
    first = _position(block, start)
    last = _position(block, max(end, start))
    origin = block.text_span.offset
    return Span(
        line=first[0],
        col=first[1],
        end_line=last[0],
        end_col=last[1],
        offset=origin + start,
        end_offset=origin + max(end, start),
    )


def _position(block: SqlBlock, index: int) -> tuple[int, int]:
    before = block.text[: max(0, min(index, len(block.text)))]
    newlines = before.count("\n")
    if newlines == 0:
        return block.text_span.line, block.text_span.col + len(before)
    return block.text_span.line + newlines, len(before) - before.rfind("\n")


def _offset(text: str, line: int, col: int) -> int:
    """The character offset of 1-based ``line``/``col`` in ``text`` (clamped to the text)."""
    lines = text.split("\n")
    line = max(1, min(line, len(lines)))
    start = sum(len(x) + 1 for x in lines[: line - 1])
    return max(0, min(start + col - 1, len(text)))


class _Silence(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return False


@contextmanager
def quiet_sqlglot() -> Iterator[None]:
    """Silence sqlglot's logger while the compiler calls it: what it would warn about (a statement
    read as an opaque Command, an expression it cannot annotate) the compiler reports itself, as
    diagnostics, or does not need."""
    logger, silence = logging.getLogger("sqlglot"), _Silence()
    logger.addFilter(silence)
    try:
        yield
    finally:
        logger.removeFilter(silence)


def parse(ctx: Context, block: SqlBlock, what: str) -> list[exp.Expr] | None:
    """Every statement in ``block`` parsed with the read dialect, or ``None`` after reporting
    each syntax error (MAP201)."""
    try:
        with quiet_sqlglot():
            statements = sqlglot.parse(block.text, read=ctx.read, error_level=ErrorLevel.RAISE)
    except ParseError as err:
        seen: set[tuple[object, object]] = set()
        for detail in err.errors or [{}]:
            where = (detail.get("line"), detail.get("col"))
            if where not in seen:  # sqlglot often explains one bad token several ways: keep the first
                seen.add(where)
                _report_parse_error(ctx, block, what, detail, str(err))
        return None
    except TokenError as err:
        _report_token_error(ctx, block, what, err)
        return None
    except Exception as err:  # anything else sqlglot raises, its own bugs included, is ours to report
        ctx.error(codes.SQL_SYNTAX, f"{what}: SQL does not parse: {type(err).__name__}: {err}", block.span)
        return None
    return [s for s in statements if s is not None]


def _report_parse_error(ctx: Context, block: SqlBlock, what: str, detail: dict, fallback: str) -> None:
    line, col = detail.get("line"), detail.get("col")
    description = detail.get("description") or fallback
    if not isinstance(line, int) or not isinstance(col, int):
        ctx.error(codes.SQL_SYNTAX, f"{what}: SQL does not parse: {description}", block.span)
        return
    token = str(detail.get("highlight") or "")
    end = _offset(block.text, line, col) + 1
    start = max(0, end - max(len(token), 1))
    misspelled = _misspelled_keyword(block.text, start, end)
    hint = None
    if misspelled is not None:
        start, end, keyword = misspelled
        token, hint = block.text[start:end], f"did you mean {keyword}?"
    near = f" near '{token}'" if token else ""
    message = f"{what}: SQL does not parse{near}: {description}"
    ctx.error(codes.SQL_SYNTAX, message, locate(block, start, end), hint=hint)


#: The keywords whose misspellings send sqlglot astray a word or two later.
_KEYWORDS = (
    "SELECT FROM WHERE JOIN INNER LEFT RIGHT FULL OUTER CROSS USING GROUP ORDER HAVING LIMIT OFFSET "
    "UNION DISTINCT AND NOT CASE WHEN THEN ELSE END LIKE BETWEEN EXISTS INTERSECT EXCEPT WITH"
).split()
_SQL_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")


@functools.lru_cache(maxsize=1)
def _known_words() -> frozenset[str]:
    """Words that are not misspellings: sqlglot's keywords and function names (CAST, NULL...)."""
    return frozenset(Tokenizer.KEYWORDS) | frozenset(Parser.FUNCTIONS)


def _misspelled_keyword(text: str, start: int, end: int) -> tuple[int, int, str] | None:
    """(start, end, keyword) of a near miss of a keyword: the failing word itself, the word
    before it (``FORM employees`` fails at ``employees``) or the statement's first word (``SELEC
    a, b`` fails at the comma); None when none is one."""
    words = list(_SQL_WORD.finditer(text, 0, end))
    failing = [w for w in words[-1:] if w.end() > start]
    before = [w for w in words if w.end() <= start][-1:]
    for word in (*failing, *before, *words[:1]):
        written = word.group().upper()
        if len(written) < 3 or written in _KEYWORDS or written in _known_words():
            continue
        close = difflib.get_close_matches(written, _KEYWORDS, n=1, cutoff=0.75)
        if close:
            return word.start(), word.end(), close[0]
    return None


def _report_token_error(ctx: Context, block: SqlBlock, what: str, err: TokenError) -> None:
    """Place a tokenizer error at the start of the token that failed: the first character after
    the last token the tokenizer completed (an unterminated string or comment starts there)."""
    cause = str(err.__cause__ or err)
    tokenizer = Dialect.get_or_raise(ctx.read).tokenizer()
    try:
        tokenizer.tokenize(block.text)
    except Exception:  # noqa: S110 - we want the tokens it managed before failing
        pass
    done = getattr(tokenizer, "tokens", None) or []
    last = done[-1].end + 1 if done else 0
    rest = block.text[last:]
    start = last + len(rest) - len(rest.lstrip())
    ctx.error(codes.SQL_SYNTAX, f"{what}: SQL does not tokenize: {cause}", locate(block, start, start + 1))


def find_parameters(block: SqlBlock, read: str) -> list[Parameter]:
    """The ``:name`` placeholders of ``block`` in order, found by sqlglot's tokenizer (so colons
    in strings, comments and ``::`` casts are not mistaken for parameters). Text without a colon
    has none, and is not tokenized again (most imports: a tenth of their parse)."""
    if ":" not in block.text:
        return []
    try:
        tokens = Dialect.get_or_raise(read).tokenize(block.text)
    except Exception:  # the parse reports why
        return []
    found = []
    for colon, word in zip(tokens, tokens[1:], strict=False):
        if colon.token_type.name == "COLON" and word.start == colon.end + 1 and word.text.isidentifier():
            found.append(Parameter(word.text, colon.start, word.end + 1))
    return found


#: The keys of sqlglot's node ``meta`` that are token positions (others carry meaning: a
#: function's name as written, for one).
_POSITION_KEYS = frozenset({"line", "col", "start", "end"})


#: ``meta`` values shared by a copy instead of deep-copied: they cannot change.
_IMMUTABLE = frozenset({int, str, bool, float, type(None)})
_new = object.__new__


def copy_tree(tree: E, *, positions: bool = True) -> E:
    """A copy of ``tree`` equal to ``tree.copy()`` (same classes, args, parents, ``arg_key``,
    ``index``, comments, types, meta and cached hashes); unless ``positions``, without the token
    positions sqlglot's parser keeps in its nodes' meta.

    Derived statements copy the import several times each and only render the copies: deep-copying
    the small position dicts was five sixths of every copy. No diagnostic can be located on a tree
    copied without them (``locate_node`` falls back to the whole block).

    sqlglot's ``Expr.__deepcopy__`` builds each node through ``__init__`` and attaches each child
    with ``set``/``append``, which walk up the parents to clear cached hashes on every call; the
    compiler copies each import about eight times, and those calls were most of each copy. This
    builds each node's slots directly. ``tests/compiler/test_copy_tree.py`` holds it to
    sqlglot's own copy."""
    root = _blank(tree)
    stack: list[tuple[exp.Expr, exp.Expr]] = [(tree, root)]
    expr = exp.Expr
    while stack:
        node, copy = stack.pop()
        if node.comments is not None:
            copy.comments = list(node.comments)
        if node._type is not None:
            copy._type = node._type.copy()
        meta = node._meta
        if meta is not None:
            kept = {
                k: v if type(v) in _IMMUTABLE else deepcopy(v)
                for k, v in meta.items()
                if positions or k not in _POSITION_KEYS
            }
            copy._meta = kept if positions or kept or not meta else None
        kept_hash = True  # sqlglot's set/append on a copy clear its cached hash
        args = copy.args
        for key, value in node.args.items():
            if isinstance(value, expr):
                child = _blank(value)
                child.parent, child.arg_key = copy, key
                stack.append((value, child))
                args[key] = child
                kept_hash = False
            elif type(value) is list:
                items: list[object] = []
                for index, item in enumerate(value):
                    if isinstance(item, expr):
                        child = _blank(item)
                        child.parent, child.arg_key, child.index = copy, key, index
                        stack.append((item, child))
                        items.append(child)
                    else:
                        items.append(item)
                args[key] = items
                kept_hash = kept_hash and not value
            else:
                args[key] = value
        if kept_hash:
            copy._hash = node._hash
    return root


def _blank(node: E) -> E:
    """A node of ``node``'s class with no args, as ``node.__class__()`` makes it."""
    blank = _new(node.__class__)
    blank.args = {}
    blank.parent = blank.arg_key = blank.index = None
    blank.comments = blank._type = blank._meta = blank._hash = None
    return blank


def locate_node(block: SqlBlock, node: exp.Expr) -> Span:
    """The file span of a parsed node, from the token positions sqlglot keeps on its leaves
    (the whole block when it kept none)."""
    starts, ends = [], []
    for child in node.walk():
        meta = child.meta
        if isinstance(meta.get("start"), int) and isinstance(meta.get("end"), int):
            starts.append(meta["start"])
            ends.append(meta["end"] + 1)
    if not starts:
        return block.span
    return locate(block, min(starts), max(ends))


def parse_query(ctx: Context, block: SqlBlock, what: str) -> exp.Query | None:
    """The one SELECT (or set operation of SELECTs) in ``block``, else ``None`` after MAP201/MAP202."""
    parsed = parse(ctx, block, what)
    if parsed is None:
        return None
    if len(parsed) != 1 or not isinstance(parsed[0], exp.Query):
        found = f"{len(parsed)} statements" if len(parsed) != 1 else f"a {parsed[0].key.upper()} statement"
        ctx.error(
            codes.IMPORT_NOT_SELECT,
            f"{what}: the import must be a single SELECT, found {found}",
            block.span,
            hint="join or union what you need into one SELECT",
        )
        return None
    for param in find_parameters(block, ctx.read):
        ctx.error(
            codes.UNKNOWN_PARAMETER,
            f"{what}: an import query cannot bind ':{param.name}'",
            locate(block, param.start, param.end),
            hint="import queries take no parameters; write the value into the query",
        )
    return parsed[0]


def table_name(name: Name, read: str) -> exp.Table:
    """The table (or procedure) ``name`` of the mapping as an sqlglot table. A name written
    without quotes is parsed in the read dialect, as before; one with quoted parts
    (``"Staff"``, ``hr."Staff"``) keeps each quoted part exactly (rendered in the dialect's own
    quoting: ``"Staff"``, ```Staff```, ``[Staff]``). Raises ``SqlglotError`` for a name that is
    not one (more than catalog.db.table)."""
    if name.written is None:
        return exp.to_table(name.value, dialect=read)
    parts = [exp.Identifier(this=part, quoted=quoted) for part, quoted in name.parts]
    if len(parts) > 3:
        raise ParseError(f"'{name.spelling}' has more than three parts")
    table, db, catalog = [*reversed(parts), None, None][:3]
    return exp.Table(this=table, db=db, catalog=catalog)
