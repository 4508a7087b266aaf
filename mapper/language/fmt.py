"""The canonical layout of a mapping file: ``format_mapping(mapping) -> str``.

Layout: 2-space indents; one blank line between top-level blocks; inside an object the items
come in a fixed order, in groups separated by one blank line (anchor, query, dn, id | import,
delta | attributes | each multi | write, disable, delete, tombstone, recreate); the columns of
an attributes or schema block are aligned, as are the statements of multi and write blocks; SQL
bodies are kept verbatim. docs/language.md, "Canonical layout", says the same for users.

Comments survive: a comment after code on a line stays at the end of that construct's line,
and a comment on its own line goes before the construct that follows it in the source (or
before the closing brace of its block), keeping a blank line written before or after it.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from mapper.language.model import (
    Assignment,
    AttributeMapping,
    Comment,
    DeltaTable,
    Deprovision,
    Dn,
    MappingFile,
    MultiValued,
    ObjectType,
    Recreate,
    SchemaDecl,
    Source,
    SqlBlock,
    Statement,
    ValueMap,
    Writes,
)

INDENT = "  "
MAX_WIDTH = 100  # a call longer than this wraps its parameters
ARROWS = {"both": "<->", "import": "<-", "export": "->"}


@dataclass
class Chunk:
    """One construct of the output: its text (several lines for SQL), depth and source offset.

    ``anchor`` is where the construct starts in the source (comments attach by it); ``None``
    for a chunk that never takes comments. A ``closing`` chunk is a block's ``}``: comments
    before it are indented like the block's contents.
    """

    text: str
    depth: int
    anchor: int | None
    blank_before: bool = False
    closing: bool = False
    leading: list[Comment] = field(default_factory=list)
    trailing: list[Comment] = field(default_factory=list)  # at most one


def format_mapping(mapping: MappingFile) -> str:
    """The file in canonical layout, comments included; ends with one newline (``\\r\\n`` line
    ends when the file had them)."""
    chunks: list[Chunk] = []
    blocks: list[Source | SchemaDecl | ObjectType] = [*mapping.sources, *mapping.schemas, *mapping.objects]
    blocks.sort(key=lambda block: block.span.offset)
    for block in blocks:
        start = len(chunks)
        if isinstance(block, Source):
            chunks.extend(_source(block))
        elif isinstance(block, SchemaDecl):
            chunks.extend(_schema(block))
        else:
            chunks.extend(_object(block, mapping.text))
        chunks[start].blank_before = start > 0
    chunks.append(Chunk("", 0, len(mapping.text) + 1))  # the end of the file takes final comments
    _attach_comments(chunks, mapping.comments, mapping.text)
    out = _render(chunks, mapping.text)
    if "\r\n" in mapping.text:  # keep Windows line ends, everywhere (SQL bodies included)
        out = out.replace("\r\n", "\n").replace("\n", "\r\n")
    return out


# -- rendering ----------------------------------------------------------------------------------


def _render(chunks: list[Chunk], text: str) -> str:
    lines: list[str] = []
    source = text.split("\n")

    def blank() -> None:
        if lines and lines[-1] != "" and not lines[-1].endswith("{"):
            lines.append("")

    for chunk in chunks:
        if chunk.blank_before:
            blank()
        depth = chunk.depth + 1 if chunk.closing else chunk.depth
        for i, comment in enumerate(chunk.leading):
            if _blank_line_before(source, comment.span.line):
                blank()
            lines.append(INDENT * depth + comment.text)
            if i == len(chunk.leading) - 1 and chunk.anchor is not None and not chunk.closing:
                if _blank_line_between(source, comment.span.line, _line_of(text, chunk.anchor)):
                    blank()
        if not chunk.text:
            continue
        body = INDENT * chunk.depth + chunk.text
        if chunk.trailing:
            body += "  " + chunk.trailing[0].text
        lines.append(body)
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n" if lines else ""


def _attach_comments(chunks: list[Chunk], comments: tuple[Comment, ...], text: str) -> None:
    anchored = sorted((c for c in chunks if c.anchor is not None), key=lambda c: c.anchor or 0)
    anchors = [c.anchor or 0 for c in anchored]
    for comment in comments:
        offset = comment.span.offset
        index = bisect.bisect_right(anchors, offset)  # anchored[index - 1] starts at or before it
        line_start = text.rfind("\n", 0, offset) + 1
        if text[line_start:offset].strip() and index > 0:  # after code: ends that construct's line
            owner = anchored[index - 1]
            # one comment ends a line; earlier ones (a construct written over several lines)
            # move to their own lines before it, in order
            owner.leading.extend(owner.trailing)
            owner.trailing = [comment]
        else:  # on its own line: goes before the construct that follows it
            anchored[index].leading.append(comment)


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _blank_line_before(source: list[str], line: int) -> bool:
    return line >= 2 and not source[line - 2].strip()


def _blank_line_between(source: list[str], first: int, last: int) -> bool:
    return any(not source[n - 1].strip() for n in range(first + 1, min(last, len(source) + 1)))


# -- top-level blocks ---------------------------------------------------------------------------


def _closing(span_end: int, depth: int) -> Chunk:
    return Chunk("}", depth, span_end - 1, closing=True)


def _source(source: Source) -> list[Chunk]:
    chunks = [Chunk(f"source {source.name.value} {{", 0, source.span.offset)]
    if source.dialect is not None:
        chunks.append(Chunk(f"dialect {source.dialect.value}", 1, source.dialect.span.offset))
    if source.url is not None:
        if source.url.kind == "env":
            args = [source.url.var] if source.url.default is None else [source.url.var, source.url.default]
            url = f"env({', '.join(map(quote, args))})"
        else:
            url = quote(source.url.value)
        chunks.append(Chunk(f"url {url}", 1, source.url.span.offset))
    return [*chunks, _closing(source.span.end_offset, 0)]


def _schema(schema: SchemaDecl) -> list[Chunk]:
    chunks = [Chunk(f"schema {schema.alias.value} {quote(schema.urn.value)} {{", 0, schema.span.offset)]
    name_width = max((len(a.name.value) for a in schema.attributes), default=0)
    type_width = max((len(a.type.value) for a in schema.attributes), default=0)
    for attribute in schema.attributes:
        flags = [
            word
            for word, on in (
                ("multi", attribute.multi_valued),
                ("required", attribute.required),
                ("caseExact", attribute.case_exact),
            )
            if on
        ]
        line = f"{attribute.name.value.ljust(name_width)} {attribute.type.value}"
        if flags:
            line = f"{line.ljust(name_width + 1 + type_width)} {' '.join(flags)}"
        chunks.append(Chunk(line, 1, attribute.span.offset))
    return [*chunks, _closing(schema.span.end_offset, 0)]


def _object(obj: ObjectType, text: str) -> list[Chunk]:
    header = f"object {obj.name.value} from {obj.source.value}"
    if obj.schema_alias is not None:
        header += f" schema {obj.schema_alias.value}"
    if obj.endpoint is not None:
        header += f" endpoint {quote(obj.endpoint.value)}"
    groups: list[list[Chunk]] = [[], [], [], []]
    if obj.anchor is not None:
        anchor = obj.anchor
        how = {"database": "generated by database", "uuid": "uuid"}.get(anchor.generation)
        if how is None:
            how = f"from {anchor.attribute.value if anchor.attribute else ''}"
        groups[0].append(Chunk(f"anchor {anchor.column.value} {how}", 1, anchor.span.offset))
    if obj.query is not None:
        groups[0].append(Chunk(f"query {obj.query.value}", 1, obj.query.span.offset))
    if obj.dn is not None:
        groups[0].append(Chunk(_dn(obj.dn), 1, obj.dn.span.offset))
    if obj.id_source is not None:
        groups[0].append(Chunk(f"id {obj.id_source.value}", 1, obj.id_source.span.offset))
    if obj.import_sql is not None:
        groups[1].append(Chunk(f"import {sql(obj.import_sql)}", 1, obj.import_sql.span.offset))
    if obj.delta is not None:
        if isinstance(obj.delta, DeltaTable):
            groups[1].extend(_delta_table(obj.delta))
        elif obj.delta.kind == "watermark":
            groups[1].append(Chunk(f"delta watermark {obj.delta.column.value}", 1, obj.delta.span.offset))
        else:
            groups[1].append(Chunk("delta none", 1, obj.delta.span.offset))
    groups[2] = _attributes(obj, text)
    multis = [_multi(multi) for multi in obj.multi]
    if obj.writes is not None:
        groups[3].extend(_writes(obj.writes))
    for keyword, rule in (("disable", obj.disable), ("delete", obj.delete)):
        if rule is not None:
            groups[3].append(Chunk(f"{keyword} {_deprovision(rule)}", 1, rule.span.offset))
    if obj.tombstone is not None:
        groups[3].append(Chunk(f"tombstone {sql(obj.tombstone.sql)}", 1, obj.tombstone.span.offset))
    if obj.recreate is not None:
        groups[3].append(Chunk(_recreate(obj.recreate), 1, obj.recreate.span.offset))
    chunks = [Chunk(f"{header} {{", 0, obj.span.offset)]
    for group in [*groups[:3], *multis, groups[3]]:
        if group:
            group[0].blank_before = len(chunks) > 1
            chunks.extend(group)
    return [*chunks, _closing(obj.span.end_offset, 0)]


# -- object items -------------------------------------------------------------------------------


def _dn(dn: Dn) -> str:
    if dn.kind == "anchor" or dn.value is None:
        return "dn anchor"
    if dn.kind == "column":
        return f"dn column {dn.value.value}"
    return f"dn {quote(dn.value.value)}"


def _delta_table(delta: DeltaTable) -> list[Chunk]:
    """One line: ``delta table T { sequence C  anchor C  type C }``."""
    parts = (("sequence", delta.sequence), ("anchor", delta.anchor), ("type", delta.change_type))
    inside = "  ".join(f"{word} {name.value}" for word, name in parts if name is not None)
    body = f"{{ {inside} }}" if inside else "{}"
    return [Chunk(f"delta table {delta.table.value} {body}", 1, delta.span.offset)]


_ATTRIBUTES = re.compile(r"\battributes\s*\{")
_TO_CLOSING_BRACE = re.compile(r"(?:\s|#[^\n]*)*\}")


def _attributes(obj: ObjectType, text: str) -> list[Chunk]:
    mappings = obj.attributes
    if not mappings:
        return []
    first, last = mappings[0].span, mappings[-1].span
    opening = [m.start() for m in _ATTRIBUTES.finditer(text, obj.span.offset, first.offset)]
    closing = _TO_CLOSING_BRACE.match(text, last.end_offset)
    path_width = max(len(m.path.value) for m in mappings)
    column_width = max(len(_column(m)) for m in mappings)
    chunks = [Chunk("attributes {", 1, opening[-1] if opening else None)]
    chunks.extend(Chunk(_mapping(m, path_width, column_width), 2, m.span.offset) for m in mappings)
    brace = closing.end() - 1 if closing else None
    chunks.append(Chunk("}", 1, brace, closing=True))
    return chunks


def _mapping(mapping: AttributeMapping, path_width: int, column_width: int) -> str:
    modifiers = [mapping.type.value] if mapping.type is not None else []
    for word, on in (
        ("required", mapping.required),
        ("unique", mapping.unique),
        ("caseExact", mapping.case_exact),
        ("sensitive", mapping.sensitive),
    ):
        if on:
            modifiers.append(word)
    if mapping.reference is not None:
        modifiers.append(f"reference {mapping.reference.value}")
        if mapping.on_missing is not None:
            modifiers.append(f"on missing {mapping.on_missing.value}")
    if mapping.value_map is not None:
        modifiers.append(_value_map(mapping.value_map))
    arrow = ARROWS[mapping.direction]
    line = f"{mapping.path.value.ljust(path_width)} {arrow.ljust(3)} {_column(mapping)}"
    if modifiers:
        line = f"{line.ljust(path_width + 5 + column_width)} {' '.join(modifiers)}"
    return line


def _column(mapping: AttributeMapping) -> str:
    return f"not {mapping.column.value}" if mapping.negated else mapping.column.value


def _value_map(value_map: ValueMap) -> str:
    """``map { a: b, ... } else X``, on one line."""
    entries = ", ".join(f"{literal(e.scim)}: {literal(e.stored)}" for e in value_map.entries)
    text = f"map {{ {entries} }}"
    if value_map.otherwise == "error":
        return f"{text} else error"
    if value_map.otherwise == "value":
        return f"{text} else {literal(value_map.default)}"
    return text


def _multi(multi: MultiValued) -> list[Chunk]:
    header = f"multi {multi.attribute.value}"
    if multi.reference is not None:
        header += f" reference {multi.reference.value}"
        if multi.on_missing is not None:
            header += f" on missing {multi.on_missing.value}"
    items: list[tuple[str, Statement, int]] = []
    if multi.import_sql is not None:
        items.append(("import", multi.import_sql, multi.import_sql.span.offset))
    for word, statement in (("add", multi.add), ("remove", multi.remove)):
        if statement is not None:
            items.append((word, statement, statement.span.offset))
    return [
        Chunk(f"{header} {{", 1, multi.span.offset),
        *_keyword_lines(items, 2),
        _closing(multi.span.end_offset, 1),
    ]


def _writes(writes: Writes) -> list[Chunk]:
    if writes.table is not None:
        return [Chunk(f"write table {writes.table.value}", 1, writes.span.offset)]
    parts = (("insert", writes.insert), ("update", writes.update), ("delete", writes.delete))
    items = [(word, stmt, stmt.span.offset) for word, stmt in parts if stmt is not None]
    return [
        Chunk("write {", 1, writes.span.offset),
        *_keyword_lines(items, 2),
        _closing(writes.span.end_offset, 1),
    ]


def _keyword_lines(items: list[tuple[str, Statement, int]], depth: int) -> list[Chunk]:
    """``keyword statement`` lines with the statements aligned after the longest keyword."""
    width = max((len(word) for word, _, _ in items), default=0)
    column = len(INDENT) * depth + width + 1
    return [
        Chunk(f"{word.ljust(width)} {_statement(statement, column)}", depth, offset)
        for word, statement, offset in items
    ]


def _statement(statement: Statement, column: int) -> str:
    """SQL verbatim, or ``call name(:a, :b)`` wrapped to ``MAX_WIDTH`` with the parameters aligned."""
    if isinstance(statement, SqlBlock):
        return sql(statement)
    head = f"call {statement.name.value}("
    params = [f":{p.value}" for p in statement.params]
    one_line = head + ", ".join(params) + ")"
    if column + len(one_line) <= MAX_WIDTH or len(params) < 2:
        return one_line
    lines = [head]
    for i, param in enumerate(params):
        piece = param + ("," if i < len(params) - 1 else ")")
        if lines[-1] != head and column + len(lines[-1]) + 1 + len(piece) > MAX_WIDTH:
            lines.append(" " * len(head))
            lines[-1] += piece
        else:
            lines[-1] += ("" if lines[-1].endswith("(") or not lines[-1].strip() else " ") + piece
    indent = " " * column
    return lines[0] + "".join(f"\n{indent}{line}" for line in lines[1:])


def _deprovision(rule: Deprovision) -> str:
    if rule.action != "set":
        return rule.action
    return "set " + _assignments(rule.assignments)


def _assignments(assignments: tuple[Assignment, ...]) -> str:
    return ", ".join(f"{a.column.value} = {_set_value(a)}" for a in assignments)


def _set_value(assignment: Assignment) -> str:
    if assignment.sql is not None:
        return sql(assignment.sql)
    if assignment.expression is not None:
        return assignment.expression.value
    return literal(assignment.value)


def _recreate(recreate: Recreate) -> str:
    if recreate.policy == "conflict":
        return "recreate conflict"
    if recreate.assignments:
        return f"recreate revive set {_assignments(recreate.assignments)}"
    return "recreate revive"


# -- tokens -------------------------------------------------------------------------------------


def sql(block: SqlBlock) -> str:
    """The block as written: ``sql\"\"\"`` + text + ``\"\"\"``."""
    return f'sql"""{block.text}"""'


def quote(value: str) -> str:
    """A string literal that parses back to ``value``: only ``"`` and ambiguous ``\\`` are escaped."""
    out: list[str] = []
    for i, char in enumerate(value):
        if char == '"':
            out.append('\\"')
        elif char == "\\" and (i + 1 == len(value) or value[i + 1] in '"\\'):
            out.append("\\\\")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def literal(value: str | int | float | bool | None) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return quote(value)
    return repr(value)
