"""Placing what the database says about a plan statement back in the mapping file.

The compiler's source map (:class:`mapper.compiler.context.Origin`) gives each statement the span
of the SQL block, clause or ``write table`` line it came from. A name the database complains
about is then looked for inside that span (``delete set lockd = true`` points at ``lockd``), then
among the object's attribute map columns and its ``create set`` columns (a derived insert's
columns come from there), and otherwise the diagnostic points at the whole span. A value the
database cannot convert is looked for among the ``create set`` values first (:func:`value_place`)."""

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


def value_place(mapping: MappingFile, word: str | None, obj: ObjectType | None) -> Span | None:
    """The span of the value of ``obj``'s ``create set`` assignment whose value is ``word`` (as
    the database quotes a value it cannot convert: PostgreSQL's ``invalid input syntax for type
    bigint: "one"``), quotes included; None when no assignment's value is that."""
    if word is None or obj is None or obj.create is None:
        return None
    for assignment in obj.create.assignments:
        if assignment.expression is None and assignment.value is not None and str(assignment.value) == word:
            equals = mapping.text.find("=", assignment.column.span.end_offset, assignment.span.end_offset)
            start = equals + 1
            while start < assignment.span.end_offset and mapping.text[start].isspace():
                start += 1
            if equals >= 0 and start < assignment.span.end_offset:
                return span_of(mapping.text, start, assignment.span.end_offset)
    return None


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
