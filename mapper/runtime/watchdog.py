"""Bounds on every wait on a database (:class:`Timeouts`), and the watchdog that enforces them when
the database does not answer at all: a unit of work's :class:`Deadline` breaks the connection it
uses. Also the per-session statement bounds and TCP keepalive the engine sets on connect."""

from __future__ import annotations

import asyncio
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
    ``keepalive / 3`` s, 3 probes). SQLite's busy timeout is ``statement`` too."""

    connect: float = 10.0
    statement: float = 15.0
    sync: float = 600.0
    pool: float = 10.0
    keepalive: float = 30.0


class Deadline:
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


#: per worker thread: ``current.deadline`` is the :class:`Deadline` of the unit of work it runs
current = threading.local()


def keepalive(sock: socket.socket, idle: float) -> None:
    """TCP keepalive on ``sock``: probes after ``idle`` seconds, then every third of it, 3 of them."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for name, value in (("TCP_KEEPIDLE", idle), ("TCP_KEEPINTVL", max(1, idle / 3)), ("TCP_KEEPCNT", 3)):
        option = getattr(socket, name, None)
        if option is not None:
            sock.setsockopt(socket.IPPROTO_TCP, option, max(1, int(value)))


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


def checkin(dbapi_connection: Any, record: Any) -> None:
    """A connection back in the pool: no watchdog may break it any more."""
    deadline: Deadline | None = getattr(current, "deadline", None)
    if deadline is not None and dbapi_connection is not None:
        deadline.detach(dbapi_connection)
