"""Placing what the database says about a plan statement back in the mapping file.

The compiler's source map (:class:`mapper.compiler.context.Origin`) gives each statement the span
of the SQL block, clause or ``write table`` line it came from. A name the database complains
about is then looked for inside that span (``delete set lockd = true`` points at ``lockd``), then
among the object's attribute map columns and its ``create set`` columns (a derived insert's
columns come from there), and otherwise the diagnostic points at the whole span."""

from __future__ import annotations

import re

from mapper.diagnostics import Span
from mapper.language.model import MappingFile, ObjectType


def find_object(mapping: MappingFile, name: str) -> ObjectType | None:
    return next((o for o in mapping.objects if o.name.value == name), None)


def place(mapping: MappingFile, span: Span, word: str | None, obj: ObjectType | None) -> Span:
    """The span of ``word`` inside ``span`` in the mapping text, else of the attribute map
    column or the ``create set`` column of ``obj`` named ``word``, else ``span`` itself."""
    if not word:
        return span
    found = _search(mapping.text, word, span.offset, span.end_offset)
    if found is not None:
        return found
    for line in obj.attributes if obj is not None else ():
        if line.column.value.lower() == word.lower():
            return line.column.span
    for assignment in obj.create.assignments if obj is not None and obj.create is not None else ():
        if assignment.column.value.lower() == word.lower():
            return assignment.column.span
    return span


def _search(text: str, word: str, start: int, end: int) -> Span | None:
    if end <= start:
        return None
    pattern = re.compile(rf"(?<![\w$]){re.escape(word)}(?![\w$])", re.IGNORECASE)
    match = pattern.search(text, start, end)
    if match is None:
        return None
    return span_of(text, match.start(), match.end())


def span_of(text: str, start: int, end: int) -> Span:
    """The file span of characters ``start``..``end`` (exclusive) of the mapping ``text``."""

    def at(offset: int) -> tuple[int, int]:
        return text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)

    (line, col), (end_line, end_col) = at(start), at(end)
    return Span(line=line, col=col, end_line=end_line, end_col=end_col, offset=start, end_offset=end)
