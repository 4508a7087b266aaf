"""One :class:`Database` per plan source: a SQLAlchemy engine, its statements compiled once, and
the one way the runtime touches it: :meth:`Database.run` runs a blocking function with a
connection in a worker thread, inside a transaction.

Why worker threads: SQLAlchemy Core with psycopg/pymysql/sqlite3 is blocking. A whole unit of
work (every statement of a create, or a whole page of an import) runs in *one*
``anyio.to_thread.run_sync`` call, so a transaction never spans an ``await`` and a connection is
never held while the event loop waits on something else. Each database has its own
``CapacityLimiter`` sized to its pool, so a slow database cannot take the threads of another one
and threads never queue for a pool connection while holding a thread slot.

Writes are committed in groups (:class:`GroupCommitter`): writes that arrive while a transaction
commits wait for the next one, and then run together in *one* transaction, each in its own
savepoint, so a burst of writes costs one commit (one fsync) instead of one each. Each write still
succeeds or fails on its own, and is acknowledged only once its transaction has committed.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import socket
import sqlite3
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from sqlalchemy import Connection, CursorResult, Engine, create_engine, event, exc, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.sql.elements import TextClause

from mapper.plan import PlanSource, Statement
from mapper.runtime.errors import DatabaseConfigError, DatabaseUnavailableError, SourceUrlError

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


#: errors that mean the database could not be reached or went away (unless a programming error)
_OUTAGES = (exc.OperationalError, exc.InterfaceError, exc.TimeoutError, exc.DisconnectionError)


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Every wait on a database is bounded (seconds). ``connect``: reaching the database (libpq's
    and pymysql's connect timeout). ``statement``: one request's unit of work, or one group-commit
    batch counted from its oldest write's arrival; enforced by the database (PostgreSQL
    ``statement_timeout``, MariaDB ``max_statement_time``, MySQL ``max_execution_time`` for reads)
    and by a watchdog that shuts the connection's socket when the database does not answer at all
    (a partition). ``sync``: one import (full or delta) the same way. ``pool``: waiting for a
    pooled connection. ``keepalive``: idle seconds before TCP keepalive probes (then every
    ``keepalive / 3`` s, 3 probes). SQLite's busy timeout is ``statement`` too."""

    connect: float = 10.0
    statement: float = 15.0
    sync: float = 600.0
    pool: float = 10.0
    keepalive: float = 30.0


class _Deadline:
    """One unit of work's bound: the watchdog (:meth:`expire`, called on the event loop when the
    bound has passed) breaks the connection the unit uses, so its worker thread stops waiting at
    once and the unit fails as an outage. The worker thread attaches the connection it checked out
    and detaches it at check-in, under a lock, so a late watchdog never breaks a connection that
    went back to the pool."""

    __slots__ = ("at", "connection", "expired", "lock")

    def __init__(self, bound: float) -> None:
        self.at = time.monotonic() + bound  # a connect started in the unit ends by then too
        self.lock = threading.Lock()
        self.connection: Any = None
        self.expired = False

    def arm(self, bound: float) -> asyncio.TimerHandle:
        """The watchdog, on the running event loop; cancel it when the unit is done."""
        return asyncio.get_running_loop().call_later(bound, self.expire)

    def attach(self, dbapi_connection: Any) -> None:
        with self.lock:
            if self.expired:
                raise exc.TimeoutError("the unit of work outlived its bound before it had a connection")
            self.connection = dbapi_connection

    def detach(self, dbapi_connection: Any) -> None:
        with self.lock:
            if self.connection is dbapi_connection:
                self.connection = None

    def expire(self) -> None:
        with self.lock:
            self.expired = True
            connection, self.connection = self.connection, None
        if connection is not None:
            _break(connection)


def _break(dbapi_connection: Any) -> None:
    """Make every blocked call on ``dbapi_connection`` fail now, from another thread: a socket is
    shut down (the driver sees the connection lost; the pool discards it), SQLite is interrupted."""
    try:
        if isinstance(dbapi_connection, sqlite3.Connection):
            dbapi_connection.interrupt()
            return
        sock = getattr(dbapi_connection, "_sock", None)  # pymysql
        if isinstance(sock, socket.socket):
            sock.shutdown(socket.SHUT_RDWR)
            return
        fileno = dbapi_connection.fileno()  # psycopg: libpq's socket
        with socket.socket(fileno=os.dup(fileno)) as duplicate:
            duplicate.shutdown(socket.SHUT_RDWR)  # shuts the socket itself, not only the duplicate
    except (OSError, AttributeError, ValueError) as error:  # already closed: nothing waits on it
        log.debug("watchdog: could not break a connection: %s", error)


_current = threading.local()  # the _Deadline of the unit of work this worker thread runs


def _keepalive(sock: socket.socket, idle: float) -> None:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for name, value in (("TCP_KEEPIDLE", idle), ("TCP_KEEPINTVL", max(1, idle / 3)), ("TCP_KEEPCNT", 3)):
        option = getattr(socket, name, None)
        if option is not None:
            sock.setsockopt(socket.IPPROTO_TCP, option, max(1, int(value)))


class _TransactionLost(Exception):
    """Raised inside a batch when its transaction ended under it; ``__cause__`` says why."""


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

    def bind(self, params: Mapping[str, Any]) -> list[Any] | dict[str, Any]:
        """The driver's parameters; a name ``params`` lacks is bound as NULL."""
        convert = self.convert
        if self.positional:
            return [convert(params.get(name)) for name in self.names]
        if self.keys is not None:  # renamed parameters (Statement.renamed)
            return {key: convert(params.get(name)) for key, name in zip(self.keys, self.names, strict=True)}
        return {name: convert(params.get(name)) for name in self.names}


class Tx:
    """A connection inside a transaction, speaking plan statements.

    :meth:`first`, :meth:`rows`, :meth:`insert` and :meth:`run` hand the statement straight to the
    DB-API cursor (a tenth of the CPU of SQLAlchemy's execution path, which is most of a write's
    cost), and raise SQLAlchemy's exceptions as :meth:`execute` does, so callers see one kind of
    error. :meth:`execute` returns SQLAlchemy's result, for streaming."""

    __slots__ = ("changes", "connection", "database")

    def __init__(self, database: Database, connection: Connection) -> None:
        self.database = database
        self.connection = connection
        #: (object type, anchor key, operation) of each write in this transaction, published to
        #: the other gateway processes before the commit (:attr:`Database.publish`)
        self.changes: list[tuple[str, Any, str]] = []

    def changed(self, object_type: str, key: Any, op: str) -> None:
        """Note that this transaction wrote the object ``key`` of ``object_type`` (``op``:
        ``upsert`` or ``delete``), for the other processes (see :mod:`mapper.runtime.coherence`)."""
        if self.database.publish is not None:
            self.changes.append((object_type, key, op))

    def execute(self, statement: Statement, params: Mapping[str, Any] | None = None) -> CursorResult[Any]:
        given = params or {}
        convert = self.database.convert
        bound = {name: convert(given.get(statement.value_of(name))) for name in statement.params}
        return self.connection.execute(self.database.compiled(statement), bound)

    def rows(self, statement: Statement, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        with self._cursor(statement, params) as cursor:
            return [tuple(row) for row in cursor.fetchall()]

    def first(self, statement: Statement, params: Mapping[str, Any] | None = None) -> tuple[Any, ...] | None:
        with self._cursor(statement, params) as cursor:
            row = cursor.fetchone()
        return tuple(row) if row is not None else None

    def run(self, statement: Statement, params: Mapping[str, Any] | None = None) -> int:
        """A statement run for its effect (UPDATE, DELETE, a multi's add or remove, a procedure):
        the number of rows it changed, as the driver reports it."""
        with self._cursor(statement, params) as cursor:
            return int(cursor.rowcount)

    def insert(self, statement: Statement, params: Mapping[str, Any] | None = None) -> Any:
        """An INSERT: the new row's anchor when the statement says how it comes back (its one
        returned value, or the driver's ``lastrowid``), else None."""
        with self._cursor(statement, params) as cursor:
            if statement.returning == "returning":  # one row of one value, as scalar_one() wants
                rows = cursor.fetchall()
                if not rows:
                    raise exc.NoResultFound("the insert returned no row")
                if len(rows) > 1 or len(rows[0]) != 1:
                    raise exc.MultipleResultsFound("the insert returned more than one value")
                return rows[0][0]
            if statement.returning == "lastrowid":
                return cursor.lastrowid
            return None

    @contextmanager
    def _cursor(self, statement: Statement, params: Mapping[str, Any] | None) -> Iterator[Any]:
        """A DB-API cursor that has run ``statement``, closed afterwards (which also ends a
        SQLite statement left mid-way and consumes MySQL's further result sets)."""
        driver = self.database.driver_sql(statement)
        bound = driver.bind(params or {})
        dbapi_connection = self.connection.connection.dbapi_connection
        assert dbapi_connection is not None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(driver.sql, bound)
            yield cursor  # fetching may raise too (SQLite steps through rows as they are fetched)
        except self.database.engine.dialect.loaded_dbapi.Error as error:
            raise self._wrapped(error, driver.sql, bound, dbapi_connection, cursor) from error
        finally:
            cursor.close()

    def _wrapped(self, error: Any, sql: str, bound: Any, dbapi_connection: Any, cursor: Any) -> Exception:
        """The driver's ``error`` as SQLAlchemy raises it (IntegrityError, OperationalError...); a
        lost connection is invalidated, as SQLAlchemy does."""
        engine = self.database.engine
        dialect = engine.dialect
        disconnect = dialect.is_disconnect(error, dbapi_connection, cursor)
        if disconnect:
            self.connection.invalidate(error)
        elif refuses_value(error):
            return exc.DataError(sql, bound, error, hide_parameters=engine.hide_parameters)
        elif _no_default(error):  # pymysql raises it as an OperationalError, which reads as an outage
            return exc.IntegrityError(sql, bound, error, hide_parameters=engine.hide_parameters)
        return exc.DBAPIError.instance(
            sql,
            bound,
            error,
            dialect.loaded_dbapi.Error,
            hide_parameters=engine.hide_parameters,
            connection_invalidated=disconnect,
            dialect=dialect,
        )


@dataclass(frozen=True, slots=True)
class CommitStats:
    """What a database's group committer has done since it was opened: ``batches`` transactions
    (each one commit, or one failed attempt), ``jobs`` writes run in them, ``largest`` the most
    writes one transaction carried."""

    batches: int = 0
    jobs: int = 0
    largest: int = 0


class _Job:
    """One write: queued, then taken into a batch, then done with its outcome (``value`` or
    ``error``). A queued job may be woken to lead the next batch instead (``leads``)."""

    __slots__ = ("deadline", "error", "fn", "leads", "taken", "value", "woken")

    def __init__(self, fn: Callable[[Tx], Any], deadline: float) -> None:
        self.fn = fn
        self.deadline = deadline  # time.monotonic() by which its caller has an answer
        self.woken = anyio.Event()
        self.leads = False
        self.taken = False
        self.value: Any = None
        self.error: BaseException | None = None


class GroupCommitter:
    """Group commit for one database: concurrent writes share one transaction and one commit.

    The first write to arrive while no batch runs leads: it takes every queued job (up to
    ``cap``), runs them in a worker thread in arrival order in one transaction, each in its own
    savepoint, and commits once. Only then does each job's caller get its outcome, so a write is
    acknowledged after its commit. Jobs arriving meanwhile queue; when the batch is done, the
    first of them is woken to lead the next one (so no caller serves other callers' writes for
    long).

    A job that raises is rolled back to its savepoint and its caller alone gets the exception;
    the others are unaffected. When the commit itself fails, or the connection breaks (or the
    database rolls the whole transaction back), nothing of the batch is kept and every job of it
    fails. Jobs must not run DDL (MySQL commits implicitly before DDL).

    Every write is answered within ``Timeouts.statement`` of its arrival: a job still queued then
    is withdrawn and fails as an outage (503), and a batch is bounded by its oldest job's deadline
    (the watchdog breaks its connection when the database does not answer), so a batch stuck on a
    dead connection neither holds its own callers nor the writes queued behind it."""

    def __init__(self, database: Database, cap: int = 64) -> None:
        self.database = database
        self.cap = cap
        self._queue: deque[_Job] = deque()
        self._busy = False  # a batch runs, or a woken leader is about to start one
        self.stats = CommitStats()
        #: told each batch's size and duration in seconds (the metrics); None: nobody listens
        self.observe: Callable[[int, float], None] | None = None

    @property
    def queued(self) -> int:
        """Jobs waiting for the next batch."""
        return len(self._queue)

    async def submit(self, fn: Callable[[Tx], T]) -> T:
        """Run ``fn`` in the next batch; its value once that batch has committed."""
        job = _Job(fn, time.monotonic() + self.database.timeouts.statement)
        self._queue.append(job)
        if self._busy:
            await self._wait(job)
        else:
            self._busy = True
            job.leads = True
        if job.leads:
            # shielded: the batch holds other callers' writes, and its outcome must reach them
            with anyio.CancelScope(shield=True):
                await self._lead()
        if job.error is not None:
            raise job.error
        return job.value

    async def _wait(self, job: _Job) -> None:
        """Wait until ``job`` is done or woken to lead. A caller cancelled while its job is still
        queued withdraws it; once its batch runs, the job is seen through (as a thread that cannot
        be abandoned) and the cancellation follows."""
        try:
            with anyio.move_on_after(job.deadline - time.monotonic()):
                await job.woken.wait()
            if job.woken.is_set():
                return
            if not job.taken:  # still queued at its deadline: the batches ahead are stuck
                self._queue.remove(job)
                job.error = DatabaseUnavailableError(self.database.name)
                log.warning("database %s: a write waited out its bound in the queue", self.database.name)
                return
            with anyio.CancelScope(shield=True):  # its batch runs: bounded by the batch's watchdog
                await job.woken.wait()
        except anyio.get_cancelled_exc_class():
            if not job.taken:
                self._queue.remove(job)
                if job.leads:
                    self._hand_over()
                raise
            with anyio.CancelScope(shield=True):
                await job.woken.wait()
            raise

    async def _lead(self) -> None:
        batch = [self._queue.popleft() for _ in range(min(self.cap, len(self._queue)))]
        for job in batch:
            job.taken = True
        # the oldest write's deadline, but never less than a second to run the batch at all
        bound = max(min(job.deadline for job in batch) - time.monotonic(), 1.0)
        deadline = _Deadline(bound)
        watchdog = deadline.arm(bound)
        started = time.monotonic()
        try:
            await anyio.to_thread.run_sync(
                self.database.run_batch, batch, deadline, limiter=self.database.limiter
            )
        except BaseException as error:  # noqa: BLE001 - run_batch catches everything; never strand a job
            for job in batch:
                if job.error is None:
                    job.error = error
        finally:
            watchdog.cancel()
            stats = self.stats
            self.stats = CommitStats(
                stats.batches + 1, stats.jobs + len(batch), max(stats.largest, len(batch))
            )
            if self.observe is not None:
                self.observe(len(batch), time.monotonic() - started)
            # the next leader first: woken tasks run in the order they were woken, and the
            # database would idle while this batch's callers render and send their responses
            self._hand_over()
            for job in batch:
                job.leads = False
                job.woken.set()

    def _hand_over(self) -> None:
        """Wake the first queued job to lead the next batch, or stand down when none waits."""
        if self._queue:
            head = self._queue[0]
            head.leads = True
            head.woken.set()
        else:
            self._busy = False


#: Compiled statements kept per database. A plan's own statements are a few dozen, but statements
#: built per request (a create's INSERT without its absent columns, a filter compiled to SQL) vary
#: with what clients send: past this bound the oldest are compiled again when next needed.
COMPILED_LIMIT = 2048


def _make_room(cache: dict[str, Any]) -> None:
    """Drop the oldest entries of an insertion-ordered cache at its bound (called under a lock)."""
    while len(cache) >= COMPILED_LIMIT:
        del cache[next(iter(cache))]


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
        timeouts: Timeouts | None = None,
    ) -> None:
        self.name = name
        self.timeouts = timeouts or Timeouts()
        self.url = engine_url(url)
        self.dialect = self.url.get_backend_name()
        #: how a value is bound: flags as 1/0 where SQL has no boolean type (Oracle before 23)
        self.convert: Callable[[Any], Any] = bindable_as_number if self.dialect == "oracle" else bindable
        self._texts: dict[str, TextClause] = {}
        self._driver_sql: dict[str, DriverSql] = {}
        self._texts_lock = threading.Lock()
        # as many threads as pooled connections: a pool that lent out overflow connections would
        # close each one again on return, and reopen it (a SQLite connect runs four PRAGMAs) for
        # the next request. The overflow serves only what runs outside the limiter (pre-ping).
        self.limiter = anyio.CapacityLimiter(pool_size)
        # one write transaction at a time per source, carrying every write that arrived meanwhile;
        # on SQLite (one writer) writes also queue here rather than in sqlite3's busy handler,
        # whose back-off leaves the lock idle between retrying threads
        self.committer = GroupCommitter(self)
        #: called with every write transaction's :attr:`Tx.changes` just before its commit, to
        #: tell the other gateway processes (:mod:`mapper.runtime.coherence`); None: nobody
        self.publish: Callable[[Tx, list[tuple[str, Any, str]]], None] | None = None
        self.engine = self._create_engine(pool_size, max_overflow)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def is_mysql(self) -> bool:
        return self.dialect in ("mysql", "mariadb")

    def _create_engine(self, pool_size: int, max_overflow: int) -> Engine:
        timeouts = self.timeouts
        busy_ms = int(timeouts.statement * 1000)
        # no pool_pre_ping: the checkout listener pings under the unit of work's watchdog
        kwargs: dict[str, Any] = {"pool_size": pool_size, "max_overflow": max_overflow}
        kwargs["pool_timeout"] = timeouts.pool
        if self.is_sqlite:
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": busy_ms / 1000}
        else:
            kwargs["pool_recycle"] = 1800
            kwargs["connect_args"] = {"connect_timeout": max(1, round(timeouts.connect))}
        if self.dialect == "postgresql":
            idle = max(1, int(timeouts.keepalive))
            kwargs["connect_args"].update(
                # coherence triggers (mapper coherence-ddl) skip the gateway's own sessions by it
                application_name="mapper",
                options=f"-c statement_timeout={int(timeouts.statement * 1000)}",
                keepalives=1,
                keepalives_idle=idle,
                keepalives_interval=max(1, idle // 3),
                keepalives_count=3,
            )
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
            event.listen(engine, "connect", self._mysql_on_connect)
        event.listen(engine, "do_connect", self._do_connect)
        event.listen(engine, "checkout", self._checkout)
        event.listen(engine, "checkin", _checkin)
        return engine

    def _do_connect(self, _dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
        """A new connection for a unit of work takes no longer than what is left of its bound
        (the watchdog cannot break a connection that does not exist yet)."""
        deadline: _Deadline | None = getattr(_current, "deadline", None)
        if deadline is None or self.is_sqlite:
            return
        left = deadline.at - time.monotonic()
        if left <= 0:
            raise exc.TimeoutError("the unit of work outlived its bound before it had a connection")
        cparams["connect_timeout"] = max(1, min(round(self.timeouts.connect), int(left + 0.999)))

    def _checkout(self, dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        """A connection leaves the pool for this thread's unit of work: the unit's watchdog may
        break it from now on; a server connection is pinged first (a stale one is replaced, as
        ``pool_pre_ping`` would, but the ping is bounded too)."""
        deadline: _Deadline | None = getattr(_current, "deadline", None)
        if deadline is not None:
            deadline.attach(dbapi_connection)
        if self.is_sqlite:
            return
        try:
            if _record.info.pop("sync_bound", False):  # an import raised the session's bound
                _mysql_statement_time(dbapi_connection, self.timeouts.statement)
            self.engine.dialect.do_ping(dbapi_connection)  # leaves no transaction open
        except self.engine.dialect.loaded_dbapi.Error as error:
            if deadline is not None and deadline.expired:
                raise exc.TimeoutError("the database did not answer within the bound") from error
            raise exc.DisconnectionError(_describe(error)) from error  # the pool tries a new one

    def _mysql_on_connect(self, dbapi_connection: Any, _record: Any) -> None:
        """DATETIME columns hold UTC: read and write them in UTC. Statements are bounded by the
        server too (MariaDB: any statement, in seconds; MySQL: SELECTs, in milliseconds), and the
        socket keeps TCP keepalive."""
        cursor = dbapi_connection.cursor()
        cursor.execute("SET time_zone = '+00:00'")
        cursor.close()
        _mysql_statement_time(dbapi_connection, self.timeouts.statement)
        sock = getattr(dbapi_connection, "_sock", None)
        if isinstance(sock, socket.socket):
            _keepalive(sock, self.timeouts.keepalive)

    def compiled(self, statement: Statement) -> TextClause:
        """The ``text()`` of a statement, compiled once per SQL string."""
        clause = self._texts.get(statement.sql)
        if clause is None:
            with self._texts_lock:
                _make_room(self._texts)
                clause = self._texts.setdefault(statement.sql, text(statement.sql))
        return clause

    def driver_sql(self, statement: Statement) -> DriverSql:
        """The statement in the driver's own terms, compiled once per SQL string."""
        found = self._driver_sql.get(statement.sql)
        if found is None:
            compiled = self.compiled(statement).compile(dialect=self.engine.dialect)
            if compiled.escaped_bind_names:  # plan parameters are plain names: never seen
                raise ValueError(
                    f"parameter names the driver cannot take: {sorted(compiled.escaped_bind_names)}"
                )
            positions = compiled.positiontup
            if positions is not None:
                values = tuple(statement.value_of(p) for p in positions)
                found = DriverSql(compiled.string, values, positional=True, convert=self.convert)
            elif statement.renamed:
                keys = tuple(compiled.binds)
                values = tuple(statement.value_of(k) for k in keys)
                found = DriverSql(compiled.string, values, positional=False, keys=keys, convert=self.convert)
            else:
                found = DriverSql(
                    compiled.string, tuple(compiled.binds), positional=False, convert=self.convert
                )
            with self._texts_lock:
                _make_room(self._driver_sql)
                found = self._driver_sql.setdefault(statement.sql, found)
        return found

    @property
    def commit_stats(self) -> CommitStats:
        """How many write transactions (batches) and writes the group committer has run."""
        return self.committer.stats

    async def run(self, fn: Callable[[Tx], T], *, write: bool = False, snapshot: bool = False) -> T:
        """Run ``fn`` in a worker thread with a connection inside a transaction: committed when
        ``fn`` returns, rolled back when it raises.

        A read (``write=False``) has a transaction of its own; ``snapshot`` makes every statement
        of ``fn`` see the same committed state (PostgreSQL REPEATABLE READ; MySQL/MariaDB's default
        already is; a SQLite read transaction is one). A write joins the group committer's next
        batch (see :class:`GroupCommitter`): its effects are rolled back when it raises, and it
        returns once they are committed. ``fn`` must not catch database errors and go on."""
        if write:
            return await self.committer.submit(fn)
        # a snapshot read is an import: bounded by Timeouts.sync, every other read by .statement
        bound = self.timeouts.sync if snapshot else self.timeouts.statement
        deadline = _Deadline(bound)
        watchdog = deadline.arm(bound)
        try:
            with anyio.move_on_after(bound):  # waiting for a thread slot counts against the bound
                return await anyio.to_thread.run_sync(
                    self.run_sync, fn, write, snapshot, deadline, limiter=self.limiter
                )
        finally:
            watchdog.cancel()
        log.warning("database %s: a read waited out its bound (%.0f s)", self.name, bound)
        raise DatabaseUnavailableError(self.name)

    def run_sync(
        self,
        fn: Callable[[Tx], T],
        write: bool = False,
        snapshot: bool = False,
        deadline: _Deadline | None = None,
    ) -> T:
        """``fn`` in one transaction of its own, in the calling thread (``write`` takes SQLite's
        write lock up front). ``deadline``: the watchdog that may break its connection."""
        _current.deadline = deadline
        try:
            with self.engine.connect() as connection:
                if self.is_sqlite and write:
                    connection = connection.execution_options(sqlite_begin="IMMEDIATE")
                if snapshot and self.dialect == "postgresql":
                    connection = connection.execution_options(isolation_level="REPEATABLE READ")
                with connection.begin():
                    if snapshot and self.timeouts.sync != self.timeouts.statement:
                        self._bound_transaction(connection, self.timeouts.sync)
                    tx = Tx(self, connection)
                    value = fn(tx)
                    if tx.changes and self.publish is not None:
                        self.publish(tx, tx.changes)
                    return value
        except _OUTAGES as e:
            outage = self._outage(e)
            if outage is e:
                raise
            raise outage from e
        except exc.DBAPIError as e:
            if deadline is not None and deadline.expired:  # broken by the watchdog mid-way
                raise self._outage(exc.TimeoutError(str(e))) from e
            raise
        finally:
            _current.deadline = None

    def _bound_transaction(self, connection: Connection, seconds: float) -> None:
        """An import's statements get the sync bound instead of the statement bound: for this
        transaction on PostgreSQL, for the session (until reset at check-in) on MariaDB/MySQL."""
        if self.dialect == "postgresql":
            connection.exec_driver_sql(f"SET LOCAL statement_timeout = {int(seconds * 1000)}")
        elif self.is_mysql:
            connection.info["sync_bound"] = True  # the next checkout restores the statement bound
            _mysql_statement_time(connection.connection.dbapi_connection, seconds)

    def run_batch(self, jobs: list[_Job], deadline: _Deadline | None = None) -> None:
        """Run ``jobs`` in order in one write transaction, each in a savepoint, and commit once;
        in the calling thread. Sets each job's outcome and never raises: a job that raises is
        rolled back to its savepoint and keeps its exception; when the transaction cannot go on
        or its commit fails, every job still without an error gets that failure (nothing of the
        batch was kept)."""
        committed = False
        _current.deadline = deadline
        try:
            with self.engine.connect() as connection:
                if self.is_sqlite:
                    connection = connection.execution_options(sqlite_begin="IMMEDIATE")
                with connection.begin():
                    tx = Tx(self, connection)
                    for job in jobs:
                        self._run_job(connection, tx, job)
                    if tx.changes and self.publish is not None:  # in the same transaction
                        self.publish(tx, tx.changes)
                committed = True
        except BaseException as error:  # noqa: BLE001 - delivered to the jobs it undid
            if not committed:
                if deadline is not None and deadline.expired and not isinstance(error, _OUTAGES):
                    timeout = exc.TimeoutError("the write transaction outlived its bound")
                    timeout.__cause__ = error
                    error = timeout
                self._fail(jobs, error)
        finally:
            _current.deadline = None

    def _run_job(self, connection: Connection, tx: Tx, job: _Job) -> None:
        """``job`` in a savepoint of its own. Savepoints go straight to the driver (SQLAlchemy's
        ``begin_nested`` costs more CPU than the job's own statements) and are not released: the
        commit ends them all, and a release would cost PostgreSQL and MySQL a round trip per job.
        A savepoint statement that fails means the transaction is gone (the database rolled it
        back: a MySQL deadlock, a full disk, a lost connection)."""
        _savepoint(connection, "SAVEPOINT job")
        noted = len(tx.changes)
        try:
            job.value = job.fn(tx)
        except BaseException as error:  # noqa: BLE001 - the job's own failure, for its caller alone
            del tx.changes[noted:]  # rolled back: nothing to tell the other processes
            job.error = self._job_error(error)
            if connection.invalidated:  # the connection broke: the transaction is gone with it
                raise _TransactionLost() from error
            _savepoint(connection, "ROLLBACK TO SAVEPOINT job")

    def _fail(self, jobs: list[_Job], error: BaseException) -> None:
        """Every job of a batch that was not kept, and has no error of its own, fails with
        ``error``: a lost transaction or an outage as :class:`DatabaseUnavailableError` (one
        each), anything else (a constraint checked at commit) as it is."""
        lost = isinstance(error, _TransactionLost)
        cause = error.__cause__ if lost and error.__cause__ is not None else error
        failure = None if lost else self._job_error(cause)
        if lost:
            log.warning("database %s: a write transaction ended early: %s", self.name, _describe(cause))
        for job in jobs:
            if job.error is None:
                job.value = None
                if failure is None or isinstance(failure, DatabaseUnavailableError):
                    job.error = DatabaseUnavailableError(self.name)
                    job.error.__cause__ = cause
                else:
                    job.error = failure

    def _job_error(self, error: BaseException) -> BaseException:
        """What the caller of a write sees for ``error``: an outage as
        :class:`DatabaseUnavailableError`, anything else as it is."""
        if isinstance(error, _OUTAGES):
            outage = self._outage(error)
            if outage is not error:
                outage.__cause__ = error
            return outage
        return error

    def _outage(self, error: exc.SQLAlchemyError) -> Exception:
        """``error`` as :class:`DatabaseUnavailableError` (logged), or as its
        :class:`DatabaseConfigError` when the database refuses the source as configured, unless it
        is a programming error that SQLite reports as an OperationalError."""
        if _is_programming_error(error):
            return error
        problem = self._config_problem(error)
        if problem is not None:
            reason, detail = problem
            log.warning("database %s refuses the configuration: %s (%s)", self.name, reason, detail)
            return DatabaseConfigError(self.name, reason, detail)
        log.warning("database %s unavailable: %s", self.name, _describe(error))
        return DatabaseUnavailableError(self.name, reason=outage_reason(error))

    def _config_problem(self, error: BaseException) -> tuple[str, str] | None:
        """(reason, detail) when ``error`` says the source is configured wrongly, else None."""
        database = self.url.database
        if self.is_sqlite:
            if database and database != ":memory:" and not Path(database).exists():
                return "the SQLite file does not exist", f"{database}: create it with --create-schema"
            return None
        return config_problem(error)

    async def probe(self, bound: float) -> bool:
        """Whether the database answers ``SELECT 1`` within ``bound`` seconds (a new or pooled
        connection, under the watchdog). Quiet: the caller logs changes of state."""
        deadline = _Deadline(bound)
        watchdog = deadline.arm(bound)
        try:
            with anyio.move_on_after(bound):
                # not this database's limiter: a busy pool must not read as an unreachable database
                # (the probe takes an overflow connection when every pooled one is lent out)
                return await anyio.to_thread.run_sync(self._probe_sync, deadline)
        finally:
            watchdog.cancel()
        return False

    def _probe_sync(self, deadline: _Deadline) -> bool:
        _current.deadline = deadline
        try:
            with self.engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1").fetchall()
            return True
        except Exception:  # noqa: BLE001 - any failure means: not reachable now
            return False
        finally:
            _current.deadline = None

    def dispose(self) -> None:
        self.engine.dispose()


def _savepoint(connection: Connection, sql: str) -> None:
    """Run a savepoint statement on the driver's connection; raise :class:`_TransactionLost` when
    it fails."""
    try:
        dbapi_connection = connection.connection.dbapi_connection
        assert dbapi_connection is not None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(sql)
        finally:
            cursor.close()
    except Exception as error:
        raise _TransactionLost() from error


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


def _mysql_statement_time(dbapi_connection: Any, seconds: float) -> None:
    """Bound every statement of the session: MariaDB's ``max_statement_time`` (seconds, any
    statement) or MySQL's ``max_execution_time`` (milliseconds, SELECTs only)."""
    cursor = dbapi_connection.cursor()
    try:
        if "mariadb" in str(getattr(dbapi_connection, "server_version", "")).lower():
            cursor.execute("SET SESSION max_statement_time = %s", (float(seconds),))
        else:
            cursor.execute("SET SESSION max_execution_time = %s", (int(seconds * 1000),))
    finally:
        cursor.close()


def _checkin(dbapi_connection: Any, record: Any) -> None:
    """A connection back in the pool: no watchdog may break it any more."""
    deadline: _Deadline | None = getattr(_current, "deadline", None)
    if deadline is not None and dbapi_connection is not None:
        deadline.detach(dbapi_connection)


def _is_programming_error(error: exc.DBAPIError | exc.SQLAlchemyError) -> bool:
    """SQLite reports a missing table or a syntax error as OperationalError: that is a bug in the
    mapping or schema, not an outage."""
    message = str(getattr(error, "orig", error)).lower()
    return message.startswith(("no such ", "near ", "table ", "incomplete input")) and "locked" not in message


#: SQLSTATE classes of errors a bound value causes, not the database's state: 22 data exception
#: (too long, out of range, NUL in text: psycopg raises DataError already) and 54 program limit
#: exceeded (a value too large for an index row: psycopg raises an OperationalError, which
#: would read as an outage and answer 503, so that clients retry a request that cannot succeed).
_VALUE_SQLSTATE_CLASSES = ("22", "54")


def refuses_value(error: BaseException) -> bool:
    """Whether the driver's ``error`` says a bound value cannot be stored (the client's fault,
    400) rather than that the database failed (503). pymysql already raises DataError for
    MySQL's value errors (1264 out of range, 1366 wrong value, 1406 too long); SQLite has no
    such limits."""
    state = getattr(error, "sqlstate", None)
    return isinstance(state, str) and state[:2] in _VALUE_SQLSTATE_CLASSES


def _no_default(error: BaseException) -> bool:
    """MySQL/MariaDB 1364: an insert left out a NOT NULL column that has no DEFAULT (a create
    without the attribute: see :mod:`mapper.runtime.inserts`), as a bound NULL is 1048."""
    args: tuple[Any, ...] = getattr(error, "args", ())
    return bool(args) and args[0] == 1364


#: What the database says when the source is configured wrongly: SQLSTATE (PostgreSQL: psycopg
#: has none at connect time, so its server message is matched instead), MySQL/MariaDB error number
_CONFIG_SQLSTATES = {
    "28P01": "authentication failed",
    "28000": "authentication failed",
    "3D000": "the database does not exist",
}
_CONFIG_ERRNOS = {
    1044: "access to the database denied",
    1045: "authentication failed",
    1698: "authentication failed",
    1049: "the database does not exist",
}
_CONFIG_MESSAGES = (
    (
        re.compile(r"password authentication failed|no password supplied|role \".*\" does not exist"),
        "authentication failed",
    ),
    (re.compile(r"no pg_hba\.conf entry|pg_hba\.conf rejects"), "authentication failed"),
    (re.compile(r"database \".*\" does not exist"), "the database does not exist"),
)
_OUTAGE_MESSAGES = (
    ("refused", "connection refused"),
    ("name or service not known", "host not found"),
    ("failed to resolve host", "host not found"),
    ("temporary failure in name resolution", "host not found"),
    ("nodename nor servname", "host not found"),
    ("timeout", "timed out"),
    ("timed out", "timed out"),
)


def driver_error(error: BaseException) -> BaseException:
    """The driver's own exception under SQLAlchemy's wrappers (``orig``, then ``__cause__``)."""
    seen: set[int] = set()
    while id(error) not in seen:
        seen.add(id(error))
        inner = getattr(error, "orig", None) or error.__cause__
        if not isinstance(error, exc.SQLAlchemyError) or inner is None:
            return error
        error = inner
    return error


def config_problem(error: BaseException) -> tuple[str, str] | None:
    """(reason, detail) when a PostgreSQL or MySQL/MariaDB ``error`` says the source is configured
    wrongly (authentication refused, no such database), else None. ``detail`` is the server's
    line (it names the user or the database; no driver puts the password in it)."""
    orig = driver_error(error)
    message = str(orig)
    args: tuple[Any, ...] = getattr(orig, "args", ())
    errno = args[0] if args and isinstance(args[0], int) else None  # pymysql: (errno, message)
    if errno is not None and len(args) > 1:
        detail = str(args[1])
    else:  # libpq: "connection to server at ... failed: FATAL:  database "x" does not exist"
        detail = message.rsplit("FATAL:", 1)[-1].strip().splitlines()[0] if message.strip() else ""
    if errno in _CONFIG_ERRNOS:
        return _CONFIG_ERRNOS[errno], detail
    state = getattr(orig, "sqlstate", None)
    if isinstance(state, str) and state in _CONFIG_SQLSTATES:
        return _CONFIG_SQLSTATES[state], detail
    for pattern, reason in _CONFIG_MESSAGES:
        if pattern.search(message):
            return reason, detail
    return None


def outage_reason(error: BaseException) -> str | None:
    """Why the database could not be reached, in our words, when the driver says."""
    if isinstance(error, exc.TimeoutError):
        return "timed out"
    message = str(driver_error(error)).lower()
    for needle, reason in _OUTAGE_MESSAGES:
        if needle in message:
            return reason
    return None


def _describe(error: BaseException) -> str:
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
