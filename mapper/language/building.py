"""What every part of the model builder shares: positions (:class:`LineIndex`), strings, the
``Item`` a block's lines become before the block is assembled, and :class:`Builder`, the base of
the transformer classes in :mod:`mapper.language.transform`, with the span, name and SQL helpers
and the MAP005 duplicate check."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Any

from lark import Token, Tree
from lark.tree import Meta

from mapper.diagnostics import Diagnostic, Span, error
from mapper.language.model import Name, SqlBlock

SQL_OPEN = 'sql"""'
SQL_CLOSE = '"""'
_NEWLINE = re.compile("\n")


class LineIndex:
    """Turns character offsets of one text into 1-based line/column spans."""

    def __init__(self, text: str) -> None:
        # A regex scan, not a loop over every character: that loop was a tenth of parsing a file.
        self._starts = [0, *(match.end() for match in _NEWLINE.finditer(text))]

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self._starts, offset)
        return line, offset - self._starts[line - 1] + 1

    def span(self, start: int, end: int) -> Span:
        line, col = self.position(start)
        end_line, end_col = self.position(end)
        return Span(line=line, col=col, end_line=end_line, end_col=end_col, offset=start, end_offset=end)


#: The terminals that may be written as quoted identifiers (``"Staff"``, ``hr."Staff"``).
_QUOTABLE = frozenset({"QUOTED_IDENT", "QNAME"})


def unquote(token: str) -> str:
    """The value of a ``"..."`` string: ``\\"`` and ``\\\\`` are escapes, other backslashes stay."""
    body = token[1:-1]
    out: list[str] = []
    i = 0
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body) and body[i + 1] in '"\\':
            out.append(body[i + 1])
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out)


@dataclass(frozen=True)
class Item:
    """One item of a block before the block is assembled: which keyword, its value, its span."""

    kind: str
    value: Any
    span: Span


class Builder:
    """The state and helpers of the model builder; ``diagnostics`` collects the MAP005 duplicates
    it meets.

    ``transform`` walks the parse tree itself, innermost rule first, calling the method named
    after each rule (or alias) with the rule's ``meta`` (its positions) and its built children.
    Lark's ``Transformer`` with ``v_args(meta=True)`` does the same through a new wrapper object
    per call, which was about a fifth of building the model of a large file."""

    def __init__(self, text: str, path: str) -> None:
        self.text = text
        self.path = path
        self.lines = LineIndex(text)
        self.diagnostics: list[Diagnostic] = []

    def transform(self, tree: Tree[Token]) -> Any:
        """The model node ``tree`` stands for; a rule without a method stays a tree, as in Lark."""
        children = [self.transform(c) if isinstance(c, Tree) else c for c in tree.children]
        rule = getattr(self, tree.data, None)
        return Tree(tree.data, children, tree.meta) if rule is None else rule(tree.meta, children)

    def _span(self, meta: Meta) -> Span:
        return self.lines.span(meta.start_pos, meta.end_pos)

    def _name(self, token: Token, value: str | None = None) -> Name:
        assert token.start_pos is not None and token.end_pos is not None
        span = self.lines.span(token.start_pos, token.end_pos)
        if value is None and token.type in _QUOTABLE and '"' in token.value:
            written = Name(value=token.value, span=span, written=token.value)
            return written.model_copy(update={"value": ".".join(part for part, _ in written.parts)})
        return Name(value=token.value if value is None else value, span=span)

    def _param(self, token: Token) -> Name:
        """``:name`` as ``name``; the span covers the colon too, as messages quote ``:name``."""
        return self._name(token, token.value[1:])

    def _string(self, token: Token) -> Name:
        return self._name(token, unquote(token.value))

    def _sql(self, token: Token) -> SqlBlock:
        assert token.start_pos is not None and token.end_pos is not None
        start = token.start_pos + len(SQL_OPEN)
        end = token.end_pos - len(SQL_CLOSE)
        return SqlBlock(
            text=token.value[len(SQL_OPEN) : -len(SQL_CLOSE)],
            span=self.lines.span(token.start_pos, token.end_pos),
            text_span=self.lines.span(start, end),
        )

    def _gather(self, items: list[Item], where: str) -> dict[str, Item]:
        """Items by kind; a second item of a kind is reported (MAP005) and dropped."""
        found: dict[str, Item] = {}
        for item in items:
            first = found.get(item.kind)
            if first is None:
                found[item.kind] = item
                continue
            self.diagnostics.append(
                error(
                    "MAP005",
                    f"duplicate '{item.kind}' in {where}",
                    self.path,
                    item.span,
                    hint=f"the first '{item.kind}' is at line {first.span.line}; keep only one",
                )
            )
        return found

    @staticmethod
    def _value(found: dict[str, Item], kind: str) -> Any:
        item = found.get(kind)
        return None if item is None else item.value
