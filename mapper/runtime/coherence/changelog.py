"""A change-log table, polled: coherence where there is no LISTEN/NOTIFY (SQLite, MariaDB/MySQL,
or PostgreSQL behind a transaction-pooling proxy).

Each write transaction inserts one row per object it wrote into ``mapper_changes``, in the same
transaction, just before its commit. Every process reads the rows after its position every
``interval`` seconds (a range read on the primary key), applies those of other origins, and
deletes rows older than ``retention`` seconds now and then. The gateway creates the table when it
is missing (``CREATE TABLE IF NOT EXISTS``; see :data:`DDL`); when it cannot, it logs why and
runs without (other processes then see its writes only through their syncs).

Sequence numbers are handed out at insert time but become visible at commit, so on MariaDB and
PostgreSQL a reader can see 12 before 11 commits. The reader therefore keeps a *floor* (every
number at or below it is settled) and the numbers above it it has already applied; a number
missing above the floor is waited for until its transaction could no longer be running (the
write bound plus a margin), then given up (its transaction rolled back). SQLite commits in
sequence order (one writer at a time), so it never waits.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
from functools import partial
from typing import TYPE_CHECKING, Any

from mapper.plan import Statement
from mapper.runtime.coherence import NAME, RESYNC, Applier, catch_up
from mapper.runtime.driver_errors import describe_error
from mapper.runtime.errors import DatabaseUnavailableError

if TYPE_CHECKING:
    from mapper.runtime.database import Database, Tx

log = logging.getLogger(__name__)

#: The table, per dialect. ``anchor`` holds the anchor key as JSON (``17`` or ``"b1e..."``);
#: ``origin`` the writing process; ``at`` the database's clock (for pruning only).
DDL = {
    "sqlite": f"""CREATE TABLE IF NOT EXISTS {NAME} (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    object_type VARCHAR(128) NOT NULL,
    anchor VARCHAR(1024),
    op VARCHAR(16) NOT NULL,
    origin VARCHAR(80) NOT NULL,
    at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
)""",
    "mysql": f"""CREATE TABLE IF NOT EXISTS {NAME} (
    seq BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    object_type VARCHAR(128) NOT NULL,
    anchor VARCHAR(1024),
    op VARCHAR(16) NOT NULL,
    origin VARCHAR(80) NOT NULL,
    at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    KEY {NAME}_at (at)
)""",
    "postgresql": f"""CREATE TABLE IF NOT EXISTS {NAME} (
    seq BIGSERIAL PRIMARY KEY,
    object_type VARCHAR(128) NOT NULL,
    anchor VARCHAR(1024),
    op VARCHAR(16) NOT NULL,
    origin VARCHAR(80) NOT NULL,
    at TIMESTAMPTZ NOT NULL DEFAULT now()
)""",
}
#: the oldest moment kept, per dialect (``:age`` bound: "-600 seconds" on SQLite, 600 elsewhere)
_CUTOFF = {
    "sqlite": "datetime('now', :age)",
    "mysql": "NOW(6) - INTERVAL :age SECOND",
    "postgresql": "now() - make_interval(secs => :age)",
}
#: change-log rows one INSERT carries at most; a transaction with more sends several
ROWS_PER_INSERT = 64
_COLUMNS = ("object_type", "anchor", "op", "origin")


@functools.lru_cache(maxsize=ROWS_PER_INSERT)
def _insert(rows: int) -> Statement:
    """``INSERT INTO mapper_changes`` of ``rows`` rows (one ``VALUES`` list, which SQLite,
    MariaDB/MySQL and PostgreSQL all take), row ``i``'s values bound as ``:object_type_i``,
    ``:anchor_i``, ``:op_i`` and ``:origin_i``."""
    params = tuple(f"{column}_{i}" for i in range(rows) for column in _COLUMNS)
    values = ", ".join("(" + ", ".join(f":{column}_{i}" for column in _COLUMNS) + ")" for i in range(rows))
    return Statement(sql=f"INSERT INTO {NAME} ({', '.join(_COLUMNS)}) VALUES {values}", params=params)


_TOP = Statement(sql=f"SELECT MAX(seq) FROM {NAME}")
#: rows read per round trip of a poll
PAGE = 2000
_READ = Statement(
    sql=f"SELECT seq, object_type, anchor, op, origin FROM {NAME} "
    f"WHERE seq > :since ORDER BY seq LIMIT {PAGE}",
    params=("since",),
)
#: the most open gaps followed; beyond that the oldest are given up
MAX_GAPS = 10_000


def _read(tx: Tx, since: int) -> list[tuple[Any, ...]]:
    return tx.rows(_READ, {"since": since})


def ddl_for(dialect: str) -> str:
    return DDL["mysql" if dialect in ("mysql", "mariadb") else dialect]


class ChangeLogChannel:
    kind = "changelog"

    def __init__(
        self,
        database: Database,
        applier: Applier,
        origin: str,
        *,
        interval: float = 0.5,
        retention: float = 600.0,
        prune_every: float = 30.0,
    ) -> None:
        self.database = database
        self.applier = applier
        self.origin = origin
        self.interval = interval
        self.retention = retention
        self.prune_every = prune_every
        family = "mysql" if database.dialect in ("mysql", "mariadb") else database.dialect
        cutoff = _CUTOFF[family]
        #: the first row (in sequence order) young enough to keep: the rows before it go
        self._kept_from = Statement(
            sql=f"SELECT seq FROM {NAME} WHERE at >= {cutoff} ORDER BY seq LIMIT 1", params=("age",)
        )
        # the cutoff again: a write that took a lower number and commits between the two
        # statements (READ COMMITTED: the DELETE sees it) is young and stays
        self._prune_before = Statement(
            sql=f"DELETE FROM {NAME} WHERE seq < :seq AND at < {cutoff}", params=("seq", "age")
        )
        self._prune_all = Statement(sql=f"DELETE FROM {NAME} WHERE at < {cutoff}", params=("age",))
        self._prune_age: Any = f"-{int(retention)} seconds" if family == "sqlite" else int(retention)
        # a transaction that took a sequence number is over after the write bound at the latest
        self.gap_wait = database.timeouts.statement + 5.0
        self.floor: int | None = None  # every sequence number up to here is settled
        self._seen: set[int] = set()  # applied numbers above the floor
        self._gaps: dict[int, float] = {}  # missing numbers above the floor: when first missed
        self.ready = False  # the table exists and this process publishes into it
        self.received = 0
        self.polls = 0
        self.last_poll: float | None = None  # time.monotonic() of the last successful poll
        self._task: asyncio.Task[None] | None = None

    # -- publishing (a worker thread, inside the write transaction) ---------------------------

    def publish(self, tx: Tx, changes: list[tuple[str, Any, str]]) -> None:
        """One row per change, in order, sent as one multi-row INSERT (of up to
        :data:`ROWS_PER_INSERT` rows): a statement per change cost a group-commit batch a
        statement's work per write, and MariaDB a round trip each."""
        for start in range(0, len(changes), ROWS_PER_INSERT):
            chunk = changes[start : start + ROWS_PER_INSERT]
            params: dict[str, Any] = {}
            for i, (object_type, key, op) in enumerate(chunk):
                text = str(key) if type(key) is int else json.dumps(key)  # an int's JSON is its str
                anchor = text if len(text) <= 1024 else None  # too long: the type is read again
                params[f"object_type_{i}"] = object_type
                params[f"anchor_{i}"] = anchor
                params[f"op_{i}"] = op if anchor is not None else RESYNC
                params[f"origin_{i}"] = self.origin
            try:
                tx.run(_insert(len(chunk)), params)
            except Exception as error:  # the writes cannot be told to the others: they fail (503)
                why = describe_error(error)  # one line: not the statement and its parameters
                log.error("database %s: cannot record a change in %s: %s", self.database.name, NAME, why)
                raise DatabaseUnavailableError(self.database.name) from error

    # -- polling (the event loop) -----------------------------------------------------------

    async def start(self) -> None:
        """Create the table when missing and take the current position, before the first
        import; then poll on a task."""
        try:
            await self._prepare()
        except Exception as error:  # noqa: BLE001 - started without; retried by the poll loop
            log.warning(
                "database %s: change log %s not ready (%s); retrying",
                self.database.name,
                NAME,
                type(error).__name__,
            )
        self._task = asyncio.get_running_loop().create_task(self._run(), name="mapper-changelog")

    async def _prepare(self) -> None:
        ddl = ddl_for(self.database.dialect)

        def prepare(tx: Tx) -> int:
            tx.connection.exec_driver_sql(ddl)
            row = tx.first(_TOP)
            return int(row[0]) if row and row[0] is not None else 0

        self.floor = await self.database.run(prepare)
        self._seen.clear()
        self._gaps.clear()
        self.last_poll = time.monotonic()
        if not self.ready:
            self.database.publish = self.publish
            self.ready = True

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    def health(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "ready": self.ready,
            "position": self.floor,
            "received": self.received,
            "openGaps": len(self._gaps),
        }

    async def _run(self) -> None:
        last_prune = time.monotonic()
        failing = False
        while True:
            await asyncio.sleep(self.interval)
            try:
                if not self.ready:
                    await self._prepare()
                    await catch_up(self.applier.stores.values(), f"the change log {NAME} is ready now")
                    continue
                assert self.last_poll is not None
                if time.monotonic() - self.last_poll > self.retention / 2:  # rows may be pruned
                    await self._prepare()
                    await catch_up(self.applier.stores.values(), "the change log was not read for long")
                    continue
                await self.poll()
                if failing:
                    log.warning("database %s: reading the change log again", self.database.name)
                    failing = False
                if time.monotonic() - last_prune >= self.prune_every:
                    last_prune = time.monotonic()
                    await self.prune()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - the next round tries again
                if not isinstance(error, DatabaseUnavailableError):
                    # the database answers but refuses the read (the table was dropped): create
                    # it again next round, then import (changes may be lost with the table)
                    self.ready = False
                if not failing:
                    log.warning(
                        "database %s: cannot read the change log (%s); retrying",
                        self.database.name,
                        type(error).__name__,
                    )
                    failing = True

    async def prune(self) -> None:
        """Delete the rows older than the retention, as a range of the primary key: the rows
        before the first one young enough to keep, found by reading in sequence order from the
        oldest, so that a prune reads about as many rows as it deletes. (``DELETE ... WHERE at <
        cutoff`` read the whole table, which holds the retention's worth of writes, up to a
        million rows at 2,000 writes a second, and SQLite holds its write lock meanwhile; ``at``
        has no index outside MariaDB.) Every row deleted is older than the retention, one
        committed between the two statements included; a row stamped early but numbered late
        (PostgreSQL's ``now()`` is its transaction's start) waits until the rows before it age
        too. With no row young enough, all of them go."""
        await self.database.run(self._prune_old, write=True)

    def _prune_old(self, tx: Tx) -> None:
        age = {"age": self._prune_age}
        kept = tx.first(self._kept_from, age)
        if kept is None:
            tx.run(self._prune_all, age)
        else:
            tx.run(self._prune_before, {"seq": kept[0], **age})

    async def poll(self) -> None:
        """Read and apply every row after the floor."""
        assert self.floor is not None
        since = self.floor
        while True:
            rows = await self.database.run(partial(_read, since=since))
            self.last_poll = time.monotonic()
            self.polls += 1
            for origin, changes in self._take(rows).items():
                self.applier.offer(changes, origin)
            if len(rows) < PAGE:
                return
            since = int(rows[-1][0])

    def _take(self, rows: list[tuple[Any, ...]]) -> dict[str, list[tuple[str, Any, str]]]:
        """The changes of other origins among ``rows`` not seen before, by origin; moves the
        floor."""
        assert self.floor is not None
        floor = self.floor
        changes: dict[str, list[tuple[str, Any, str]]] = {}
        now = time.monotonic()
        top = floor
        for seq, object_type, anchor, op, origin in rows:
            seq = int(seq)
            top = max(top, seq)
            if seq in self._seen:
                continue
            self._seen.add(seq)
            self._gaps.pop(seq, None)
            if origin == self.origin:
                continue
            self.received += 1
            try:
                key = json.loads(anchor) if anchor is not None else None
            except ValueError:
                key = None
            change = (str(object_type), key, RESYNC if key is None else str(op))
            changes.setdefault(str(origin), []).append(change)
        seen, gaps = self._seen, self._gaps
        for seq in range(max(floor + 1, top - MAX_GAPS), top):  # numbers skipped: maybe not committed yet
            if seq not in seen and seq not in gaps:
                gaps[seq] = now
        while True:  # settle the floor: applied numbers, and gaps waited out
            nxt = floor + 1
            if nxt in seen:
                seen.discard(nxt)
            elif nxt in gaps and now - gaps[nxt] > self.gap_wait:
                del gaps[nxt]
            elif nxt <= top - MAX_GAPS:
                pass  # too far behind to follow
            else:
                break
            floor = nxt
        self.floor = floor
        return changes
