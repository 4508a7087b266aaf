"""SQLite's setup: a database file created from SQL files on first start
(:func:`bootstrap_sqlite`), and the PRAGMAs and BEGIN mode of every connection the engine opens."""

from __future__ import annotations

import logging
import sqlite3
import uuid
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, event

from mapper.runtime.driver_errors import as_sqlalchemy
from mapper.runtime.urls import engine_url

log = logging.getLogger(__name__)

# A decimal attribute's value is a Decimal, which sqlite3 cannot bind (a 500 on every write of
# one): bound as its text, which the column's affinity reads as the number it holds. The sqlite3
# module's own hook, for every connection of the process; no cost for the types it binds itself.
sqlite3.register_adapter(Decimal, str)
# A UUID (a value read from another database, an id the gateway made) is bound as its text, as
# statements.bindable binds it for the other drivers; SQLite's binding converts no value itself
# (statements.unconverted).
sqlite3.register_adapter(uuid.UUID, str)


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


def sqlite_pragmas(busy_ms: int) -> tuple[str, ...]:
    """The PRAGMAs every connection runs (the bench's commit baseline runs them too)."""
    return (
        "PRAGMA journal_mode = WAL",
        f"PRAGMA busy_timeout = {int(busy_ms)}",
        "PRAGMA foreign_keys = ON",
        # FULL: a commit is on disk before it is acknowledged, also across a power loss. NORMAL
        # in WAL mode may lose the last transactions then, and an acknowledged write is never lost.
        "PRAGMA synchronous = FULL",
    )


def configure_sqlite(engine: Engine, busy_ms: int) -> None:
    """WAL, a busy timeout, foreign keys; and we issue BEGIN ourselves (pysqlite's own transaction
    handling is off), so a write transaction starts with BEGIN IMMEDIATE and never fails on a lock
    upgrade half-way."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in sqlite_pragmas(busy_ms):
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        # on the driver's cursor: SQLAlchemy's exec_driver_sql was a third of an empty transaction
        if connection.connection.dbapi_connection.in_transaction:  # type: ignore[union-attr]
            return  # a write batch's, begun on the driver: SQLAlchemy's statement joins it
        mode = connection.get_execution_options().get("sqlite_begin", "")
        run_on_driver(connection, f"BEGIN {mode}".strip())


def run_on_driver(connection: Connection, sql: str) -> None:
    """``sql`` (a transaction's BEGIN) on the driver's cursor of ``connection``, its error raised
    as SQLAlchemy's ``exec_driver_sql`` raised it (a lock waited out: an outage)."""
    dbapi_connection = connection.connection.dbapi_connection
    cursor = dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql)
    except sqlite3.Error as error:
        raise as_sqlalchemy(connection, error, sql, None, dbapi_connection, cursor) from error
    finally:
        cursor.close()


def ended_on_driver(connection: Connection, dbapi_connection: Any, commit: bool) -> None:
    """The transaction a SQLite write began with :func:`run_on_driver` committed (``commit``) or
    rolled back by the driver's own ``commit()`` and ``rollback()``, the calls SQLAlchemy's
    ``Transaction`` makes (each ends a transaction only when one is open), their error raised
    as SQLAlchemy's ``Connection`` raises it: the same class, no statement, and a lost
    connection invalidated."""
    try:
        dbapi_connection.commit() if commit else dbapi_connection.rollback()
    except sqlite3.Error as error:
        raise as_sqlalchemy(connection, error, None, None, dbapi_connection, None) from error
