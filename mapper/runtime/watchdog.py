"""Bounds on every wait on a database (:class:`Timeouts`), and the watchdog that enforces them when
the database does not answer at all (:class:`Watchdog`): a unit of work's deadline, carried as
data, breaks the connection it uses. Also the per-session statement bounds and TCP keepalive the
engine sets on connect."""

from __future__ import annotations

import logging
import os
import socket
import sqlite3
import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exc

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Every wait on a database is bounded (seconds). ``connect``: reaching the database (libpq's
    and pymysql's connect timeout). ``statement``: one request's unit of work, or one group-commit
    batch counted from its oldest write's arrival; enforced by the database (PostgreSQL
    ``statement_timeout``, MariaDB ``max_statement_time``, MySQL ``max_execution_time`` for reads)
    and by a watchdog that shuts the connection's socket when the database does not answer at all
    (a partition). ``sync``: one import (full or delta) the same way. ``pool``: waiting for a
    pooled connection. ``keepalive``: idle seconds before TCP keepalive probes (then every
    ``keepalive / 3`` s, 3 probes). SQLite's busy timeout is ``statement`` too. ``lock``: a
    statement waiting for a row lock another transaction holds (PostgreSQL ``lock_timeout``,
    MariaDB/MySQL ``innodb_lock_wait_timeout``, whole seconds there): a write of a row another
    application keeps locked then fails alone, with 503, instead of holding up every write
    behind it (batches take turns) for the whole ``statement`` bound."""

    connect: float = 10.0
    statement: float = 15.0
    lock: float = 2.0
    sync: float = 600.0
    pool: float = 10.0
    keepalive: float = 30.0


class Watchdog:
    """The connections units of work are using, each under its unit's deadline, and one thread of
    its own that breaks a connection whose unit outlived its bound (the database did not answer),
    so the worker thread waiting on it stops at once and the unit fails as an outage.

    A unit of work carries its deadline as data (``current.deadline`` in its worker thread, a
    :func:`time.monotonic` instant). The pool puts each connection it checks out for a unit under
    the watchdog (:meth:`watch`, refused when the deadline has already passed: the unit waited out
    its bound before it had a connection, e.g. for a worker thread or a pooled connection) and
    takes it off at check-in (:meth:`release`). Both, and the break itself, happen under the
    watchdog's lock, so it never breaks a connection that went back to the pool. The thread sleeps
    until the earliest deadline it holds and is woken only by a connection due sooner."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        """Nothing watched, and no thread yet (also in a forked child, where none runs)."""
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._watched: dict[int, tuple[Any, float]] = {}  # id(connection) -> (connection, deadline)
        self._waking_at: float | None = None  # when the thread looks next; None: it waits for work
        self._thread: threading.Thread | None = None

    def watch(self, dbapi_connection: Any, deadline: float) -> None:
        """``dbapi_connection``, checked out for a unit of work, is broken once ``deadline``
        passes, unless it is released first."""
        if deadline <= time.monotonic():
            raise exc.TimeoutError("the unit of work outlived its bound before it had a connection")
        with self._lock:
            self._watched[id(dbapi_connection)] = (dbapi_connection, deadline)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="mapper-watchdog", daemon=True)
                self._thread.start()
            elif self._waking_at is None or deadline < self._waking_at:
                self._wake.notify()

    def release(self, dbapi_connection: Any) -> None:
        """``dbapi_connection`` goes back to the pool: no unit's deadline applies to it any more."""
        with self._lock:
            self._watched.pop(id(dbapi_connection), None)

    def _run(self) -> None:
        with self._lock:
            while True:
                now = time.monotonic()
                for key, (connection, deadline) in list(self._watched.items()):
                    if deadline <= now:
                        del self._watched[key]
                        _break(connection)  # under the lock: its unit cannot check it in meanwhile
                self._waking_at = min((d for _, d in self._watched.values()), default=None)
                self._wake.wait(None if self._waking_at is None else self._waking_at - now)


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
    except Exception as error:  # noqa: BLE001 - already closed: nothing waits on it (and the watchdog goes on)
        log.debug("watchdog: could not break a connection: %s", error)


#: the watchdog of this process
WATCHDOG = Watchdog()
os.register_at_fork(after_in_child=WATCHDOG._reset)

#: per worker thread: ``current.deadline`` is the deadline (a :func:`time.monotonic` instant) of
#: the unit of work it runs, None between units; ``current.writes``, whether that unit is a write
#: transaction (MariaDB/MySQL begin those in READ COMMITTED: :mod:`mapper.runtime.engine`)
current = threading.local()


def outlived(deadline: float | None) -> bool:
    """Whether a unit of work with ``deadline`` outlived its bound (the watchdog breaks its
    connection from then on: an error now is the bound's, an outage)."""
    return deadline is not None and time.monotonic() >= deadline


def keepalive(sock: socket.socket, idle: float) -> None:
    """TCP keepalive on ``sock``: probes after ``idle`` seconds, then every third of it, 3 of them."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for name, value in (("TCP_KEEPIDLE", idle), ("TCP_KEEPINTVL", max(1, idle / 3)), ("TCP_KEEPCNT", 3)):
        option = getattr(socket, name, None)
        if option is not None:
            sock.setsockopt(socket.IPPROTO_TCP, option, max(1, int(value)))


def mysql_lock_wait(dbapi_connection: Any, seconds: float) -> None:
    """Bound the session's waits for InnoDB row locks (whole seconds, at least 1)."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SET SESSION innodb_lock_wait_timeout = %s", (max(1, round(seconds)),))
    finally:
        cursor.close()


def mysql_statement_time(dbapi_connection: Any, seconds: float) -> None:
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


def checkout(dbapi_connection: Any) -> float | None:
    """A connection leaves the pool for this thread's unit of work: under the watchdog until its
    deadline (returned; None: the unit has none)."""
    deadline: float | None = getattr(current, "deadline", None)
    if deadline is not None:
        WATCHDOG.watch(dbapi_connection, deadline)
    return deadline


def checkin(dbapi_connection: Any, record: Any) -> None:
    """A connection back in the pool: the watchdog may not break it any more."""
    if getattr(current, "deadline", None) is not None and dbapi_connection is not None:
        WATCHDOG.release(dbapi_connection)
