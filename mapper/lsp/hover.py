"""Hover: the documentation of what is under the cursor. A diagnostic there is explained as
``mapper lint --explain`` explains its code; a keyword by ``mapper.lsp.keywords``; a SCIM path
of the attribute map by its schema (type, mutability, description); a column by the import
query it comes from; an object's name by its declaration."""

from __future__ import annotations

import re

from lsprotocol import types

from mapper.compiler.paths import PathError, SchemaTable, make_resolver
from mapper.diagnostics import Diagnostic
from mapper.language.model import MappingFile, ObjectType, Span
from mapper.lint.codes import explain
from mapper.lint.lint import LintResult
from mapper.lsp.context import opaque_at
from mapper.lsp.keywords import describe
from mapper.lsp.positions import Positions

_WORD = re.compile(r"[\w$]+")
_CODE = re.compile(r"MAP\d{3}\Z", re.IGNORECASE)


def hover(
    positions: Positions, offset: int, result: LintResult, diagnostics: list[Diagnostic]
) -> types.Hover | None:
    text = positions.text
    parts: list[str] = []
    for d in diagnostics:
        if d.span.offset <= offset <= max(d.span.end_offset, d.span.offset + 1):
            parts.append(f"**{d.code}**: {d.message}" + (f"\n\nhelp: {d.hint}" if d.hint else ""))
            parts.append(explain(d.code) or "")
    word = word_at(text, offset)
    if word is not None and _CODE.match(word[0]):
        parts.append(explain(word[0]) or f"{word[0]}: no such diagnostic code")
    elif word is not None and opaque_at(text, offset) is None:
        found = _construct(result.mapping, offset) if result.mapping is not None else None
        if found is None:
            found = describe(word[0])
        if found is not None:
            parts.append(found)
    parts = [p for p in parts if p]
    if not parts:
        return None
    return types.Hover(
        contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value="\n\n---\n\n".join(parts)),
        range=types.Range(start=positions.at(word[1]), end=positions.at(word[2])) if word else None,
    )


def word_at(text: str, offset: int) -> tuple[str, int, int] | None:
    """The word around ``offset`` and where it starts and ends."""
    line_start = text.rfind("\n", 0, offset) + 1
    line_end = text.find("\n", offset)
    line_end = len(text) if line_end < 0 else line_end
    for match in _WORD.finditer(text, line_start, line_end):
        if match.start() <= offset <= match.end():
            return match.group(), match.start(), match.end()
    return None


def _within(span: Span, offset: int) -> bool:
    return span.offset <= offset <= span.end_offset


def _construct(mapping: MappingFile, offset: int) -> str | None:
    table = SchemaTable.of(mapping.schemas)
    for obj in mapping.objects:
        if not _within(obj.span, offset):
            continue
        core = table.by_alias.get(obj.schema_alias.value) if obj.schema_alias else None
        resolver = make_resolver(obj.name.value, core, table)
        for m in obj.attributes:
            if _within(m.path.span, offset):
                try:
                    r = resolver.resolve(m.path.value)
                except PathError as exc:
                    return f"`{m.path.value}`: {exc}"
                flags = ", ".join(
                    f for f, on in (("multi-valued", r.multi_valued), ("required", r.required)) if on
                )
                doc = _description(resolver.schemas, r.schema_urn, r.attribute)
                return (
                    f"**{r.path}** ({r.type}{', ' + flags if flags else ''}, {r.mutability})\n\n"
                    f"schema `{r.schema_urn}`" + (f"\n\n{doc}" if doc else "")
                )
            if _within(m.column.span, offset):
                where = f"a column of {obj.name.value}'s import query"
                return f"**{m.column.value}**: {where}, mapped to `{m.path.value}`"
            if m.reference is not None and _within(m.reference.span, offset):
                return _object_doc(mapping, m.reference.value)
        for multi in obj.multi:
            if multi.reference is not None and _within(multi.reference.span, offset):
                return _object_doc(mapping, multi.reference.value)
        if _within(obj.source.span, offset):
            return f"**{obj.source.value}**: the source {obj.name.value} reads"
        if _within(obj.name.span, offset):
            return _object_doc(mapping, obj.name.value)
    return None


def _object_doc(mapping: MappingFile, name: str) -> str:
    obj: ObjectType | None = next((o for o in mapping.objects if o.name.value == name), None)
    if obj is None:
        return f"**{name}**: no object of this name in this file"
    mapped = ", ".join(m.path.value for m in obj.attributes[:8])
    return f"**object {name}** from `{obj.source.value}`, declared on line {obj.name.span.line}" + (
        f"\n\nattributes: {mapped}" if mapped else ""
    )


def _description(schemas: dict, urn: str, attribute: str) -> str:
    schema = schemas.get(urn)
    found = schema.attribute(attribute) if schema is not None else None
    return found.description if found is not None else ""
