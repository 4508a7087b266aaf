"""The model builder's rules for SQL statements, writes, deprovisioning, tombstones, recreate
policies, stamps and the values a create sets."""

from __future__ import annotations

from typing import Any

from lark import Token
from lark.tree import Meta

from mapper.diagnostics import Span
from mapper.language.building import Builder, Item
from mapper.language.model import (
    Assignment,
    Create,
    Deprovision,
    Name,
    ProcedureCall,
    Recreate,
    SqlBlock,
    Stamp,
    Tombstone,
    Writes,
)


class WriteRules(Builder):
    """``write``, ``disable``, ``delete``, ``tombstone``, ``recreate``, ``stamp`` and ``create`` items
    and their statements."""

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

    def write_table(self, meta: Meta, children: list[Token]) -> Item:
        span = self._span(meta)
        return Item("write", Writes(table=self._name(children[0]), span=span), span)

    def write_block(self, meta: Meta, children: list[Item]) -> Item:
        span = self._span(meta)
        found = self._gather(children, "write")
        writes = Writes(
            insert=self._value(found, "insert"),
            update=self._value(found, "update"),
            delete=self._value(found, "delete"),
            span=span,
        )
        return Item("write", writes, span)

    def write_insert(self, meta: Meta, children: list[Any]) -> Item:
        return Item("insert", children[0], self._span(meta))

    def write_update(self, meta: Meta, children: list[Any]) -> Item:
        return Item("update", children[0], self._span(meta))

    def write_delete(self, meta: Meta, children: list[Any]) -> Item:
        return Item("delete", children[0], self._span(meta))

    # -- deprovisioning -------------------------------------------------------------------------

    def disable(self, meta: Meta, children: list[Deprovision]) -> Item:
        span = self._span(meta)
        return Item("disable", children[0].model_copy(update={"span": span}), span)

    def delete(self, meta: Meta, children: list[Deprovision]) -> Item:
        span = self._span(meta)
        return Item("delete", children[0].model_copy(update={"span": span}), span)

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

    def tombstone(self, meta: Meta, children: list[Token]) -> Item:
        span = self._span(meta)
        return Item("tombstone", Tombstone(sql=self._sql(children[0]), span=span), span)

    def recreate_revive(self, meta: Meta, children: list[Assignment]) -> Item:
        span = self._span(meta)
        recreate = Recreate(
            policy="revive", assignments=tuple(c for c in children if c is not None), span=span
        )
        return Item("recreate", recreate, span)

    def recreate_conflict(self, meta: Meta, children: list[Any]) -> Item:
        span = self._span(meta)
        return Item("recreate", Recreate(policy="conflict", span=span), span)

    def stamp_value(self, meta: Meta, children: list[Assignment]) -> Item:
        span = self._span(meta)
        return Item("stamp", Stamp(column=children[0].column, value=children[0], span=span), span)

    def stamp_now(self, meta: Meta, children: list[Token]) -> Item:
        span = self._span(meta)
        return Item("stamp", Stamp(column=self._name(children[0]), span=span), span)

    def create_set(self, meta: Meta, children: list[Assignment]) -> Item:
        span = self._span(meta)
        return Item("create", Create(assignments=tuple(children), span=span), span)
