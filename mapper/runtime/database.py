"""One :class:`Database` per plan source: a SQLAlchemy engine, its statements compiled once, and
the one way the runtime touches it: :meth:`Database.run` runs a blocking function with a
connection in a worker thread, inside one transaction.

Why worker threads: SQLAlchemy Core with psycopg/pymysql/sqlite3 is blocking. A whole unit of
work (every statement of a create, or a whole page of an import) runs in *one*
``anyio.to_thread.run_sync`` call, so a transaction never spans an ``await`` and a connection is
never held while the event loop waits on something else. Each database has its own
``CapacityLimiter`` sized to its pool, so a slow database cannot take the threads of another one
and threads never queue for a pool connection while holding a thread slot.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from sqlalchemy import Connection, CursorResult, Engine, create_engine, event, exc, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.sql.elements import TextClause

from mapper.plan import PlanSource, Statement
from mapper.runtime.errors import DatabaseUnavailableError, SourceUrlError

log = logging.getLogger(__name__)

T = TypeVar("T")

#: URL schemes people write, and the SQLAlchemy driver we use for each.
DRIVERS = {
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
    "sqlite": "sqlite",
}


def engine_url(url: str) -> URL:
    """The SQLAlchemy URL for ``url``, with our driver chosen when the URL names none."""
    parsed = make_url(url)
    if "+" not in parsed.drivername and parsed.drivername in DRIVERS:
        parsed = parsed.set(drivername=DRIVERS[parsed.drivername])
    return parsed


def redact(url: str | URL) -> str:
    """The URL without its password, for logs and messages."""
    try:
        return engine_url(str(url)).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a URL we cannot parse is shown as nothing at all
        return "<unparseable url>"


def resolve_url(source: PlanSource, environ: Mapping[str, str] = os.environ) -> str:
    """The source's URL: its environment variable when set, else its default."""
    if source.url_env and environ.get(source.url_env):
        return environ[source.url_env]
    if source.url_default:
        return source.url_default
    raise SourceUrlError(source.name, source.url_env)


def bootstrap_sqlite(url: str, files: Iterable[str | Path]) -> bool:
    """Create a SQLite database from SQL ``files`` (schema, then optional data) when its file does
    not exist yet. Returns True when it created the file. On any failure the half-built file is
    removed and the error re-raised, so the next run tries again from scratch."""
    parsed = engine_url(url)
    if parsed.get_backend_name() != "sqlite":
        raise ValueError("bootstrap_sqlite needs a sqlite:/// URL")
    database = parsed.database
    if not database or database == ":memory:" or Path(database).exists():
        return False
    path = Path(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        connection = sqlite3.connect(path)
        try:
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA foreign_keys = ON")
            scripts = "\n".join(Path(file).read_text(encoding="utf-8") for file in files)
            connection.executescript(f"BEGIN;\n{scripts}\nCOMMIT;")  # one transaction: one fsync
        finally:
            connection.close()
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    log.info("created SQLite database %s from %s", path, ", ".join(str(f) for f in files))
    return True


def _bindable(value: Any) -> Any:
    """A UUID is bound as its text: drivers would otherwise send PostgreSQL's uuid type, which a
    procedure declared with text parameters rejects, while text converts to a uuid column."""
    return str(value) if isinstance(value, uuid.UUID) else value


class Tx:
    """A connection inside a transaction, speaking plan statements."""

    __slots__ = ("connection", "database")

    def __init__(self, database: Database, connection: Connection) -> None:
        self.database = database
        self.connection = connection

    def execute(self, statement: Statement, params: Mapping[str, Any] | None = None) -> CursorResult[Any]:
        given = params or {}
        bound = {name: _bindable(given.get(name)) for name in statement.params}
        return self.connection.execute(self.database.compiled(statement), bound)

    def rows(self, statement: Statement, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.execute(statement, params)]

    def first(self, statement: Statement, params: Mapping[str, Any] | None = None) -> tuple[Any, ...] | None:
        row = self.execute(statement, params).first()
        return tuple(row) if row is not None else None


class Database:
    """The engine of one source. ``dialect`` is the backend name SQLAlchemy reports
    (``sqlite``, ``postgresql``, ``mysql``, ``mariadb``)."""

    def __init__(
        self,
        name: str,
        url: str,
        *,
        pool_size: int = 8,
        max_overflow: int = 4,
        connect_timeout: int = 10,
        busy_timeout_ms: int = 5000,
    ) -> None:
        self.name = name
        self.url = engine_url(url)
        self.dialect = self.url.get_backend_name()
        self._texts: dict[str, TextClause] = {}
        self._texts_lock = threading.Lock()
        # as many threads as pooled connections: a pool that lent out overflow connections would
        # close each one again on return, and reopen it (a SQLite connect runs four PRAGMAs) for
        # the next request. The overflow serves only what runs outside the limiter (pre-ping).
        self.limiter = anyio.CapacityLimiter(pool_size)
        # SQLite has one writer: writes queue here, in order, rather than in sqlite3's busy
        # handler, whose back-off leaves the lock idle between retrying threads.
        self._sqlite_writer = anyio.Lock() if self.is_sqlite else None
        self.engine = self._create_engine(pool_size, max_overflow, connect_timeout, busy_timeout_ms)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def is_mysql(self) -> bool:
        return self.dialect in ("mysql", "mariadb")

    def _create_engine(self, pool_size: int, max_overflow: int, connect_timeout: int, busy_ms: int) -> Engine:
        kwargs: dict[str, Any] = {"pool_pre_ping": True}
        kwargs.update(pool_size=pool_size, max_overflow=max_overflow)
        if self.is_sqlite:
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": busy_ms / 1000}
        else:
            kwargs["pool_recycle"] = 1800
            kwargs["connect_args"] = {"connect_timeout": connect_timeout}
        url = self.url
        if (
            self.is_sqlite
            and url.database
            and url.database != ":memory:"
            and not url.database.startswith("file:")
        ):
            # open an existing file only: never leave an empty database where a schema was expected
            url = url.set(database=f"file:{url.database}?mode=rw", query={**url.query, "uri": "true"})
        engine = create_engine(url, **kwargs)
        if self.is_sqlite:
            _configure_sqlite(engine, busy_ms)
        elif self.is_mysql:
            event.listen(engine, "connect", _mysql_on_connect)
        return engine

    def compiled(self, statement: Statement) -> TextClause:
        """The ``text()`` of a statement, compiled once per SQL string."""
        clause = self._texts.get(statement.sql)
        if clause is None:
            with self._texts_lock:
                clause = self._texts.setdefault(statement.sql, text(statement.sql))
        return clause

    async def run(self, fn: Callable[[Tx], T], *, write: bool = False, snapshot: bool = False) -> T:
        """Run ``fn`` in a worker thread with a connection inside one transaction: committed when
        ``fn`` returns, rolled back when it raises. ``write`` takes SQLite's write lock up front;
        ``snapshot`` makes every statement of ``fn`` see the same committed state (PostgreSQL
        REPEATABLE READ; MySQL/MariaDB's default already is; a SQLite read transaction is one)."""
        if write and self._sqlite_writer is not None:
            async with self._sqlite_writer:
                return await anyio.to_thread.run_sync(
                    self.run_sync, fn, write, snapshot, limiter=self.limiter
                )
        return await anyio.to_thread.run_sync(self.run_sync, fn, write, snapshot, limiter=self.limiter)

    def run_sync(self, fn: Callable[[Tx], T], write: bool = False, snapshot: bool = False) -> T:
        try:
            with self.engine.connect() as connection:
                if self.is_sqlite and write:
                    connection = connection.execution_options(sqlite_begin="IMMEDIATE")
                if snapshot and self.dialect == "postgresql":
                    connection = connection.execution_options(isolation_level="REPEATABLE READ")
                with connection.begin():
                    return fn(Tx(self, connection))
        except (exc.OperationalError, exc.InterfaceError, exc.TimeoutError, exc.DisconnectionError) as e:
            if _is_programming_error(e):
                raise
            log.warning("database %s unavailable: %s%s", self.name, _describe(e), self._hint())
            raise DatabaseUnavailableError(self.name) from e

    def _hint(self) -> str:
        if self.is_sqlite and self.url.database and not Path(self.url.database).exists():
            return f" (the SQLite file {self.url.database} does not exist; create it with --create-schema)"
        return ""

    def dispose(self) -> None:
        self.engine.dispose()


def _configure_sqlite(engine: Engine, busy_ms: int) -> None:
    """WAL, a busy timeout, foreign keys; and we issue BEGIN ourselves (pysqlite's own transaction
    handling is off), so a write transaction starts with BEGIN IMMEDIATE and never fails on a lock
    upgrade half-way."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
        cursor.execute("PRAGMA foreign_keys = ON")
        # FULL: a commit is on disk before it is acknowledged, also across a power loss. NORMAL
        # in WAL mode may lose the last transactions then, and an acknowledged write is never lost.
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "")
        connection.exec_driver_sql(f"BEGIN {mode}".strip())


def _mysql_on_connect(dbapi_connection: Any, _record: Any) -> None:
    """DATETIME columns hold UTC: read and write them in UTC."""
    cursor = dbapi_connection.cursor()
    cursor.execute("SET time_zone = '+00:00'")
    cursor.close()


def _is_programming_error(error: exc.DBAPIError | exc.SQLAlchemyError) -> bool:
    """SQLite reports a missing table or a syntax error as OperationalError: that is a bug in the
    mapping or schema, not an outage."""
    message = str(getattr(error, "orig", error)).lower()
    return message.startswith(("no such ", "near ", "table ", "incomplete input")) and "locked" not in message


def _describe(error: Exception) -> str:
    """The driver's message, which names the problem (refused, timed out) but never the password."""
    orig = getattr(error, "orig", None)
    return (
        f"{type(orig or error).__name__}: {str(orig or error).splitlines()[0] if str(orig or error) else ''}"
    )


def integrity_kind(error: exc.IntegrityError) -> str:
    """What an IntegrityError violated: ``unique``, ``foreign_key``, ``not_null``, ``check`` or ``other``."""
    orig = error.orig
    args = getattr(orig, "args", ())
    if args and isinstance(args[0], int):  # pymysql: (errno, message); its sqlstate is a generic 23000
        errno = args[0]
        if errno in (1062, 1586):
            return "unique"
        if errno in (1451, 1452, 1216, 1217):
            return "foreign_key"
        if errno in (1048, 1364):
            return "not_null"
        if errno in (3819, 4025):
            return "check"
        return "other"
    code = getattr(orig, "sqlstate", None)  # psycopg
    if code:
        return {"23505": "unique", "23503": "foreign_key", "23502": "not_null", "23514": "check"}.get(
            code, "other"
        )
    message = str(orig).upper()
    for marker, kind in (
        ("UNIQUE", "unique"),
        ("PRIMARY KEY", "unique"),
        ("FOREIGN KEY", "foreign_key"),
        ("NOT NULL", "not_null"),
        ("CHECK", "check"),
    ):
        if marker in message:
            return kind
    return "other"


def integrity_mentions(error: exc.DBAPIError, column: str) -> bool:
    """Whether the driver's message names ``column`` (used only to pick which attribute to blame)."""
    return column.lower() in str(error.orig).lower()
