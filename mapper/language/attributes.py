"""The model builder's rules for attribute lines, value maps and multi-valued blocks."""

from __future__ import annotations

from typing import Any

from lark import Token
from lark.tree import Meta

from mapper.language.building import Builder, Item
from mapper.language.model import AttributeMapping, MapEntry, MultiValued, Name, NullValue, ValueMap


class AttributeRules(Builder):
    """``attributes { ... }`` and ``multi ... { ... }`` blocks."""

    # -- attributes -----------------------------------------------------------------------------

    def attributes(self, meta: Meta, children: list[AttributeMapping | None]) -> Item:
        mappings = tuple(m for m in children if m is not None)
        return Item("attributes", mappings, self._span(meta))

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
            null_value=self._value(found, "null"),
            span=self._span(meta),
        )

    def value_map(self, meta: Meta, children: list[Any]) -> Item:
        *entries, otherwise = children
        span = self._span(meta)
        kind, default = otherwise if otherwise is not None else (None, None)
        value_map = ValueMap(entries=tuple(entries), otherwise=kind, default=default, span=span)
        return Item("map", value_map, span)

    def null_value(self, meta: Meta, children: list[Any]) -> Item:
        span = self._span(meta)
        return Item("null", NullValue(value=children[0], span=span), span)

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

    def type_modifier(self, meta: Meta, children: list[Token]) -> Item:
        return Item("type", self._name(children[0]), self._span(meta))

    def reference(self, meta: Meta, children: list[Any]) -> list[Item]:
        span = self._span(meta)
        items = [Item("reference", self._name(children[0]), span)]
        if children[1] is not None:
            items.append(Item("on_missing", children[1], children[1].span))
        return items

    def missing_drop(self, meta: Meta, children: list[Token]) -> Name:
        return Name(value="drop", span=self._span(meta))

    def missing_reject(self, meta: Meta, children: list[Token]) -> Name:
        return Name(value="reject", span=self._span(meta))

    # -- multi ----------------------------------------------------------------------------------

    def multi(self, meta: Meta, children: list[Any]) -> Item:
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
        return Item("multi", multi, multi.span)

    def multi_import(self, meta: Meta, children: list[Token]) -> Item:
        return Item("import", self._sql(children[0]), self._span(meta))

    def multi_add(self, meta: Meta, children: list[Any]) -> Item:
        return Item("add", children[0], self._span(meta))

    def multi_remove(self, meta: Meta, children: list[Any]) -> Item:
        return Item("remove", children[0], self._span(meta))
