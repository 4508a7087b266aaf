"""Checks against a live database (``mapper lint --db URL``), MAP3xx.

Uses SQLAlchemy's inspector, imported here only, so plain ``mapper lint`` needs no driver. Every
object is checked against the one database given: the tables its import queries read and the
columns they name, the table of ``write table``, and NOT NULL columns without a default that no
exported attribute fills (inserts would fail).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlglot
from sqlglot import exp

from mapper.checks.sources import dialect_of
from mapper.checks.spans import did_you_mean
from mapper.diagnostics import Code, Diagnostic, Severity
from mapper.errors import MapperError
from mapper.language.model import DeltaTable, MappingFile, Name, ObjectType, Span, SqlBlock
from mapper.plan import Plan

if TYPE_CHECKING:
    from sqlalchemy.engine import Inspector

UNKNOWN_TABLE = Code(
    "MAP301", "unknown-table", Severity.ERROR, "a table the mapping uses is not in the database"
)
UNKNOWN_DB_COLUMN = Code(
    "MAP302",
    "unknown-db-column",
    Severity.ERROR,
    "a column the import query (or the change table) names is not in its table",
)
NOT_NULL_UNFILLED = Code(
    "MAP303",
    "not-null-unfilled",
    Severity.ERROR,
    "a NOT NULL column without a default is not filled by any exported attribute",
)
CODES = (UNKNOWN_TABLE, UNKNOWN_DB_COLUMN, NOT_NULL_UNFILLED)

#: The driver for a URL that names none: the ones the project installs. The same choice as the
#: runtime's (``mapper.runtime.database.DRIVERS``), which the language side does not import.
DRIVERS = {
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
}


class DatabaseError(MapperError):
    """The database given with ``--db`` could not be reached or inspected."""


@dataclass(frozen=True)
class Table:
    name: str
    columns: dict[str, dict[str, Any]]  # lower-cased name -> the inspector's column dict


class Catalog:
    """Tables looked up case-insensitively, each inspected once."""

    def __init__(self, inspector: Inspector) -> None:
        self._inspector = inspector
        self._names: dict[str | None, dict[str, str]] = {}
        self._tables: dict[tuple[str | None, str], Table] = {}

    def names(self, schema: str | None) -> dict[str, str]:
        if schema not in self._names:
            try:
                found = self._inspector.get_table_names(schema=schema)
                found += self._inspector.get_view_names(schema=schema)
            except Exception:  # an unknown schema: no tables
                found = []
            self._names[schema] = {n.lower(): n for n in found}
        return self._names[schema]

    def table(self, qualified: str) -> Table | None:
        schema, _, name = qualified.rpartition(".")
        real = self.names(schema or None).get(name.lower())
        if real is None:
            return None
        key = (schema or None, real)
        if key not in self._tables:
            columns = self._inspector.get_columns(real, schema=schema or None)
            self._tables[key] = Table(real, {str(c["name"]).lower(): dict(c) for c in columns})
        return self._tables[key]


def check_database(mapping: MappingFile, url: str, plan: Plan | None = None) -> list[Diagnostic]:
    from sqlalchemy import create_engine, inspect
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception as exc:
        raise DatabaseError(f"--db: not a database URL: {exc}") from exc
    if "+" not in parsed.drivername and parsed.drivername in DRIVERS:
        parsed = parsed.set(drivername=DRIVERS[parsed.drivername])
    shown = parsed.render_as_string(hide_password=True)
    try:
        engine = create_engine(parsed)
    except Exception as exc:
        raise DatabaseError(f"--db {shown}: {exc}") from exc
    try:
        with engine.connect() as connection:
            catalog = Catalog(inspect(connection))
            return [d for obj in mapping.objects for d in _check_object(mapping, obj, catalog, plan)]
    except MapperError:
        raise
    except Exception as exc:
        raise DatabaseError(f"--db {shown}: cannot connect or inspect: {_first_line(exc)}") from exc
    finally:
        engine.dispose()


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _dialect(mapping: MappingFile, obj: ObjectType) -> str | None:
    for source in mapping.sources:
        if source.name.value == obj.source.value and source.dialect:
            return dialect_of(source.dialect.value)
    return None


def _check_object(
    mapping: MappingFile, obj: ObjectType, catalog: Catalog, plan: Plan | None
) -> Iterator[Diagnostic]:
    file, dialect = mapping.path, _dialect(mapping, obj)
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
            yield _unknown_table(file, table_name.value, table_name.span, catalog)
        elif obj.writes is not None and obj.writes.insert is None:
            yield from _check_not_null(file, obj, table_name, table, plan)


def _check_change_table(file: str, delta: DeltaTable, catalog: Catalog) -> Iterator[Diagnostic]:
    table = catalog.table(delta.table.value)
    if table is None:
        yield _unknown_table(file, delta.table.value, delta.table.span, catalog)
        return
    for column in (delta.sequence, delta.anchor, delta.change_type):
        if column is not None and column.value.lower() not in table.columns:
            yield UNKNOWN_DB_COLUMN.at(
                file,
                column.span,
                f"column '{column.value}' does not exist in {table.name}",
                did_you_mean(column.value, [c["name"] for c in table.columns.values()], "columns"),
            )


def _unknown_table(file: str, name: str, span: Span, catalog: Catalog) -> Diagnostic:
    schema = name.rpartition(".")[0] or None
    return UNKNOWN_TABLE.at(
        file,
        span,
        f"table '{name}' does not exist in the database",
        did_you_mean(name.rpartition(".")[2], catalog.names(schema).values(), "tables")
        or "the database has no tables; create the schema first",
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
            yield _unknown_table(file, qualified, _sql_span(block, node.name), catalog)
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
            "map it with '<->' or '->', give the column a default, or write the insert yourself",
        )


def _exported_columns(obj: ObjectType, plan: Plan | None) -> list[str]:
    anchor = [obj.anchor.column.value] if obj.anchor and obj.anchor.generation != "database" else []
    if plan is not None:
        try:
            compiled = plan.object(obj.name.value)
        except KeyError:
            compiled = None
        if compiled is not None:
            return anchor + [a.target_column for a in compiled.attributes if a.target_column]
    return anchor + [m.column.value for m in obj.attributes if m.direction != "import"]


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
    start, end = (found.start(), found.end()) if found else (0, 0)
    return _offset_span(block, start, end)


def _offset_span(block: SqlBlock, start: int, end: int) -> Span:
    def at(k: int) -> tuple[int, int]:
        before = block.text[:k]
        newlines = before.count("\n")
        if newlines == 0:
            return block.text_span.line, block.text_span.col + k
        return block.text_span.line + newlines, k - before.rfind("\n")

    (line, col), (end_line, end_col) = at(start), at(max(end, start + 1))
    base = block.text_span.offset
    return Span(
        line=line, col=col, end_line=end_line, end_col=end_col, offset=base + start, end_offset=base + end
    )
