"""Baseline for POST and PATCH: the raw serial commit rate of the gateway's own single-row INSERT
and UPDATE (the compiled plan's statements), one transaction per row, through the same driver and
engine settings (``mapper.runtime.database.Database``: SQLAlchemy, WAL and ``synchronous=FULL``
on SQLite, psycopg with ``synchronous_commit`` on PostgreSQL), with no HTTP and no cache in the
way.

Each row is its own ``Database.run_sync`` call: one transaction and one commit per row, serially.
The gateway itself commits concurrent writes in groups (``GroupCommitter``), several writes per
commit; this loop stays the raw serial rate that the gateway is measured against.

Run as a subprocess pinned to the server core::

    python -m bench.measures.commits URL DIALECT insert|update SECONDS USERS

It prints one JSON object: ``{"kind", "commits", "seconds", "rate"}``.
"""

from __future__ import annotations

import json
import sys
import time
import uuid

from bench.data import COLUMNS as DATA_COLUMNS
from bench.data import HR_MAP, login, user_row


def user_params(i: int, name: str) -> dict:
    """The bind parameters of user ``i`` with userName ``name``, by column name, as the gateway
    binds them."""
    params = dict(zip(DATA_COLUMNS, user_row(i), strict=True))
    params.update(login=name, anchor=i)
    return params


def run(tx, statement, params: dict) -> None:
    result = tx.execute(statement, params)
    if statement.returning == "returning":
        result.scalar_one()  # the new anchor, read as the gateway reads it


def measure(url: str, dialect: str, kind: str, seconds: float, users: int) -> dict:
    from mapper.pipeline import load
    from mapper.runtime.database import Database

    plan = load(str(HR_MAP), write=dialect)
    obj = plan.object("User")
    statement = obj.insert if kind == "insert" else obj.update
    if statement is None:
        raise SystemExit(f"the plan has no {kind} statement")
    database = Database("hr", url)
    prefix = f"raw-{uuid.uuid4().hex[:8]}"
    commits = 0
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        commits += 1
        if kind == "insert":
            params = user_params(users + commits, f"{prefix}-{commits}")
        else:
            i = 1 + (commits * 7919) % users
            params = user_params(i, login(i))
            params["title"] = f"{prefix} {commits}"
        database.run_sync(lambda tx, p=params: run(tx, statement, p), write=True)
    elapsed = time.perf_counter() - started
    database.dispose()
    return {"kind": kind, "commits": commits, "seconds": elapsed, "rate": commits / elapsed}


def main(argv: list[str]) -> None:
    url, dialect, kind, seconds, users = argv
    print(json.dumps(measure(url, dialect, kind, float(seconds), int(users))))


if __name__ == "__main__":
    main(sys.argv[1:])
