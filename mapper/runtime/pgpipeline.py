"""PostgreSQL: statements sent in one libpq pipeline, driven through psycopg's libpq wrapper
(``connection.pgconn``), its adapters (:class:`psycopg.adapt.Transformer`) and its wait loop,
without psycopg's cursors and pipeline object.

Why: a write's statements are few and small, and psycopg's Python around each of them (a cursor,
its query conversion and prepare cache, the pipeline's queues, a ``poll`` of the socket before
each statement is sent, the results handed back to cursors) cost the commit thread more CPU than
the statements themselves. Here each statement's placeholders are converted once per SQL string,
its values dumped by psycopg's own adapters (the same bytes and types psycopg would send), every
statement queued at once, the pipeline flushed once and the results read in order.

Each statement is prepared on the connection the first time it runs there (named ``_mapper_N``,
at most :data:`PREPARED_LIMIT` per connection), so the server parses it once. psycopg's own
prepared statements are switched off on these connections (:func:`configure`): psycopg answers
a ``ROLLBACK`` it runs with ``DEALLOCATE ALL``, which would drop these under the names kept here.

A transaction is begun with the first pipeline when none is open, as psycopg would (with the
connection's isolation level); the commit stays psycopg's."""

from __future__ import annotations

import re
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from psycopg import IsolationLevel, Pipeline, errors, pq
from psycopg.adapt import PyFormat, Transformer
from psycopg.generators import fetch_many, send

#: statements prepared per connection; past it a new one runs unnamed (parsed each time)
PREPARED_LIMIT = 256

_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")
_IDLE = pq.TransactionStatus.IDLE
_FATAL = pq.ExecStatus.FATAL_ERROR
_SYNC = pq.ExecStatus.PIPELINE_SYNC
_COMMAND_OK = pq.ExecStatus.COMMAND_OK
_BAD = pq.ConnStatus.BAD


def supported() -> bool:
    """Whether psycopg's libpq has pipeline mode (libpq 14 or later): a psycopg connection (one
    with a ``pgconn``) then takes its statements in pipelines."""
    return bool(Pipeline.is_supported())


def configure(dbapi_connection: Any) -> None:
    """A new PostgreSQL connection: psycopg prepares nothing itself (see the module's docstring)."""
    if hasattr(dbapi_connection, "prepare_threshold"):  # psycopg 3
        dbapi_connection.prepare_threshold = None


@dataclass(frozen=True, slots=True)
class PgSql:
    """A statement as libpq takes it: the SQL with ``$n`` placeholders (``query``), for each
    number the name of the value it binds (``values``) and the driver's key for it (``keys``),
    the SQL as psycopg takes it (``text``: an error names the statement by it, as psycopg's
    would), and whether it is prepared (a plan statement) or sent unnamed (a savepoint)."""

    query: bytes
    values: tuple[str, ...]
    keys: tuple[str, ...]
    text: str
    prepare: bool = True


@lru_cache(maxsize=2048)
def pg_sql(sql: str, keys: tuple[str, ...], names: tuple[str, ...]) -> PgSql:
    """``sql`` with psycopg's ``%(key)s`` placeholders as ``$n`` (a key repeated keeps its number,
    as psycopg numbers them); ``keys`` and ``names``: each key's value name (``DriverSql``'s)."""
    numbers: dict[str, int] = {}

    def number(match: re.Match[str]) -> str:
        key = match.group(1)
        if key is None:  # %% is a literal %
            return "%"
        return f"${numbers.setdefault(key, len(numbers) + 1)}"

    query = _PLACEHOLDER.sub(number, sql).encode()
    name_of = dict(zip(keys, names, strict=True))
    return PgSql(query, tuple(name_of[key] for key in numbers), tuple(numbers), sql)


@lru_cache(maxsize=256)
def unnamed(sql: str) -> PgSql:
    """A statement without values that is not worth preparing (a savepoint, the commit)."""
    return PgSql(sql.encode(), (), (), sql, prepare=False)


#: a command of a pipeline: the statement and its values in the order of its placeholders
Command = tuple[PgSql, "list[Any] | None"]


class Failed(Exception):
    """The command at ``index`` of a pipeline failed with ``error``, psycopg's (those before it
    ran, their outcomes ``ran``; those after it did not); ``index`` None: no command's result
    tells (a lost connection)."""

    def __init__(self, index: int | None, error: Exception, ran: list[Outcome] | None = None) -> None:
        super().__init__(index, error)
        self.index = index
        self.error = error
        self.ran = ran or []

    def statement(self, commands: Sequence[Command]) -> tuple[str, Any]:
        """The SQL and the bound parameters an error names: the failed command's, or all of them
        (without parameters) when no command tells."""
        if self.index is None and len(commands) != 1:
            return "; ".join(sql.text for sql, _ in commands), None
        sql, values = commands[self.index or 0]
        return sql.text, None if values is None else dict(zip(sql.keys, values, strict=True))


class Outcome:
    """One statement's result, read as a DB-API cursor would be (the few methods :class:`Tx`
    calls): its rows, converted by psycopg's loaders, and the rows it changed."""

    __slots__ = ("_rows", "rowcount", "status")

    def __init__(self, rows: list[tuple[Any, ...]], rowcount: int, status: bytes | None) -> None:
        self._rows = rows
        self.rowcount = rowcount
        self.status = status  # the command's tag, as COMMIT or ROLLBACK

    lastrowid = None

    def fetchall(self) -> list[tuple[Any, ...]]:
        rows, self._rows = self._rows, []
        return rows

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows.pop(0) if self._rows else None

    def close(self) -> None:
        self._rows = []


class Prepared:
    """The statements prepared on one connection: (query, parameter types) to name. Past
    :data:`PREPARED_LIMIT` a statement runs unnamed (parsed each time) rather than evicting one."""

    __slots__ = ("names", "next")

    def __init__(self) -> None:
        self.names: dict[tuple[bytes, tuple[int, ...]], bytes] = {}
        self.next = 0  # names are never reused on a connection


def prepared(info: dict[str, Any]) -> Prepared:
    """The prepared statements of the connection whose pool ``info`` this is (SQLAlchemy drops
    it with the connection)."""
    found = info.get("pg_prepared")
    if found is None:
        found = info["pg_prepared"] = Prepared()
    return found


def run(
    dbapi_connection: Any,
    known: Prepared,
    commands: Sequence[Command],
    sent: Callable[[], None] | None = None,
) -> list[Outcome]:
    """Run ``commands`` in one pipeline, in order; one :class:`Outcome` each. The first that
    fails raises :class:`Failed` with its error as psycopg raises it (those after it did not
    run); a lost connection raises psycopg's ``OperationalError``. ``sent``: called once they
    are all sent, before their answers are read."""
    pgconn = dbapi_connection.pgconn
    adapt = Transformer.from_context(dbapi_connection)
    sends: list[tuple[Callable[..., None], tuple[Any, ...]]] = []
    if pgconn.transaction_status == _IDLE and not dbapi_connection.autocommit:
        sends.append((pgconn.send_query_params, (_begin(dbapi_connection), None)))
    fresh: list[tuple[tuple[bytes, tuple[int, ...]], bytes, int]] = []  # (key, name, its result)
    firsts: list[int] = []  # each statement's result
    names = known.names
    starts: list[int] = []  # each command's first result (its prepare, or itself)
    for sql, values in commands:
        starts.append(len(sends))
        query = sql.query
        if not sql.prepare:
            firsts.append(len(sends))
            sends.append((pgconn.send_query_params, (query, None)))
            continue
        if values:
            dumped = adapt.dump_sequence(values, [PyFormat.AUTO] * len(values))
            types, formats = tuple(adapt.types or ()), adapt.formats
        else:
            dumped, types, formats = None, (), None
        key = (query, types)
        name = names.get(key)
        if name is None and len(names) + len(fresh) < PREPARED_LIMIT:
            name = b"_mapper_%d" % known.next
            known.next += 1
            fresh.append((key, name, len(sends)))
            sends.append((pgconn.send_prepare, (name, query, types or None)))
        firsts.append(len(sends))
        if name is None:
            sends.append((pgconn.send_query_params, (query, dumped, types or None, formats)))
        else:
            sends.append((pgconn.send_query_prepared, (name, dumped, formats)))
    results = _exchange(dbapi_connection, sends, sent)
    for key, name, index in fresh:  # prepared only where the server said so
        if results[index][0].status == _COMMAND_OK:
            names[key] = name
    for at, result in enumerate(results):
        if result[0].status == _FATAL:
            error = errors.error_from_result(result[0], encoding=dbapi_connection.info.encoding)
            command = next((i for i in reversed(range(len(starts))) if starts[i] <= at), None)
            ran = _outcomes(adapt, results, firsts[: 0 if command is None else command])
            raise Failed(command, error, ran)
    return _outcomes(adapt, results, firsts)


def _outcomes(adapt: Any, results: list[list[Any]], firsts: Sequence[int]) -> list[Outcome]:
    """The outcome of each command whose statement's result is at ``firsts``."""
    outcomes = []
    for index in firsts:
        result = results[index][0]
        adapt.set_pgresult(result)
        count = result.command_tuples
        rows = adapt.load_rows(0, result.ntuples, tuple) if result.ntuples else []
        outcomes.append(Outcome(rows, -1 if count is None else count, result.command_status))
    return outcomes


def _exchange(
    dbapi_connection: Any,
    sends: list[tuple[Callable[..., None], tuple[Any, ...]]],
    sent: Callable[[], None] | None = None,
) -> list[list[Any]]:
    """Queue every command of ``sends`` in pipeline mode, then the sync; flush once (then
    ``sent``) and read each command's results. A connection that cannot leave pipeline mode is
    closed (the pool then discards it)."""
    pgconn = dbapi_connection.pgconn
    pgconn.enter_pipeline_mode()
    done = False
    try:
        for fn, args in sends:
            fn(*args)
        pgconn.pipeline_sync()
        results = dbapi_connection.wait(_communicate(pgconn, len(sends), sent))
        done = True
    finally:
        if pgconn.status != _BAD:
            try:
                pgconn.exit_pipeline_mode()
            except errors.OperationalError:
                dbapi_connection.close()
                if done:
                    raise
    return results


def _communicate(
    pgconn: Any, count: int, sent: Callable[[], None] | None = None
) -> Generator[Any, Any, list[list[Any]]]:
    """Flush what was queued (then ``sent``), then read the results of ``count`` commands and
    the sync."""
    yield from send(pgconn)
    if sent is not None:
        sent()
    results = []
    for _ in range(count):
        results.append((yield from fetch_many(pgconn)))
    sync = yield from fetch_many(pgconn)
    if not sync or sync[0].status != _SYNC:
        raise errors.OperationalError("the pipeline's results ended before its sync")
    return results


def _begin(dbapi_connection: Any) -> bytes:
    """The ``BEGIN`` psycopg would send on this connection."""
    parts = [b"BEGIN"]
    if dbapi_connection.isolation_level is not None:
        level = IsolationLevel(dbapi_connection.isolation_level)
        parts.append(b"ISOLATION LEVEL " + level.name.replace("_", " ").encode())
    if dbapi_connection.read_only is not None:
        parts.append(b"READ ONLY" if dbapi_connection.read_only else b"READ WRITE")
    if dbapi_connection.deferrable is not None:
        parts.append(b"DEFERRABLE" if dbapi_connection.deferrable else b"NOT DEFERRABLE")
    return b" ".join(parts)
