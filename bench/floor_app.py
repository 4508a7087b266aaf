"""The write floor: the least a Python ASGI service does for a durable POST, as a bare Starlette
app on uvicorn with the gateway's settings (:func:`bench.servers.uvicorn_argv`).

For each ``POST /scim/v2/Users`` it parses the JSON body, maps it to the bind parameters of the
plan's own INSERT (the row shape the strict commit baseline writes, :mod:`bench.measures.commits`),
inserts that one row through the bare driver (``sqlite3`` or ``psycopg``, no SQLAlchemy) with the
gateway's durability settings, reads back the new anchor, and answers 201 with the body and its
id. No SCIM, no validation, no cache, no re-read, no audit line: whatever the gateway does beyond
this is its own cost, and what this app reaches is the ceiling of the gateway's design (one Python
worker, one database connection) on this machine.

``FLOOR_MODE`` chooses how it commits:

- ``serial``: one transaction per request, run one at a time on a worker thread (the event loop
  keeps parsing requests while a commit waits for its fsync);
- ``group``: a minimal group commit: requests queue their rows; one task takes every row that is
  waiting, inserts them in one transaction on the worker thread, commits once, then answers them
  all (on PostgreSQL the inserts go in one pipeline).

``FLOOR_URL`` is the database (a SQLAlchemy URL, as the gateway is given), ``FLOOR_DIALECT``
``sqlite`` or ``postgres``.
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.measures.commits import driver_sql, statement_for

URL = os.environ.get("FLOOR_URL", "")
DIALECT = os.environ.get("FLOOR_DIALECT", "sqlite")
MODE = os.environ.get("FLOOR_MODE", "serial")
MEDIA = "application/scim+json"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

_statement = statement_for(DIALECT, "insert") if URL else None
SQL, NAMES = driver_sql(_statement.sql, DIALECT) if _statement else ("", [])
_executor = ThreadPoolExecutor(max_workers=1)  # one connection, used from this one thread
_connection: Any = None


def params(body: dict) -> list | dict:
    """The INSERT's bind parameters for a POSTed user (the bench's POST shape)."""
    name = body.get("name") or {}
    enterprise = body.get(ENTERPRISE) or {}
    values = {
        "login": body.get("userName"),
        "given_name": name.get("givenName"),
        "family_name": name.get("familyName"),
        "display_name": body.get("displayName"),
        "title": body.get("title"),
        "active": bool(body.get("active", True)),
        "department": enterprise.get("department"),
        "employee_number": enterprise.get("employeeNumber"),
    }
    if DIALECT == "sqlite":
        return [values[n] for n in NAMES]
    return {n: values[n] for n in NAMES}


def connection() -> Any:
    global _connection
    if _connection is None:
        if DIALECT == "sqlite":
            import sqlite3

            from mapper.runtime.sqlite import sqlite_pragmas

            _connection = sqlite3.connect(
                URL.removeprefix("sqlite:///"), isolation_level=None, check_same_thread=False
            )
            for pragma in sqlite_pragmas(busy_ms=30_000):
                _connection.execute(pragma)
        else:
            import psycopg

            _connection = psycopg.connect(URL.replace("postgresql+psycopg://", "postgresql://"))
            _connection.autocommit = True
    return _connection


def insert_one(values: list | dict) -> int:
    """One row in its own transaction (autocommit: one statement, one commit)."""
    return connection().execute(SQL, values).fetchone()[0]


def insert_many(batch: list[list | dict]) -> list[int]:
    """Every row of ``batch`` in one transaction, committed once."""
    con = connection()
    if DIALECT == "sqlite":
        con.execute("BEGIN IMMEDIATE")
        try:
            anchors = [con.execute(SQL, values).fetchone()[0] for values in batch]
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
        return anchors
    with con.transaction(), con.pipeline():
        cursors = [con.execute(SQL, values) for values in batch]
    return [cursor.fetchone()[0] for cursor in cursors]


class Group:
    """Rows waiting for the next commit, and the task that commits them."""

    def __init__(self) -> None:
        self.waiting: list[tuple[list | dict, asyncio.Future]] = []
        self.wake = asyncio.Event()
        self.task: asyncio.Task | None = None
        self.commits = 0
        self.rows = 0

    async def insert(self, values: list | dict) -> int:
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(self.run())
        future = asyncio.get_running_loop().create_future()
        self.waiting.append((values, future))
        self.wake.set()
        return await future

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self.wake.wait()
            self.wake.clear()
            batch, self.waiting = self.waiting, []
            if not batch:
                continue
            try:
                anchors = await loop.run_in_executor(_executor, insert_many, [v for v, _ in batch])
            except Exception as error:  # noqa: BLE001 - each waiting request gets the error
                for _, future in batch:
                    future.set_exception(error)
                continue
            self.commits += 1
            self.rows += len(batch)
            for (_, future), anchor in zip(batch, anchors, strict=True):
                future.set_result(anchor)


group = Group()


async def post(request: Request) -> Response:
    body = orjson.loads(await request.body())
    values = params(body)
    if MODE == "group":
        anchor = await group.insert(values)
    else:
        anchor = await asyncio.get_running_loop().run_in_executor(_executor, insert_one, values)
    body["id"] = str(anchor)
    return Response(orjson.dumps(body), status_code=201, media_type=MEDIA)


async def readyz(request: Request) -> Response:
    return Response(b'{"status":"ready"}', media_type="application/json")


async def stats(request: Request) -> Response:
    return Response(orjson.dumps({"commits": group.commits, "rows": group.rows}), media_type=MEDIA)


app = Starlette(
    routes=[
        Route("/readyz", readyz),
        Route("/stats", stats),
        Route("/scim/v2/Users", post, methods=["POST"]),
    ]
)
