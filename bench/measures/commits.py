"""Baseline for POST and PATCH: the raw serial commit rate of one INSERT (or UPDATE) per
transaction, with no HTTP, no cache and no gateway in the way.

The strict baseline (``driver``, the one the targets are stated against) runs on the bare DB-API
driver, ``sqlite3`` or ``psycopg``, with no SQLAlchemy: one statement per transaction, each in its
own implicit transaction (autocommit), so a commit costs one statement and nothing else, serially,
on one connection. The statement is the plan's own (the row shape the gateway writes: the INSERT
without the columns a POST leaves out, or the UPDATE of every mapped column) with its ``:name``
parameters turned into the driver's placeholders. The durability settings are the gateway's: WAL
with ``synchronous=FULL`` (and its other PRAGMAs) on SQLite; PostgreSQL as configured
(``fsync`` and ``synchronous_commit`` on: a commit returns once its WAL is flushed).

The older baseline (``database``) runs the same statement through the gateway's own
:class:`mapper.runtime.database.Database` (SQLAlchemy's pool, BEGIN and COMMIT of their own, one
``run_sync`` per row): kept as a second figure, it shows what the engine layer costs a write.

The gateway itself commits concurrent writes in groups (``GroupCommitter``), several writes per
commit; this loop stays the raw serial rate that the gateway is measured against.

Run as a subprocess pinned to the server core::

    python -m bench.measures.commits URL DIALECT insert|update SECONDS USERS [driver|database]

It prints one JSON object: ``{"kind", "via", "commits", "seconds", "rate"}``.
"""

from __future__ import annotations

import json
import re
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

from bench.data import COLUMNS as DATA_COLUMNS
from bench.data import HR_MAP, login, user_row

PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


def user_params(i: int, name: str) -> dict:
    """The bind parameters of user ``i`` with userName ``name``, by column name, as the gateway
    binds them."""
    params = dict(zip(DATA_COLUMNS, user_row(i), strict=True))
    params.update(login=name, anchor=i)
    return params


def statement_for(dialect: str, kind: str) -> Any:
    """The plan's INSERT (shaped as the gateway shapes a POST's: absent columns left out) or
    UPDATE."""
    from mapper.pipeline import load
    from mapper.runtime.inserts import Inserts

    obj = load(str(HR_MAP), write=dialect).object("User")
    if kind == "update":
        assert obj.update is not None
        return obj.update
    sample = user_params(1, "shape")
    return Inserts(obj, "postgresql" if dialect == "postgres" else dialect).for_values(sample)


def driver_sql(sql: str, dialect: str) -> tuple[str, list[str]]:
    """``sql`` with its ``:name`` parameters in the driver's paramstyle, and the names in order."""
    names: list[str] = []

    def placeholder(match: re.Match[str]) -> str:
        names.append(match.group(1))
        return "?" if dialect == "sqlite" else f"%({match.group(1)})s"

    return PARAM.sub(placeholder, sql), names


def params_at(kind: str, commits: int, users: int, prefix: str) -> dict:
    if kind == "insert":
        return user_params(users + commits, f"{prefix}-{commits}")
    i = 1 + (commits * 7919) % users
    params = user_params(i, login(i))
    params["title"] = f"{prefix} {commits}"
    return params


def driver_loop(url: str, dialect: str, kind: str) -> tuple[Callable[[dict], None], Callable[[], None]]:
    """(one commit of ``params``, close) on the bare driver."""
    statement = statement_for(dialect, kind)
    sql, names = driver_sql(statement.sql, dialect)
    returns = statement.returning == "returning"
    if dialect == "sqlite":
        import sqlite3

        from mapper.runtime.sqlite import sqlite_pragmas

        con = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)  # autocommit
        for pragma in sqlite_pragmas(busy_ms=30_000):
            con.execute(pragma)

        def commit(params: dict) -> None:
            cursor = con.execute(sql, [params.get(name) for name in names])
            if returns:
                cursor.fetchone()  # the new anchor, as the gateway reads it

        return commit, con.close
    import psycopg

    pg = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)

    def commit_pg(params: dict) -> None:
        cursor = pg.execute(sql, {name: params.get(name) for name in names})
        if returns:
            cursor.fetchone()

    return commit_pg, pg.close


def database_loop(url: str, dialect: str, kind: str) -> tuple[Callable[[dict], None], Callable[[], None]]:
    """(one commit of ``params``, close) through the gateway's ``Database``."""
    from mapper.runtime.database import Database

    statement = statement_for(dialect, kind)
    database = Database("hr", url)

    def run(tx: Any, params: dict) -> None:
        if kind == "insert":
            tx.insert(statement, params)
        else:
            tx.run(statement, params)

    def commit(params: dict) -> None:
        database.run_sync(lambda tx: run(tx, params), write=True)

    return commit, database.dispose


def measure(url: str, dialect: str, kind: str, seconds: float, users: int, via: str = "driver") -> dict:
    commit, close = (driver_loop if via == "driver" else database_loop)(url, dialect, kind)
    prefix = f"raw-{uuid.uuid4().hex[:8]}"
    commits = 0
    started = time.perf_counter()
    deadline = started + seconds
    try:
        while time.perf_counter() < deadline:
            commits += 1
            commit(params_at(kind, commits, users, prefix))
        elapsed = time.perf_counter() - started
    finally:
        close()
    return {"kind": kind, "via": via, "commits": commits, "seconds": elapsed, "rate": commits / elapsed}


def main(argv: list[str]) -> None:
    url, dialect, kind, seconds, users, *rest = argv
    print(json.dumps(measure(url, dialect, kind, float(seconds), int(users), *rest)))


if __name__ == "__main__":
    main(sys.argv[1:])
