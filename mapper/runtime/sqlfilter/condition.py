"""The WHERE and ORDER BY of a translated filter: the filter's structure (``and``, ``or``,
``not``, value filters, ``pr``, comparisons) over the leaves of :mod:`.leaves`, the paths
resolved by :mod:`.paths`, and ``sortBy``."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from sqlglot import exp

from mapper.runtime.codec import Codec
from mapper.runtime.sqlfilter.leaves import Leaves, check_value
from mapper.runtime.sqlfilter.paths import Paths
from mapper.runtime.sqlfilter.terms import NOTHING, Describe, Scope, Sort, Untranslatable, binary
from mapper.runtime.sqlfilter.wrapped import Wrapped
from mapper.scimfilter import And, AttrPath, Compare, Filter, Not, Or, Present, ValuePath


class Condition:
    """Builds the condition of one filter; ``bind`` makes a placeholder for a value."""

    def __init__(
        self, wrapped: Wrapped, codec: Codec, describe: Describe, bind: Callable[[Any], exp.Expr]
    ) -> None:
        self.write = wrapped.write
        self.describe = describe
        self.paths = Paths(wrapped, codec, describe)
        self.leaves = Leaves(wrapped.write, wrapped.dialect, bind)
        self.aliases = (f"scim_c{i}" for i in itertools.count())

    def filter(self, node: Filter, scope: Scope | None) -> exp.Expr:
        """The condition of ``node`` (inside the value filter of ``scope`` if there is one)."""
        if isinstance(node, And | Or):  # a chain as one flat connective: nested parentheses
            # overflow SQLite's parser stack after about a hundred terms
            combine = exp.and_ if isinstance(node, And) else exp.or_
            terms = [self.filter(term, scope) for term in chain(node, type(node))]
            return combine(*terms, copy=False)
        if isinstance(node, Not):
            return exp.not_(exp.paren(self.filter(node.inner, scope), copy=False), copy=False)
        if isinstance(node, ValuePath):
            if scope is not None:
                raise Untranslatable("a nested value filter")
            return self.value_path(node)
        if isinstance(node, Present):
            return self.present(node.path, scope)
        return self.compare(node, scope)

    def value_path(self, node: ValuePath) -> exp.Expr:
        paths = self.paths
        info = self.describe.resolve(node.path.urn, node.path.attribute)
        child = paths.child(info)
        if child is not None:
            alias = next(self.aliases)
            inner = self.filter(node.filter, Scope(info, child=child, alias=alias))
            return paths.exists(child, alias, inner)
        slots = paths.complex_slots(info)
        if slots is None:
            return exp.false()  # no item in any resource: no item matches
        inner = self.filter(node.filter, Scope(info))
        return exp.and_(paths.dict_exists(slots), exp.paren(inner, copy=False), copy=False)

    def present(self, path: AttrPath, scope: Scope | None) -> exp.Expr:
        paths = self.paths
        if scope is None and path.sub is None:
            info = self.describe.resolve(path.urn, path.attribute)
            child = paths.child(info)
            if child is not None:  # some item
                alias = next(self.aliases)
                return paths.exists(child, alias, exp.true())
            if info.type == "complex":
                slots = paths.complex_slots(info)
                return paths.dict_exists(slots) if slots is not None else exp.false()
        target = paths.target(path, scope)
        if target is NOTHING:
            return exp.false()
        if isinstance(target, tuple):  # a child's sub-attribute
            child, position, value = target
            alias = next(self.aliases)
            column = paths.child_value(child, alias, position, value)
            return paths.exists(child, alias, self.leaves.present(column))
        return self.leaves.present(target)

    def compare(self, node: Compare, scope: Scope | None) -> exp.Expr:
        paths = self.paths
        info = paths.info(node.path, scope)
        if node.op == "ne":
            positive = self.compare(Compare(node.path, "eq", node.value), scope)
            return exp.not_(exp.paren(positive, copy=False), copy=False)
        target = paths.target(node.path, scope)
        if node.value is None:  # eq null: no value
            if target is NOTHING:
                return exp.true()
            return exp.not_(exp.paren(self.present(node.path, scope), copy=False), copy=False)
        if target is NOTHING:
            check_value(info, node)
            return exp.false()
        if isinstance(target, tuple):
            child, position, value = target
            alias = next(self.aliases)
            column = paths.child_value(child, alias, position, value)
            return paths.exists(child, alias, self.leaves.matches(column, info, node))
        return self.leaves.matches(target, info, node)

    def order(self, sort: Sort) -> list[exp.Ordered]:
        """ORDER BY terms for ``sortBy``: rows with a value first (in either order), by value."""
        target = self.paths.target(sort.path, None)
        if target is NOTHING:
            return []
        if isinstance(target, tuple):
            raise Untranslatable("sortBy a multi-valued attribute")
        if target.transform is not None or target.kind not in ("string", "number", "boolean"):
            raise Untranslatable(f"sortBy a {target.kind} attribute")
        leaves = self.leaves
        absent = exp.Case(
            ifs=[exp.If(this=leaves.present(target), true=exp.Literal.number(0))],
            default=exp.Literal.number(1),
        )
        key: exp.Expr = target.expr.copy()
        if target.kind == "string":
            # SQLite's LOWER() folds ASCII letters only: a sort (unlike a match) may order other
            # letters by their case there, which is better than refusing sortBy=userName
            key = leaves.fold(leaves.text(key), target.case_exact)
            if self.write == "sqlite":
                key = exp.Collate(this=key, expression=exp.var("BINARY"))
            elif self.write == "mysql":
                key = binary(key)
            else:
                key = exp.Collate(this=key, expression=exp.Identifier(this="C", quoted=True))
        return [exp.Ordered(this=absent, desc=False), exp.Ordered(this=key, desc=sort.descending)]


def chain(node: Filter, kind: type[And] | type[Or]) -> list[Filter]:
    """The operands of a chain of ``kind`` (``a or b or c``), in order, without recursion limits."""
    out: list[Filter] = []
    stack: list[Filter] = [node]
    while stack:
        top = stack.pop()
        if isinstance(top, kind):
            stack.append(top.right)
            stack.append(top.left)
        else:
            out.append(top)
    return out
