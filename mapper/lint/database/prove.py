"""Proving every statement of the plan against the live database (``mapper lint --db``).

The plan is walked generically (:func:`statements`): every :class:`~mapper.plan.Statement` in it,
whatever field holds it, is proven, so a statement kind added to the plan later is covered
without a change here. Each one is handed to the database to *prepare*, never to run:

- PostgreSQL: ``PREPARE`` with ``$n`` parameters, whose types PostgreSQL infers from where they
  are used, so a misspelled column, a missing table and a value of the wrong type (a string
  constant into a boolean column) are all refused; ``CALL`` cannot be prepared, so a procedure is
  looked up in ``pg_proc`` (existence, procedure or function, number of arguments);
- MariaDB/MySQL: ``PREPARE ... FROM`` with ``?`` parameters (tables and columns); procedures in
  ``information_schema.ROUTINES``/``PARAMETERS``;
- SQLite: ``EXPLAIN``, which compiles the statement without running it (SQLite has no stored
  procedures and no column types to refuse a value for).

Each statement is prepared on its own connection inside a transaction that is rolled back
afterwards, and the prepared statement is deallocated: nothing is changed. A refusal becomes a
diagnostic at the place the compiler's source map gives for the statement (:mod:`places`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, cast

import sqlglot
from sqlglot import exp

from mapper.checks.spans import did_you_mean
from mapper.compiler.context import Origin
from mapper.compiler.sqltext import quiet_sqlglot
from mapper.diagnostics import Diagnostic
from mapper.language.model import MappingFile
from mapper.lint.database.catalog import Catalog
from mapper.lint.database.codes import (
    PROCEDURE_ARITY,
    STATEMENT_REJECTED,
    TYPE_MISMATCH,
    UNKNOWN_DB_COLUMN,
    UNKNOWN_PROCEDURE,
    UNKNOWN_TABLE,
)
from mapper.lint.database.constants import misplaced_text
from mapper.lint.database.places import find_object, place, value_place
from mapper.plan import Plan, PlanNode, Statement

if TYPE_CHECKING:
    from sqlalchemy import Engine

#: The plan dialect of each SQLAlchemy dialect we can prove statements against.
PROVABLE = {"sqlite": "sqlite", "postgresql": "postgres", "mysql": "mysql", "mariadb": "mysql"}

#: Each database's placeholder style for a statement it prepares.
_PARAMSTYLE = {"postgres": "numeric_dollar", "mysql": "qmark", "sqlite": "qmark"}

_CALL = re.compile(r"^\s*CALL\s+(?P<name>[^\s(]+)\s*\((?P<args>.*)\)\s*;?\s*$", re.IGNORECASE | re.DOTALL)
_ARGUMENT = re.compile(r"(?<![:\w\\]):\w+")
#: a write's locking read of the object it changes (``by_anchor_locked``): PostgreSQL refuses a
#: lock it cannot take (``FOR NO KEY UPDATE`` of a view over a ``LEFT JOIN``: its nullable side)
#: when it plans the statement, which ``PREPARE`` does not do; ``EXPLAIN`` does, running nothing
_LOCKING = re.compile(r"\bFOR\s+(NO\s+KEY\s+)?UPDATE\b", re.IGNORECASE)

Kind = Literal["column", "table", "type", "procedure", "arity", "other"]


@dataclass(frozen=True)
class Found:
    """A statement of the plan, with the object it belongs to and the field path that holds it."""

    obj: str
    path: str  # e.g. "by_anchor", "delta.query", "multi[0].add", "disable.statement"
    statement: Statement


@dataclass(frozen=True)
class Rejection:
    """Why the database refuses a statement: the kind of problem, the database's own words, and
    the name it is about (a column, table or procedure) when it says one."""

    kind: Kind
    detail: str
    name: str | None = None
    table: str | None = None


def statements(plan: Plan) -> list[Found]:
    """Every statement the plan can run, each SQL text once, in plan order."""
    seen: set[str] = set()
    out: list[Found] = []
    for obj in plan.objects:
        for path, statement in _walk(obj, ""):
            if statement.sql not in seen:
                seen.add(statement.sql)
                out.append(Found(obj.name, path, statement))
    return out


def _walk(node: PlanNode, prefix: str) -> Iterator[tuple[str, Statement]]:
    for field in type(node).model_fields:
        value = getattr(node, field)
        items = value if isinstance(value, tuple) else (value,)
        for index, item in enumerate(items):
            path = prefix + field + (f"[{index}]" if isinstance(value, tuple) else "")
            if isinstance(item, Statement):
                yield path, item
            elif isinstance(item, PlanNode):
                yield from _walk(item, path + ".")


def prove(
    mapping: MappingFile,
    plan: Plan,
    origins: dict[str, Origin],
    engine: Engine,
    catalog: Catalog,
) -> list[Diagnostic]:
    """A diagnostic for every statement of ``plan`` (compiled for ``engine``'s dialect) that the
    database refuses."""
    dialect = PROVABLE[engine.dialect.name]
    prover = _Prover(engine, dialect, catalog)
    found: list[Diagnostic] = []
    try:
        for item in statements(plan):
            rejection = prover.prove(item.statement)
            if rejection is not None:
                found.append(_diagnostic(mapping, item, origins.get(item.statement.sql), rejection, catalog))
    finally:
        prover.close()
    return found


class _Prover:
    """Prepares statements on one raw driver connection, rolling back after each."""

    def __init__(self, engine: Engine, dialect: str, catalog: Catalog) -> None:
        self._dialect = dialect
        self._catalog = catalog
        self._compiler = type(engine.dialect)(paramstyle=_PARAMSTYLE[dialect])  # type: ignore[call-arg]
        self._errors = engine.dialect.loaded_dbapi.Error
        self._raw = engine.raw_connection()

    def close(self) -> None:
        self._raw.close()

    def prove(self, statement: Statement) -> Rejection | None:
        call = _CALL.match(statement.sql)
        if call is not None and self._dialect != "sqlite":
            return self._procedure(call.group("name"), len(_ARGUMENT.findall(call.group("args"))))
        from sqlalchemy import text  # a driver is loaded only for --db

        compiled = text(statement.sql).compile(dialect=self._compiler)
        sql, count = str(compiled), len(compiled.positiontup or ())
        cursor = self._raw.cursor()
        try:
            self._prepare(cursor, sql, count)
        except self._errors as err:
            return classify(err)
        finally:
            cursor.close()
            self._raw.rollback()
        if self._dialect == "mysql":  # it converts values only when a row is written
            misplaced = misplaced_text(statement.sql, self._catalog)
            if misplaced is not None:
                return Rejection("type", misplaced[1], misplaced[0])
        return None

    def _prepare(self, cursor: Any, sql: str, count: int) -> None:
        if self._dialect == "postgres":  # no parameters: psycopg sends the text as it is
            cursor.execute("PREPARE mapper_lint AS " + sql)
            try:
                if _LOCKING.search(sql):  # planned, not prepared: a view's outer join refuses it then
                    nulls = f"({', '.join(['NULL'] * count)})" if count else ""
                    cursor.execute(f"EXPLAIN EXECUTE mapper_lint{nulls}")
            except self._errors:
                self._raw.rollback()  # a prepared statement outlives its transaction
                cursor.execute("DEALLOCATE mapper_lint")
                raise
            cursor.execute("DEALLOCATE mapper_lint")
        elif self._dialect == "mysql":
            cursor.execute("PREPARE mapper_lint FROM %s", (sql,))
            cursor.execute("DEALLOCATE PREPARE mapper_lint")
        else:
            cursor.execute("EXPLAIN " + sql, (None,) * count)

    def _procedure(self, written: str, arguments: int) -> Rejection | None:
        parts = [p.strip('"`[]') for p in written.split(".")]
        name, schema = parts[-1], (parts[-2] if len(parts) > 1 else None)
        routines = self._catalog.procedures(schema).get(name.lower(), [])
        if not routines:
            return Rejection("procedure", f"procedure '{written}' does not exist", name)
        procedures = [r for r in routines if r.callable]
        if not procedures:
            return Rejection(
                "procedure", f"'{written}' is a function, not a procedure: CALL refuses it", name
            )
        if any(p.least <= arguments <= p.most for p in procedures):
            return None
        takes = " or ".join(sorted({_arity(p.least, p.most) for p in procedures}))
        return Rejection("arity", f"procedure '{written}' takes {takes}, the call passes {arguments}", name)


def _arity(least: int, most: int) -> str:
    count = f"{least} to {most}" if least != most else str(most)
    return f"{count} argument{'s' if most != 1 else ''}"


#: What the databases say, and what it is about. PostgreSQL's SQLSTATE is more reliable than its
#: (translatable) words, so it decides the kind there; the words still give the name.
_SAYINGS: tuple[tuple[Kind, re.Pattern[str]], ...] = tuple(
    (cast(Kind, kind), re.compile(pattern))
    for kind, pattern in (
        ("column", r'column "(?P<name>[^"]+)" of relation "(?P<table>[^"]+)" does not exist'),
        ("column", r'column (?P<name>"[^"]+"|\S+) does not exist'),
        ("table", r'relation (?P<name>"[^"]+"|\S+) does not exist'),
        ("column", r"Unknown column '(?P<name>[^']+)'"),
        ("table", r"Table '(?P<name>[^']+)' doesn't exist"),
        ("column", r"table (?P<table>\S+) has no column named (?P<name>\S+)"),
        ("column", r"no such column: (?P<name>\S+)"),
        ("table", r"no such table: (?P<name>\S+)"),
        ("type", r'column "(?P<name>[^"]+)" is of type'),
        ("type", r'invalid input syntax for type \w+: "(?P<name>[^"]*)"'),
    )
)
_POSTGRES_TYPE_STATES = ("22", "42804", "42883", "42846")  # data exceptions, mismatches, no operator


def classify(err: Exception) -> Rejection:
    """A driver's error as a :class:`Rejection`."""
    args: tuple[Any, ...] = tuple(getattr(err, "args", ()))
    words = args[1] if len(args) == 2 and isinstance(args[0], int) else str(err)  # PyMySQL: (errno, text)
    detail = str(words).strip().splitlines()[0] if str(words).strip() else type(err).__name__
    sqlstate = str(getattr(err, "sqlstate", "") or "")
    for kind, pattern in _SAYINGS:
        match = pattern.search(detail)
        if match is not None:
            name = _bare(match.group("name"))
            table = _bare(match.groupdict().get("table"))
            return Rejection(kind, detail, name, table)
    if sqlstate.startswith(_POSTGRES_TYPE_STATES):
        return Rejection("type", detail)
    return Rejection("other", detail)


def _bare(name: str | None) -> str | None:
    """``"x"``, ``main.x``, ``db.x`` or ``e.x`` as ``x``."""
    if name is None:
        return None
    return name.strip('"`').rpartition(".")[2].strip('"`') or None


def _diagnostic(
    mapping: MappingFile, item: Found, origin: Origin | None, rejection: Rejection, catalog: Catalog
) -> Diagnostic:
    obj = find_object(mapping, item.obj)
    span = origin.span if origin is not None else obj.span if obj is not None else mapping.objects[0].span
    what = origin.what if origin is not None else f"{item.obj} {item.path}"
    where = place(mapping, span, rejection.name, obj)
    file, name = mapping.path, rejection.name or ""
    statement = f"the {item.path} statement: {_short(item.statement.sql)}"
    if rejection.kind == "table":
        hint = did_you_mean(name, catalog.names(None).values(), "tables") or statement
        return UNKNOWN_TABLE.at(file, where, f"{what}: table '{name}' does not exist in the database", hint)
    if rejection.kind == "column":
        tables = _tables(item.statement.sql, rejection.table, catalog)
        columns = [str(c["name"]) for _, t in tables for c in t.columns.values()]
        in_tables = f" in {', '.join(n for n, _ in tables)}" if tables else ""
        message = f"{what}: column '{name}' does not exist{in_tables}"
        return UNKNOWN_DB_COLUMN.at(file, where, message, did_you_mean(name, columns, "columns") or statement)
    if rejection.kind == "procedure":
        names = [p.name for found in catalog.procedures(None).values() for p in found if p.callable]
        return UNKNOWN_PROCEDURE.at(
            file, where, f"{what}: {rejection.detail}", did_you_mean(name, names, "procedures")
        )
    if rejection.kind == "arity":
        return PROCEDURE_ARITY.at(
            file, span, f"{what}: {rejection.detail}", "match the procedure's parameters"
        )
    if rejection.kind == "type":  # a create set value the column cannot hold: at the value
        where = value_place(mapping, rejection.name, obj) or where
        return TYPE_MISMATCH.at(file, where, f"{what}: {rejection.detail}", statement)
    if "nullable side of an outer join" in rejection.detail:  # the locking read of a view
        statement = (
            f"a write locks the row it changes ({statement}), which PostgreSQL cannot do through a "
            "view's LEFT JOIN: select the joined values with scalar subqueries in the view instead "
            "(docs/authoring.md, a key-value table)"
        )
    return STATEMENT_REJECTED.at(
        file, span, f"{what}: the database refuses it: {rejection.detail}", statement
    )


def _tables(sql: str, named: str | None, catalog: Catalog) -> list[tuple[str, Any]]:
    """The tables a statement uses (only ``named`` when the database said which), as found."""
    wanted: list[str] = [named] if named else []
    if not wanted:
        try:
            with quiet_sqlglot():
                tree = sqlglot.parse_one(sql)
        except Exception:  # noqa: BLE001 - no tables, so no suggestion
            return []
        ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
        wanted = [".".join(p for p in (t.db, t.name) if p) for t in tree.find_all(exp.Table)]
        wanted = [w for w in dict.fromkeys(wanted) if w and w.lower() not in ctes]
    found = [(w, catalog.table(w)) for w in wanted]
    return [(t.name, t) for _, t in found if t is not None]


def _short(sql: str, limit: int = 160) -> str:
    flat = " ".join(sql.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
