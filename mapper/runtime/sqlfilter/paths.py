"""What an attribute path of a filter reaches in the wrapped import: a column (:class:`Value`), a
column of a child table, or nothing; refused (:class:`Untranslatable`) where the codec renders
the attribute in a way SQL cannot compare (DNs, multi-valued attributes bound to columns...).

Names are compared exactly: the resolver's (``describe``) and the plan's are both the schemas'
spelling, and the filter's paths were made canonical at the edge (:mod:`mapper.scim.names`)."""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from mapper.runtime.codec import Codec
from mapper.runtime.rows import RowForm
from mapper.runtime.sqlfilter.terms import (
    NOTHING,
    Child,
    Describe,
    Described,
    Scope,
    Untranslatable,
    Value,
    compared_as,
)
from mapper.runtime.sqlfilter.wrapped import Wrapped
from mapper.scimfilter import AttrPath


class Paths:
    """Resolves the paths of one filter over ``wrapped`` (``describe`` answers what a path is)."""

    def __init__(self, wrapped: Wrapped, codec: Codec, describe: Describe) -> None:
        self.wrapped = wrapped
        self.codec = codec
        self.obj = wrapped.obj
        self.describe = describe

    def info(self, path: AttrPath, scope: Scope | None) -> Described:
        """What ``path`` names, inside the value filter of ``scope`` if there is one."""
        if scope is None:
            return self.describe.resolve(path.urn, path.attribute, path.sub)
        if path.sub is not None or path.urn is not None:
            raise Untranslatable("a qualified path inside a value filter")
        return self.describe.resolve(scope.info.urn, scope.info.name, path.attribute)

    def target(self, path: AttrPath, scope: Scope | None) -> Any:
        """What ``path`` reaches: a :class:`Value` (a column), ``(child, position, value)`` (a
        child table's column), or ``NOTHING``."""
        info = self.info(path, scope)
        if scope is not None:
            if scope.child is not None:
                return self.child_target(scope.child, info, scope.alias)
            return self._slot_value(info, info.sub)
        if not info.known:
            return NOTHING
        if info.urn == "" and info.name == "schemas":
            raise Untranslatable("a filter on schemas")
        if info.urn == "" and info.name == "id":
            if self.codec.dn_ids:
                raise Untranslatable("ids that are DNs")
            return Value(self.wrapped.column(self.obj.anchor_column), "string", True)
        if info.name == "meta" and info.sub not in ("created", "lastModified"):
            raise Untranslatable(f"a filter on meta.{info.sub or ''}")
        child = self.child(info)
        if child is not None:
            return self.child_target(child, info, None)
        sub = info.sub
        if sub is None and info.type == "complex":
            if "value" not in info.sub_attributes:
                raise Untranslatable("a complex attribute without a value")
            sub = "value"
        return self._slot_value(info, sub)

    def _slot_value(self, info: Described, sub: str | None) -> Any:
        container = self._container(info)
        for slot in self.codec.slots:
            attr = slot.attr
            if slot.extension != container or attr.attribute != info.name:
                continue
            if attr.sub_attribute == sub or (sub == "value" and slot.complex):
                if attr.multi_valued:
                    raise Untranslatable("a multi-valued attribute bound to columns")
                if not slot.readable:
                    return NOTHING
                if slot.ident is not None:
                    raise Untranslatable("a reference rendered as a DN")
                kind = compared_as(attr.type if slot.transform is None else "transformed")
                if kind == "dateTime" and slot.index in RowForm.of(self.codec).epoch:
                    kind = "epoch"  # seconds since the epoch in an integer column
                column = self.wrapped.column(attr.column)
                return Value(column, kind, self._case_exact(info, sub), slot.transform)
        if any(
            s.extension == container and s.attr.attribute == info.name and s.attr.multi_valued
            for s in self.codec.slots
        ):
            raise Untranslatable("a multi-valued attribute bound to columns")
        return NOTHING

    def _case_exact(self, info: Described, sub: str | None) -> bool:
        if sub is not None and info.sub is None:
            return self.describe.resolve(info.urn, info.name, sub).case_exact
        return info.case_exact

    def _container(self, info: Described) -> str | None:
        """The extension holding ``info``'s attribute, as the codec's slots name it (None: core)."""
        if not info.urn or info.urn == self.obj.schema_urn or info.name == "meta":
            return None
        return info.urn

    def child(self, info: Described) -> Child | None:
        """The child table ``info``'s attribute is kept in, or None."""
        container = self._container(info)
        for index, (multi, slot) in enumerate(zip(self.obj.multi, self.codec.multis, strict=True)):
            if multi.attribute == info.name and slot.extension == container:
                if slot.ident is not str:
                    raise Untranslatable("a reference rendered as a DN")
                return Child(index, multi, ("value", *slot.extra))
        return None

    def child_target(self, child: Child, info: Described, alias: str | None) -> Any:
        """A child table's column: a :class:`Value` inside the value filter's own ``EXISTS``
        (``alias``), else ``(child, position, value)`` for the caller to put in one."""
        sub = info.sub or "value"
        positions = [i for i, name in enumerate(child.subs) if name == sub]
        if not positions:
            return NOTHING
        position = positions[0]
        # ``primary`` is rendered only when true (false is the default clients leave out)
        kind = "flag" if child.subs[position] == "primary" else "string"
        value = Value(exp.Null(), kind, self._case_exact(info, info.sub or "value"))
        if alias is not None:  # inside the value filter's own EXISTS
            return Value(self.wrapped.child(child.index, alias, position + 1), kind, value.case_exact)
        return child, position, value

    def child_value(self, child: Child, alias: str, position: int, value: Value) -> Value:
        """``value`` (of :meth:`child_target`) as the column of child row ``alias``."""
        return Value(self.wrapped.child(child.index, alias, position + 1), value.kind, value.case_exact)

    def complex_slots(self, info: Described) -> list[Any] | None:
        """The readable columns of a single-valued complex attribute (``name``), or None."""
        container = self._container(info)
        slots = [s for s in self.codec.slots if s.extension == container and s.attr.attribute == info.name]
        if any(s.attr.multi_valued for s in slots):
            raise Untranslatable("a multi-valued attribute bound to columns")
        readable = [s for s in slots if s.readable]
        if any(s.transform is not None for s in readable):
            raise Untranslatable("a complex attribute with a transformed sub-attribute")
        return readable or None

    def dict_exists(self, slots: list[Any]) -> exp.Expr:
        """Some column of a complex attribute (``slots``, of :meth:`complex_slots`) has a value."""
        tests = [
            exp.Not(this=exp.Is(this=self.wrapped.column(s.attr.column), expression=exp.Null()))
            for s in slots
        ]
        return exp.paren(exp.or_(*tests, copy=False), copy=False)

    def exists(self, child: Child, alias: str, condition: exp.Expr) -> exp.Expr:
        """``EXISTS`` a row ``alias`` of the child table, of this row's anchor, meeting ``condition``."""
        owner = exp.EQ(
            this=self.wrapped.child(child.index, alias, 0),
            expression=self.wrapped.column(self.obj.anchor_column),
        )
        inner = exp.Select(expressions=[exp.Literal.number(1)]).from_(
            self.wrapped.child_source(child.index, alias), copy=False
        )
        inner.set("where", exp.Where(this=exp.and_(owner, condition, copy=False)))
        return exp.Exists(this=inner)
