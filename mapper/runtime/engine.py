"""The SQLAlchemy engine of a :class:`~mapper.runtime.database.Database`: pool sizes, each
dialect's connect arguments (timeouts, keepalive, the statement bound), and the pool's listeners
that put every connection under the watchdog of the unit of work using it."""

from __future__ import annotations

import logging
import select
import socket
import time
from typing import TYPE_CHECKING, Any

from psycopg import pq
from psycopg.types.string import TextLoader
from sqlalchemy import Engine, create_engine, event, exc

from mapper.runtime import pgpipeline
from mapper.runtime.driver_errors import describe_error
from mapper.runtime.sqlite import configure_sqlite
from mapper.runtime.watchdog import (
    checkin,
    checkout,
    current,
    keepalive,
    mysql_lock_wait,
    mysql_statement_time,
    outlived,
)

if TYPE_CHECKING:
    from mapper.runtime.database import Database

log = logging.getLogger(__name__)

_PG_OK, _PG_IDLE = pq.ConnStatus.OK, pq.TransactionStatus.IDLE


def build_engine(database: Database, pool_size: int, max_overflow: int) -> Engine:
    """The engine of ``database`` (its URL, dialect and timeouts), with its listeners."""
    timeouts = database.timeouts
    busy_ms = int(timeouts.statement * 1000)
    # no pool_pre_ping: the checkout listener pings under the unit of work's watchdog
    kwargs: dict[str, Any] = {"pool_size": pool_size, "max_overflow": max_overflow}
    # a driver error's text never carries the bound values: they are clients' values (a SCIM
    # password mapped export-only among them), and an unexpected error's traceback is logged
    kwargs["hide_parameters"] = True
    kwargs["pool_timeout"] = timeouts.pool
    if database.is_sqlite:
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": busy_ms / 1000}
    else:
        kwargs["pool_recycle"] = 1800
        kwargs["connect_args"] = {"connect_timeout": max(1, round(timeouts.connect))}
    if database.is_mysql:
        # pymysql's connect_timeout covers the TCP connect only: its handshake and login read
        # with read_timeout (none by default), so a database that accepts and never answers (a
        # partition) held a new connection, and the request or probe making it, for ever
        kwargs["connect_args"].update(mysql_connect_bound(timeouts.connect))
        kwargs["connect_args"]["conv"] = mysql_conversions()
    if database.dialect == "postgresql":
        idle = max(1, int(timeouts.keepalive))
        kwargs["connect_args"].update(
            # coherence triggers (mapper coherence-ddl) skip the gateway's own sessions by it
            application_name="mapper",
            # text goes over the wire as UTF-8 whatever the database's encoding: libpq's default
            # is the database's own (LATIN1, say), and psycopg then failed to encode a character
            # that encoding lacks in the gateway (UnicodeEncodeError, a 500), where the server
            # now refuses it as a value (22P05, a 400)
            client_encoding="UTF8",
            # UTC as on MariaDB (time_zone '+00:00'): a dateTime is bound as UTC, and a
            # TIMESTAMP without a zone is read as UTC; in a session of another zone PostgreSQL
            # stored it in that zone's time, and each update of the row moved it again
            options=f"-c statement_timeout={int(timeouts.statement * 1000)}"
            f" -c lock_timeout={max(1, int(timeouts.lock * 1000))} -c TimeZone=UTC",
            keepalives=1,
            keepalives_idle=idle,
            keepalives_interval=max(1, idle // 3),
            keepalives_count=3,
        )
    url = database.url
    if (
        database.is_sqlite
        and url.database
        and url.database != ":memory:"
        and not url.database.startswith("file:")
    ):
        # open an existing file only: never leave an empty database where a schema was expected
        url = url.set(database=f"file:{url.database}?mode=rw", query={**url.query, "uri": "true"})
    engine = create_engine(url, **kwargs)
    listeners = Listeners(database, engine)
    if database.is_sqlite:
        configure_sqlite(engine, busy_ms)
    elif database.is_mysql:
        event.listen(engine, "connect", listeners.mysql_on_connect)
    elif database.dialect == "postgresql":
        event.listen(engine, "connect", postgres_on_connect)
        event.listen(engine, "checkin", returned)
    event.listen(engine, "do_connect", listeners.do_connect)
    event.listen(engine, "checkout", listeners.checkout)
    event.listen(engine, "checkin", checkin)
    quiet_lost_returns(engine)
    return engine


class LostOnReturn(logging.Filter):
    """The pool's "Exception during reset or similar", when the reset (a rollback as a connection
    goes back to the pool) met a connection its server had dropped meanwhile (KILL,
    ``pg_terminate_backend``, a restart): SQLAlchemy logs it as an ERROR with a traceback and
    discards the connection, which is all there is to do. Such a record (the driver's
    OperationalError or InterfaceError: a rollback fails so only when the connection is gone)
    becomes one warning line naming the driver's error (:func:`describe_error`: never a
    password); any other record of the pool's logger is left as it is. One filter serves every
    engine whose pool logs to a logger."""

    RESET = "Exception during reset or similar"  # sqlalchemy.pool.base._finalize_fairy's message

    def __init__(self) -> None:
        super().__init__()
        self.kinds: set[type[BaseException]] = set()  # the drivers' OperationalError, InterfaceError

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if record.msg != self.RESET or error is None or not isinstance(error, tuple(self.kinds)):
            return True
        record.levelno, record.levelname = logging.WARNING, logging.getLevelName(logging.WARNING)
        record.msg = "a pooled connection was lost while in use (%s); discarded"
        record.args = (describe_error(error),)
        record.exc_info = record.exc_text = None
        return True


_LOST_ON_RETURN = LostOnReturn()


def quiet_lost_returns(engine: Engine) -> None:
    """:class:`LostOnReturn` on the logger of ``engine``'s pool."""
    if engine.dialect.name == "sqlite":
        return  # a SQLite file is never dropped under a connection
    dbapi = engine.dialect.loaded_dbapi
    _LOST_ON_RETURN.kinds.update((dbapi.OperationalError, dbapi.InterfaceError))
    logger = engine.pool.logger  # a Logger unless the engine echoes (never, here)
    if isinstance(logger, logging.Logger) and _LOST_ON_RETURN not in logger.filters:
        logger.addFilter(_LOST_ON_RETURN)


def postgres_on_connect(dbapi_connection: Any, _record: Any = None) -> None:
    """A new PostgreSQL connection: prepared statements are the pipeline's (:mod:`.pgpipeline`),
    and ``CHAR(n)`` values are read without their padding, as PostgreSQL compares them and casts
    them to text, and as MariaDB returns them. psycopg returned ``'B003    '`` for a ``CHAR(8)``:
    an anchor so read became an id other than the one the client wrote, ``/Users/B003`` found
    the row in the database but not in the cache, a PATCH of it was 409 with itself and a
    DELETE left it cached."""
    pgpipeline.configure(dbapi_connection)
    adapters = getattr(dbapi_connection, "adapters", None)  # psycopg 3
    if adapters is not None:
        adapters.register_loader("bpchar", _UnpaddedLoader)


class _UnpaddedLoader(TextLoader):
    """psycopg's text loader, without the trailing spaces that pad a ``CHAR(n)`` value."""

    def load(self, data: Any) -> str | bytes:
        value = super().load(data)  # bytes on a SQL_ASCII database
        return value.rstrip(" ") if isinstance(value, str) else value.rstrip(b" ")


class Listeners:
    """The pool's events of one database's engine."""

    def __init__(self, database: Database, engine: Engine) -> None:
        self.database = database
        self.engine = engine
        #: whether it was logged that this database logs statements (:meth:`_may_read_committed`)
        self.statement_binlog_told = False

    def do_connect(self, _dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
        """A new connection for a unit of work takes no longer than what is left of its bound
        (the watchdog cannot break a connection that does not exist yet)."""
        deadline: float | None = getattr(current, "deadline", None)
        if deadline is None or self.database.is_sqlite:
            return
        left = deadline - time.monotonic()
        if left <= 0:
            raise exc.TimeoutError("the unit of work outlived its bound before it had a connection")
        cparams["connect_timeout"] = max(1, min(round(self.database.timeouts.connect), int(left + 0.999)))
        if self.database.is_mysql:
            cparams.update(mysql_connect_bound(min(self.database.timeouts.connect, left)))

    def checkout(self, dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        """A connection leaves the pool for this thread's unit of work: the watchdog may break it
        from now on; a server connection is pinged first (a stale one is replaced, as
        ``pool_pre_ping`` would, but the ping is bounded too), unless it is a PostgreSQL
        connection that came back a moment ago and has heard nothing since (:func:`quiet`). On
        MariaDB/MySQL, a write's transaction is to run in READ COMMITTED
        (:func:`read_committed_next`): that statement, in the ping's stead, is the ping."""
        deadline = checkout(dbapi_connection)
        if self.database.is_sqlite:
            return
        try:
            if _record.info.pop("sync_bound", False):  # an import raised the session's bound
                mysql_statement_time(dbapi_connection, self.database.timeouts.statement)
            if _record.info.get(READ_COMMITTED) and getattr(current, "writes", False):
                read_committed_next(dbapi_connection)
            elif not quiet(dbapi_connection, _record):
                self.engine.dialect.do_ping(dbapi_connection)  # leaves no transaction open
        except self.engine.dialect.loaded_dbapi.Error as error:
            if outlived(deadline):
                raise exc.TimeoutError("the database did not answer within the bound") from error
            raise exc.DisconnectionError(describe_error(error)) from error  # the pool tries a new one

    def mysql_on_connect(self, dbapi_connection: Any, _record: Any) -> None:
        """DATETIME columns hold UTC: read and write them in UTC. Statements are bounded by the
        server too (MariaDB: any statement, in seconds; MySQL: SELECTs, in milliseconds), and the
        socket keeps TCP keepalive. Waits for another transaction's row lock are bounded on their
        own (``Timeouts.lock``)."""
        cursor = dbapi_connection.cursor()
        cursor.execute("SET time_zone = '+00:00'")
        cursor.close()
        mysql_statement_time(dbapi_connection, self.database.timeouts.statement)
        mysql_lock_wait(dbapi_connection, self.database.timeouts.lock)
        _record.info[READ_COMMITTED] = self._may_read_committed(dbapi_connection)
        sock = getattr(dbapi_connection, "_sock", None)
        if isinstance(sock, socket.socket):
            keepalive(sock, self.database.timeouts.keepalive)
        # connected: statements are bounded by the server and the watchdog, not by the socket
        # (an import may wait longer than a connect for its first row)
        dbapi_connection._read_timeout = dbapi_connection._write_timeout = None

    def _may_read_committed(self, dbapi_connection: Any) -> bool:
        """Whether this MariaDB/MySQL session's writes may run in READ COMMITTED: not where the
        server logs its statements as such (``binlog_format=STATEMENT`` with binary logging on:
        InnoDB then refuses every write under READ COMMITTED, error 1665). Those run in the
        server's REPEATABLE READ, as before; said once per database, with what it costs."""
        if not statements_logged(dbapi_connection):
            return True
        if not self.statement_binlog_told:
            self.statement_binlog_told = True
            log.warning(
                "database %s logs statements (binlog_format=STATEMENT), where InnoDB refuses writes"
                " in READ COMMITTED: the gateway's writes run in REPEATABLE READ, and one may decide"
                " from child rows or unique values as they were when its batch began, missing what"
                " another process or application committed since (binlog_format=MIXED or ROW"
                " lifts this; see docs/gateway.md)",
                self.database.name,
            )
        return False


#: seconds after its return to the pool during which a quiet PostgreSQL connection is lent
#: without a ping (:func:`quiet`)
FRESH = 1.0

#: the key of a PostgreSQL connection record's ``info`` that holds when it last came back to the
#: pool (:func:`time.monotonic`)
RETURNED = "returned"


def returned(dbapi_connection: Any, record: Any) -> None:
    """A PostgreSQL connection back in the pool (after its reset): note when (:func:`quiet`)."""
    if record is not None and dbapi_connection is not None:
        record.info[RETURNED] = time.monotonic()


def quiet(dbapi_connection: Any, record: Any) -> bool:
    """Whether a PostgreSQL connection may be lent without a ping: it came back to the pool less
    than :data:`FRESH` seconds ago, with no transaction open, and its socket has nothing to read.
    A server that ends a session (``pg_terminate_backend``, a shutdown, ``idle_session_timeout``)
    sends its reason and closes the socket, which then reads as ready: that connection is pinged,
    fails, and the pool opens another, as before. What the ping would otherwise cost is a round
    trip at every group-commit batch's start, inside the turn that the batches take one at a
    time (:class:`~mapper.runtime.group_commit.GroupCommitter`), for a connection the batch
    before had just used. One idle longer than that is pinged (a peer that vanished without a
    word is found by the ping, or by the unit's watchdog)."""
    since = record.info.get(RETURNED)
    pgconn = getattr(dbapi_connection, "pgconn", None)
    if since is None or pgconn is None or time.monotonic() - since >= FRESH:
        return False
    if pgconn.status != _PG_OK or pgconn.transaction_status != _PG_IDLE:
        return False
    poll = select.poll()
    poll.register(pgconn.socket, select.POLLIN | select.POLLPRI)
    return not poll.poll(0)


#: the key of a MariaDB/MySQL connection record's ``info`` that says whether the session's writes
#: run in READ COMMITTED (:meth:`Listeners._may_read_committed`)
READ_COMMITTED = "read_committed"


def read_committed_next(dbapi_connection: Any) -> None:
    """The session's next transaction (only that one) runs in READ COMMITTED, as every write's
    does on PostgreSQL: each statement reads the latest commits. Under InnoDB's REPEATABLE READ a
    plain SELECT reads the snapshot the transaction's first one took, which in a group-commit
    batch may be an earlier write's: the child rows (a multi's items) and uniqueness checks of a
    write read then missed what another writer committed since, and the write removed too few
    items or took a value another row had just taken. The row a write changes is read with a
    lock (``by_anchor_locked``), which waits for the other writer; READ COMMITTED makes what the
    write reads next as recent, and takes no gap locks. Reads keep the server's REPEATABLE READ
    (an import's snapshot spans its statements). Run where no transaction is open (at checkout,
    after the pool's rollback): the server keeps the level until that transaction ends."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
    finally:
        cursor.close()


def statements_logged(dbapi_connection: Any) -> bool:
    """Whether a MariaDB/MySQL session's statements are logged as statements: binary logging on
    (the server's ``log_bin`` and the session's ``sql_log_bin``) in ``binlog_format=STATEMENT``."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SELECT @@log_bin AND @@sql_log_bin AND @@binlog_format = 'STATEMENT'")
        (logged,) = cursor.fetchone()
    finally:
        cursor.close()
    return bool(logged)


def mysql_conversions() -> dict[Any, Any]:
    """pymysql's conversions, but a ``BIT`` column read as the integer it holds: pymysql returns
    its bytes (``b'\\x00'``), which a boolean attribute read as true, since any non-empty bytes are
    (a ``BIT(1)`` flag written false was served ``true``, and filters on it matched the wrong
    rows), and a string attribute as mangled text."""
    from pymysql import converters
    from pymysql.constants import FIELD_TYPE

    conversions = dict(converters.conversions)
    conversions[FIELD_TYPE.BIT] = _bits
    return conversions


def _bits(value: bytes) -> int:
    return int.from_bytes(value, "big")


def mysql_connect_bound(seconds: float) -> dict[str, int]:
    """pymysql's socket timeouts while it connects (whole seconds, at least 1); the connect
    listener lifts them once connected."""
    bound = max(1, int(seconds + 0.999))
    return {"read_timeout": bound, "write_timeout": bound}
