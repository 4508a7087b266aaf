"""What ``mapper init`` knows of a live database: its tables, columns, keys and the values a
column may hold, read once with SQLAlchemy's inspector into frozen dataclasses.

Everything the guesses need is here, in the database's own names; nothing after this module
touches the database. Column types are reduced to a few kinds (``integer``, ``text``,
``boolean``, ``timestamp``, ``uuid``, ``decimal``, ``binary``, ``other``). The values a column
may hold come from an ``ENUM`` type or from a ``CHECK (c IN (...))`` constraint (MariaDB keeps
column checks only in ``information_schema``, which the inspector does not read); the lint's
``allowed_values`` reads them, as ``lint --db`` does for MAP309.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from mapper.errors import MapperError
from mapper.lint.database.catalog import reflect_columns, sqlite_on_delete, sqlite_unique
from mapper.lint.database.checks import allowed_values
from mapper.plan import dialect_of
from mapper.scaffold.names import CREATED, DELETED_AT, EMAIL, GROUP_NAME, KIND, LOGIN, STATUS, UPDATED, key

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.engine import Inspector


class ScaffoldError(MapperError):
    """``mapper init`` cannot write a mapping: the database cannot be read, or it lacks what a
    mapping needs (a user table with a key). The message says what is missing."""


#: the mapping dialects whose databases ``mapper init`` reads (a backend's name -> :func:`dialect_of`)
READABLE = frozenset({"sqlite", "postgres", "mysql"})


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # integer, text, boolean, timestamp, uuid, decimal, binary, other
    sql_type: str  # as the database declares it, for comments: VARCHAR(200)
    nullable: bool
    has_default: bool
    generated: bool  # identity, serial, AUTO_INCREMENT, SQLite's rowid alias
    length: int | None = None
    values: tuple[str, ...] = ()  # an ENUM's or a CHECK (c IN (...))'s values
    seen: bool = False  # values not declared but read from the rows (a status column)
    default: str | None = None  # the DEFAULT expression as the database gives it back
    largest: int | None = None  # the largest value of an integer named as a time (its unit)


@dataclass(frozen=True)
class ForeignKey:
    column: str
    table: str
    referred: str
    declared: bool = True  # False: inferred from the column's name (no constraint in the database)
    cascades: bool = False  # ON DELETE CASCADE: deleting the referred row deletes this one
    #: the referred table's rows as "key (name)", for a column every new row must fill (NOT NULL,
    #: no default: OrangeHRM's user_role_id, "1 (Admin)", "2 (ESS)"), when it has at most 20
    rows: tuple[str, ...] = ()

    @property
    def note(self) -> str:
        return "its foreign key" if self.declared else "its name (no foreign key declared)"


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    unique: frozenset[str]  # lower-cased names of columns unique on their own
    foreign_keys: tuple[ForeignKey, ...] = ()
    _by_name: dict[str, Column] = field(default_factory=dict, compare=False, repr=False)
    #: the columns unique only together, each as declared (Moodle's ``(mnethostid, username)``)
    unique_together: tuple[tuple[str, ...], ...] = ()

    def __post_init__(self) -> None:
        self._by_name.update({c.name.lower(): c for c in self.columns})

    def column(self, name: str) -> Column | None:
        return self._by_name.get(name.lower())

    def is_unique(self, name: str) -> bool:
        return name.lower() in self.unique

    def unique_with(self, name: str) -> tuple[str, ...]:
        """The other columns ``name`` is unique together with (the first such key), or ()."""
        for columns in self.unique_together:
            if name.lower() in (c.lower() for c in columns):
                return tuple(c for c in columns if c.lower() != name.lower())
        return ()


@dataclass(frozen=True)
class Database:
    dialect: str  # the mapping dialect: sqlite, postgres, mysql
    schema: str | None  # the schema named with --schema (None: the default one)
    tables: tuple[Table, ...]

    def table(self, name: str) -> Table | None:
        return next((t for t in self.tables if t.name.lower() == name.lower()), None)


def read_database(url: str, schema: str | None = None, only: tuple[str, ...] = ()) -> Database:
    """The tables of the database at ``url`` (in ``schema``; only those named in ``only``, when
    given). Raises :class:`ScaffoldError` when it cannot be reached or a named table is absent."""
    from sqlalchemy import create_engine, inspect

    from mapper.runtime.coherence import NAME as CHANGES  # the gateway's own change log
    from mapper.runtime.database import engine_url, redact

    try:
        parsed = engine_url(url)
    except Exception as exc:
        raise ScaffoldError(f"not a database URL: {exc}") from exc
    dialect = dialect_of(parsed.get_backend_name())
    if dialect not in READABLE:
        raise ScaffoldError(
            f"{redact(url)}: mapper init reads SQLite, PostgreSQL and MariaDB/MySQL databases, "
            f"not {parsed.get_backend_name()}"
        )
    engine = create_engine(parsed)
    try:
        with engine.connect() as connection, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # expression indexes: read from 'expressions' below
            inspector = inspect(connection)
            names = [n for n in inspector.get_table_names(schema=schema) if n.lower() != CHANGES]
            if only:
                known = {n.lower(): n for n in names}
                missing = [t for t in only if t.lower() not in known]
                if missing:
                    raise ScaffoldError(
                        f"no table {', '.join(repr(m) for m in missing)} in the database "
                        f"(tables: {', '.join(sorted(names)) or 'none'})"
                    )
                names = [known[t.lower()] for t in only]
            checks = _mysql_checks(connection, schema) if dialect == "mysql" else {}
            tables = tuple(
                _table(inspector, connection, n, schema, dialect, checks.get(n.lower(), []))
                for n in sorted(names)
            )
    except ScaffoldError:
        raise
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ScaffoldError(f"{redact(url)}: cannot connect or inspect: {first}") from exc
    finally:
        engine.dispose()
    if not tables:
        where = f"schema {schema!r}" if schema else "the database"
        raise ScaffoldError(f"{redact(url)}: {where} has no tables")
    return Database(dialect, schema, _infer_foreign_keys(tables))


def _table(
    inspector: Inspector,
    connection: Connection,
    name: str,
    schema: str | None,
    dialect: str,
    checks: list[str],
) -> Table:
    raw = reflect_columns(inspector, connection, name, schema)
    primary = tuple(inspector.get_pk_constraint(name, schema=schema).get("constrained_columns") or ())
    try:
        checks = checks + [
            str(c.get("sqltext", "")) for c in inspector.get_check_constraints(name, schema=schema)
        ]
    except NotImplementedError:
        pass
    columns = tuple(
        _seen(_column(c, primary, dialect, checks, connection), name, schema, connection) for c in raw
    )
    unique: set[str] = set()
    together: list[tuple[str, ...]] = []
    constraints = [
        tuple(c.get("column_names") or ()) for c in inspector.get_unique_constraints(name, schema=schema)
    ]
    if dialect == "sqlite":  # a column's own UNIQUE after VARCHAR(40): the inspector misses it
        constraints += [c for c in sqlite_unique(connection, name) if c not in constraints]
    for declared in constraints:
        if len(declared) == 1:
            unique.add(str(declared[0]).lower())
        elif declared and tuple(map(str, declared)) not in together:
            together.append(tuple(str(c) for c in declared))
    for index in inspector.get_indexes(name, schema=schema):
        if not index.get("unique"):
            continue
        cols = [c for c in index.get("column_names") or () if c]
        expressions = index.get("expressions") or []
        if len(cols) > 1 and not expressions:
            together.append(tuple(cols))
        if len(cols) == 1 and not expressions:
            unique.add(cols[0].lower())
        elif len(expressions) == 1:  # lower(login): unique regardless of case
            found = re.fullmatch(
                r"\s*lower\(\s*\(?[\"`]?(\w+)[\"`]?\)?(?:::\w+(?:\s+\w+)*)?\s*\)\s*", expressions[0], re.I
            )
            if found:
                unique.add(found.group(1).lower())
    if len(primary) == 1:
        unique.add(primary[0].lower())
    # the column a login is unique together with (Keycloak's UNIQUE (realm_id, username)) tells
    # whose the row is: its values are read, so that the draft serves the users of one of them
    scoped = {
        c.lower()
        for pair in together
        if len(pair) == 2 and any(key(c) in LOGIN.exact or key(c) in EMAIL.exact for c in pair)
        for c in pair
        if key(c) not in LOGIN.exact and key(c) not in EMAIL.exact
    }
    # a membership table's column every row must fill (Keycloak's membership_type): the value an
    # add writes may be the one its rows hold
    if len(primary) > 1:
        scoped |= {
            c.name.lower() for c in columns if not c.nullable and not c.has_default and c.name not in primary
        }
    columns = tuple(
        _distinct(c, name, schema, connection) if c.name.lower() in scoped and not c.values else c
        for c in columns
    )
    keys = []
    cascading = (
        {
            c[0]
            for c, action in sqlite_on_delete(connection, name).items()
            if action == "CASCADE" and len(c) == 1
        }
        if dialect == "sqlite"
        else set()
    )
    for fk in inspector.get_foreign_keys(name, schema=schema):
        constrained, referred = fk.get("constrained_columns") or [], fk.get("referred_columns") or []
        if len(constrained) == 1 and len(referred) == 1:
            on_delete = str((fk.get("options") or {}).get("ondelete") or "").upper()
            cascades = on_delete == "CASCADE" or constrained[0].lower() in cascading
            column = next((c for c in columns if c.name == constrained[0]), None)
            rows: tuple[str, ...] = ()
            if column is not None and not column.nullable and not column.has_default:
                rows = _referred_rows(inspector, connection, fk["referred_table"], referred[0], schema)
            keys.append(
                ForeignKey(constrained[0], fk["referred_table"], referred[0], cascades=cascades, rows=rows)
            )
    return Table(name, columns, primary, frozenset(unique), tuple(keys), unique_together=tuple(together))


def _json_valid(name: str) -> re.Pattern[str]:
    """``json_valid(name)`` in a CHECK clause: the column holds JSON (MariaDB's ``JSON`` type is
    ``LONGTEXT`` so checked; Mattermost's ``Props``, ``Timezone``)."""
    return re.compile(rf"json_valid\(\s*[`\"]?{re.escape(name)}[`\"]?\s*\)", re.I)


def _column(
    raw: Mapping[str, Any], primary: tuple[str, ...], dialect: str, checks: list[str], connection: Connection
) -> Column:
    from sqlalchemy import types

    name = str(raw["name"])
    sql_type = raw["type"]
    try:
        declared = sql_type.compile(dialect=connection.dialect)
    except Exception:  # noqa: BLE001 - a dialect-specific type without a generic rendering
        declared = type(sql_type).__name__
    length = getattr(sql_type, "length", None)
    listed = allowed_values([{"sqltext": c} for c in checks], connection.dialect.name).get(name.lower(), ())
    values = tuple(str(v) for v in getattr(sql_type, "enums", None) or ()) or tuple(
        sorted(str(v) for v in listed)
    )
    kind = "other"
    if isinstance(sql_type, types.Boolean):
        kind = "boolean"
    elif type(sql_type).__name__ == "BIT":  # MariaDB/MySQL's BIT(n), no Integer to SQLAlchemy
        kind = "boolean" if length in (None, 1) else "integer"  # Keycloak's ENABLED BIT(1)
    elif isinstance(sql_type, types.Integer):
        width = getattr(sql_type, "display_width", None)
        small = type(sql_type).__name__ in ("TINYINT", "BIT") and width == 1
        kind = "boolean" if small or set(values) == {"0", "1"} else "integer"
    elif isinstance(sql_type, types.Uuid) or type(sql_type).__name__.upper() == "UUID":
        kind = "uuid"
    elif isinstance(sql_type, (types.DateTime, types.Date)):
        kind = "timestamp"
    elif isinstance(sql_type, (types.String, types.Enum)):
        kind = "text"
    elif isinstance(sql_type, types.Numeric):
        kind = "decimal"
    elif isinstance(sql_type, types._Binary):
        kind = "binary"
    if kind == "text" and any(_json_valid(name).search(c) for c in checks):
        kind = "other"  # MariaDB's JSON is LONGTEXT CHECK (json_valid(col)): no text to map (MAP313)
    if kind == "boolean":
        values = ()
    default = raw.get("default")
    if default is not None and str(default).strip().upper() == "NULL":
        default = None  # SQLite's DEFAULT NULL (OrangeHRM's date_entered): no default
    generated = bool(raw.get("identity")) or (
        raw.get("autoincrement") is True and (dialect != "postgres" or "nextval(" in str(default or ""))
    )
    if dialect == "sqlite" and primary == (name,) and declared.upper() == "INTEGER":
        generated = True  # INTEGER PRIMARY KEY is the rowid: SQLite assigns it
    return Column(
        name=name,
        kind=kind,
        sql_type=declared,
        nullable=bool(raw.get("nullable", True)) and name not in primary,
        has_default=default is not None or generated,
        generated=generated,
        length=length if isinstance(length, int) else None,
        values=values,
        default=None if default is None else str(default),
    )


#: at most this many distinct values make a column of codes
MAX_CODES = 20


def _seen(column: Column, table: str, schema: str | None, connection: Connection) -> Column:
    """A status column (or one telling kinds of rows apart, Redmine's ``type``) whose codes
    nothing declares, with the codes its rows hold (at most ``MAX_CODES`` distinct values; more
    is no list of codes)."""
    name_key = key(column.name)
    named = STATUS.matches(name_key) or name_key in KIND.exact
    times = (CREATED, UPDATED, DELETED_AT)
    if column.kind == "integer" and any(t.matches(name_key) for t in times):
        return _largest(column, table, schema, connection)
    if column.values or not named:
        return column
    return _distinct(column, table, schema, connection)


def _largest(column: Column, table: str, schema: str | None, connection: Connection) -> Column:
    """An integer column named as a time with its largest value, which tells seconds since the
    epoch (Moodle's ``timecreated``) from milliseconds (Keycloak's ``created_timestamp``)."""
    from sqlalchemy import column as sql_column
    from sqlalchemy import func, select
    from sqlalchemy import table as sql_table

    found = connection.execute(
        select(func.max(sql_column(column.name))).select_from(sql_table(table, schema=schema))
    ).scalar()
    return replace(column, largest=int(found)) if isinstance(found, int) else column


def _referred_rows(
    inspector: Inspector, connection: Connection, table: str, key_column: str, schema: str | None
) -> tuple[str, ...]:
    """The rows of ``table`` as ``key (name)`` (its first column named as a group's name is, else
    the key alone), when there are at most ``MAX_CODES``: the values a required foreign key may
    take, shown in its FILL IN."""
    from sqlalchemy import column as sql_column
    from sqlalchemy import select
    from sqlalchemy import table as sql_table

    names = [str(c["name"]) for c in reflect_columns(inspector, connection, table, schema)]
    label = next((n for n in names if GROUP_NAME.matches(key(n)) and n != key_column), None)
    selected: list[Any] = [sql_column(key_column)] + ([sql_column(label)] if label else [])
    query = select(*selected).select_from(sql_table(table, schema=schema)).order_by(sql_column(key_column))
    try:
        rows = connection.execute(query.limit(MAX_CODES + 1)).all()
    except Exception:  # noqa: BLE001 - a table this user may not read: the FILL IN without its rows
        connection.rollback()  # PostgreSQL: the failed statement aborted the transaction
        return ()
    if not rows or len(rows) > MAX_CODES:
        return ()

    def shown(value: object) -> str:  # one line of a comment, however the value is written
        words = " ".join(str(value).split())
        return words if len(words) <= 40 else words[:39] + "…"

    return tuple(
        f"{shown(r[0])} ({shown(r[1])})" if label and r[1] is not None else shown(r[0]) for r in rows
    )


def _distinct(column: Column, table: str, schema: str | None, connection: Connection) -> Column:
    """``column`` of text or integers with the values its rows hold, when there are at most
    ``MAX_CODES`` of them (more is no list of codes)."""
    from sqlalchemy import column as sql_column
    from sqlalchemy import select
    from sqlalchemy import table as sql_table

    if column.kind not in ("text", "integer"):
        return column
    name: Any = sql_column(column.name)
    query = select(name).select_from(sql_table(table, schema=schema)).where(name.is_not(None))
    rows = connection.execute(query.distinct().limit(MAX_CODES + 1)).scalars().all()
    if not rows or len(rows) > MAX_CODES:
        return column
    return replace(column, values=tuple(sorted(str(r) for r in rows)), seen=True)


def _mysql_checks(connection: Connection, schema: str | None) -> dict[str, list[str]]:
    """MariaDB's CHECK constraints, by lower-cased table name (the inspector reads none of a
    column's own ``CHECK``)."""
    from sqlalchemy import text

    try:
        rows = connection.execute(
            text(
                "SELECT TABLE_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS "
                "WHERE CONSTRAINT_SCHEMA = COALESCE(:schema, DATABASE())"
            ),
            {"schema": schema},
        ).all()
    except Exception:  # noqa: BLE001 - MySQL before 8.0.16 has no such view: no values, no harm
        connection.rollback()
        return {}
    out: dict[str, list[str]] = {}
    for table, clause in rows:
        out.setdefault(str(table).lower(), []).append(str(clause))
    return out


def _shared_prefix(tables: tuple[Table, ...]) -> str:
    """The prefix up to an ``_`` that every one of two or more tables' names starts with
    (``mdl_``), lower case; '' when there is none."""
    if len(tables) < 2:
        return ""
    common = os.path.commonprefix([t.name.lower() for t in tables])
    return common[: common.rfind("_") + 1]


def _named_in(name: str, candidates: list[tuple[str, str]], prefix: str) -> tuple[str, str] | None:
    """Of the tables keyed by one column name (Nextcloud's ``oc_users`` and ``oc_accounts``, both
    keyed ``uid``), the one a referring table ``name`` names (``oc_group_user``: the users), by
    its name without the shared prefix and a plural ``s``; None when it names none or several."""
    words = set(name.lower().removeprefix(prefix).split("_"))
    named = [c for c in candidates if c[0].lower().removeprefix(prefix).removesuffix("s") in words]
    return named[0] if len(named) == 1 else None


def _infer_foreign_keys(tables: tuple[Table, ...]) -> tuple[Table, ...]:
    """Tables with the foreign keys their column names imply where the database declares none:
    MariaDB ignores ``REFERENCES`` written on a column, and many schemas never declare them. A
    column is taken to point at a table when it has the name of that table's single-column
    primary key (``staff_id`` → ``staff.staff_id``) or is ``<table>_id`` for a table keyed ``id``,
    the table named without the prefix every table shares (Moodle's ``mdl_``, WordPress's ``wp_``),
    and the ``_`` left out too (Moodle's ``mdl_cohort_members.userid`` → ``mdl_user.id``). A key
    name several tables have goes to the one the referring table's name names (Nextcloud's
    ``oc_group_user.uid`` → ``oc_users.uid``, not ``oc_accounts.uid``), else to the first. Last,
    ``<word>_id`` names a table keyed ``id`` whose name ends in that word, when no table claims it
    otherwise (Keycloak's ``user_group_membership.group_id`` → ``keycloak_group.id``)."""
    keys: dict[str, tuple[str, str]] = {}
    shared: dict[str, list[tuple[str, str]]] = {}  # a key name several tables have (Nextcloud's uid)
    prefix = _shared_prefix(tables)
    for table in tables:
        if len(table.primary_key) != 1:
            continue
        pk = table.primary_key[0]
        if pk.lower() != "id":
            keys.setdefault(pk.lower(), (table.name, pk))
            shared.setdefault(pk.lower(), []).append((table.name, pk))
        for name in dict.fromkeys((table.name.lower(), table.name.lower().removeprefix(prefix))):
            singular = name.removesuffix("s")
            keys.setdefault(f"{singular}_id", (table.name, pk))
            keys.setdefault(f"{name}_id", (table.name, pk))
            if (prefix or len(singular) > 2) and pk.lower() == "id":  # Mattermost's teamid, userid
                keys.setdefault(f"{singular}id", (table.name, pk))
    for table in tables:  # then by the last word of the name: Keycloak's group_id -> keycloak_group
        words = table.name.lower().removeprefix(prefix).split("_")
        if len(table.primary_key) == 1 and table.primary_key[0].lower() == "id" and len(words) > 1:
            keys.setdefault(f"{words[-1].removesuffix('s')}_id", (table.name, table.primary_key[0]))
    out = []
    for table in tables:
        have = {fk.column.lower() for fk in table.foreign_keys}
        extra = []
        for column in table.columns:
            target = keys.get(column.name.lower())
            if column.name.lower() in have or target is None:
                continue
            if len(shared.get(column.name.lower(), ())) > 1:
                target = _named_in(table.name, shared[column.name.lower()], prefix) or target
            if target[0] == table.name and column.name in table.primary_key:
                continue  # a table's own key
            extra.append(ForeignKey(column.name, target[0], target[1], declared=False))
        if extra:
            table = replace(table, foreign_keys=table.foreign_keys + tuple(extra), _by_name={})
        out.append(table)
    return tuple(out)
