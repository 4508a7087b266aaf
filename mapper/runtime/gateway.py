"""The :class:`Gateway`: everything a served plan needs at run time. One :class:`Database` per
source, one :class:`ObjectStore` per object type, the initial full import and the autosync task.
The SCIM app creates one in its lifespan: ``await gateway.start()`` ... ``await gateway.stop()``."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from mapper.errors import MapperError
from mapper.plan import Plan
from mapper.runtime.autosync import AutoSync
from mapper.runtime.coherence import Coherence
from mapper.runtime.database import Database, Timeouts, resolve_url
from mapper.runtime.errors import DatabaseUnavailableError
from mapper.runtime.store import ObjectStore

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
    ) -> None:
        self.plan = plan
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

    def store_for_endpoint(self, endpoint: str) -> ObjectStore | None:
        wanted = "/" + endpoint.strip("/").lower()
        for store in self.stores.values():
            if store.endpoint.lower() == wanted:
                return store
        return None

    async def start(self) -> None:
        """Import every object type into the cache and start autosync. When a database cannot be
        reached the gateway still starts, not ready; autosync retries the full import. Other
        processes' changes are listened for first, so none between the import and then is lost."""
        await self.coherence.start()
        try:
            await self.sync_full()
        except DatabaseUnavailableError:
            log.error("initial import failed (%s); retrying in the background", self.last_error)
        if self._autosync_enabled:
            self.autosync.start()
            self._probe_task = asyncio.get_running_loop().create_task(self._probe(), name="mapper-probe")

    async def _probe(self) -> None:
        """The reconnect probe, on its own short interval (not autosync's): readiness follows the
        databases within ``probe_interval`` plus its bound, and when a database comes back before
        the first import succeeded, the import is retried at once."""
        bound = max(1.0, self.probe_interval)
        while True:
            await asyncio.sleep(self.probe_interval)
            for name, database in self.databases.items():
                reachable = await database.probe(bound)
                if reachable and name in self.unreachable:
                    self.unreachable.discard(name)
                    log.warning("database %s is reachable again", name)
                elif not reachable and name not in self.unreachable:
                    self.unreachable.add(name)
                    log.warning("database %s is unreachable; not ready until it answers", name)
            if not self.unreachable and not self.ready:
                try:
                    await self.sync_full()
                except Exception:  # noqa: BLE001 - recorded by sync_full; the probe goes on
                    log.debug("import after reconnect failed", exc_info=True)

    async def stop(self) -> None:
        await self.coherence.stop()
        task, self._probe_task = self._probe_task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
        await self.autosync.stop()
        for database in self.databases.values():
            database.dispose()
        self.ready = False

    async def sync_full(self) -> None:
        """A full import with diff of every object type; ready once all succeeded."""
        try:
            for store in self.stores.values():
                await store.sync_full()
        except Exception as error:
            self._failed(error)
            raise
        now = datetime.now(UTC)
        self.last_sync = self.last_full_sync = now
        self.last_error = self.last_error_at = None
        self.ready = True

    async def sync_delta(self) -> None:
        """A delta import of every object type (a full one for types not loaded yet)."""
        try:
            for store in self.stores.values():
                await store.sync_delta()
        except Exception as error:
            self._failed(error)
            raise
        self.last_sync = datetime.now(UTC)
        self.last_error = self.last_error_at = None
        self.ready = self.ready or all(s.loaded for s in self.stores.values())

    def _failed(self, error: Exception) -> None:
        self.last_error = describe_error(error)
        self.last_error_at = datetime.now(UTC)
        log.warning("sync failed: %s", self.last_error)

    def health(self) -> dict[str, Any]:
        def stamp(moment: datetime | None) -> str | None:
            return moment.isoformat(timespec="seconds").replace("+00:00", "Z") if moment else None

        return {
            "ready": self.ready and not self.unreachable,
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
