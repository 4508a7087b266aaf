"""The schema checks of ``mapper lint --db``: every object against the live tables. The tables its
import queries read and the columns they name, its change table, the table of ``write table``, and
NOT NULL columns without a default that no exported attribute fills (inserts would fail). These
name every problem of an import at once, with its exact place; ``prove`` then has the database
itself prepare every statement of the plan."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import sqlglot
from sqlglot import exp

from mapper.checks.sources import dialect_of
from mapper.checks.spans import did_you_mean
from mapper.compiler.sqltext import locate
from mapper.diagnostics import Diagnostic, Span
from mapper.language.model import DeltaTable, MappingFile, Name, ObjectType, SqlBlock
from mapper.lint.database.catalog import Catalog, Table
from mapper.lint.database.codes import NOT_NULL_UNFILLED, UNKNOWN_DB_COLUMN, UNKNOWN_TABLE
from mapper.lint.database.columntypes import (
    check_anchor_column,
    check_anchor_width,
    check_binary_columns,
    check_column_types,
    check_datetime_columns,
    check_generated_columns,
    check_stamp_column,
    check_structured_columns,
)
from mapper.lint.database.nulls import check_empty_defaults
from mapper.lint.database.transforms import check_transforms
from mapper.plan import Plan, PlanObject


def check_schema(mapping: MappingFile, catalog: Catalog, plan: Plan | None) -> list[Diagnostic]:
    """Every object of ``mapping`` against the tables of ``catalog``."""
    return [d for obj in mapping.objects for d in _check_object(mapping, obj, catalog, plan)]


def object_dialect(mapping: MappingFile, obj: ObjectType) -> str | None:
    for source in mapping.sources:
        if source.name.value == obj.source.value and source.dialect:
            return dialect_of(source.dialect.value)
    return None


def _check_object(
    mapping: MappingFile, obj: ObjectType, catalog: Catalog, plan: Plan | None
) -> Iterator[Diagnostic]:
    file, dialect = mapping.path, object_dialect(mapping, obj)
    blocks = [obj.import_sql] + [m.import_sql for m in obj.multi]
    for block in blocks:
        if block is not None:
            yield from _check_query(file, block, dialect, catalog)
    if isinstance(obj.delta, DeltaTable):
        yield from _check_change_table(file, obj.delta, catalog)
    table_name = obj.writes.table if obj.writes else None
    if table_name is not None:
        table = catalog.table(table_name.value)
        if table is None:
            yield unknown_table(file, table_name.value, table_name.span, catalog)
        else:
            yield from check_transforms(file, obj, table)
            compiled = _compiled(obj, plan)
            if compiled is not None:
                yield from check_column_types(file, obj, compiled, table)
                yield from check_binary_columns(file, obj, compiled, table)
                yield from check_structured_columns(file, obj, compiled, table)
                yield from check_anchor_column(file, obj, compiled, table, catalog.dialect)
                yield from check_anchor_width(file, obj, compiled, table, catalog.dialect)
                yield from check_generated_columns(file, obj, compiled, table)
                yield from check_datetime_columns(file, obj, compiled, table)
                yield from check_stamp_column(file, obj, compiled, table, dialect)
                yield from check_empty_defaults(file, obj, compiled, table)
            if obj.writes is not None and obj.writes.insert is None:
                yield from _check_not_null(file, obj, table_name, table, plan)


def _check_change_table(file: str, delta: DeltaTable, catalog: Catalog) -> Iterator[Diagnostic]:
    table = catalog.table(delta.table.value)
    if table is None:
        yield unknown_table(file, delta.table.value, delta.table.span, catalog)
        return
    for column in (delta.sequence, delta.anchor, delta.change_type):
        if column is not None and column.value.lower() not in table.columns:
            yield UNKNOWN_DB_COLUMN.at(
                file,
                column.span,
                f"column '{column.value}' does not exist in {table.name}",
                did_you_mean(column.value, [c["name"] for c in table.columns.values()], "columns"),
            )


def _check_query(file: str, block: SqlBlock, dialect: str | None, catalog: Catalog) -> Iterator[Diagnostic]:
    try:
        tree = sqlglot.parse_one(block.text, read=dialect)
    except sqlglot.errors.ParseError:
        return  # the compiler reports SQL it cannot parse (MAP2xx)
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    tables: dict[str, Table] = {}
    for node in tree.find_all(exp.Table):
        if not node.name or node.name.lower() in ctes:
            continue
        qualified = ".".join(p for p in (node.db, node.name) if p)
        table = catalog.table(qualified)
        if table is None:
            yield unknown_table(file, qualified, _sql_span(block, node.name), catalog)
            continue
        tables[node.alias_or_name.lower()] = table
    if not tables or ctes or any(True for _ in tree.find_all(exp.Subquery)):
        return  # columns of derived tables are beyond a simple look-up
    aliases = {a.alias.lower() for a in tree.find_all(exp.Alias)}
    seen: set[str] = set()
    for column in tree.find_all(exp.Column):
        name = column.name
        if not name or name.lower() in seen or isinstance(column.this, exp.Star):
            continue
        seen.add(name.lower())
        qualifier = column.table.lower()
        scope = [tables[qualifier]] if qualifier in tables else list(tables.values())
        if qualifier and qualifier not in tables:
            continue
        if any(name.lower() in t.columns for t in scope) or (not qualifier and name.lower() in aliases):
            continue
        names = [c["name"] for t in scope for c in t.columns.values()]
        yield UNKNOWN_DB_COLUMN.at(
            file,
            _sql_span(block, name),
            f"column '{name}' does not exist in {', '.join(t.name for t in scope)}",
            did_you_mean(name, names, "columns"),
        )


def _check_not_null(
    file: str, obj: ObjectType, table_name: Name, table: Table, plan: Plan | None
) -> Iterator[Diagnostic]:
    filled = {c.lower() for c in _exported_columns(obj, plan)}
    for key, column in table.columns.items():
        if key in filled or column.get("nullable", True) or _generated(column):
            continue
        if obj.anchor and obj.anchor.generation == "database" and key == obj.anchor.column.value.lower():
            continue
        yield NOT_NULL_UNFILLED.at(
            file,
            table_name.span,
            f"column '{column['name']}' of {table.name} is NOT NULL without a default, and no exported "
            f"attribute fills it: inserts into {table.name} would fail",
            f"map it with '<->' or '->', give every new row a value (create set {column['name']} = VALUE), "
            "give the column a default, or write the insert yourself",
        )


def _exported_columns(obj: ObjectType, plan: Plan | None) -> list[str]:
    """The columns a derived insert fills: the anchor (unless generated), the attributes a client
    writes (an import-only one, such as ``meta.created <- created_at``, fills nothing), the
    column ``stamp`` sets and those ``create set`` gives fixed values."""
    anchor = [obj.anchor.column.value] if obj.anchor and obj.anchor.generation != "database" else []
    stamp = [obj.stamp.column.value] if obj.stamp is not None else []
    stamp += [a.column.value for a in obj.create.assignments] if obj.create is not None else []
    compiled = _compiled(obj, plan)
    if compiled is not None:
        written = [
            a.target_column for a in compiled.attributes if a.target_column and a.direction != "import"
        ]
        return anchor + stamp + written
    return anchor + stamp + [m.column.value for m in obj.attributes if m.direction != "import"]


def _compiled(obj: ObjectType, plan: Plan | None) -> PlanObject | None:
    """``obj`` as the plan compiled it (None without a plan)."""
    if plan is None:
        return None
    try:
        return plan.object(obj.name.value)
    except KeyError:
        return None


def _generated(column: dict[str, Any]) -> bool:
    return (
        column.get("default") is not None
        or column.get("autoincrement") is True
        or bool(column.get("identity"))
        or bool(column.get("computed"))
    )


def _sql_span(block: SqlBlock, word: str) -> Span:
    """Where ``word`` first appears in the SQL block, as a file span (the block's start if absent)."""
    found = re.search(rf"(?<![\w$]){re.escape(word)}(?![\w$])", block.text, re.IGNORECASE)
    start, end = (found.start(), found.end()) if found else (0, 1)
    return locate(block, start, end)


def unknown_table(file: str, name: str, span: Span, catalog: Catalog) -> Diagnostic:
    schema = name.rpartition(".")[0] or None
    return UNKNOWN_TABLE.at(
        file,
        span,
        f"table '{name}' does not exist in the database",
        did_you_mean(name.rpartition(".")[2], catalog.names(schema).values(), "tables")
        or "the database has no tables; create the schema first",
    )
