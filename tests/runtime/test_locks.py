"""Per-key write locks (mapper/runtime/locks.py): writes to the same key wait for each other, other
writes run together, and nothing is kept for keys nobody holds. Ordering is observed through
events, never through the clock; ``fail_after`` only bounds a test that would otherwise hang."""

from __future__ import annotations

import anyio
import pytest

from mapper.runtime.locks import KeyedLocks

pytestmark = pytest.mark.anyio

BOUND = 10  # seconds before a deadlocked test fails instead of hanging


async def test_holders_of_one_key_take_turns() -> None:
    locks = KeyedLocks()
    order: list[str] = []
    first_in = anyio.Event()
    release_first = anyio.Event()

    async def first() -> None:
        async with locks.hold(["user:1"]):
            order.append("first in")
            first_in.set()
            await release_first.wait()
            order.append("first out")

    async def second() -> None:
        await first_in.wait()
        async with locks.hold(["user:1", "userName:ada"]):
            order.append("second in")

    with anyio.fail_after(BOUND):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(first)
            tasks.start_soon(second)
            await first_in.wait()
            for _ in range(10):  # give the second every chance to (wrongly) get in
                await anyio.sleep(0)
            assert order == ["first in"]
            release_first.set()
    assert order == ["first in", "first out", "second in"]


async def test_holders_of_different_keys_run_together() -> None:
    locks = KeyedLocks()
    inside = 0
    both_inside = anyio.Event()

    async def hold(key: str) -> None:
        nonlocal inside
        async with locks.hold([key]):
            inside += 1
            if inside == 2:
                both_inside.set()
            await both_inside.wait()  # only possible when the other got in too

    with anyio.fail_after(BOUND):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(hold, "user:1")
            tasks.start_soon(hold, "user:2")
    assert both_inside.is_set()


async def test_overlapping_key_sets_in_any_order_do_not_deadlock() -> None:
    locks = KeyedLocks()
    done: list[int] = []

    async def hold(n: int, keys: list[str]) -> None:
        for _ in range(20):
            async with locks.hold(keys):
                await anyio.sleep(0)
        done.append(n)

    with anyio.fail_after(BOUND):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(hold, 1, ["a", "b", "c"])
            tasks.start_soon(hold, 2, ["c", "b", "a"])
            tasks.start_soon(hold, 3, ["b", "a"])
    assert sorted(done) == [1, 2, 3]


async def test_nothing_is_kept_for_keys_nobody_holds() -> None:
    locks = KeyedLocks()
    async with locks.hold(["a", "b", "a"]):  # a key given twice is held once
        assert len(locks) == 2
    assert len(locks) == 0


async def test_a_waiter_cancelled_leaves_nothing_behind() -> None:
    locks = KeyedLocks()
    holding = anyio.Event()
    release = anyio.Event()

    async def holder() -> None:
        async with locks.hold(["a"]):
            holding.set()
            await release.wait()

    with anyio.fail_after(BOUND):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(holder)
            await holding.wait()
            with anyio.CancelScope() as waiter:
                waiter.cancel()
                async with locks.hold(["b", "a"]):  # "b" taken, then cancelled waiting for "a"
                    pytest.fail("a cancelled waiter got the lock")
            assert len(locks) == 1  # only the holder's "a"
            release.set()
    assert len(locks) == 0


async def test_a_key_nobody_else_wants_is_held_without_a_lock_object() -> None:
    """The usual case costs no ``asyncio.Lock``: the only user of a key holds it by being
    counted; a lock is made only when a second writer has to wait."""
    locks = KeyedLocks()
    async with locks.hold(["a", "b"]):
        assert [entry.lock for entry in locks._entries.values()] == [None, None]


async def test_a_waiter_that_gives_up_leaves_the_key_to_its_holder_then_to_the_next() -> None:
    """The second writer makes the key's lock, taken for the holder it found, and gives up at its
    bound; the holder still holds the key until it leaves, and the next writer then gets it."""
    locks = KeyedLocks(bound=0.05, unavailable=lambda: TimeoutError("bound"))
    holding = anyio.Event()
    release = anyio.Event()
    order: list[str] = []

    async def holder() -> None:
        async with locks.hold(["a"]):
            holding.set()
            await release.wait()
            order.append("holder out")

    async def third() -> None:
        async with locks.hold(["a"], bound=BOUND):
            order.append("third in")

    with anyio.fail_after(BOUND):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(holder)
            await holding.wait()
            with pytest.raises(TimeoutError):
                async with locks.hold(["a"]):
                    pytest.fail("a waiter got a held key")
            assert locks._entries["a"].lock is not None and locks._entries["a"].lock.locked()
            tasks.start_soon(third)
            for _ in range(10):  # give the third every chance to (wrongly) get in
                await anyio.sleep(0)
            assert order == []
            release.set()
    assert order == ["holder out", "third in"]
    assert len(locks) == 0
