"""Plan statements as the DB-API driver takes them (:class:`DriverSql`): the SQL in the driver's
paramstyle and the order of its parameters, compiled once per SQL string by :class:`Statements`
(through SQLAlchemy's ``text()``), how a value is bound (:func:`bindable`), and a cursor that has
run one (:class:`Executed`)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Dialect, text
from sqlalchemy.sql.elements import TextClause

from mapper.plan import Statement
from mapper.runtime.driver_errors import as_sqlalchemy

#: Compiled statements kept per database. A plan's own statements are a few dozen, but statements
#: built per request (a create's INSERT without its absent columns, a filter compiled to SQL) vary
#: with what clients send: past this bound the oldest are compiled again when next needed.
COMPILED_LIMIT = 2048


def bindable(value: Any) -> Any:
    """A UUID is bound as its text: drivers would otherwise send PostgreSQL's uuid type, which a
    procedure declared with text parameters rejects, while text converts to a uuid column."""
    return str(value) if isinstance(value, uuid.UUID) else value


def bindable_as_number(value: Any) -> Any:
    """:func:`bindable`, and a boolean as 1 or 0: Oracle before 23 has no boolean type in SQL, so
    flags are NUMBER(1) columns and a Python bool cannot be bound."""
    if isinstance(value, bool):
        return int(value)
    return bindable(value)


def bindable_flag_untyped(value: Any) -> Any:
    """:func:`bindable`, and a boolean as the text ``'1'`` or ``'0'``, which psycopg sends
    untyped: PostgreSQL then reads it as the type of the column it meets, ``boolean`` or a number
    (a ``SMALLINT`` flag refuses a parameter typed ``boolean``), as it did when ``mapper lint
    --db`` prepared the statement with untyped parameters."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return bindable(value)


def unconverted(value: Any) -> Any:
    """A value bound as it is: SQLite's driver binds a UUID as its text through its own adapter
    (:mod:`mapper.runtime.sqlite` registers it), and a Decimal the same way, so :meth:`DriverSql.bind`
    hands SQLite its values without a call per value (a third of the binding's cost)."""
    return value


#: how each dialect binds a value (:func:`bindable` for the others)
BINDABLE = {"oracle": bindable_as_number, "postgresql": bindable_flag_untyped, "sqlite": unconverted}


@dataclass(frozen=True, slots=True)
class DriverSql:
    """A plan statement as its DB-API driver takes it: the SQL in the driver's paramstyle (compiled
    once by SQLAlchemy), and the parameter names in the order of its placeholders (``positional``:
    sqlite3's ``?``) or as its keys (psycopg's and pymysql's ``%(name)s``)."""

    sql: str
    names: tuple[str, ...]
    positional: bool
    keys: tuple[str, ...] | None = None  # the driver's keys when they differ from the value names
    convert: Callable[[Any], Any] = bindable  # bindable_as_number for Oracle
    #: positional and bound unconverted (SQLite): the values are ``list(map(params.get, names))``,
    #: which :meth:`~mapper.runtime.tx.Tx._run` makes in line, without a call of :meth:`bind`
    plain: bool = False

    def bind(self, params: Mapping[str, Any]) -> list[Any] | dict[str, Any]:
        """The driver's parameters; a name ``params`` lacks is bound as NULL."""
        convert = self.convert
        if self.positional:
            if convert is unconverted:  # the C loop of map: no Python call per value
                return list(map(params.get, self.names))
            return [convert(params.get(name)) for name in self.names]
        if self.keys is not None:  # renamed parameters (Statement.renamed)
            return {key: convert(params.get(name)) for key, name in zip(self.keys, self.names, strict=True)}
        return {name: convert(params.get(name)) for name in self.names}


class Statements:
    """One database's statements compiled once per SQL string: as SQLAlchemy's ``text()``
    (:meth:`compiled`) and in the driver's own terms (:meth:`driver_sql`); both caches bounded by
    :data:`COMPILED_LIMIT`."""

    def __init__(self, dialect: Dialect, convert: Callable[[Any], Any]) -> None:
        self.dialect = dialect
        self.convert = convert  # how a value is bound (DriverSql.convert)
        self._texts: dict[str, TextClause] = {}
        #: by SQL string; read directly by :meth:`~mapper.runtime.tx.Tx._run` (a call less per statement)
        self.by_sql: dict[str, DriverSql] = {}
        self._lock = threading.Lock()

    def compiled(self, statement: Statement) -> TextClause:
        """The ``text()`` of a statement, compiled once per SQL string."""
        clause = self._texts.get(statement.sql)
        if clause is None:
            with self._lock:
                _make_room(self._texts)
                clause = self._texts.setdefault(statement.sql, text(statement.sql))
        return clause

    def driver_sql(self, statement: Statement) -> DriverSql:
        """The statement in the driver's own terms, compiled once per SQL string."""
        found = self.by_sql.get(statement.sql)
        if found is None:
            compiled = self.compiled(statement).compile(dialect=self.dialect)
            if compiled.escaped_bind_names:  # plan parameters are plain names: never seen
                raise ValueError(
                    f"parameter names the driver cannot take: {sorted(compiled.escaped_bind_names)}"
                )
            positions = compiled.positiontup
            if positions is not None:
                values = tuple(statement.value_of(p) for p in positions)
                found = DriverSql(
                    compiled.string,
                    values,
                    positional=True,
                    convert=self.convert,
                    plain=self.convert is unconverted,
                )
            elif statement.renamed:
                keys = tuple(compiled.binds)
                values = tuple(statement.value_of(k) for k in keys)
                found = DriverSql(compiled.string, values, positional=False, keys=keys, convert=self.convert)
            else:
                found = DriverSql(
                    compiled.string, tuple(compiled.binds), positional=False, convert=self.convert
                )
            with self._lock:
                _make_room(self.by_sql)
                found = self.by_sql.setdefault(statement.sql, found)
        return found


def _make_room(cache: dict[str, Any]) -> None:
    """Drop the oldest entries of an insertion-ordered cache at its bound (called under a lock)."""
    while len(cache) >= COMPILED_LIMIT:
        del cache[next(iter(cache))]


class Executed:
    """A DB-API cursor that has run ``sql``, closed on leaving (which also ends a SQLite statement
    left mid-way and consumes MySQL's further result sets); a driver's error, running or fetching,
    raised as SQLAlchemy raises it (:func:`~mapper.runtime.driver_errors.as_sqlalchemy`)."""

    __slots__ = ("bound", "connection", "cursor", "dbapi_connection", "sql")

    def __init__(self, connection: Connection, sql: str, bound: Any) -> None:
        self.connection, self.sql, self.bound = connection, sql, bound
        dbapi_connection: Any = connection.connection.dbapi_connection
        self.dbapi_connection, self.cursor = dbapi_connection, dbapi_connection.cursor()

    def __enter__(self) -> Any:
        try:
            self.cursor.execute(self.sql, self.bound)
        except BaseException as error:
            self.__exit__(type(error), error, None)
            raise
        return self.cursor

    def __exit__(self, _kind: Any, error: BaseException | None, _traceback: Any) -> None:
        self.cursor.close()
        if isinstance(error, self.connection.engine.dialect.loaded_dbapi.Error):
            raise as_sqlalchemy(
                self.connection, error, self.sql, self.bound, self.dbapi_connection, self.cursor
            ) from error
