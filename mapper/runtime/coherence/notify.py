"""PostgreSQL: LISTEN/NOTIFY on channel ``mapper_changes``.

Publishing: the changes of a write transaction become one ``pg_notify`` (more when they pass the
payload limit) run just before its commit, so the notification is delivered if and only if the
transaction commits, and in commit order. The payload is compact JSON::

    {"o": "host:pid:random", "c": [["User", 17, "u"], ["Group", "b1e...", "d"]]}

``u`` an object was created or changed, ``d`` deleted, ``r`` re-read the whole type (a change
whose anchor would not fit the 8000-byte limit alone).

Listening: a connection of its own (psycopg's async connection, not the pool's), in autocommit,
LISTENing, on a task of the event loop. Every few seconds without notifications it checks the
connection with ``SELECT 1`` under a bound. When the connection is lost (the server restarted,
``pg_terminate_backend``, a partition) it reconnects with back-off, LISTENs again, and then
imports the source's object types in full, because notifications sent meanwhile are lost.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any

from mapper.plan import Statement
from mapper.runtime.coherence import NAME, RESYNC, Applier, catch_up
from mapper.runtime.errors import DatabaseUnavailableError

if TYPE_CHECKING:
    from mapper.runtime.database import Database, Tx

log = logging.getLogger(__name__)

#: PostgreSQL refuses payloads of 8000 bytes or more; leave room for the envelope.
PAYLOAD_LIMIT = 7900
_OPS = {"upsert": "u", "delete": "d", RESYNC: "r"}
_FROM_OPS = {code: op for op, code in _OPS.items()}
_NOTIFY = Statement(sql=f"SELECT pg_notify('{NAME}', :payload)", params=("payload",))


def payloads(origin: str, changes: list[tuple[str, Any, str]]) -> list[str]:
    """The notification payloads for ``changes``: as few as fit under the limit, in order."""
    head, tail = '{"o":' + json.dumps(origin) + ',"c":[', "]}"
    room = PAYLOAD_LIMIT - len(head) - len(tail)  # json.dumps writes ASCII only
    out: list[str] = []
    batch: list[str] = []
    used = 0
    for object_type, key, op in changes:
        item = json.dumps([object_type, key, _OPS.get(op, "u")], separators=(",", ":"))
        if len(item) > room:  # an anchor too long for a notification: re-read the whole type
            item = json.dumps([object_type, None, "r"], separators=(",", ":"))
        if batch and used + 1 + len(item) > room:
            out.append(head + ",".join(batch) + tail)
            batch, used = [], 0
        used += len(item) + (1 if batch else 0)
        batch.append(item)
    if batch:
        out.append(head + ",".join(batch) + tail)
    return out


def parse(payload: str) -> tuple[str, list[tuple[str, Any, str]]] | None:
    """(origin, changes) of a payload; None when it is not one of ours."""
    try:
        message = json.loads(payload)
        origin = message["o"]
        changes = [(str(t), key, _FROM_OPS.get(op, "upsert")) for t, key, op in message["c"]]
    except (ValueError, KeyError, TypeError):
        return None
    return (origin, changes) if isinstance(origin, str) else None


class NotifyChannel:
    kind = "notify"

    def __init__(
        self,
        database: Database,
        applier: Applier,
        origin: str,
        *,
        heartbeat: float = 5.0,
        max_backoff: float = 30.0,
    ) -> None:
        self.database = database
        self.applier = applier
        self.origin = origin
        self.heartbeat = heartbeat
        self.max_backoff = max_backoff
        self.listening = False
        self.received = 0  # notifications of other processes
        self.reconnects = 0
        self._task: asyncio.Task[None] | None = None
        self._first = asyncio.Event()  # the first attempt to listen is over (either way)
        database.publish = self.publish

    # -- publishing (a worker thread, inside the write transaction) ---------------------------

    def publish(self, tx: Tx, changes: list[tuple[str, Any, str]]) -> None:
        for payload in payloads(self.origin, changes):
            tx.send(_NOTIFY, {"payload": payload})  # held: it goes with the commit where it can

    # -- listening (the event loop) ---------------------------------------------------------

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="mapper-listen")
        # bounded: a database that does not answer must not hold the start (the import will
        # fail and be retried; the listener keeps trying and catches up once it listens)
        try:
            await asyncio.wait_for(self._first.wait(), self.database.timeouts.connect + 1)
        except TimeoutError:
            log.warning("database %s: not listening for other processes' changes yet", self.database.name)

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
            "listening": self.listening,
            "received": self.received,
            "reconnects": self.reconnects,
        }

    def _conninfo(self) -> str:
        url = self.database.url.set(drivername="postgresql")
        return url.render_as_string(hide_password=False)

    async def _connect(self) -> Any:
        import psycopg

        timeouts = self.database.timeouts
        idle = max(1, int(timeouts.keepalive))
        return await psycopg.AsyncConnection.connect(
            self._conninfo(),
            autocommit=True,
            connect_timeout=max(1, round(timeouts.connect)),
            keepalives=1,
            keepalives_idle=idle,
            keepalives_interval=max(1, idle // 3),
            keepalives_count=3,
            application_name="mapper-listen",
        )

    async def _run(self) -> None:
        import psycopg

        backoff = 0.5
        connected_before = False
        while True:
            connection = None
            try:
                connection = await asyncio.wait_for(self._connect(), self.database.timeouts.connect + 1)
                await connection.execute(f"LISTEN {NAME}")
                self.listening = True
                self._first.set()
                backoff = 0.5
                if connected_before:
                    self.reconnects += 1
                    await catch_up(self.applier.stores.values(), "the LISTEN connection was lost")
                connected_before = True
                await self._listen(connection)
            except asyncio.CancelledError:
                raise
            except (psycopg.Error, OSError, TimeoutError) as error:
                if self.listening or not connected_before:
                    log.warning(
                        "database %s: LISTEN connection lost or refused (%s); reconnecting",
                        self.database.name,
                        type(error).__name__,
                    )
            except DatabaseUnavailableError as error:  # the catch-up's import met an outage: expected
                log.warning(
                    "database %s: catching up after a lost LISTEN connection failed (%s); reconnecting",
                    self.database.name,
                    error.reason or "unavailable",
                )
            except Exception:  # noqa: BLE001 - the listener must outlive any one failure
                log.warning("database %s: listener failed; reconnecting", self.database.name, exc_info=True)
            finally:
                self.listening = False
                self._first.set()
                if connection is not None:
                    await _close(connection)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.max_backoff)

    async def _listen(self, connection: Any) -> None:
        bound = max(1.0, self.database.timeouts.connect)
        while True:
            async for notify in connection.notifies(timeout=self.heartbeat):
                self._received(notify.payload)
            # a quiet spell: is the connection still there? (a partition shows only this way)
            await asyncio.wait_for(connection.execute("SELECT 1"), bound)

    def _received(self, payload: str) -> None:
        parsed = parse(payload)
        if parsed is None:
            log.debug("ignored a notification on %s that is not a mapper change", NAME)
            return
        origin, changes = parsed
        if origin == self.origin:
            return
        self.received += 1
        self.applier.offer(changes, origin)


async def _close(connection: Any) -> None:
    try:
        await asyncio.wait_for(connection.close(), 2)
    except Exception:  # noqa: BLE001 - a dead connection may not close cleanly
        log.debug("closing the LISTEN connection failed", exc_info=True)
