"""From the Lark parse tree to the typed model (``mapper.language.model``).

Every node gets a span computed from character offsets, so spans are exact whatever Lark's
positions say about line breaks inside tokens. Items of a block may come in any order; a
repeated item (two ``anchor`` lines, two ``write``s...) is reported as MAP005 and the first wins.

:class:`ModelBuilder` is one Lark transformer assembled from rule classes, one per part of the
language: the file, sources, schemas and object blocks here, attribute lines and multi-valued
blocks in :mod:`mapper.language.attributes`, statements, writes and deprovisioning in
:mod:`mapper.language.writes`; their shared helpers are :mod:`mapper.language.building`'s.
"""

from __future__ import annotations

from typing import Any

from lark import Token
from lark.tree import Meta

from mapper.language.attributes import AttributeRules
from mapper.language.building import SQL_CLOSE, SQL_OPEN, Item, LineIndex, unquote
from mapper.language.model import (
    Anchor,
    Comment,
    ConnectorDecl,
    DeltaNone,
    DeltaTable,
    DeltaWatermark,
    Dn,
    EnvUrl,
    LiteralUrl,
    MappingFile,
    Name,
    ObjectType,
    SchemaAttribute,
    SchemaDecl,
    Source,
)
from mapper.language.writes import WriteRules

__all__ = ["SQL_CLOSE", "SQL_OPEN", "LineIndex", "ModelBuilder", "unquote"]


class ModelBuilder(AttributeRules, WriteRules):
    """Builds a ``MappingFile``; ``diagnostics`` collects the MAP005 duplicates it meets."""

    # -- file -----------------------------------------------------------------------------------

    def start(self, meta: Meta, children: list[Any]) -> MappingFile:
        declared = self._gather([c for c in children if isinstance(c, Item)], "the file")
        return MappingFile(
            path=self.path,
            text=self.text,
            connector=self._value(declared, "connector"),
            sources=tuple(c for c in children if isinstance(c, Source)),
            schemas=tuple(c for c in children if isinstance(c, SchemaDecl)),
            objects=tuple(c for c in children if isinstance(c, ObjectType)),
        )

    def make_comments(self, tokens: list[Token]) -> tuple[Comment, ...]:
        return tuple(Comment(text=t.value.rstrip(), span=self._name(t).span) for t in tokens)

    def connector(self, meta: Meta, children: list[Token]) -> Item:
        span = self._span(meta)
        return Item("connector", ConnectorDecl(name=self._string(children[0]), span=span), span)

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

    def dialect(self, meta: Meta, children: list[Token]) -> Item:
        return Item("dialect", self._name(children[0]), self._span(meta))

    def url(self, meta: Meta, children: list[EnvUrl | LiteralUrl]) -> Item:
        return Item("url", children[0], self._span(meta))

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

    def flag_multi(self, meta: Meta, children: list[Any]) -> Item:
        return Item("multi", True, self._span(meta))

    def flag_required(self, meta: Meta, children: list[Any]) -> Item:
        return Item("required", True, self._span(meta))

    def flag_unique(self, meta: Meta, children: list[Any]) -> Item:
        return Item("unique", True, self._span(meta))

    def flag_case_exact(self, meta: Meta, children: list[Any]) -> Item:
        return Item("caseExact", True, self._span(meta))

    def flag_sensitive(self, meta: Meta, children: list[Any]) -> Item:
        return Item("sensitive", True, self._span(meta))

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
            stamp=self._value(found, "stamp"),
            create=self._value(found, "create"),
            id_source=self._value(found, "id"),
            span=self._span(meta),
        )

    def schema_option(self, meta: Meta, children: list[Token]) -> Item:
        return Item("schema", self._name(children[0]), self._span(meta))

    def endpoint_option(self, meta: Meta, children: list[Token]) -> Item:
        return Item("endpoint", self._string(children[0]), self._span(meta))

    def _anchor(self, meta: Meta, column: Token, generation: str, attribute: Token | None = None) -> Item:
        anchor = Anchor(
            column=self._name(column),
            generation=generation,  # type: ignore[arg-type]
            attribute=None if attribute is None else self._name(attribute),
            span=self._span(meta),
        )
        return Item("anchor", anchor, anchor.span)

    def anchor_database(self, meta: Meta, children: list[Token]) -> Item:
        return self._anchor(meta, children[0], "database")

    def anchor_attribute(self, meta: Meta, children: list[Token]) -> Item:
        return self._anchor(meta, children[0], "attribute", children[1])

    def anchor_uuid(self, meta: Meta, children: list[Token]) -> Item:
        return self._anchor(meta, children[0], "uuid")

    def anchor_random(self, meta: Meta, children: list[Token]) -> Item:
        return self._anchor(meta, children[0], "random")

    def query(self, meta: Meta, children: list[Token]) -> Item:
        return Item("query", self._name(children[0]), self._span(meta))

    def _dn(self, meta: Meta, kind: str, value: Name | None) -> Item:
        return Item("dn", Dn(kind=kind, value=value, span=self._span(meta)), self._span(meta))  # type: ignore[arg-type]

    def dn_template(self, meta: Meta, children: list[Token]) -> Item:
        return self._dn(meta, "template", self._string(children[0]))

    def dn_column(self, meta: Meta, children: list[Token]) -> Item:
        return self._dn(meta, "column", self._name(children[0]))

    def dn_anchor(self, meta: Meta, children: list[Token]) -> Item:
        return self._dn(meta, "anchor", None)

    def id_source(self, meta: Meta, children: list[Token]) -> Item:
        return Item("id", self._name(children[0]), self._span(meta))

    def import_sql(self, meta: Meta, children: list[Token]) -> Item:
        return Item("import", self._sql(children[0]), self._span(meta))

    # -- delta ----------------------------------------------------------------------------------

    def delta_watermark(self, meta: Meta, children: list[Token]) -> Item:
        span = self._span(meta)
        return Item("delta", DeltaWatermark(column=self._name(children[0]), span=span), span)

    def delta_none(self, meta: Meta, children: list[Token]) -> Item:
        span = self._span(meta)
        return Item("delta", DeltaNone(span=span), span)

    def delta_table(self, meta: Meta, children: list[Any]) -> Item:
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
        return Item("delta", delta, span)

    def delta_sequence(self, meta: Meta, children: list[Token]) -> Item:
        return Item("sequence", self._name(children[0]), self._span(meta))

    def delta_anchor(self, meta: Meta, children: list[Token]) -> Item:
        return Item("anchor", self._name(children[0]), self._span(meta))

    def delta_type(self, meta: Meta, children: list[Token]) -> Item:
        return Item("type", self._name(children[0]), self._span(meta))

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
