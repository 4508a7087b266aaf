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
            assert len(cached.by_sql) <= 8 and len(cached._texts) <= 8  # noqa: SLF001 - the bound itself
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


def test_a_sqlite_statement_binds_its_values_in_place_as_bind_does(tmp_path: Path) -> None:
    """On SQLite a statement's values are made in :meth:`Tx._run` itself (``DriverSql.plain``),
    as :meth:`DriverSql.bind` makes them: in the order of the placeholders, a value bound twice
    where its name comes twice, a name the parameters lack as NULL, no parameters at all as NULL
    for each, a renamed parameter by its value's name."""
    path = tmp_path / "plain.db"
    with sqlite3.connect(path) as setup:
        setup.execute("CREATE TABLE t (a, b, c)")
    db = Database("s", f"sqlite:///{path}")
    try:
        twice = Statement(sql="INSERT INTO t (a, b, c) VALUES (:b, :a, :b)", params=("a", "b"))
        renamed = Statement(
            sql="INSERT INTO t (a, b, c) VALUES (:x, :y, 3)", params=("x", "y"), renamed=(("x", "a"),)
        )
        driver = db.statements.driver_sql(twice)
        assert driver.plain and driver.names == ("b", "a", "b")
        assert db.statements.driver_sql(renamed).names == ("a", "y")
        db.run_sync(lambda tx: tx.run(twice, {"a": 1, "b": "two"}), write=True)
        db.run_sync(lambda tx: tx.run(twice, {"a": 1}), write=True)
        db.run_sync(lambda tx: tx.run(twice), write=True)
        db.run_sync(lambda tx: tx.run(renamed, {"a": "x's value", "y": 2}), write=True)
        rows = db.run_sync(lambda tx: tx.rows(Statement(sql="SELECT a, b, c FROM t ORDER BY rowid")))
        assert rows == [("two", 1, "two"), (None, 1, None), (None, None, None), ("x's value", 2, 3)]
        assert all(driver.bind({"a": 1, "b": "two"}) == ["two", 1, "two"] for _ in range(2))
    finally:
        db.engine.dispose()
