"""The :class:`Gateway`: everything a served plan needs at run time. One :class:`Database` per
source, one :class:`ObjectStore` per object type, the first full import, the reconnect probe and
the autosync task. A served app ``launch()``es it in its lifespan (the first import runs in the
background while the port answers, not ready); in-process users ``await gateway.start()``, which
returns once the first import has been tried. Both end with ``await gateway.stop()``.

The first import is retried with exponential back-off (``retry_first`` doubling up to
``retry_cap`` seconds; the reconnect probe cuts a wait short when a database answers again) while
the failure is an outage. A :class:`DatabaseConfigError` (the database refuses the source as
configured) or a :class:`SyncError` (the import query does not fit the schema) will not mend by
waiting: the gateway stops trying and reports it (``fatal``; ``on_fatal`` for ``mapper serve``,
which exits with a documented code)."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio

from mapper.errors import MapperError
from mapper.plan import Plan
from mapper.runtime.autosync import AutoSync
from mapper.runtime.cache import SyncStats
from mapper.runtime.coherence import Coherence
from mapper.runtime.database import Database, Timeouts, resolve_url
from mapper.runtime.errors import DatabaseConfigError, DatabaseUnavailableError, NotReadyError, SyncError
from mapper.runtime.store import ObjectStore
from mapper.runtime.store_base import Referrer

log = logging.getLogger(__name__)


def describe_error(error: BaseException) -> str:
    """A one-line description safe for health output: our own messages (which never hold values
    or secrets), else only the exception's type (driver messages may quote values or URLs)."""
    if isinstance(error, MapperError):
        return f"{type(error).__name__}: {error}"
    orig = getattr(error, "orig", None)
    return type(error).__name__ + (f" ({type(orig).__name__})" if orig is not None else "")


class Gateway:
    """Serves a plan. ``environ`` supplies the sources' URLs; intervals are in seconds."""

    def __init__(
        self,
        plan: Plan,
        *,
        environ: Mapping[str, str] = os.environ,
        delta_interval: float = 30.0,
        full_interval: float = 1800.0,
        autosync: bool = True,
        page_size: int = 10_000,
        progress_every: int = 100_000,
        watermark_margin: float = 5.0,
        pool_size: int = 8,
        timeouts: Timeouts | None = None,
        probe_interval: float = 2.0,
        coherence: str = "off",
        coherence_interval: float = 0.5,
        retry_first: float = 1.0,
        retry_cap: float = 30.0,
        name: str | None = None,
    ) -> None:
        self.plan = plan
        self.name = name  # the connector's, when one process serves several (for the log)
        self.databases: dict[str, Database] = {
            source.name: Database(
                source.name, resolve_url(source, environ), pool_size=pool_size, timeouts=timeouts
            )
            for source in plan.sources
        }
        self.stores: dict[str, ObjectStore] = {}
        for obj in plan.objects:
            self.stores[obj.name] = ObjectStore(
                obj,
                self.databases[obj.source],
                resolver=self.stores.get,
                page_size=page_size,
                progress_every=progress_every,
                margin=timedelta(seconds=watermark_margin),
            )
        for store in self.stores.values():  # who must forget an id when its object is deleted
            for index, multi in enumerate(store.obj.multi):
                target = self.stores.get(multi.reference or "")
                if target is not None:
                    target.referrers.append((store, index))
                    store.targets.append((index, target))
        for store in self.stores.values():  # who names an object in a single-valued reference
            for referring in store.obj.by_reference:
                target = self.stores.get(referring.reference)
                if target is not None and target.database is store.database:
                    attr = next(a for a in store.obj.attributes if a.path == referring.attribute)
                    column = store.obj.columns.index(attr.column)
                    target.referring.append(Referrer(store, referring.lookup, column))
        codecs = {name: store.codec for name, store in self.stores.items()}
        for store in self.stores.values():  # references to DN ids render as DNs
            store.codec.link(codecs)
        self.autosync = AutoSync(self, delta_interval=delta_interval, full_interval=full_interval)
        # other processes' writes (mapper.runtime.coherence); `mapper serve` defaults to "auto"
        self.coherence = Coherence(
            self.databases, self.stores.values(), mode=coherence, poll_interval=coherence_interval
        )
        self._autosync_enabled = autosync
        self.ready = False
        self.last_sync: datetime | None = None
        self.last_full_sync: datetime | None = None
        self.last_error: str | None = None
        self.last_error_at: datetime | None = None
        self._started_at = time.monotonic()
        self.probe_interval = probe_interval
        self.unreachable: set[str] = set()  # sources the reconnect probe could not reach
        self._probe_task: asyncio.Task[None] | None = None
        self.retry_first = retry_first
        self.retry_cap = retry_cap
        #: where the start is: starting, importing, waiting (for a database, after an outage),
        #: ready, failed (a permanent error: ``fatal``)
        self.phase = "starting"
        self.waiting: str | None = None  # why the first import waits, and for how long
        self.fatal: DatabaseConfigError | SyncError | None = None
        self._start_task: asyncio.Task[None] | None = None
        self._tried = asyncio.Event()  # the first import has been tried once
        self._wake = asyncio.Event()  # the probe saw a database return: retry now
        #: told of each object type's import as it ends: (type, kind, seconds, stats or None when it
        #: failed); kind is full, delta or delete_scan (a watermark delta that scans for deletes)
        self.observe_sync: Callable[[str, str, float, SyncStats | None], None] | None = None
        #: called on the event loop after each successful full import (``mapper serve`` freezes
        #: the collector's view of the cache there: :func:`mapper.scim.app.freeze_cache`)
        self.after_full_import: Callable[[], None] | None = None
        #: called on the event loop after each successful delta import of every type (``mapper
        #: serve`` freezes there what the writes since added: :func:`mapper.scim.app.freeze_written`)
        self.after_delta_import: Callable[[], None] | None = None

    def store_for_endpoint(self, endpoint: str) -> ObjectStore | None:
        wanted = "/" + endpoint.strip("/").lower()
        for store in self.stores.values():
            if store.endpoint.lower() == wanted:
                return store
        return None

    def launch(self, on_fatal: Callable[[Exception], None] | None = None) -> None:
        """Start the first import in the background, with the reconnect probe; autosync follows
        the first import's success. ``on_fatal`` is called with a permanent error (the gateway
        stops trying: see the module's docstring)."""
        loop = asyncio.get_running_loop()
        for name, database in self.databases.items():
            url = database.url.render_as_string(hide_password=True)
            log.info("%ssource %s: %s", self._prefix, name, url)
        self._start_task = loop.create_task(self._first_import(on_fatal), name="mapper-start")
        if self._autosync_enabled:
            self._probe_task = loop.create_task(self._probe(), name="mapper-probe")

    async def start(self) -> None:
        """:meth:`launch`, and return once the first import has been tried: ready, or not ready
        after an outage (retried in the background). A permanent error is raised."""
        self.launch()
        await self._tried.wait()
        if self.fatal is not None:
            raise self.fatal

    async def _first_import(self, on_fatal: Callable[[Exception], None] | None) -> None:
        delay = self.retry_first
        began = time.monotonic()
        # other processes' changes are listened for first, so none between the import and then is
        # lost (bounded: a database that does not answer does not hold this up for long)
        await self.coherence.start()
        while True:
            self.phase = "importing"
            try:
                await self.sync_full()
                break
            except (DatabaseConfigError, SyncError) as error:
                self.phase, self.fatal, self.waiting = "failed", error, None
                log.error("%scannot start: %s", self._prefix, error)
                # nothing will mend it: no more probes nor listening (the others' connectors, in a
                # process that serves several, go on)
                if self._probe_task is not None:
                    self._probe_task.cancel()
                await self.coherence.stop()
                self._tried.set()
                if on_fatal is not None:
                    on_fatal(error)
                return
            except DatabaseUnavailableError as error:
                if self._probe_task is not None:  # the probe announces its return
                    self.unreachable.add(error.source)
                why = f"database {error.source}: {error.reason or 'unavailable'}"
                self.phase, self.waiting = "waiting", f"{why}; retrying within {delay:g} s"
                log.warning("%sfirst import failed (%s); retrying within %g s", self._prefix, why, delay)
            except Exception:  # noqa: BLE001 - a bug must not leave the gateway silently unready
                self.phase, self.waiting = "waiting", f"unexpected error; retrying within {delay:g} s"
                log.exception("first import failed; retrying within %g s", delay)
            self._tried.set()
            if not self._autosync_enabled:
                return  # syncs are the caller's (tests): no retry in the background
            self._wake.clear()
            with anyio.move_on_after(delay):
                await self._wake.wait()
            delay = min(delay * 2, self.retry_cap)
        self.phase, self.waiting = "ready", None
        self._tried.set()
        counts = ", ".join(f"{name} {store.count()}" for name, store in self.stores.items())
        log.info("%sready: first import done in %.2f s (%s)", self._prefix, time.monotonic() - began, counts)
        if self._autosync_enabled:
            self.autosync.start()

    @property
    def _prefix(self) -> str:
        return f"connector {self.name}: " if self.name else ""

    def unready_error(self, source: str) -> DatabaseUnavailableError:
        """What a request that needs the cache gets before the first import has finished."""
        if self.phase == "waiting" and self.waiting:
            return NotReadyError(source, f"waiting for the database ({self.waiting})")
        if self.phase == "failed":
            return DatabaseUnavailableError(source)
        return NotReadyError(source)

    async def _probe(self) -> None:
        """The reconnect probe, on its own short interval (not autosync's): readiness follows the
        databases within ``probe_interval`` plus its bound, and when a database comes back before
        the first import succeeded, the import is retried at once."""
        bound = max(1.0, self.probe_interval)
        while True:
            await asyncio.sleep(self.probe_interval)
            for name, database in self.databases.items():
                reachable = await database.probe(bound)
                if reachable:
                    await self._reread_in_doubt(database)
                if reachable and name in self.unreachable:
                    self.unreachable.discard(name)
                    log.warning("database %s is reachable again", name)
                    self._wake.set()
                elif not reachable and name not in self.unreachable:
                    self.unreachable.add(name)
                    log.warning("database %s is unreachable; not ready until it answers", name)

    async def _reread_in_doubt(self, database: Database) -> None:
        """Read again, now that ``database`` answers, the objects of its stores that writes left
        in doubt (a write that failed as an outage may have committed)."""
        for store in self.stores.values():
            if store.database is database and store.in_doubt:
                try:
                    await store.reread_in_doubt()
                except DatabaseUnavailableError:
                    return  # gone again: the next probe tries
                except Exception:  # noqa: BLE001 - the probe must go on; logged
                    log.exception("%s: reading again the objects writes left in doubt failed", store.name)

    async def stop(self) -> None:
        for task in (self._start_task, self._probe_task):
            if task is not None:
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
        self._start_task = self._probe_task = None
        await self.coherence.stop()
        await self.autosync.stop()
        for database in self.databases.values():
            database.dispose()
        self.ready = False

    async def sync_full(self) -> None:
        """A full import with diff of every object type; ready once all succeeded."""
        try:
            for store in self.stores.values():
                await self._observed(store.name, "full", store.sync_full)
        except Exception as error:
            self._failed(error)
            raise
        now = datetime.now(UTC)
        self.last_sync = self.last_full_sync = now
        self.last_error = self.last_error_at = None
        self.ready = True
        if self.after_full_import is not None:
            self.after_full_import()

    async def sync_delta(self) -> None:
        """A delta import of every object type (a full one for types not loaded yet)."""
        try:
            for store in self.stores.values():
                await self._observed(store.name, _delta_kind(store), store.sync_delta)
        except Exception as error:
            self._failed(error)
            raise
        self.last_sync = datetime.now(UTC)
        self.last_error = self.last_error_at = None
        self.ready = self.ready or all(s.loaded for s in self.stores.values())
        if self.after_delta_import is not None:
            self.after_delta_import()

    async def _observed(self, name: str, kind: str | None, sync: Callable[[], Awaitable[SyncStats]]) -> None:
        observe = self.observe_sync
        if observe is None or kind is None:
            await sync()
            return
        started = time.perf_counter()
        try:
            stats = await sync()
        except Exception:
            observe(name, kind, time.perf_counter() - started, None)
            raise
        observe(name, kind, time.perf_counter() - started, stats)

    def _failed(self, error: Exception) -> None:
        self.last_error = describe_error(error)
        self.last_error_at = datetime.now(UTC)
        log.warning("sync failed: %s", self.last_error)

    def health(self) -> dict[str, Any]:
        def stamp(moment: datetime | None) -> str | None:
            return moment.isoformat(timespec="seconds").replace("+00:00", "Z") if moment else None

        return {
            "ready": self.ready and not self.unreachable,
            # imported once, then the probe lost a database: not "ready" while ready is false
            "phase": "unreachable" if self.phase == "ready" and self.unreachable else self.phase,
            "waiting": self.waiting,
            "progress": {
                name: {"rows": store.imported, "loaded": store.loaded, "importing": store.importing}
                for name, store in self.stores.items()
            },
            "reachable": not self.unreachable,
            "lastSync": stamp(self.last_sync),
            "lastFullSync": stamp(self.last_full_sync),
            "lastError": self.last_error,
            "lastErrorAt": stamp(self.last_error_at),
            "objects": {name: store.count() for name, store in self.stores.items()},
            "autosync": self.autosync.running,
            "coherence": self.coherence.health(),
            "uptimeSeconds": int(time.monotonic() - self._started_at),
        }


def _delta_kind(store: ObjectStore) -> str | None:
    """What ``store.sync_delta()`` will run: None (no delta declared), a full import (nothing
    loaded yet), or a delta, with its delete scan for a watermark."""
    if store.obj.delta.kind == "none" or store.obj.delta.query is None:
        return None
    if not store.loaded:
        return "full"
    return "delete_scan" if store.obj.delta.kind == "watermark" and store.delete_scan else "delta"
