"""The background task that keeps the cache in step with the database: a delta import every
``delta_interval`` seconds and a full import with diff every ``full_interval`` seconds (which also
catches deletes and changes a delta cannot see). A failed sync keeps the last good cache, is logged
and shows in ``Gateway.health()``; the next round tries again. Syncs build their new state in
worker threads, so requests are never blocked."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Protocol

log = logging.getLogger(__name__)


class Syncable(Protocol):
    """What autosync drives: the :class:`~mapper.runtime.gateway.Gateway`, which owns the
    autosync. A protocol, so neither module imports the other (issue #12: the cycle is gone)."""

    @property
    def ready(self) -> bool: ...

    async def sync_full(self) -> None: ...

    async def sync_delta(self) -> None: ...


class AutoSync:
    def __init__(
        self, gateway: Syncable, *, delta_interval: float = 30.0, full_interval: float = 1800.0
    ) -> None:
        self.gateway = gateway
        self.delta_interval = delta_interval
        self.full_interval = full_interval
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if not self.running:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="mapper-autosync")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass

    async def _run(self) -> None:
        last_full = time.monotonic()
        while True:
            await asyncio.sleep(self.delta_interval)
            full = not self.gateway.ready or time.monotonic() - last_full >= self.full_interval
            try:
                if full:
                    await self.gateway.sync_full()
                    last_full = time.monotonic()
                else:
                    await self.gateway.sync_delta()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - recorded by the gateway; the loop must go on
                log.debug("autosync round failed", exc_info=True)
