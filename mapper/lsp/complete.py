"""Completion: what may be typed at the cursor, from the grammar (``mapper.lsp.context``), the
SCIM schemas (core, enterprise and the file's own), the import query's projection and, when the
database is reachable, its tables and columns.

Which list a name comes from is decided by the token before the cursor: after an arrow, a column
of the object's import query; after ``reference``, an object; after ``table``, a table of the
database; where the grammar accepts a SCIM path, the paths of the enclosing object's schemas.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import sqlglot
from lsprotocol import types
from sqlglot import exp

from mapper.checks.scimpaths import SCIM_TYPES
from mapper.checks.sources import DIALECTS, dialect_of
from mapper.compiler.paths import SchemaTable, make_resolver
from mapper.compiler.projection import project
from mapper.compiler.sqltext import quiet_sqlglot
from mapper.language.model import MappingFile, ObjectType
from mapper.lsp.context import ARROWS, Cursor, cursor_at, keywords, opaque_at, symbols
from mapper.lsp.live import CatalogSnapshot
from mapper.lsp.positions import Positions
from mapper.scimschema import COMMON, EXTENSIONS_OF, PREFIXES, AttributeDef, SchemaDef

#: Characters after which an editor asks for completion without a keystroke of a word.
TRIGGERS = [".", "["]

_K = types.CompletionItemKind
_SQL_TABLE_BEFORE = re.compile(r"\b(from|join|into|update|table)\s+[\w$.]*\Z", re.IGNORECASE)
_SQL_TABLES = re.compile(r"\b(?:from|join|into|update)\s+([\w$.]+)", re.IGNORECASE)
_SQL_WORD = re.compile(r"[\w$]*\Z")
_IN_FILTER = re.compile(r"\[[^\]\n]*\Z")


@dataclass(frozen=True)
class Suggestion:
    label: str
    kind: types.CompletionItemKind
    detail: str = ""
    documentation: str = ""


def complete(
    positions: Positions, offset: int, mapping: MappingFile | None, catalog: CatalogSnapshot | None
) -> list[types.CompletionItem]:
    """The completion items at ``offset``. ``mapping``: the document's last model that parsed
    (its objects, schemas and import queries); ``catalog``: the live database, when reachable."""
    text = positions.text
    opaque = opaque_at(text, offset)
    if opaque is not None and opaque.kind == "string" and _IN_FILTER.search(text, 0, opaque.start):
        opaque = None  # the value of a path's filter being typed: emails[type eq "wo
    if opaque is not None:
        if opaque.kind != "sql" or catalog is None:
            return []
        start = _SQL_WORD.search(text, opaque.start, offset)
        begin = start.start() if start else offset
        found = _in_sql(text[opaque.start : offset], _sql_body(text, opaque.start), catalog)
        return _items(found, positions, begin, offset)
    cursor = cursor_at(text, offset)
    return _items(_suggest(cursor, mapping, catalog), positions, cursor.start, offset)


def _items(
    suggestions: Iterable[Suggestion], positions: Positions, start: int, end: int
) -> list[types.CompletionItem]:
    edit_range = types.Range(start=positions.at(start), end=positions.at(end))
    out: list[types.CompletionItem] = []
    seen: set[str] = set()
    for i, s in enumerate(suggestions):
        if s.label in seen:
            continue
        seen.add(s.label)
        out.append(
            types.CompletionItem(
                label=s.label,
                kind=s.kind,
                detail=s.detail or None,
                documentation=types.MarkupContent(kind=types.MarkupKind.Markdown, value=s.documentation)
                if s.documentation
                else None,
                sort_text=f"{i:05d}",
                filter_text=s.label,
                text_edit=types.TextEdit(range=edit_range, new_text=s.label),
            )
        )
    return out


def _suggest(
    cursor: Cursor, mapping: MappingFile | None, catalog: CatalogSnapshot | None
) -> Iterator[Suggestion]:
    if not cursor.parsed:  # nothing parses before the cursor: every keyword
        yield from (Suggestion(word, _K.Keyword) for word in sorted(set(keywords().values())))
        return
    accepts = cursor.accepts
    previous = cursor.previous.type if cursor.previous is not None else None
    obj_block = cursor.inside("object")
    obj = _object(mapping, obj_block.name if obj_block else None)
    if "PATH" in accepts:
        only_multi = previous == "MULTI"
        yield from scim_paths(
            obj_block.name if obj_block else None,
            obj_block.option("SCHEMA") if obj_block else None,
            mapping,
            multi_only=only_multi,
        )
    if "IDENT" in accepts:
        yield from _names(cursor, previous, mapping, obj, catalog)
    if "QNAME" in accepts and previous == "TABLE" and catalog is not None:
        yield from (Suggestion(t, _K.Struct, "table") for t in catalog.tables)
    for name in sorted(accepts):
        word = keywords().get(name)
        if word is not None:
            yield Suggestion(word, _K.Keyword, "keyword")
        elif symbols().get(name) in ARROWS:
            yield Suggestion(symbols()[name], _K.Operator, _ARROW_DOCS[symbols()[name]])


_ARROW_DOCS = {
    "<->": "both ways: read from the column and written to it",
    "<-": "import only: read from the column, never written",
    "->": "export only: written to the column, never read",
}


def _names(
    cursor: Cursor,
    previous: str | None,
    mapping: MappingFile | None,
    obj: ObjectType | None,
    catalog: CatalogSnapshot | None,
) -> Iterator[Suggestion]:
    inner = cursor.innermost
    if previous in ("__ANON_0", "__ANON_1", "__ANON_2", "NOT", "WATERMARK") or (
        previous in ("ANCHOR", "COLUMN") and inner == "object"
    ):
        yield from _columns(cursor, mapping, obj)
    elif previous == "IDENT" and inner in ("attributes", "schema"):
        yield from (Suggestion(t, _K.TypeParameter, "SCIM type") for t in SCIM_TYPES)
    elif previous == "REFERENCE":
        names = [o.name.value for o in mapping.objects] if mapping else []
        yield from (Suggestion(n, _K.Class, "object") for n in names or ["User", "Group"])
    elif previous == "FROM" and cursor.blocks == [] and mapping is not None:
        yield from (Suggestion(s.name.value, _K.Module, "source") for s in mapping.sources)
    elif previous == "DIALECT":
        yield from (Suggestion(d, _K.EnumMember, "dialect") for d in DIALECTS)
    elif previous == "SCHEMA" and not cursor.blocks and mapping is not None:
        pass  # a new schema's alias: any name
    elif previous == "SCHEMA" and mapping is not None:
        yield from (Suggestion(s.alias.value, _K.Module, s.urn.value) for s in mapping.schemas)
    elif previous == "ID":
        yield from (Suggestion(w, _K.EnumMember, "the SCIM id") for w in ("anchor", "dn"))
    elif previous in ("SET", "COMMA") and catalog is not None and obj is not None and obj.writes is not None:
        table = obj.writes.table.value if obj.writes.table else None
        if table:
            yield from (Suggestion(c, _K.Field, f"column of {table}") for c in catalog.columns_of(table))
    elif inner == "delta" and previous in ("SEQUENCE", "ANCHOR", "TYPE") and catalog is not None:
        delta = cursor.inside("delta")
        table = delta.option("TABLE") if delta else None
        if table:
            yield from (Suggestion(c, _K.Field, f"column of {table}") for c in catalog.columns_of(table))


def _columns(cursor: Cursor, mapping: MappingFile | None, obj: ObjectType | None) -> Iterator[Suggestion]:
    """The output columns of the enclosing object's import query."""
    block = cursor.inside("object")
    sql = cursor.imports.get(block.name) if block and block.name else None
    if sql is None and obj is not None and obj.import_sql is not None:
        sql = obj.import_sql.text
    if sql is None:
        return
    dialect = _dialect(mapping, obj)
    for column in projection(sql, dialect):
        yield Suggestion(column, _K.Field, "column of the import query")


def projection(sql: str, dialect: str | None) -> tuple[str, ...]:
    """The output column names of an import query; empty when it does not parse."""
    try:
        with quiet_sqlglot():
            parsed = sqlglot.parse_one(sql, read=dialect)
    except Exception:  # noqa: BLE001 - a query being typed: no columns yet
        return ()
    if not isinstance(parsed, exp.Query):
        return ()
    try:
        found, _ = project(parsed)
    except Exception:  # noqa: BLE001
        return ()
    return found.columns


def _dialect(mapping: MappingFile | None, obj: ObjectType | None) -> str | None:
    if mapping is None or obj is None:
        return None
    source = next((s for s in mapping.sources if s.name.value == obj.source.value), None)
    if source is None or source.dialect is None:
        return None
    return dialect_of(source.dialect.value)


def _object(mapping: MappingFile | None, name: str | None) -> ObjectType | None:
    if mapping is None or name is None:
        return None
    return next((o for o in mapping.objects if o.name.value == name), None)


def scim_paths(
    object_name: str | None, alias: str | None, mapping: MappingFile | None, multi_only: bool = False
) -> Iterator[Suggestion]:
    """Every SCIM path an object's attribute map may name: its core schema's attributes, the
    common ones (``externalId``, ``meta.created``...), its extensions' (``enterprise.``) and the
    file's custom schemas' (``ALIAS.``)."""
    table = SchemaTable.of(mapping.schemas if mapping else ())
    core = table.by_alias.get(alias) if alias else None
    resolver = make_resolver(object_name or "User", core, table)
    yield from _schema_paths(resolver.core, "", multi_only)
    if not multi_only:
        for attribute in COMMON.attributes:
            if attribute.name != "id":
                yield from _attribute_paths(attribute, "", COMMON.name)
    prefix_of = {urn: prefix for prefix, urn in PREFIXES.items()}
    for urn in EXTENSIONS_OF.get(object_name or "", ()):
        yield from _schema_paths(table.schemas[urn], prefix_of.get(urn, urn + ":"), multi_only)
    for decl in mapping.schemas if mapping else ():
        if decl.alias.value != alias:
            yield from _schema_paths(table.by_alias[decl.alias.value], decl.alias.value + ".", multi_only)


def _schema_paths(schema: SchemaDef, prefix: str, multi_only: bool) -> Iterator[Suggestion]:
    if prefix and not prefix.endswith(":"):
        prefix = prefix if prefix.endswith(".") else prefix + "."
    for attribute in schema.attributes:
        if multi_only:
            if attribute.multi_valued:
                yield Suggestion(
                    prefix + attribute.name, _K.Property, _detail(attribute), attribute.description
                )
        else:
            yield from _attribute_paths(attribute, prefix, schema.name)


def _attribute_paths(attribute: AttributeDef, prefix: str, schema: str) -> Iterator[Suggestion]:
    base = prefix + attribute.name
    doc = attribute.description
    if attribute.type != "complex":
        yield Suggestion(base, _K.Property, _detail(attribute), doc)
        return
    subs = [s for s in attribute.sub_attributes if s.name not in ("type", "primary", "$ref")]
    if not attribute.multi_valued:
        if attribute.sub("value") is not None:
            yield Suggestion(base, _K.Property, f"{_detail(attribute)} (its value)", doc)
        for sub in subs:
            yield Suggestion(f"{base}.{sub.name}", _K.Property, _detail(sub), doc)
        return
    kind = attribute.sub("type")
    types_ = kind.canonical_values if kind is not None else ()
    if attribute.sub("value") is not None:
        yield Suggestion(base, _K.Property, f"{_detail(attribute)} (a multi block)", doc)
    for value in types_:
        shown = [s for s in subs if s.name == "value"] or subs
        for sub in shown:
            yield Suggestion(f'{base}[type eq "{value}"].{sub.name}', _K.Property, _detail(sub), doc)


def _detail(attribute: AttributeDef) -> str:
    parts = [attribute.type]
    if attribute.multi_valued:
        parts.append("multi-valued")
    if attribute.required:
        parts.append("required")
    if attribute.mutability != "readWrite":
        parts.append(attribute.mutability)
    return ", ".join(parts)


# SQL --------------------------------------------------------------------------------------------


def _sql_body(text: str, start: int) -> str:
    end = text.find('"""', start)
    return text[start : end if end >= 0 else len(text)]


def _in_sql(before: str, body: str, catalog: CatalogSnapshot) -> Iterator[Suggestion]:
    """Inside an SQL body: tables after FROM, JOIN, INTO, UPDATE; else the columns of the tables
    the body names, then the tables."""
    if _SQL_TABLE_BEFORE.search(before):
        yield from (Suggestion(t, _K.Struct, "table") for t in catalog.tables)
        return
    for table in _SQL_TABLES.findall(body):
        yield from (Suggestion(c, _K.Field, f"column of {table}") for c in catalog.columns_of(table))
    yield from (Suggestion(t, _K.Struct, "table") for t in catalog.tables)
