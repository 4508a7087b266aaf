"""A write's shield against cancellation (mapper/runtime/shields.py): a real anyio shield wherever
an anyio cancel scope could reach the write, none in a task no scope can reach (a request as
uvicorn runs it). That a write cancelled by a scope still lands in cache and database alike is
``test_gateway.py``'s ``test_a_cancelled_request_still_leaves_cache_and_database_agreeing``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import anyio
import pytest

from mapper.runtime.shields import shielded

pytestmark = pytest.mark.anyio
T = TypeVar("T")


async def _in_plain_task(check: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """``check()`` in a fresh asyncio task, as uvicorn starts one per request."""
    return await asyncio.get_running_loop().create_task(check())


async def test_a_task_no_cancel_scope_can_reach_takes_no_shield() -> None:
    async def kinds() -> list[bool]:
        found = [isinstance(shielded(), anyio.CancelScope)]
        with anyio.move_on_after(60):  # a deadline in this task: from here a scope can cancel it
            found.append(isinstance(shielded(), anyio.CancelScope))
        found.append(isinstance(shielded(), anyio.CancelScope))  # closed again
        return found

    assert await _in_plain_task(kinds) == [False, True, False]


async def test_a_task_group_s_task_is_shielded() -> None:
    kinds: list[bool] = []

    async def child() -> None:
        kinds.append(isinstance(shielded(), anyio.CancelScope))

    async with anyio.create_task_group() as tg:
        tg.start_soon(child)
    assert kinds == [True]


async def test_the_shield_holds_off_a_scope_s_cancellation_until_the_block_ends() -> None:
    async def write() -> list[str]:
        done: list[str] = []
        with anyio.move_on_after(0.01):
            with shielded():
                await anyio.sleep(0.05)  # past the deadline: shielded, it is not interrupted
                done.append("committed")
            await anyio.sleep(1)  # the deadline's cancellation arrives here
            done.append("not reached")
        return done

    assert await _in_plain_task(write) == ["committed"]
