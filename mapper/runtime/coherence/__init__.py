"""Coherence across gateway processes and hosts that serve one database.

Each gateway process keeps its own cache. Every write transaction notes the objects it wrote
(:meth:`mapper.runtime.database.Tx.changed`), and just before its commit the source's *channel*
publishes them in the same transaction (:attr:`mapper.runtime.database.Database.publish`), with
this process's origin, so the other processes learn of exactly the writes that committed:

- :class:`~mapper.runtime.coherence.notify.NotifyChannel` (PostgreSQL): ``pg_notify`` on channel
  ``mapper_changes``; every process LISTENs on a connection of its own outside the pool.
- :class:`~mapper.runtime.coherence.changelog.ChangeLogChannel` (SQLite, MariaDB/MySQL, or
  PostgreSQL behind a transaction pooler): rows in a small ``mapper_changes`` table that every
  process polls.

Every process applies the changes of the *other* origins with :class:`Applier`: it reads each
object again by anchor (coalesced, in one transaction per batch) and puts it in its cache, or
forgets it when it is gone. When a channel may have missed changes (the LISTEN connection was
lost, or the change log was pruned past this process's position), the process catches up with
a full import of that source's object types. Writes made by other applications directly in the
database are not published; the delta and full syncs find them as before.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

from mapper.errors import MapperError
from mapper.runtime.errors import DatabaseUnavailableError
from mapper.runtime.keys import Key

if TYPE_CHECKING:
    from mapper.runtime.database import Database
    from mapper.runtime.store import ObjectStore

log = logging.getLogger(__name__)

#: ``--coherence``: ``auto`` picks ``notify`` on PostgreSQL and ``changelog`` on SQLite and
#: MariaDB/MySQL (nothing on other databases); ``off`` leaves other processes to the syncs.
MODES = ("auto", "notify", "changelog", "off")
#: The PostgreSQL channel and the change-log table (one name for both).
NAME = "mapper_changes"
#: A change that names no single object: read the whole object type again.
RESYNC = "resync"
#: The origin of the changes ``mapper coherence-ddl``'s triggers announce (another application's
#: writes); every gateway's is :func:`new_origin`'s.
TRIGGER_ORIGIN = "trigger"
#: How many objects one re-read transaction reads at most.
REREAD_CHUNK = 200


class CoherenceError(MapperError):
    """A coherence mode the database cannot provide (``notify`` on a database other than
    PostgreSQL)."""


def new_origin() -> str:
    """This gateway's name in the changes it publishes: host, process id and a random part (two
    gateways in one process, or a pid reused on another host, never share one)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


def mode_for(requested: str, dialect: str) -> str:
    """The channel kind a source gets: ``notify``, ``changelog`` or ``off``."""
    if requested not in MODES:
        raise CoherenceError(f"unknown coherence mode {requested!r} (one of {', '.join(MODES)})")
    if requested == "auto":
        if dialect == "postgresql":
            return "notify"
        return "changelog" if dialect in ("sqlite", "mysql", "mariadb") else "off"
    if requested == "notify" and dialect != "postgresql":
        raise CoherenceError(f"--coherence notify needs PostgreSQL, not {dialect}; use changelog")
    if requested == "changelog" and dialect not in ("sqlite", "mysql", "mariadb", "postgresql"):
        raise CoherenceError(f"--coherence changelog does not support {dialect}")
    return requested


def check_mode(requested: str, dialects: Iterable[str]) -> str | None:
    """Why ``requested`` cannot serve sources of these plan dialects (``postgres``, ``sqlite``,
    ``mysql``...), or None: for ``mapper serve`` to refuse at once (exit 2)."""
    backends = {"postgres": "postgresql"}
    for dialect in dialects:
        try:
            mode_for(requested, backends.get(dialect, dialect))
        except CoherenceError as error:
            return f"mapper serve: {error}"
    return None


class Applier:
    """Applies other processes' changes to one source's stores, coalesced: changes that arrive
    while a batch is being read wait for the next batch, and each object is read once per
    batch however often it changed. Runs as a task on the event loop."""

    def __init__(self, stores: Iterable[ObjectStore]) -> None:
        self.stores = {store.name: store for store in stores}
        # per type, keys in arrival order, each with whether, found gone, the objects naming it
        # must be searched for (see offer)
        self._pending: dict[str, dict[Key, bool]] = {}
        self._resync: set[str] = set()
        self._wake = asyncio.Event()
        self.applied = 0  # objects read again since start
        self.resyncs = 0  # object types imported again after a change that named no object

    def offer(self, changes: Iterable[tuple[str, Any, str]], origin: str) -> None:
        """Queue changes (object type, key, op) of another process, published by ``origin``.

        An object read again and found gone had its row deleted, and the database's ``ON DELETE
        SET NULL`` (or ``CASCADE``) may have changed the objects naming it (a report's manager)
        without a word. A gateway's delete announces those objects itself, in the same
        transaction (its look-up by reference), so they come in the same batch; a trigger's does
        not (a cascade fires no trigger on MariaDB), and only then is each referring type's cache
        searched for them (:meth:`~mapper.runtime.store.ObjectStore.reread_naming`: a pass over
        the cache, about half a second of CPU per million objects, which a burst of deletes
        through one gateway made every other process pay once per batch)."""
        search = origin == TRIGGER_ORIGIN
        for object_type, anchor, op in changes:
            store = self.stores.get(object_type)
            if store is None:
                continue  # an object type of another mapping on the same database
            key = store.key_of(anchor) if op != RESYNC else None
            if key is None:
                self._resync.add(object_type)
            else:
                pending = self._pending.setdefault(object_type, {})
                pending[key] = pending.get(key, False) or search
        self._wake.set()

    @property
    def backlog(self) -> int:
        return sum(len(keys) for keys in self._pending.values()) + len(self._resync)

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self._drain()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - kept queued; tried again shortly
                log.warning("could not apply other processes' changes yet: %s", type(error).__name__)
                await asyncio.sleep(1.0)
                self._wake.set()

    async def _drain(self) -> None:
        for name, store in self.stores.items():  # plan order: users before the groups naming them
            if name in self._resync:
                await store.sync_full()
                self._resync.discard(name)
                self._pending.pop(name, None)  # the import read them all
                self.resyncs += 1
            keys = self._pending.get(name)
            while keys:
                # taken off the queue before the read: a change that arrives while it runs may
                # have committed after it, and is queued again to be read once more
                chunk = {key: keys[key] for key in list(keys)[:REREAD_CHUNK]}
                for key in chunk:
                    del keys[key]
                try:
                    await store.reread(list(chunk), naming={key for key, search in chunk.items() if search})
                except DatabaseUnavailableError:
                    for key, search in chunk.items():  # read them once the database answers again
                        keys[key] = keys.get(key, False) or search
                    raise
                except Exception as error:  # noqa: BLE001 - an anchor the column cannot hold...
                    log.warning("%s: could not read changed objects again (%s)", name, type(error).__name__)
                    self._resync.add(name)  # ...never blocks the queue: import the type instead
                    self._wake.set()
                    return
                self.applied += len(chunk)
            self._pending.pop(name, None)


class Channel(Protocol):
    """How one source's processes tell each other of their writes."""

    kind: str

    def publish(self, tx: Any, changes: list[tuple[str, Any, str]]) -> None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def health(self) -> dict[str, Any]: ...


class Coherence:
    """The channels of a gateway, one per source that has one. ``mode`` is ``--coherence``;
    ``poll_interval`` is how often a change log is read (seconds)."""

    def __init__(
        self,
        databases: dict[str, Database],
        stores: Iterable[ObjectStore],
        *,
        mode: str = "auto",
        poll_interval: float = 0.5,
        retention: float = 600.0,
    ) -> None:
        from mapper.runtime.coherence.changelog import ChangeLogChannel
        from mapper.runtime.coherence.notify import NotifyChannel

        self.origin = new_origin()
        self.mode = mode
        self.channels: dict[str, Channel] = {}
        self.appliers: dict[str, Applier] = {}
        stores = list(stores)
        for name, database in databases.items():
            kind = mode_for(mode, database.dialect)
            own = [store for store in stores if store.database is database]
            if kind == "off" or not own:
                continue
            applier = Applier(own)
            self.appliers[name] = applier
            if kind == "notify":
                self.channels[name] = NotifyChannel(database, applier, self.origin)
            else:
                self.channels[name] = ChangeLogChannel(
                    database, applier, self.origin, interval=poll_interval, retention=retention
                )
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Start listening (before the first import, so no change between the import's snapshot
        and the first notification is missed) and applying."""
        loop = asyncio.get_running_loop()
        for name, applier in self.appliers.items():
            self._tasks.append(loop.create_task(applier.run(), name=f"mapper-coherence-{name}"))
        await asyncio.gather(*(channel.start() for channel in self.channels.values()))

    async def stop(self) -> None:
        for channel in self.channels.values():
            await channel.stop()
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            try:
                await task
            except asyncio.CancelledError:
                pass

    def health(self) -> dict[str, Any]:
        return {
            name: {
                **channel.health(),
                "applied": self.appliers[name].applied,
                "backlog": self.appliers[name].backlog,
            }
            for name, channel in self.channels.items()
        }


async def catch_up(stores: Iterable[ObjectStore], why: str) -> None:
    """A full import of each loaded store: this process may have missed other processes'
    changes (``why`` says how)."""
    log.warning("coherence: %s; importing again to catch up", why)
    for store in stores:
        if store.loaded:
            await store.sync_full()
