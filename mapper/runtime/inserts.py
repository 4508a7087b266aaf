"""The insert a create runs: the derived insert without the columns whose value is null, so the
database's DEFAULT fills them (``display_name NOT NULL DEFAULT ''``, ``active DEFAULT true``,
``created_at DEFAULT now()``) instead of a bound NULL that fails or stores NULL.

An attribute sent as ``null`` is left out like an absent one: RFC 7643 §2.5 makes them the same
("unassigned"), and a NULL the client wants stored is what a column without a DEFAULT holds anyway.
So is one whose value is what its column stores for no value (``null ""``: the ``''`` of a
``NOT NULL DEFAULT ''`` column, which the codec binds for an absent attribute).
Only a derived insert (``write table``) is reshaped: the plan lists its attribute columns
(``PlanObject.insert_columns``). Explicit ``write { insert sql ... }`` statements and stored
procedures are the mapping's own SQL and always bind every parameter. The anchor is never left out,
nor a value the mapping writes itself (a ``stamp``).

The update a replace runs (:class:`mapper.runtime.decisions.Updates`) is reshaped the other way:
a derived update sets only the columns whose value changes, compared with the row its transaction
has just read (and locked): an unchanged column is left as it is rather than written again with
the value it holds, so the database neither binds it nor maintains the indexes on it (SQLite
rewrites an index's entry whenever the SET list names one of its columns, whatever the value;
PostgreSQL and InnoDB compare the values, and are spared the binding and the comparison).
A value counts as unchanged only when it is the very same as read (same Python type, equal; or a
boolean bound where the row holds the number every driver binds it as, 1 or 0); anything else,
the text '1' for a stored 1 say, is written as before. When no column changes (a write of child
rows only) the update sets every column as before, so the row's triggers and version move as
they always did.

Each shape is the plan's statement parsed by sqlglot in the target dialect with the absent
(column, value) pairs removed, so identifiers still come only from the compiled mapping and values
stay ``:name`` parameters; whatever surrounds the insert (``RETURNING``, SQL Server's ``OUTPUT ...
INTO`` batch) is kept as it is. A statement sqlglot does not give back unchanged is never reshaped
(the plan's statement runs, binding NULL). Shapes are cached per set of absent (or unchanged)
parameters, each owner in a :class:`~mapper.runtime.shapes.ShapeCache` of its own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import sqlglot
from sqlglot import exp

from mapper.plan import PlanObject, Statement, dialect_of
from mapper.runtime.shapes import ShapeCache

#: shapes kept per object type; the least recently used goes first past this
SHAPES = 64


class Inserts:
    """The create statements of one object type, by which of its attribute columns are absent."""

    def __init__(self, obj: PlanObject, dialect: str, limit: int = SHAPES) -> None:
        self.statement = obj.insert
        #: the insert's parameters, once each in the plan's order
        self.optional = tuple(dict.fromkeys(param for _column, param in obj.insert_columns))
        #: the parameters of ``null ""`` attributes, with the value that means no value
        self.nulls = {a.column: a.null_value for a in obj.attributes if a.null_value is not None}
        self.read = dialect_of(dialect) or dialect
        self.limit = limit
        self._shapes: ShapeCache[tuple[str, ...], Statement] = ShapeCache(self._shape, limit)
        self._parsed: list[exp.Expr] | None = None
        self._reshapable: bool | None = None  # None: not tried yet

    def for_values(self, values: Mapping[str, Any]) -> Statement:
        """The insert for ``values`` (by parameter): without the columns whose value is None."""
        statement = self.statement
        assert statement is not None
        # the absent names in the plan's order: the shape's key (mapper.runtime.shapes)
        nulls = self.nulls
        if nulls:
            absent = tuple(
                [p for p in self.optional if (v := values.get(p)) is None or (p in nulls and v == nulls[p])]
            )
        else:
            absent = tuple([p for p in self.optional if values.get(p) is None])
        if not absent or self._reshapable is False:
            return statement
        return self._shapes.find(absent)

    def _trees(self, statement: Statement) -> list[exp.Expr] | None:
        """The statement's trees with every placeholder as its ``:name`` text, or None when
        sqlglot does not render them back to the plan's SQL exactly."""
        if self._reshapable is None:
            trees = parsed(statement, self.read)
            inserts = [t for t in trees or () if isinstance(t, exp.Insert)]
            self._reshapable = len(inserts) == 1 and _pairs(inserts[0]) is not None
            self._parsed = trees if self._reshapable else None
        return self._parsed

    def _shape(self, names: tuple[str, ...]) -> Statement:
        statement = self.statement
        assert statement is not None
        absent = frozenset(names)
        trees = self._trees(statement)
        if trees is None:
            return statement
        copies = [tree.copy() for tree in trees]
        insert = next(t for t in copies if isinstance(t, exp.Insert))
        pairs = _pairs(insert)
        assert pairs is not None
        kept = [(c, v) for c, v in pairs if not _is_param(v) or statement.value_of(v.name[1:]) not in absent]
        if not kept:  # INSERT () VALUES () is not portable: bind the NULLs as before
            return statement
        insert.this.set("expressions", [c for c, _ in kept])
        insert.expression.expressions[0].set("expressions", [v for _, v in kept])
        dropped = {v.name[1:] for c, v in pairs if _is_param(v)} - {
            v.name[1:] for _, v in kept if _is_param(v)
        }
        return statement.model_copy(
            update={
                "sql": _render(copies, self.read),
                "params": tuple(p for p in statement.params if p not in dropped),
            }
        )


def _pairs(insert: exp.Insert) -> list[tuple[exp.Expr, exp.Expr]] | None:
    """The (column, value) pairs of ``INSERT INTO t (columns) VALUES (values)``, each value a
    ``:param`` or what the compiled mapping writes itself (a ``stamp``'s ``CURRENT_TIMESTAMP``,
    never left out), or None for any other form."""
    schema, values = insert.this, insert.expression
    if not isinstance(schema, exp.Schema) or not isinstance(values, exp.Values):
        return None
    if len(values.expressions) != 1 or not isinstance(values.expressions[0], exp.Tuple):
        return None
    row = values.expressions[0].expressions
    if len(row) != len(schema.expressions) or not any(_is_param(v) for v in row):
        return None
    return [(column, value) for column, value in zip(schema.expressions, row, strict=True)]


def _is_param(node: exp.Expr) -> bool:
    return isinstance(node, exp.Var) and node.name.startswith(":")


class Revivals:
    """The update a revive runs (a create meeting a soft-deleted row, ``recreate revive``): a
    derived update whose absent attributes' columns are set to their DEFAULT, as a create's insert
    leaves them to it, instead of a bound NULL that a ``NOT NULL DEFAULT 'en'`` column refuses
    (Moodle's ``mdl_user.lang``: every revive without the attribute was 400). SQLite has no
    ``DEFAULT`` in an UPDATE: there, and for a statement sqlglot does not render back, the plan's
    update runs, binding NULL."""

    def __init__(self, obj: PlanObject, dialect: str, limit: int = SHAPES) -> None:
        self.statement = obj.update
        #: the update's optional parameters, once each in the plan's order
        self.optional = tuple(dict.fromkeys(param for _column, param in obj.insert_columns))
        self.dialect = dialect
        self.limit = limit
        self._shapes: ShapeCache[tuple[str, ...], Statement] = ShapeCache(self._shape, limit)
        self._parsed: tuple[exp.Update, tuple[str, ...]] | None = None
        self._reshapable = dialect != "sqlite" and obj.update is not None and bool(self.optional)

    def for_values(self, values: Mapping[str, Any]) -> Statement | None:
        """The revive's update for ``values`` (by parameter)."""
        statement = self.statement
        absent = tuple([p for p in self.optional if values.get(p) is None])
        if statement is None or not absent or not self._reshapable:
            return statement
        return self._shapes.find(absent)

    def _shape(self, names: tuple[str, ...]) -> Statement:
        statement = self.statement
        assert statement is not None
        if self._parsed is None:
            self._parsed = update_sets(statement, self.dialect)
            if self._parsed is None:
                self._reshapable = False
                return statement
        return update_reshaped(statement, self._parsed[0], frozenset(names), self.dialect, default=True)


#: a stored procedure's call, as the compiler renders it (CALL, EXEC, a PL/SQL block)
_CALL = re.compile(r"^\s*(CALL|EXEC|BEGIN)\b", re.IGNORECASE)


def parsed(statement: Statement, read: str) -> list[exp.Expr] | None:
    """``statement`` parsed by sqlglot in ``read``, every placeholder as its ``:name`` text (so
    that a reshaped statement renders it back as it was), or None when sqlglot cannot parse it
    or does not render the trees back to the plan's SQL exactly: a statement is reshaped only
    where what sqlglot would send is the plan's own SQL less the pairs taken out. Run once per
    statement (:class:`Inserts`, :func:`update_sets`)."""
    if _CALL.match(statement.sql):  # a procedure: nothing to reshape, and sqlglot would log a
        return None  # warning ("unsupported syntax ... parsing as a 'Command'") at its first write
    try:
        trees = [t for t in sqlglot.parse(statement.sql, read=read) if t is not None]
        for tree in trees:
            for node in list(tree.find_all(exp.Placeholder)):
                node.replace(exp.Var(this=f":{node.name}"))
        return trees if _render(trees, read) == statement.sql else None
    except (sqlglot.errors.SqlglotError, ValueError):
        return None


def _render(trees: list[exp.Expr], dialect: str) -> str:
    return "; ".join(tree.sql(dialect=dialect) for tree in trees)


def update_sets(statement: Statement, dialect: str) -> tuple[exp.Update, tuple[str, ...]] | None:
    """A derived update parsed for :class:`~mapper.runtime.decisions.Updates`: its tree (every
    placeholder as its ``:name`` text) and the value names its SET list binds, in order; None when
    it is not ``UPDATE t SET c = :p, ... WHERE ...`` as sqlglot renders it back exactly."""
    trees = parsed(statement, dialect_of(dialect) or dialect)
    sets = _sets(trees[0]) if trees is not None and len(trees) == 1 else None
    if trees is None or sets is None:
        return None
    update = trees[0]
    assert isinstance(update, exp.Update)
    return update, tuple(statement.value_of(name) for name in sets)


def update_reshaped(
    statement: Statement, update: exp.Update, names: frozenset[str], dialect: str, *, default: bool = False
) -> Statement:
    """``statement`` (parsed as ``update`` by :func:`update_sets`) without the SET pairs whose
    value names are ``names`` (:class:`~mapper.runtime.decisions.Updates`: the unchanged columns),
    or with those columns set to their ``DEFAULT`` (``default``; :class:`Revivals`: the absent
    attributes); a value the mapping writes itself (a ``stamp``) is kept."""
    copy = update.copy()
    pairs = copy.expressions
    taken = [
        pair
        for pair in pairs
        if _is_param(pair.expression) and statement.value_of(pair.expression.name[1:]) in names
    ]
    unbound = {pair.expression.name[1:] for pair in taken}
    if default:
        for pair in taken:
            pair.set("expression", exp.Var(this="DEFAULT"))
    else:
        copy.set("expressions", [pair for pair in pairs if not any(pair is t for t in taken)])
    return statement.model_copy(
        update={
            "sql": _render([copy], dialect_of(dialect) or dialect),
            "params": tuple(p for p in statement.params if p not in unbound),
        }
    )


def _sets(tree: exp.Expr) -> list[str] | None:
    """The parameter names of ``UPDATE t SET c = :p, ... WHERE ...`` (each SET value a parameter
    of its own, or what the compiled mapping writes itself, binding none: a ``stamp``'s
    ``CURRENT_TIMESTAMP``; no parameter both set and matched), or None for any other form."""
    if not isinstance(tree, exp.Update) or not tree.expressions or tree.args.get("from"):
        return None
    names = []
    for pair in tree.expressions:
        if not isinstance(pair, exp.EQ):
            return None
        if not _is_param(pair.expression):
            if any(_is_param(node) for node in pair.expression.find_all(exp.Var)):
                return None
            continue
        names.append(pair.expression.name[1:])
    where = tree.args.get("where")
    matched = {node.name[1:] for node in where.find_all(exp.Var) if _is_param(node)} if where else set()
    if len(set(names)) != len(names) or matched & set(names):
        return None
    return names
