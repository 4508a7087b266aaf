"""The imports a translated filter reads from: the object type's import wrapped as the derived
table ``scim_f``, and each child import, put into a statement where its marker stands."""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from mapper.plan import PlanObject, dialect_of
from mapper.runtime.sqlfilter.terms import FILTERED, ident


class Wrapped:
    """The imports of one object type on one database (``dialect``: SQLAlchemy's backend name),
    parsed once: their output columns as sqlglot nodes, and their text in the dialect."""

    def __init__(self, obj: PlanObject, dialect: str) -> None:
        self.obj = obj
        self.dialect = dialect
        self.write = dialect_of(dialect) or dialect
        query, self._outputs = unordered(obj.import_all.sql, self.write)
        self._children = [unordered(m.load.sql, self.write) for m in obj.multi]
        # the imports as text, rendered once: a statement is the filter's SQL around them
        self.import_sql = query.sql(dialect=self.write)
        self._children_sql = [child.sql(dialect=self.write) for child, _ in self._children]

    def column(self, name: str) -> exp.Column:
        """An output column of the wrapped import."""
        return exp.Column(this=self._outputs[name.lower()].copy(), table=ident(FILTERED))

    def child(self, index: int, alias: str, position: int) -> exp.Column:
        """The column at ``position`` of child import ``index`` (0 is its owner's anchor), read
        as ``alias``."""
        outputs = self._children[index][1]
        name = self.obj.multi[index].columns[position]
        return exp.Column(this=outputs[name.lower()].copy(), table=ident(alias))

    def child_source(self, index: int, alias: str) -> exp.Table:
        """The child import as a table of the FROM: a marker that :meth:`render` replaces."""
        return exp.Table(this=ident(marker(index)), alias=exp.TableAlias(this=ident(alias)))

    def render(self, expression: exp.Expr) -> str:
        """``expression`` in the dialect, each child import put in where its marker stands."""
        text = expression.sql(dialect=self.write)
        for index, sql in enumerate(self._children_sql):
            text = text.replace(marker(index), f"({sql})")
        return text


def marker(index: int) -> str:
    """The placeholder table name of child import ``index`` until :meth:`Wrapped.render`."""
    return f"scim_child_import_{index}"


def unordered(sql: str, write: str) -> tuple[exp.Select, dict[str, exp.Identifier]]:
    """A plan SELECT without its ORDER BY, and its output identifiers by lower-cased name (with
    their quoting, as the import spells them)."""
    query = sqlglot.parse_one(sql, read=write)
    if not isinstance(query, exp.Select):  # every import is compiled to one SELECT
        raise ValueError("the import is not a SELECT")
    query.set("order", None)
    outputs: dict[str, exp.Identifier] = {}
    for expression in query.expressions:
        alias = expression.args.get("alias")
        if isinstance(alias, exp.TableAlias):
            alias = alias.this
        identifier = alias if isinstance(alias, exp.Identifier) else None
        if identifier is None and isinstance(expression, exp.Column):
            identifier = expression.this if isinstance(expression.this, exp.Identifier) else None
        if identifier is not None:
            outputs.setdefault(identifier.name.lower(), identifier)
    return query, outputs
