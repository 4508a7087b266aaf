"""The live schema, looked up case-insensitively and inspected once per name: tables and views
with their columns (SQLAlchemy's inspector), and stored procedures with the number of arguments
they take (PostgreSQL's ``pg_proc``, MariaDB/MySQL's ``information_schema``; SQLite has none)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mapper.lint.database.checks import allowed_values

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.engine import Inspector


@dataclass(frozen=True)
class Table:
    name: str
    columns: dict[str, dict[str, Any]]  # lower-cased name -> the inspector's column dict
    # lower-cased name -> the closed list of values a CHECK constraint allows (checks.py)
    allowed: dict[str, frozenset[Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Procedure:
    """A routine the database has: its name as stored, whether ``CALL`` can run it, and how many
    arguments it accepts (``least`` when some have defaults)."""

    name: str
    callable: bool  # a procedure (not a function, which CALL refuses)
    least: int
    most: int


_POSTGRES_PROCEDURES = """
SELECT p.proname, p.prokind, p.pronargs, p.pronargdefaults
FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND (n.nspname = :schema OR (:schema IS NULL AND pg_function_is_visible(p.oid)))
"""

_MYSQL_PROCEDURES = """
SELECT r.ROUTINE_NAME, r.ROUTINE_TYPE,
       (SELECT COUNT(*) FROM information_schema.PARAMETERS AS p
        WHERE p.SPECIFIC_SCHEMA = r.ROUTINE_SCHEMA AND p.SPECIFIC_NAME = r.SPECIFIC_NAME
          AND p.ROUTINE_TYPE = r.ROUTINE_TYPE AND p.ORDINAL_POSITION > 0)
FROM information_schema.ROUTINES AS r
WHERE r.ROUTINE_SCHEMA = COALESCE(:schema, DATABASE())
"""

_MYSQL_DEFAULTS = """
SELECT COLUMN_NAME, COLUMN_DEFAULT FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA = COALESCE(:schema, DATABASE()) AND TABLE_NAME = :table
  AND COLUMN_DEFAULT IS NOT NULL AND COLUMN_DEFAULT <> 'NULL'
"""

_MYSQL_CHECKS = """
SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS
WHERE CONSTRAINT_SCHEMA = COALESCE(:schema, DATABASE()) AND TABLE_NAME = :table
"""


class Catalog:
    """Tables and procedures looked up case-insensitively, each inspected once."""

    def __init__(self, inspector: Inspector, connection: Connection) -> None:
        self._inspector = inspector
        self._connection = connection
        self._names: dict[str | None, dict[str, str]] = {}
        self._tables: dict[tuple[str | None, str], Table] = {}
        self._procedures: dict[str | None, dict[str, list[Procedure]]] = {}
        self._foreign_keys: dict[str, list[dict[str, Any]]] = {}

    @property
    def dialect(self) -> str:
        """The database's SQLAlchemy dialect name: ``sqlite``, ``postgresql``, ``mysql``."""
        return str(self._connection.dialect.name)

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
            from sqlalchemy.exc import SAWarning  # here: a plain lint loads no database driver

            with warnings.catch_warnings():  # TINYINT(1) on SQLite: its arguments, not its type
                warnings.simplefilter("ignore", SAWarning)
                columns = reflect_columns(self._inspector, self._connection, real, schema or None)
            self._tables[key] = Table(
                real, {str(c["name"]).lower(): dict(c) for c in columns}, self._allowed(real, schema or None)
            )
        return self._tables[key]

    def foreign_keys(self, qualified: str) -> list[dict[str, Any]]:
        """The inspector's foreign keys of the table ``qualified`` names (none when it has no such
        table, or the database cannot list them)."""
        if qualified not in self._foreign_keys:
            table = self.table(qualified)
            schema = qualified.rpartition(".")[0] or None
            try:
                found: list[dict[str, Any]] = (
                    [dict(k) for k in self._inspector.get_foreign_keys(table.name, schema=schema)]
                    if table
                    else []
                )
                if table and found:
                    self._with_actions(table.name, found)
            except Exception:  # noqa: BLE001 - a view, or a dialect that cannot list them: nothing known
                found = []
            self._foreign_keys[qualified] = found
        return self._foreign_keys[qualified]

    def tables_with_keys(self, schema: str | None) -> list[str]:
        """The tables of ``schema`` that have foreign keys (qualified as :meth:`foreign_keys` takes
        them), their keys read in one inspection of the whole schema and kept for
        :meth:`foreign_keys` (a table at a time would cost a query or more per table: seconds on a
        schema of hundreds)."""
        try:
            found = self._inspector.get_multi_foreign_keys(schema=schema)
        except Exception:  # noqa: BLE001 - a dialect that cannot list them: none known
            return []
        names = []
        for (_, table), keys in sorted(found.items(), key=lambda item: str(item[0][1])):
            if not keys:
                continue
            name = f"{schema}.{table}" if schema else str(table)
            if name not in self._foreign_keys:
                self._foreign_keys[name] = self._with_actions(str(table), [dict(k) for k in keys])
            names.append(name)
        return names

    def _with_actions(self, table: str, keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``keys`` (the inspector's foreign keys of ``table``) with their ``ON DELETE`` action on
        SQLite too, where the inspector leaves it out (:func:`sqlite_on_delete`)."""
        if self._connection.dialect.name == "sqlite":
            actions = sqlite_on_delete(self._connection, table)
            for key in keys:
                columns = tuple(str(c).lower() for c in key.get("constrained_columns") or ())
                options: dict[str, Any] = dict(key.get("options") or {})
                key["options"] = {**options, "ondelete": actions.get(columns)}
        return keys

    def _allowed(self, table: str, schema: str | None) -> dict[str, frozenset[Any]]:
        from sqlalchemy import text

        try:
            if self._connection.dialect.name in ("mysql", "mariadb"):
                # the inspector parses SHOW CREATE TABLE and misses MariaDB's column-level checks
                rows = self._connection.execute(text(_MYSQL_CHECKS), {"table": table, "schema": schema})
                constraints = [{"sqltext": str(clause)} for (clause,) in rows]
            else:
                reflected = self._inspector.get_check_constraints(table, schema=schema)
                constraints = [{"sqltext": c.get("sqltext")} for c in reflected]
        except Exception:  # noqa: BLE001 - a view, or a dialect that cannot list them: nothing known
            return {}
        return allowed_values(constraints, self._connection.dialect.name)

    def procedures(self, schema: str | None) -> dict[str, list[Procedure]]:
        """Every routine of ``schema`` (the default search path or database when ``None``), by
        lower-cased name (PostgreSQL may overload a name)."""
        if schema not in self._procedures:
            found: dict[str, list[Procedure]] = {}
            for procedure in self._read_procedures(schema):
                found.setdefault(procedure.name.lower(), []).append(procedure)
            self._procedures[schema] = found
        return self._procedures[schema]

    def _read_procedures(self, schema: str | None) -> list[Procedure]:
        from sqlalchemy import text  # a driver is loaded only for --db

        kind = self._connection.dialect.name
        if kind == "postgresql":
            rows = self._connection.execute(text(_POSTGRES_PROCEDURES), {"schema": schema})
            return [Procedure(str(n), k == "p", int(a) - int(d), int(a)) for n, k, a, d in rows]
        if kind in ("mysql", "mariadb"):
            rows = self._connection.execute(text(_MYSQL_PROCEDURES), {"schema": schema})
            return [Procedure(str(n), t == "PROCEDURE", int(c), int(c)) for n, t, c in rows]
        return []  # SQLite has no stored procedures


def reflect_columns(
    inspector: Inspector, connection: Connection, table: str, schema: str | None
) -> list[dict[str, Any]]:
    """The inspector's columns of ``table``, with the defaults it cannot read filled in from
    MariaDB/MySQL's ``information_schema``: it parses ``SHOW CREATE TABLE`` and reads no default
    written as a bit literal (Keycloak's ``ENABLED BIT(1) NOT NULL DEFAULT b'0'``), so such a
    column looked required to every insert (MAP303) and to ``mapper init``, which drafted a
    ``create set ENABLED = FILL_IN``."""
    columns = [dict(c) for c in inspector.get_columns(table, schema=schema)]
    if connection.dialect.name not in ("mysql", "mariadb") or all(
        c.get("default") is not None for c in columns
    ):
        return columns
    from sqlalchemy import text

    rows = connection.execute(text(_MYSQL_DEFAULTS), {"table": table, "schema": schema})
    defaults = {str(name).lower(): str(default) for name, default in rows}
    for column in columns:
        if column.get("default") is None and str(column["name"]).lower() in defaults:
            column["default"] = defaults[str(column["name"]).lower()]
    return columns


def sqlite_on_delete(connection: Connection, table: str) -> dict[tuple[str, ...], str]:
    """The ``ON DELETE`` action of each foreign key of a SQLite table, by its lower-cased columns
    in order (``NO ACTION`` when none is declared): SQLAlchemy's inspector leaves SQLite's out."""
    from sqlalchemy import text

    quoted = '"' + table.replace('"', '""') + '"'
    rows = connection.execute(text(f"PRAGMA foreign_key_list({quoted})")).mappings().all()
    columns: dict[int, list[str]] = {}
    actions: dict[int, str] = {}
    for row in sorted(rows, key=lambda r: (r["id"], r["seq"])):
        columns.setdefault(row["id"], []).append(str(row["from"]).lower())
        actions[row["id"]] = str(row["on_delete"]).upper()
    return {tuple(columns[k]): actions[k] for k in columns}


def sqlite_unique(connection: Connection, table: str) -> list[tuple[str, ...]]:
    """The columns of each ``UNIQUE`` constraint of a SQLite table, in order. SQLAlchemy's
    inspector finds a column's own ``UNIQUE`` only after a type without parentheses: it misses
    OrangeHRM's ``user_name VARCHAR(40) DEFAULT NULL UNIQUE``; SQLite's index list has them all
    (``origin`` ``u``: the index a ``UNIQUE`` constraint makes)."""
    from sqlalchemy import text

    quoted = '"' + table.replace('"', '""') + '"'
    found = []
    for row in connection.execute(text(f"PRAGMA index_list({quoted})")).mappings().all():
        if not row["unique"] or row["origin"] != "u":
            continue
        index = '"' + str(row["name"]).replace('"', '""') + '"'
        info = connection.execute(text(f"PRAGMA index_info({index})")).mappings().all()
        names = [str(r["name"]) for r in sorted(info, key=lambda r: r["seqno"]) if r["name"] is not None]
        if names:
            found.append(tuple(names))
    return found
