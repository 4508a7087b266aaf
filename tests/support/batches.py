"""Writes that run as one group-commit batch, for the tests of group commit: a *blocker* write
holds the committer (its job waits on a threading.Event in the worker thread) while the writes
under test queue behind it; the test releases it once they all wait, and they then run as the
next batch."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio

from mapper.runtime.database import Database, Tx


@asynccontextmanager
async def one_batch(database: Database, expected: int) -> AsyncIterator[anyio.abc.TaskGroup]:
    """A task group whose writes run as one batch: the committer is held by a blocker until
    ``expected`` writes wait behind it."""
    started, gate = threading.Event(), threading.Event()

    def blocker(tx: Tx) -> None:
        started.set()
        gate.wait(30)

    with anyio.fail_after(60):  # a job that never completes fails the test rather than hanging it
        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: database.run(blocker, write=True))
            with anyio.fail_after(30):
                while not started.is_set():  # the blocker's batch runs: the next writes queue
                    await anyio.sleep(0.001)
            yield tg
            with anyio.fail_after(30):
                while database.committer.queued < expected:
                    await anyio.sleep(0.005)
            gate.set()
    assert database.committer.queued == 0
    assert database.commit_stats.largest >= min(expected, database.committer.cap)  # they ran together


async def outcome(call: Awaitable[Any]) -> Any:
    try:
        return await call
    except Exception as error:  # noqa: BLE001 - the test looks at which error
        return error


def collect(
    tg: anyio.abc.TaskGroup, results: dict[str, Any], name: str, call: Callable[[], Awaitable[Any]]
) -> None:
    async def run() -> None:
        results[name] = await outcome(call())

    tg.start_soon(run)


async def in_one_batch(database: Database, *requests: Callable[[], Awaitable[None]]) -> None:
    """:func:`one_batch` with its writes queued in the order given: each request is started once
    the one before it waits behind the blocker. Returns when every request has answered."""
    async with one_batch(database, len(requests)) as tg:
        for count, request in enumerate(requests, 1):
            tg.start_soon(request)
            with anyio.fail_after(30):
                while database.committer.queued < count:
                    await anyio.sleep(0.005)
