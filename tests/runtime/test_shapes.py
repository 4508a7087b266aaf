"""The one shape cache (mapper.runtime.shapes.ShapeCache) behind a create's insert, a revive's
update and a replace's update: each shape made once per key, at most ``limit`` kept, the least
recently used going first, and a hit that runs no Python code (the PATCH path's look-up)."""

from __future__ import annotations

import sys
import threading
from types import FrameType
from typing import Any

from mapper.runtime.shapes import ShapeCache


def _cache(limit: int) -> tuple[ShapeCache[tuple[str, ...], str], list[tuple[str, ...]]]:
    made: list[tuple[str, ...]] = []

    def make(key: tuple[str, ...]) -> str:
        made.append(key)
        return "+".join(key)

    return ShapeCache(make, limit), made


def test_each_shape_is_made_once_and_the_least_recently_used_goes_first() -> None:
    cache, made = _cache(limit=2)
    assert cache.find(("a",)) == "a"
    assert cache.find(("b", "c")) == "b+c"
    assert cache.find(("a",)) == "a"  # a hit: now the most recently used
    assert made == [("a",), ("b", "c")]
    cache.find(("d",))  # past the bound: ("b", "c") goes, not ("a",)
    assert len(cache) == 2
    cache.find(("a",))
    assert made == [("a",), ("b", "c"), ("d",)]
    cache.find(("b", "c"))  # made again
    assert made == [("a",), ("b", "c"), ("d",), ("b", "c")]
    assert len(cache) == 2


def test_a_hit_calls_no_python_function() -> None:
    cache, _ = _cache(limit=4)
    cache.find(("a", "b"))
    calls: list[str] = []

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call":
            calls.append(frame.f_code.co_qualname)

    sys.setprofile(profile)
    try:
        found = cache.find(("a", "b"))
    finally:
        sys.setprofile(None)
    assert found == "a+b"
    assert calls == []


def test_misses_make_their_shapes_one_at_a_time() -> None:
    inside = 0
    most = 0
    guard = threading.Lock()
    release = threading.Event()

    def make(key: tuple[str, ...]) -> str:
        nonlocal inside, most
        with guard:
            inside += 1
            most = max(most, inside)
        release.wait(0.05)  # long enough for the other threads to miss meanwhile
        with guard:
            inside -= 1
        return "+".join(key)

    cache: ShapeCache[tuple[str, ...], str] = ShapeCache(make, limit=8)
    threads = [threading.Thread(target=cache.find, args=((str(n),),)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most == 1
    assert len(cache) == 4
