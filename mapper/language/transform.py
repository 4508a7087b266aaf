"""From the Lark parse tree to the typed model (``mapper.language.model``).

Every node gets a span computed from character offsets, so spans are exact whatever Lark's
positions say about line breaks inside tokens. Items of a block may come in any order; a
repeated item (two ``anchor`` lines, two ``write``s...) is reported as MAP005 and the first wins.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any

from lark import Token, Transformer, v_args
from lark.tree import Meta

from mapper.diagnostics import Diagnostic, error
from mapper.language.model import (
    Anchor,
    Assignment,
    AttributeMapping,
    Comment,
    DeltaNone,
    DeltaTable,
    DeltaWatermark,
    Deprovision,
    Dn,
    EnvUrl,
    LiteralUrl,
    MapEntry,
    MappingFile,
    MultiValued,
    Name,
    ObjectType,
    ProcedureCall,
    Recreate,
    SchemaAttribute,
    SchemaDecl,
    Source,
    Span,
    SqlBlock,
    Tombstone,
    ValueMap,
    Writes,
)

SQL_OPEN = 'sql"""'
SQL_CLOSE = '"""'


class LineIndex:
    """Turns character offsets of one text into 1-based line/column spans."""

    def __init__(self, text: str) -> None:
        self._starts = [0] + [i + 1 for i, char in enumerate(text) if char == "\n"]

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self._starts, offset)
        return line, offset - self._starts[line - 1] + 1

    def span(self, start: int, end: int) -> Span:
        line, col = self.position(start)
        end_line, end_col = self.position(end)
        return Span(line=line, col=col, end_line=end_line, end_col=end_col, offset=start, end_offset=end)


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
class _Item:
    """One item of a block before the block is assembled: which keyword, its value, its span."""

    kind: str
    value: Any
    span: Span


@v_args(meta=True)
class ModelBuilder(Transformer[Token, Any]):
    """Builds a ``MappingFile``; ``diagnostics`` collects the MAP005 duplicates it meets."""

    def __init__(self, text: str, path: str) -> None:
        super().__init__()
        self.text = text
        self.path = path
        self.lines = LineIndex(text)
        self.diagnostics: list[Diagnostic] = []

    # -- helpers --------------------------------------------------------------------------------

    def _span(self, meta: Meta) -> Span:
        return self.lines.span(meta.start_pos, meta.end_pos)

    def _name(self, token: Token, value: str | None = None) -> Name:
        assert token.start_pos is not None and token.end_pos is not None
        span = self.lines.span(token.start_pos, token.end_pos)
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

    def _gather(self, items: list[_Item], where: str) -> dict[str, _Item]:
        """Items by kind; a second item of a kind is reported (MAP005) and dropped."""
        found: dict[str, _Item] = {}
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
    def _value(found: dict[str, _Item], kind: str) -> Any:
        item = found.get(kind)
        return None if item is None else item.value

    # -- file -----------------------------------------------------------------------------------

    def start(self, meta: Meta, children: list[Any]) -> MappingFile:
        return MappingFile(
            path=self.path,
            text=self.text,
            sources=tuple(c for c in children if isinstance(c, Source)),
            schemas=tuple(c for c in children if isinstance(c, SchemaDecl)),
            objects=tuple(c for c in children if isinstance(c, ObjectType)),
        )

    def make_comments(self, tokens: list[Token]) -> tuple[Comment, ...]:
        return tuple(Comment(text=t.value.rstrip(), span=self._name(t).span) for t in tokens)

    # -- source ---------------------------------------------------------------------------------

    def source(self, meta: Meta, children: list[Any]) -> Source:
        name, *items = children
        found = self._gather(items, f"source {name.value}")
        return Source(
            name=self._name(name),
            dialect=self._value(found, "dialect"),
            url=self._value(found, "url"),
            span=self._span(meta),
        )

    def dialect(self, meta: Meta, children: list[Token]) -> _Item:
        return _Item("dialect", self._name(children[0]), self._span(meta))

    def url(self, meta: Meta, children: list[EnvUrl | LiteralUrl]) -> _Item:
        return _Item("url", children[0], self._span(meta))

    def literal_url(self, meta: Meta, children: list[Token]) -> LiteralUrl:
        return LiteralUrl(value=unquote(children[0].value), span=self._span(meta))

    def env_url(self, meta: Meta, children: list[Token | None]) -> EnvUrl:
        var, default = children
        assert var is not None
        return EnvUrl(
            var=unquote(var.value),
            default=None if default is None else unquote(default.value),
            span=self._span(meta),
        )

    # -- schema ---------------------------------------------------------------------------------

    def schema(self, meta: Meta, children: list[Any]) -> SchemaDecl:
        alias, urn, *attributes = children
        return SchemaDecl(
            alias=self._name(alias),
            urn=self._string(urn),
            attributes=tuple(a for a in attributes if a is not None),
            span=self._span(meta),
        )

    def schema_attribute(self, meta: Meta, children: list[Any]) -> SchemaAttribute:
        name, type_, *flags = children
        kinds = {flag.kind for flag in flags}
        return SchemaAttribute(
            name=self._name(name),
            type=self._name(type_),
            multi_valued="multi" in kinds,
            required="required" in kinds,
            case_exact="caseExact" in kinds,
            span=self._span(meta),
        )

    def flag_multi(self, meta: Meta, children: list[Any]) -> _Item:
        return _Item("multi", True, self._span(meta))

    def flag_required(self, meta: Meta, children: list[Any]) -> _Item:
        return _Item("required", True, self._span(meta))

    def flag_unique(self, meta: Meta, children: list[Any]) -> _Item:
        return _Item("unique", True, self._span(meta))

    def flag_case_exact(self, meta: Meta, children: list[Any]) -> _Item:
        return _Item("caseExact", True, self._span(meta))

    def flag_sensitive(self, meta: Meta, children: list[Any]) -> _Item:
        return _Item("sensitive", True, self._span(meta))

    # -- object ---------------------------------------------------------------------------------

    def object(self, meta: Meta, children: list[Any]) -> ObjectType:
        name, source, *items = children
        found = self._gather([i for i in items if i.kind != "multi"], f"object {name.value}")
        delta = found.get("delta")
        return ObjectType(
            name=self._name(name),
            source=self._name(source),
            schema_alias=self._value(found, "schema"),
            endpoint=self._value(found, "endpoint"),
            anchor=self._value(found, "anchor"),
            query=self._value(found, "query"),
            dn=self._value(found, "dn"),
            import_sql=self._value(found, "import"),
            delta=None if delta is None else delta.value,
            attributes=self._value(found, "attributes") or (),
            multi=tuple(item.value for item in items if item.kind == "multi"),
            writes=self._value(found, "write"),
            disable=self._value(found, "disable"),
            delete=self._value(found, "delete"),
            tombstone=self._value(found, "tombstone"),
            recreate=self._value(found, "recreate"),
            id_source=self._value(found, "id"),
            span=self._span(meta),
        )

    def schema_option(self, meta: Meta, children: list[Token]) -> _Item:
        return _Item("schema", self._name(children[0]), self._span(meta))

    def endpoint_option(self, meta: Meta, children: list[Token]) -> _Item:
        return _Item("endpoint", self._string(children[0]), self._span(meta))

    def _anchor(self, meta: Meta, column: Token, generation: str, attribute: Token | None = None) -> _Item:
        anchor = Anchor(
            column=self._name(column),
            generation=generation,  # type: ignore[arg-type]
            attribute=None if attribute is None else self._name(attribute),
            span=self._span(meta),
        )
        return _Item("anchor", anchor, anchor.span)

    def anchor_database(self, meta: Meta, children: list[Token]) -> _Item:
        return self._anchor(meta, children[0], "database")

    def anchor_attribute(self, meta: Meta, children: list[Token]) -> _Item:
        return self._anchor(meta, children[0], "attribute", children[1])

    def anchor_uuid(self, meta: Meta, children: list[Token]) -> _Item:
        return self._anchor(meta, children[0], "uuid")

    def query(self, meta: Meta, children: list[Token]) -> _Item:
        return _Item("query", self._name(children[0]), self._span(meta))

    def _dn(self, meta: Meta, kind: str, value: Name | None) -> _Item:
        return _Item("dn", Dn(kind=kind, value=value, span=self._span(meta)), self._span(meta))  # type: ignore[arg-type]

    def dn_template(self, meta: Meta, children: list[Token]) -> _Item:
        return self._dn(meta, "template", self._string(children[0]))

    def dn_column(self, meta: Meta, children: list[Token]) -> _Item:
        return self._dn(meta, "column", self._name(children[0]))

    def dn_anchor(self, meta: Meta, children: list[Token]) -> _Item:
        return self._dn(meta, "anchor", None)

    def id_source(self, meta: Meta, children: list[Token]) -> _Item:
        return _Item("id", self._name(children[0]), self._span(meta))

    def import_sql(self, meta: Meta, children: list[Token]) -> _Item:
        return _Item("import", self._sql(children[0]), self._span(meta))

    # -- delta ----------------------------------------------------------------------------------

    def delta_watermark(self, meta: Meta, children: list[Token]) -> _Item:
        span = self._span(meta)
        return _Item("delta", DeltaWatermark(column=self._name(children[0]), span=span), span)

    def delta_none(self, meta: Meta, children: list[Token]) -> _Item:
        span = self._span(meta)
        return _Item("delta", DeltaNone(span=span), span)

    def delta_table(self, meta: Meta, children: list[Any]) -> _Item:
        table, *items = children
        span = self._span(meta)
        found = self._gather(items, f"delta table {table.value}")
        delta = DeltaTable(
            table=self._name(table),
            sequence=self._value(found, "sequence"),
            anchor=self._value(found, "anchor"),
            change_type=self._value(found, "type"),
            span=span,
        )
        return _Item("delta", delta, span)

    def delta_sequence(self, meta: Meta, children: list[Token]) -> _Item:
        return _Item("sequence", self._name(children[0]), self._span(meta))

    def delta_anchor(self, meta: Meta, children: list[Token]) -> _Item:
        return _Item("anchor", self._name(children[0]), self._span(meta))

    def delta_type(self, meta: Meta, children: list[Token]) -> _Item:
        return _Item("type", self._name(children[0]), self._span(meta))

    # -- attributes -----------------------------------------------------------------------------

    def attributes(self, meta: Meta, children: list[AttributeMapping | None]) -> _Item:
        mappings = tuple(m for m in children if m is not None)
        return _Item("attributes", mappings, self._span(meta))

    def attribute_mapping(self, meta: Meta, children: list[Any]) -> AttributeMapping:
        path, direction, negation, column, *written = children
        modifiers = [m for w in written for m in (w if isinstance(w, list) else [w])]
        found = self._gather(modifiers, f"the mapping of {path.value}")
        return AttributeMapping(
            path=self._name(path),
            column=self._name(column),
            direction=direction,
            type=self._value(found, "type"),
            required="required" in found,
            unique="unique" in found,
            case_exact="caseExact" in found,
            sensitive="sensitive" in found,
            reference=self._value(found, "reference"),
            on_missing=self._value(found, "on_missing"),
            negated=negation is not None,
            value_map=self._value(found, "map"),
            span=self._span(meta),
        )

    def value_map(self, meta: Meta, children: list[Any]) -> _Item:
        *entries, otherwise = children
        span = self._span(meta)
        kind, default = otherwise if otherwise is not None else (None, None)
        value_map = ValueMap(entries=tuple(entries), otherwise=kind, default=default, span=span)
        return _Item("map", value_map, span)

    def map_entry(self, meta: Meta, children: list[Any]) -> MapEntry:
        scim, stored = children
        return MapEntry(scim=scim, stored=stored, span=self._span(meta))

    def else_error(self, meta: Meta, children: list[Any]) -> tuple[str, None]:
        return "error", None

    def else_value(self, meta: Meta, children: list[Any]) -> tuple[str, Any]:
        return "value", children[0]

    def direction_both(self, meta: Meta, children: list[Any]) -> str:
        return "both"

    def direction_import(self, meta: Meta, children: list[Any]) -> str:
        return "import"

    def direction_export(self, meta: Meta, children: list[Any]) -> str:
        return "export"

    def type_modifier(self, meta: Meta, children: list[Token]) -> _Item:
        return _Item("type", self._name(children[0]), self._span(meta))

    def reference(self, meta: Meta, children: list[Any]) -> list[_Item]:
        span = self._span(meta)
        items = [_Item("reference", self._name(children[0]), span)]
        if children[1] is not None:
            items.append(_Item("on_missing", children[1], children[1].span))
        return items

    def missing_drop(self, meta: Meta, children: list[Token]) -> Name:
        return Name(value="drop", span=self._span(meta))

    def missing_reject(self, meta: Meta, children: list[Token]) -> Name:
        return Name(value="reject", span=self._span(meta))

    # -- multi ----------------------------------------------------------------------------------

    def multi(self, meta: Meta, children: list[Any]) -> _Item:
        attribute, reference, on_missing, *items = children
        found = self._gather(items, f"multi {attribute.value}")
        multi = MultiValued(
            attribute=self._name(attribute),
            reference=None if reference is None else self._name(reference),
            on_missing=on_missing,
            import_sql=self._value(found, "import"),
            add=self._value(found, "add"),
            remove=self._value(found, "remove"),
            span=self._span(meta),
        )
        return _Item("multi", multi, multi.span)

    def multi_import(self, meta: Meta, children: list[Token]) -> _Item:
        return _Item("import", self._sql(children[0]), self._span(meta))

    def multi_add(self, meta: Meta, children: list[Any]) -> _Item:
        return _Item("add", children[0], self._span(meta))

    def multi_remove(self, meta: Meta, children: list[Any]) -> _Item:
        return _Item("remove", children[0], self._span(meta))

    # -- statements and writes ------------------------------------------------------------------

    def sql_statement(self, meta: Meta, children: list[Token]) -> SqlBlock:
        return self._sql(children[0])

    def call(self, meta: Meta, children: list[Token | None]) -> ProcedureCall:
        name, *params = children
        assert name is not None
        return ProcedureCall(
            name=self._name(name),
            params=tuple(self._param(p) for p in params if p is not None),
            span=self._span(meta),
        )

    def write_table(self, meta: Meta, children: list[Token]) -> _Item:
        span = self._span(meta)
        return _Item("write", Writes(table=self._name(children[0]), span=span), span)

    def write_block(self, meta: Meta, children: list[_Item]) -> _Item:
        span = self._span(meta)
        found = self._gather(children, "write")
        writes = Writes(
            insert=self._value(found, "insert"),
            update=self._value(found, "update"),
            delete=self._value(found, "delete"),
            span=span,
        )
        return _Item("write", writes, span)

    def write_insert(self, meta: Meta, children: list[Any]) -> _Item:
        return _Item("insert", children[0], self._span(meta))

    def write_update(self, meta: Meta, children: list[Any]) -> _Item:
        return _Item("update", children[0], self._span(meta))

    def write_delete(self, meta: Meta, children: list[Any]) -> _Item:
        return _Item("delete", children[0], self._span(meta))

    # -- deprovisioning -------------------------------------------------------------------------

    def disable(self, meta: Meta, children: list[Deprovision]) -> _Item:
        span = self._span(meta)
        return _Item("disable", children[0].model_copy(update={"span": span}), span)

    def delete(self, meta: Meta, children: list[Deprovision]) -> _Item:
        span = self._span(meta)
        return _Item("delete", children[0].model_copy(update={"span": span}), span)

    # The action's own span is replaced by the whole item's in ``disable``/``delete``.
    _NO_SPAN = Span(line=1, col=1, end_line=1, end_col=1)

    def deprovision_set(self, meta: Meta, children: list[Assignment]) -> Deprovision:
        return Deprovision(action="set", assignments=tuple(children), span=self._NO_SPAN)

    def deprovision_row(self, meta: Meta, children: list[Any]) -> Deprovision:
        return Deprovision(action="row", span=self._NO_SPAN)

    def deprovision_ignore(self, meta: Meta, children: list[Any]) -> Deprovision:
        return Deprovision(action="ignore", span=self._NO_SPAN)

    def assignment(self, meta: Meta, children: list[Any]) -> Assignment:
        column, value = children
        span = self._span(meta)
        if isinstance(value, Name):
            return Assignment(column=self._name(column), value=None, expression=value, span=span)
        if isinstance(value, SqlBlock):
            expression = Name(value=value.text, span=value.text_span)
            return Assignment(
                column=self._name(column), value=None, expression=expression, sql=value, span=span
            )
        return Assignment(column=self._name(column), value=value, span=span)

    def sql_word(self, meta: Meta, children: list[Token]) -> Name:
        return self._name(children[0])

    def sql_expression(self, meta: Meta, children: list[Token]) -> SqlBlock:
        return self._sql(children[0])

    def tombstone(self, meta: Meta, children: list[Token]) -> _Item:
        span = self._span(meta)
        return _Item("tombstone", Tombstone(sql=self._sql(children[0]), span=span), span)

    def recreate_revive(self, meta: Meta, children: list[Assignment]) -> _Item:
        span = self._span(meta)
        recreate = Recreate(
            policy="revive", assignments=tuple(c for c in children if c is not None), span=span
        )
        return _Item("recreate", recreate, span)

    def recreate_conflict(self, meta: Meta, children: list[Any]) -> _Item:
        span = self._span(meta)
        return _Item("recreate", Recreate(policy="conflict", span=span), span)

    def string(self, meta: Meta, children: list[Token]) -> str:
        return unquote(children[0].value)

    def number(self, meta: Meta, children: list[Token]) -> int | float:
        text = children[0].value
        return float(text) if "." in text else int(text)

    def true(self, meta: Meta, children: list[Any]) -> bool:
        return True

    def false(self, meta: Meta, children: list[Any]) -> bool:
        return False

    def null(self, meta: Meta, children: list[Any]) -> None:
        return None
