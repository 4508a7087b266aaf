"""Where the cursor is, in terms of the grammar: which tokens may come next (from the LALR
parser itself, fed the text before the cursor), which blocks enclose the cursor, and the word
being typed.

The parser is the one ``mapper lint`` uses (``mapping_parser``); its interactive mode answers
"which terminals are acceptable here", so the keywords offered are the grammar's own. When the
text before the cursor does not parse (an error further up), the text from the start of the
enclosing top-level block is tried instead.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from lark import Token
from lark.exceptions import LarkError
from lark.lexer import PatternStr

from mapper.language.grammar import mapping_parser

#: The word being typed: path characters, and bracketed value filters (maybe unclosed).
_PARTIAL = re.compile(r"(?:[\w$:.\-]|\[[^\]\n]*\]?)*\Z")
_TOP_LEVEL = re.compile(r"^(?:connector|source|schema|object)\b", re.MULTILINE)
#: What may hide braces: SQL bodies (maybe unterminated at the cursor), strings and comments.
_OPAQUE = re.compile(r'sql"""[\s\S]*?(?:"""|\Z)|"(?:[^"\\\n]|\\.)*"?|#[^\n]*')
#: The keywords that open a block inside an object, by token type.
_INNER_BLOCKS = {
    "ATTRIBUTES": "attributes",
    "MULTI": "multi",
    "WRITE": "write",
    "DELTA": "delta",
    "MAP": "map",
}
_TOP_BLOCKS = {"SOURCE": "source", "SCHEMA": "schema", "OBJECT": "object"}


@functools.lru_cache(maxsize=1)
def keywords() -> dict[str, str]:
    """The grammar's keywords: terminal name -> word (``ANCHOR`` -> ``anchor``)."""
    out: dict[str, str] = {}
    for terminal in mapping_parser().terminals:
        pattern = terminal.pattern
        if isinstance(pattern, PatternStr) and re.fullmatch(r"[A-Za-z]+", pattern.value):
            out[terminal.name] = pattern.value
    return out


@functools.lru_cache(maxsize=1)
def symbols() -> dict[str, str]:
    """The grammar's other literal terminals: name -> text (``__ANON_0`` -> ``<->``)."""
    out: dict[str, str] = {}
    for terminal in mapping_parser().terminals:
        pattern = terminal.pattern
        if isinstance(pattern, PatternStr) and terminal.name not in keywords():
            out[terminal.name] = pattern.value
    return out


ARROWS = frozenset({"<->", "<-", "->"})


@dataclass
class Block:
    """An open block: its kind (source, schema, object, attributes, multi, write, delta, map) and
    the tokens of its header (``object User from hr schema core``)."""

    kind: str
    header: list[Token]

    @property
    def name(self) -> str | None:
        return str(self.header[1]) if len(self.header) > 1 else None

    def option(self, keyword: str) -> str | None:
        """The word after ``keyword`` in the header (``schema`` -> the alias)."""
        for i, token in enumerate(self.header[:-1]):
            if token.type == keyword:
                return str(self.header[i + 1])
        return None


@dataclass
class Cursor:
    """The grammar's view of the cursor. ``accepts``: terminal names that may come next (empty
    when the text before the cursor does not parse); ``line``: the tokens since the last block
    boundary or line end; ``start``: the offset where the word being typed starts."""

    start: int
    partial: str
    accepts: frozenset[str] = frozenset()
    blocks: list[Block] = field(default_factory=list)
    line: list[Token] = field(default_factory=list)
    imports: dict[str, str] = field(default_factory=dict)  # object name -> import SQL seen before the cursor
    parsed: bool = False

    @property
    def previous(self) -> Token | None:
        return self.line[-1] if self.line else None

    def inside(self, kind: str) -> Block | None:
        return next((b for b in reversed(self.blocks) if b.kind == kind), None)

    @property
    def innermost(self) -> str | None:
        return self.blocks[-1].kind if self.blocks else None


@dataclass(frozen=True)
class Opaque:
    """The cursor is inside an SQL body, a string or a comment. ``kind``: sql, string, comment;
    ``start``: where the body's text starts (after ``sql\"\"\"``)."""

    kind: str
    start: int


def opaque_at(text: str, offset: int) -> Opaque | None:
    """Whether ``offset`` falls inside an SQL body, a string or a comment."""
    for match in _OPAQUE.finditer(text, 0, offset):
        if match.end() < offset or (match.end() == offset and _closed(match.group())):
            continue
        token = match.group()
        if token.startswith('sql"""'):
            return Opaque("sql", match.start() + 6)
        if token.startswith('"'):
            return Opaque("string", match.start() + 1)
        return Opaque("comment", match.start())
    return None


def _closed(token: str) -> bool:
    if token.startswith('sql"""'):
        return len(token) >= 9 and token.endswith('"""')
    if token.startswith('"'):
        return len(token) >= 2 and token.endswith('"') and not token.endswith('\\"')
    return False  # a comment runs to the end of its line


def cursor_at(text: str, offset: int) -> Cursor:
    """The grammar's view of the cursor at ``offset`` in ``text``."""
    line_start = text.rfind("\n", 0, offset) + 1
    partial = _PARTIAL.search(text, line_start, offset)
    start = partial.start() if partial else offset
    cursor = Cursor(start=start, partial=text[start:offset])
    for begin in _starts(text, start):
        if _feed(cursor, text[begin:start]):
            break
    return cursor


def _starts(text: str, start: int) -> list[int]:
    """Where to start parsing: the file, else the last top-level block before the cursor."""
    tops = [m.start() for m in _TOP_LEVEL.finditer(text, 0, start)]
    return [0] + ([tops[-1]] if tops and tops[-1] > 0 else [])


def _feed(cursor: Cursor, prefix: str) -> bool:
    interactive = mapping_parser().parse_interactive(prefix)
    blocks: list[Block] = []
    line: list[Token] = []
    imports: dict[str, str] = {}
    try:
        for token in interactive.iter_parse():
            if token.type == "LBRACE":
                blocks.append(Block(_kind(blocks, line), line))
                line = []
            elif token.type == "RBRACE":
                if blocks:
                    blocks.pop()
                line = []
            elif token.type == "_NL":
                line = []
            else:
                line.append(token)
                if token.type == "SQL" and len(line) >= 2 and line[-2].type == "IMPORT" and blocks:
                    if blocks[-1].kind == "object" and blocks[-1].name:
                        imports.setdefault(blocks[-1].name, str(token)[6:-3])
        accepts = interactive.accepts()
    except LarkError:
        return False
    cursor.accepts = frozenset(accepts)
    cursor.blocks = blocks
    cursor.line = line
    cursor.imports = imports
    cursor.parsed = True
    return True


def _kind(blocks: list[Block], header: list[Token]) -> str:
    if not blocks:
        return _TOP_BLOCKS.get(header[0].type, "unknown") if header else "unknown"
    for token in reversed(header):
        if token.type in _INNER_BLOCKS:
            return _INNER_BLOCKS[token.type]
    return "unknown"
