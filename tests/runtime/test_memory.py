"""The cache stays compact: measured with tracemalloc over synthetic users, values included.
(On 100k users: about 850 bytes per user with the HR mapping; the bound here leaves room.)"""

from __future__ import annotations

import gc
import tracemalloc
from datetime import UTC, datetime, timedelta

from mapper.runtime.cache import CacheState
from mapper.runtime.record import Deduper, Record
from mapper.runtime.records import Codec
from tests.runtime.conftest import hr_plan


def synthetic_row(i: int) -> tuple:
    stamp = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=i, microseconds=7 * i)
    login = f"user{i:07d}"
    return (
        i, login, f"ext-{i:08d}", f"Given{i % 977}", f"Family{i % 1009}", f"Given{i % 977} Family{i % 1009}",
        None, f"Title {i % 50}", f"{login}@example.com", f"+1 555 {i:07d}", f"Dept {i % 40}", f"E{i:07d}",
        (i // 10) or None, i % 13 != 0, stamp, stamp,
    )  # fmt: skip


def bytes_per_user(count: int) -> float:
    codec = Codec(hr_plan("postgres").object("User"), "postgres")
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        state = CacheState(codec)
        dedupe = Deduper(len(codec.obj.columns))
        for i in range(1, count + 1):
            state.put(Record(dedupe.row(synthetic_row(i))))
        del dedupe
        gc.collect()
        used = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(state.records) == count and len(state.by_query) == count
    return used / count


def test_cache_bytes_per_user():
    assert bytes_per_user(10_000) < 1200
