"""Per-key locks: writes that touch the same object or the same unique value wait for each
other; everything else runs in parallel. The wait is bounded, and counts against the write's own
bound (:data:`arrived`): writes queued behind one stuck on a dead database do not each wait a whole
bound more.

Every write takes two or three of these, so they are kept cheap: a key nobody else holds or
awaits (nearly always) is taken by counting its users, with no lock object at all; only a second
writer of the key makes its ``asyncio.Lock`` (the gateway runs on asyncio; anyio's costs ten times
as much to make), taken at once for the holder it found, then waited on; and :meth:`KeyedLocks.hold`
is a plain async context manager rather than a generator's."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Hashable, Iterable
from contextvars import ContextVar, Token
from types import TracebackType

import anyio

#: when the current task began waiting for its write's locks (``time.monotonic()``), or None; the
#: group committer counts a write's bound from then (``GroupCommitter.submit``)
arrived: ContextVar[float | None] = ContextVar("mapper_write_arrived", default=None)


class _Entry:
    """One key's holder and waiters (``users``); ``lock`` is made by the first writer that has to
    wait (None until then: the only user holds the key by being counted)."""

    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock: asyncio.Lock | None = None
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

    def hold(
        self,
        keys: Iterable[Hashable],
        bound: float | None = None,
        unavailable: Callable[[], Exception] | None = None,
    ) -> Hold:
        """Hold the locks of all ``keys``, taken in a fixed order so two holders cannot deadlock
        (``async with``). ``bound`` and ``unavailable``: this hold's, instead of the instance's."""
        return Hold(
            self,
            keys,
            self.bound if bound is None else bound,
            self.unavailable if unavailable is None else unavailable,
        )


class Hold:
    """The locks of one :meth:`KeyedLocks.hold`, taken on entering and released on leaving."""

    __slots__ = ("_bound", "_entries", "_held", "_joined", "_keys", "_token", "_unavailable")

    def __init__(
        self,
        locks: KeyedLocks,
        keys: Iterable[Hashable],
        bound: float | None,
        unavailable: Callable[[], Exception] | None,
    ) -> None:
        self._entries = locks._entries
        self._keys = keys
        self._bound = bound
        self._unavailable = unavailable
        self._joined: list[tuple[Hashable, _Entry]] = []
        self._held: list[_Entry] = []
        self._token: Token[float | None] | None = None

    async def __aenter__(self) -> None:
        unique = set(self._keys)
        ordered = sorted(unique, key=repr) if len(unique) > 1 else unique
        entries, joined, held = self._entries, self._joined, self._held
        since = arrived.get()
        if since is None:
            since = time.monotonic()
            self._token = arrived.set(since)
        try:
            for key in ordered:
                entry = entries.get(key)
                if entry is None:
                    entry = entries[key] = _Entry()
                entry.users += 1
                joined.append((key, entry))
                if entry.users > 1:  # held by another: wait (else taken by being its only user)
                    lock = entry.lock
                    if lock is None:  # its holder took it by count: the lock starts held for it
                        lock = entry.lock = asyncio.Lock()
                        await lock.acquire()  # free: taken at once, without a trip through the loop
                    await self._wait(lock, since)
                held.append(entry)
        except BaseException:
            self._release()
            raise

    async def _wait(self, lock: asyncio.Lock, since: float) -> None:
        if self._bound is None:
            await lock.acquire()
            return
        with anyio.move_on_after(since + self._bound - time.monotonic()) as scope:
            await lock.acquire()
        if scope.cancelled_caught:  # its holder outlived our bound (a dead database)
            raise (self._unavailable() if self._unavailable else TimeoutError()) from None

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._release()

    def _release(self) -> None:
        if self._token is not None:
            arrived.reset(self._token)
            self._token = None
        for entry in reversed(self._held):
            if entry.lock is not None:  # another waits, or waited: the lock stands for the holder
                entry.lock.release()
        entries = self._entries
        for key, entry in self._joined:
            entry.users -= 1
            if entry.users == 0:
                del entries[key]
        self._held.clear()
        self._joined.clear()
