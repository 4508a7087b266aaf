"""Per-key locks: writes that touch the same object or the same unique value wait for each
other; everything else runs in parallel. The wait is bounded, and counts against the write's own
bound (:data:`arrived`): writes queued behind one stuck on a dead database do not each wait a whole
bound more."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Hashable, Iterable
from contextlib import asynccontextmanager
from contextvars import ContextVar

import anyio

#: when the current task began waiting for its write's locks (``time.monotonic()``), or None; the
#: group committer counts a write's bound from then (``GroupCommitter.submit``)
arrived: ContextVar[float | None] = ContextVar("mapper_write_arrived", default=None)


class _Entry:
    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = anyio.Lock()
        self.users = 0


class KeyedLocks:
    """``bound``: the most seconds :meth:`hold` waits for its locks, counted from the task's
    arrival; then it raises ``unavailable()`` (None: no bound)."""

    def __init__(
        self, bound: float | None = None, unavailable: Callable[[], Exception] | None = None
    ) -> None:
        self._entries: dict[Hashable, _Entry] = {}
        self.bound = bound
        self.unavailable = unavailable

    def __len__(self) -> int:
        return len(self._entries)

    @asynccontextmanager
    async def hold(
        self,
        keys: Iterable[Hashable],
        bound: float | None = None,
        unavailable: Callable[[], Exception] | None = None,
    ) -> AsyncIterator[None]:
        """Hold the locks of all ``keys``, taken in a fixed order so two holders cannot deadlock.
        ``bound`` and ``unavailable``: this hold's, instead of the instance's."""
        bound = self.bound if bound is None else bound
        unavailable = self.unavailable if unavailable is None else unavailable
        ordered = sorted(set(keys), key=repr)
        joined: list[tuple[Hashable, _Entry]] = []
        held: list[_Entry] = []
        since = arrived.get()
        token = arrived.set(time.monotonic()) if since is None else None
        deadline = None if bound is None else (since or time.monotonic()) + bound
        try:
            for key in ordered:
                entry = self._entries.get(key)
                if entry is None:
                    entry = self._entries[key] = _Entry()
                entry.users += 1
                joined.append((key, entry))
                try:  # a free lock (nearly always) is taken at once: no trip through the event loop
                    entry.lock.acquire_nowait()
                except anyio.WouldBlock:
                    if deadline is None:
                        await entry.lock.acquire()
                    else:
                        with anyio.move_on_after(deadline - time.monotonic()) as scope:
                            await entry.lock.acquire()
                        if scope.cancelled_caught:  # its holder outlived our bound (a dead database)
                            raise (unavailable() if unavailable else TimeoutError()) from None
                held.append(entry)
            yield
        finally:
            if token is not None:
                arrived.reset(token)
            for entry in reversed(held):
                entry.lock.release()
            for key, entry in joined:
                entry.users -= 1
                if entry.users == 0:
                    del self._entries[key]
