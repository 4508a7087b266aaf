"""Constants written into columns that cannot hold them, where the database would only say so
when a row is written. MariaDB/MySQL prepare ``UPDATE t SET active = 'maybe'`` happily and refuse
it (strict mode) only when the update meets a row; PostgreSQL refuses it when preparing, and
SQLite stores anything. So for MariaDB/MySQL, every string constant an UPDATE sets or an INSERT
writes is compared with its column's type: a text that is not a number, into a numeric or
boolean column, is a type mismatch (MAP305)."""

from __future__ import annotations

from collections.abc import Iterator

import sqlglot
from sqlglot import exp

from mapper.compiler.sqltext import quiet_sqlglot
from mapper.lint.database.catalog import Catalog


def misplaced_text(sql: str, catalog: Catalog) -> tuple[str, str] | None:
    """The first (text constant, message) of ``sql`` (MySQL) that its column cannot hold."""
    from sqlalchemy import types  # a driver is loaded only for --db

    try:
        with quiet_sqlglot():
            tree = sqlglot.parse_one(sql, read="mysql")
    except Exception:  # noqa: BLE001 - the database prepared it; nothing more to say
        return None
    for table_name, column_name, value in _assignments(tree):
        table = catalog.table(table_name)
        column = table.columns.get(column_name.lower()) if table is not None else None
        if table is None or column is None:
            continue
        kind = column["type"]
        if isinstance(kind, (types.Integer, types.Numeric, types.Boolean)) and not _number(value):
            return (
                value,
                f"'{value}' is not a number, and column '{column['name']}' of {table.name} is {kind}",
            )
    return None


def _assignments(tree: exp.Expr) -> Iterator[tuple[str, str, str]]:
    """(table, column, text) for each string constant an UPDATE sets or an INSERT writes."""
    if isinstance(tree, exp.Update) and isinstance(tree.this, exp.Table):
        table = _name(tree.this)
        for item in tree.expressions:
            if isinstance(item, exp.EQ) and isinstance(item.this, exp.Column) and _text(item.expression):
                yield table, item.this.name, item.expression.name
    if (
        isinstance(tree, exp.Insert)
        and isinstance(tree.this, exp.Schema)
        and isinstance(tree.expression, exp.Values)
    ):
        schema = tree.this
        if not isinstance(schema.this, exp.Table):
            return
        columns = [c.name for c in schema.expressions]
        for row in tree.expression.expressions:
            for column, value in zip(columns, row.expressions, strict=False):
                if _text(value):
                    yield _name(schema.this), column, value.name


def _text(node: exp.Expr) -> bool:
    return isinstance(node, exp.Literal) and node.is_string


def _name(table: exp.Table) -> str:
    return ".".join(p for p in (table.db, table.name) if p)


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
