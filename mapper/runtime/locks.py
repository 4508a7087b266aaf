"""Per-key locks: writes that touch the same object or the same unique value wait for each
other; everything else runs in parallel."""

from __future__ import annotations

from collections.abc import AsyncIterator, Hashable, Iterable
from contextlib import asynccontextmanager

import anyio


class _Entry:
    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = anyio.Lock()
        self.users = 0


class KeyedLocks:
    def __init__(self) -> None:
        self._entries: dict[Hashable, _Entry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    @asynccontextmanager
    async def hold(self, keys: Iterable[Hashable]) -> AsyncIterator[None]:
        """Hold the locks of all ``keys``, taken in a fixed order so two holders cannot deadlock."""
        ordered = sorted(set(keys), key=repr)
        joined: list[tuple[Hashable, _Entry]] = []
        held: list[_Entry] = []
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
                    await entry.lock.acquire()
                held.append(entry)
            yield
        finally:
            for entry in reversed(held):
                entry.lock.release()
            for key, entry in joined:
                entry.users -= 1
                if entry.users == 0:
                    del self._entries[key]
