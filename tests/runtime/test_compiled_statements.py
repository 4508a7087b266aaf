"""Statements compiled per request (a create's INSERT without its absent columns, a filter compiled
to SQL) vary with what clients send, so the database's compiled-statement caches are bounded: a
client cannot grow the gateway's memory by sending many shapes, and a statement dropped from the
cache still runs when it comes back (real SQLite file)."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest

from mapper.plan import Statement
from mapper.runtime import statements as statements_module
from mapper.runtime.database import Database


def test_compiled_statements_are_bounded_and_still_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(statements_module, "COMPILED_LIMIT", 8)
    path = tmp_path / "bounded.db"
    with sqlite3.connect(path) as setup:
        setup.execute("CREATE TABLE t (a INTEGER, b INTEGER)")
    db = Database("s", f"sqlite:///{path}")
    try:
        shapes = [Statement(sql=f"INSERT INTO t (a, b) VALUES (:a, {n})", params=("a",)) for n in range(40)]
        for round_ in range(2):  # the second round finds most of them evicted and compiles them again
            for n, statement in enumerate(shapes):
                db.run_sync(lambda tx, s=statement, v=n: tx.run(s, {"a": v}), write=True)
                db.run_sync(lambda tx, s=statement, v=n: tx.execute(s, {"a": v}), write=True)
            cached = db.statements
            assert len(cached._driver_sql) <= 8 and len(cached._texts) <= 8  # noqa: SLF001 - the bound itself
        count = Statement(sql="SELECT COUNT(*), SUM(a), SUM(b) FROM t")
        assert db.run_sync(lambda tx: tx.first(count)) == (
            160,
            2 * 2 * sum(range(40)),
            2 * 2 * sum(range(40)),
        )
    finally:
        db.dispose()


def test_sqlite_binds_a_uuid_as_its_text(tmp_path: Path) -> None:
    """A UUID (an id another database returned) is stored and matched as its text on SQLite, as
    the other drivers bind it: SQLite's statements hand their values to sqlite3 unconverted, and
    its adapter makes the text."""
    path = tmp_path / "uuid.db"
    with sqlite3.connect(path) as setup:
        setup.execute("CREATE TABLE t (id TEXT)")
    db = Database("s", f"sqlite:///{path}")
    value = uuid.UUID("12345678-1234-5678-1234-567812345678")
    try:
        db.run_sync(
            lambda tx: tx.run(
                Statement(sql="INSERT INTO t (id) VALUES (:id)", params=("id",)), {"id": value}
            ),
            write=True,
        )
        find = Statement(sql="SELECT id, typeof(id) FROM t WHERE id = :id", params=("id",))
        assert db.run_sync(lambda tx: tx.rows(find, {"id": value})) == [(str(value), "text")]
    finally:
        db.dispose()


def test_rows_leave_no_statement_open(tmp_path: Path) -> None:
    """A transaction reads its rows on one cursor, which may outlive it (a failed write's
    traceback keeps it): every read is fetched to its end, so nothing of it stays open on the
    connection, which goes back to the pool (SQLite refuses to drop a table a statement still
    reads: "database table is locked")."""
    path = tmp_path / "open.db"
    with sqlite3.connect(path) as setup:
        setup.execute("CREATE TABLE t (a INTEGER)")
        setup.executemany("INSERT INTO t (a) VALUES (?)", [(1,), (2,), (3,)])
    db = Database("s", f"sqlite:///{path}")
    everything = Statement(sql="SELECT a FROM t ORDER BY a")

    def read_then_drop(tx: Any) -> list[tuple[Any, ...]]:
        rows = tx.rows(everything)
        tx.connection.exec_driver_sql("DROP TABLE t")
        return rows

    try:
        assert db.run_sync(read_then_drop, write=True) == [(1,), (2,), (3,)]
    finally:
        db.dispose()
