"""Parsing mapping files: ``parse(text, path) -> (MappingFile | None, diagnostics)``.

Syntax errors come back as MAP0xx diagnostics, never as Lark exceptions. After a syntax error
the parser looks for more by blanking out what is broken and parsing again (see
``_syntax_errors``). Codes (see docs/language.md, "Syntax diagnostics"):

  MAP001  unexpected token or character
  MAP002  unknown keyword (with a did-you-mean)
  MAP003  unterminated sql\"\"\"...\"\"\" block or string
  MAP004  unexpected end of file (a block is not closed)
  MAP005  duplicate item in a block (reported while building the model)
"""

from __future__ import annotations

import difflib
import functools
import re
from typing import Literal

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from lark.lexer import PatternStr

from mapper.diagnostics import Diagnostic, error
from mapper.language.grammar import capturing_comments, mapping_parser
from mapper.language.model import MappingFile
from mapper.language.transform import SQL_CLOSE, SQL_OPEN, LineIndex, ModelBuilder

MAX_SYNTAX_ERRORS = 20

# Readable words for the named terminals of grammar/mapping.lark.
TERMINAL_WORDS = {
    "IDENT": "a name",
    "QUOTED_IDENT": "a name",  # where a quoted one is allowed, a bare one is too
    "QNAME": 'a table or procedure name (employees, hr."Staff")',
    "PATH": "a SCIM attribute path",
    "STRING": "a quoted string",
    "SQL": 'an sql"""...""" block',
    "NUMBER": "a number",
    "PARAM": "a :parameter",
    "_NL": "the end of the line",
    "$END": "the end of the file",
}
_WORD_TERMINALS = frozenset({"IDENT", "QNAME", "PATH"})
_WORD = re.compile(r"[^\W\d]\w*\Z")
_ITEM_KEYWORDS = frozenset(
    {"anchor", "query", "dn", "import", "delta", "attributes", "multi", "write", "disable", "delete"}
)
_TOP_LEVEL = re.compile(r"^(?:connector|source|schema|object)\b", re.MULTILINE)
# What matters for brace matching: SQL bodies, strings and comments are skipped whole.
_SCAN = re.compile(r'sql"""[\s\S]*?"""|sql"""|"(?:[^"\\\n]|\\.)*"|#[^\n]*|[{}]')
_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')


def parse(text: str, path: str) -> tuple[MappingFile | None, list[Diagnostic]]:
    """Parse a mapping file. The model is ``None`` when the file has syntax errors."""
    parser = mapping_parser()
    try:
        with capturing_comments() as comments:
            tree = parser.parse(text)
    except UnexpectedInput:
        return None, _syntax_errors(text, path)
    builder = ModelBuilder(text, path)
    mapping: MappingFile = builder.transform(tree)
    mapping = mapping.model_copy(update={"comments": builder.make_comments(comments)})
    return mapping, sorted(builder.diagnostics, key=lambda d: d.span.offset)


def _syntax_errors(text: str, path: str) -> list[Diagnostic]:
    """Every syntax error we can find cheaply, in file order.

    After an error the broken part is blanked out (turned to spaces, so positions hold) and the
    text parsed again: a misspelled keyword at the start of a line or a stray character only
    costs that line or character; anything else costs the rest of its top-level block. A
    parse that fails no further on than the last error is not reported (it is the same error
    seen again), and the rest of that block is skipped.
    """
    lines = LineIndex(text)
    runaway = _runaway_sql(text)
    if runaway is not None:
        return [_unterminated_sql(runaway, text, path, lines)]
    diagnostics: list[Diagnostic] = []
    masked = text
    last = -1
    while len(diagnostics) < MAX_SYNTAX_ERRORS:
        try:
            mapping_parser().parse(masked)
            break
        except UnexpectedInput as exc:
            diagnostic, recovery = _diagnose(exc, masked, path, lines)
        offset = diagnostic.span.offset
        if offset <= last:
            recovery, offset = "block", last + 1
        else:
            diagnostics.append(diagnostic)
            last = offset
        if recovery == "stop":
            break
        if recovery == "char":
            masked = _blank(masked, offset, offset + 1)
        elif recovery == "line":
            masked = _blank(masked, *_line_extent(masked, offset))
        else:
            resume = _next_block(text, offset)
            if resume is None:
                break
            masked = _blank(masked, 0, resume)
    return diagnostics


Recovery = Literal["stop", "char", "line", "block"]


def _diagnose(exc: UnexpectedInput, text: str, path: str, lines: LineIndex) -> tuple[Diagnostic, Recovery]:
    """A diagnostic for one Lark error, and how to go on looking for more."""
    offset = exc.pos_in_stream or 0
    if isinstance(exc, UnexpectedToken) and exc.token.type == "$END":
        return _end_of_file(exc, text, path, lines), "stop"
    if text.startswith(SQL_OPEN, offset) and not isinstance(exc, UnexpectedToken):
        return _unterminated_sql(offset, text, path, lines), "stop"  # a whole block is a token
    if text.startswith('"', offset) and not _STRING.match(text, offset):
        end = text.find("\n", offset)
        end = len(text) if end < 0 else end
        span = lines.span(offset, end)
        hint = 'close it with " on the same line'
        return error("MAP003", "unterminated string", path, span, hint=hint), "line"
    if isinstance(exc, UnexpectedToken):
        arrow = _bad_arrow(offset, exc.accepts or exc.expected, text, path, lines)
        if arrow is not None:
            return arrow, "line"
        diagnostic = _unexpected_token(exc, text, path, lines)
        line_start = text.rfind("\n", 0, offset) + 1
        inner_item = offset > line_start and not text[line_start:offset].strip()  # first word, indented
        return diagnostic, "line" if diagnostic.code == "MAP002" and inner_item else "block"
    assert isinstance(exc, UnexpectedCharacters)
    arrow = _bad_arrow(offset, exc.allowed or set(), text, path, lines)
    if arrow is not None:
        return arrow, "line"
    char = text[offset]
    expected = _expected_words(exc.allowed or set())
    span = lines.span(offset, offset + 1)
    message = f"unexpected character {char!r}"
    return error("MAP001", message, path, span, hint=f"expected {expected}" if expected else None), "char"


_ARROW_CHARS = "<>-=!"


def _bad_arrow(
    offset: int, allowed: set[str] | frozenset[str], text: str, path: str, lines: LineIndex
) -> Diagnostic | None:
    """One error for a mistyped direction arrow (``<>``, ``=>``, ``<=``...) where an arrow is
    due, where a character by character report gives one per character, then one for the column."""
    arrows = {name for name, value in _terminal_patterns().items() if value in ("<->", "<-", "->")}
    if text[offset] not in _ARROW_CHARS or not allowed & arrows:
        return None
    end = offset
    while end < len(text) and text[end] in _ARROW_CHARS:
        end += 1
    written = text[offset:end]
    left, right = "<" in written, ">" in written
    meant = "<->" if left == right else "<-" if left else "->"
    hint = f"did you mean '{meant}'? ('<->' both ways, '<-' import only, '->' export only)"
    message = f"unexpected {written!r}; expected {_expected_words(allowed)}"
    return error("MAP001", message, path, lines.span(offset, end), hint=hint)


def _unexpected_token(exc: UnexpectedToken, text: str, path: str, lines: LineIndex) -> Diagnostic:
    token: Token = exc.token
    start = token.start_pos or 0
    span = lines.span(start, token.end_pos if token.end_pos is not None else start + len(token))
    accepts = exc.accepts or exc.expected
    expected = _expected_words(accepts)
    value = str(token)
    keywords = sorted(k for k in (_keyword(t) for t in accepts) if k)
    if text.startswith(SQL_OPEN, start):  # a whole block, closed, where none may be
        before = text[text.rfind("\n", 0, start) + 1 : start].split()
        hint = None
        if before[-1:] == ["delete"]:  # 'delete sql"""..."""': the statement is the write's
            hint = 'a delete statement of its own goes in \'write { delete sql"""...""" }\''
        return error("MAP001", f"unexpected SQL block; expected {expected}", path, span, hint=hint)
    if _WORD.match(value) and keywords and not accepts & _WORD_TERMINALS and value not in _all_keywords():
        close = difflib.get_close_matches(value, keywords, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"expected {expected}"
        anchor = _anchor_hint(value, text, start, f"expected {expected}; ")
        return error("MAP002", f"unknown keyword '{value}'", path, span, hint=anchor or hint)
    shown = value if len(value) <= 40 else value[:37] + "..."
    brace_line = _missing_brace_line(token, accepts, text)
    brace_hint = f"is a '}}' missing before line {brace_line}?" if brace_line else None
    anchor = _anchor_hint(value, text, start, "")  # the message says what was expected
    message = f"unexpected {shown!r}; expected {expected}"
    return error("MAP001", message, path, span, hint=anchor or brace_hint)


#: ``anchor COLUMN generated by`` up to the word after it, on one line
_GENERATED_BY = re.compile(r"\banchor[ \t]+(\S+)[ \t]+generated[ \t]+by[ \t]+\Z")


def _anchor_hint(value: str, text: str, start: int, expected: str) -> str | None:
    """The hint for a word ``value`` at ``start`` after ``anchor COLUMN generated by`` (where only
    ``database`` may be): the anchor's other two forms are not ``generated by`` anything, and
    ``generated by attribute`` means ``anchor COLUMN from SCIM_PATH``. ``expected`` goes before a
    hint that names neither. None anywhere else."""
    found = _GENERATED_BY.search(text, text.rfind("\n", 0, start) + 1, start)
    if found is None:
        return None
    column = found.group(1)
    taken = f"'anchor {column} from SCIM_PATH'"
    if value.lower().startswith("attr") or value.lower() == "from":
        return f"did you mean {taken}? (the anchor is the value of the SCIM attribute the client sends)"
    if value.lower() in ("uuid", "random"):
        return f"did you mean 'anchor {column} {value.lower()}'?"
    return f"{expected}the other anchors are {taken}, 'anchor {column} uuid' and 'anchor {column} random'"


_LINE_ENTRY = frozenset({"_NL", "RBRACE"})  # what may follow a complete line-block entry


def _missing_brace_line(token: Token, accepts: set[str] | frozenset[str], text: str) -> int | None:
    """The line before which a ``}`` seems to be missing, if the error looks like one.

    Either the error is a top-level keyword at the start of a line where ``}`` was due, or a
    line of an ``attributes``/``schema`` block starts with a keyword that begins an object item
    or a block (``write table t`` read as a mapping of the SCIM path ``write``): the block
    before it was not closed.
    """
    line = token.line or 0
    if _TOP_LEVEL.match(str(token)) and token.column == 1 and "RBRACE" in accepts:
        return line
    start = text.rfind("\n", 0, token.start_pos or 0) + 1
    words = text[start:].split(None, 1)
    first = words[0] if words else ""
    arrows = {name for name, value in _terminal_patterns().items() if value in ("<->", "<-", "->")}
    in_line_block = accepts & _LINE_ENTRY == _LINE_ENTRY or (bool(accepts) and accepts <= arrows)
    at_first_word = (token.start_pos or 0) - start == len(text[start:]) - len(text[start:].lstrip())
    if in_line_block and not at_first_word and (first in _ITEM_KEYWORDS or _TOP_LEVEL.match(first)):
        return line
    return None


def _end_of_file(exc: UnexpectedToken, text: str, path: str, lines: LineIndex) -> Diagnostic:
    end = len(text)
    span = lines.span(end, end)
    expected = _expected_words(exc.accepts or exc.expected)
    unclosed = _unclosed_brace(text)
    hint = f"the '{{' at line {lines.position(unclosed)[0]} is never closed" if unclosed is not None else None
    return error("MAP004", f"unexpected end of file; expected {expected}", path, span, hint=hint)


def _unterminated_sql(offset: int, text: str, path: str, lines: LineIndex) -> Diagnostic:
    line_end = text.find("\n", offset)
    span = lines.span(offset, len(text) if line_end < 0 else line_end)
    return error(
        "MAP003",
        'unterminated sql"""...""" block',
        path,
        span,
        hint='close the SQL with """; everything after sql""" up to the next """ is SQL',
    )


def _runaway_sql(text: str) -> int | None:
    """The offset of a SQL block that is never closed, if the scan finds one.

    A block that is not closed either reaches the end of the file or swallows the opening
    ``sql\"\"\"`` of a later block; both make every later error meaningless.
    """
    for match in _SCAN.finditer(text):
        token = match.group()
        if token == SQL_OPEN or (token.startswith(SQL_OPEN) and SQL_OPEN in token[len(SQL_OPEN) :]):
            return match.start()
    return None


def _unclosed_brace(text: str) -> int | None:
    stack: list[int] = []
    for match in _SCAN.finditer(text):
        if match.group() == "{":
            stack.append(match.start())
        elif match.group() == "}" and stack:
            stack.pop()
    return stack[-1] if stack else None


def _next_block(text: str, after: int) -> int | None:
    """The start of the first top-level block (a line starting ``source``, ``schema`` or
    ``object``) at or after ``after``: an error right at a block's start (the block before it
    is not closed) still lets that block be checked."""
    match = _TOP_LEVEL.search(text, after)
    return None if match is None else match.start()


def _line_extent(text: str, offset: int) -> tuple[int, int]:
    """The line around ``offset``, extended to the end of any SQL block that starts on it."""
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    end = len(text) if end < 0 else end
    sql = text.find(SQL_OPEN, start, end)
    if sql >= 0:
        close = text.find(SQL_CLOSE, sql + len(SQL_OPEN))
        if close >= 0:
            end = max(end, close + len(SQL_CLOSE))
    return start, end


def _blank(text: str, start: int, end: int) -> str:
    """``text`` with ``[start, end)`` turned to spaces (line breaks kept, so positions hold)."""
    return text[:start] + re.sub(r"[^\n]", " ", text[start:end]) + text[end:]


@functools.lru_cache(maxsize=1)
def _terminal_patterns() -> dict[str, str]:
    """The literal text of every string terminal (keywords and punctuation) by terminal name."""
    return {t.name: t.pattern.value for t in mapping_parser().terminals if isinstance(t.pattern, PatternStr)}


def _keyword(terminal: str) -> str | None:
    value = _terminal_patterns().get(terminal)
    return value if value is not None and _WORD.match(value) else None


@functools.lru_cache(maxsize=1)
def _all_keywords() -> frozenset[str]:
    return frozenset(k for k in map(_keyword, _terminal_patterns()) if k)


def _describe(terminal: str) -> str:
    if terminal in TERMINAL_WORDS:
        return TERMINAL_WORDS[terminal]
    value = _terminal_patterns().get(terminal)
    return f"'{value}'" if value is not None else terminal.lower()


def _expected_words(terminals: set[str] | frozenset[str]) -> str:
    """``'a', 'b' or a name``: keywords and punctuation first (sorted), then descriptions."""
    words = sorted({_describe(t) for t in terminals}, key=lambda w: (not w.startswith("'"), w))
    if not words:
        return "nothing more"
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]
