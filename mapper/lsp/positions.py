"""Positions between the mapping file's spans and the editor's.

A ``Span`` counts 1-based lines and columns in characters (code points), lines split at ``\\n``
only. The Language Server Protocol counts 0-based lines and columns in the units the client and
server agreed on at start-up: UTF-16 code units unless both said otherwise. ``Positions`` turns
one into the other for one text.
"""

from __future__ import annotations

from lsprotocol import types

from mapper.language.model import Span


class Positions:
    """Line and column conversions for ``text`` in ``encoding`` (an LSP position encoding)."""

    def __init__(self, text: str, encoding: str = types.PositionEncodingKind.Utf16) -> None:
        self.text = text
        self.lines = text.split("\n")
        self.encoding = encoding
        starts = [0]
        for line in self.lines[:-1]:
            starts.append(starts[-1] + len(line) + 1)
        self._starts = starts

    def _units(self, chars: str) -> int:
        if self.encoding == types.PositionEncodingKind.Utf32:
            return len(chars)
        if self.encoding == types.PositionEncodingKind.Utf8:
            return len(chars.encode("utf-8"))
        return len(chars) + sum(1 for c in chars if ord(c) > 0xFFFF)

    def position(self, line: int, col: int) -> types.Position:
        """The client position of 1-based ``line`` and character column ``col``."""
        index = min(max(line - 1, 0), len(self.lines) - 1)
        if line - 1 >= len(self.lines):  # past the end: the end of the text
            return types.Position(line=index, character=self._units(self.lines[index]))
        return types.Position(line=index, character=self._units(self.lines[index][: max(col - 1, 0)]))

    def range(self, span: Span) -> types.Range:
        return types.Range(
            start=self.position(span.line, span.col), end=self.position(span.end_line, span.end_col)
        )

    def offset(self, position: types.Position) -> int:
        """The character offset in ``text`` of a client position (clamped to the text)."""
        if position.line >= len(self.lines):
            return len(self.text)
        line = self.lines[position.line]
        units, chars = 0, 0
        for char in line:
            if units >= position.character:
                break
            units += self._units(char)
            chars += 1
        return self._starts[position.line] + chars

    def at(self, offset: int) -> types.Position:
        """The client position of a character offset."""
        offset = min(max(offset, 0), len(self.text))
        line = self.text.count("\n", 0, offset)
        start = self._starts[line]
        return types.Position(line=line, character=self._units(self.text[start:offset]))

    def whole(self) -> types.Range:
        """The range of the whole text."""
        return types.Range(start=types.Position(line=0, character=0), end=self.at(len(self.text)))
