"""Memory stays bounded by configuration, never by what clients send: the resident set of a real
``mapper serve`` process (``VmRSS`` in ``/proc/<pid>/status``) stays flat under a bounded load of
distinct attribute names in filters and ``attributes=``, distinct filters, distinct PATCH paths
and distinct ids.

After a warm-up of the same load (so caches fill to their bounds and the allocator settles), the
measured load sends :data:`REQUESTS` more requests, each with names of :data:`NAME_BYTES` bytes
never sent before: a cache that kept them would hold several times :data:`GROWTH_BOUND_KIB`.
"""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.reliability.support import AUTH, PATCH_OP, ServedGateway, tracebacks

# The warm-up fills the bounded caches: the parsed-filter cache keeps 512 filters of up to 8,192
# characters, and four requests in ten carry a new filter.
WARM_UP = 1300
REQUESTS = int(os.environ.get("MAPPER_MEMORY_REQUESTS", 1500))
# Just under the longest filter and path the gateway reads (8,192 characters by default), so the
# names reach the resolver instead of being refused at the door.
NAME_BYTES = 7900
# 10 MiB. With every cache bounded this load grows RSS by well under 1 MiB; a resolver that kept
# every name (2 bytes per name byte) would grow it by about 20 MiB.
GROWTH_BOUND_KIB = 10 * 1024
WORKERS = 4


def distinct_request(rng: random.Random, serial: int) -> tuple[str, str, dict[str, str], object]:
    """One request whose attribute names (or id, or filter) no earlier request used. Unknown
    names in ``attributes=`` cost the gateway CPU in proportion to their length, so that kind is
    one in ten."""
    name = f"a{serial}_" + "".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=NAME_BYTES))
    kind = serial % 10
    if kind in (0, 5):
        return "GET", "/Users", {"filter": f'{name} eq "x"'}, None
    if kind == 1:
        return "GET", "/Users", {"attributes": f"{name},userName"}, None
    if kind in (2, 6):
        return "GET", "/Users", {"filter": f'title eq "{name[:64]}" or {name}.sub pr'}, None
    if kind in (3, 7):
        operations = [{"op": "remove", "path": f"{name}"}, {"op": "remove", "path": f'emails[{name} eq "x"]'}]
        return "PATCH", f"/Users/{1 + serial % 20}", {}, {"schemas": [PATCH_OP], "Operations": operations}
    if kind == 8:
        return "GET", "/Users", {"filter": f'userName eq "{name}"'}, None
    return "GET", f"/Users/{rng.randrange(10**17, 10**18)}{name[:200]}", {}, None


async def drive(base: str, start: int, count: int) -> list[int]:
    statuses: list[int] = []
    rng = random.Random(start)
    limits = httpx.Limits(max_connections=WORKERS)
    async with httpx.AsyncClient(base_url=base, headers=AUTH, timeout=60, limits=limits) as client:

        async def worker(offset: int) -> None:
            for serial in range(start + offset, start + count, WORKERS):
                method, path, params, body = distinct_request(rng, serial)
                response = await client.request(method, path, params=params, json=body)
                statuses.append(response.status_code)

        await asyncio.gather(*(worker(w) for w in range(WORKERS)))
    return statuses


def test_rss_stays_flat_under_distinct_names(tmp_path: Path, served: Callable[..., ServedGateway]) -> None:
    gateway = served(f"sqlite:///{tmp_path / 'memory.db'}", "--log-level=warning")
    warm = asyncio.run(drive(gateway.base, 0, WARM_UP))
    before = gateway.rss_kib()
    measured = asyncio.run(drive(gateway.base, WARM_UP, REQUESTS))
    after = gateway.rss_kib()
    growth = after - before
    print(
        f"\nRSS {before / 1024:.1f} MiB after {WARM_UP} warm-up requests, {after / 1024:.1f} MiB after "
        f"{REQUESTS} more with distinct {NAME_BYTES}-byte names: growth {growth / 1024:.1f} MiB"
    )
    assert all(s < 500 for s in warm + measured), sorted(set(warm + measured))
    assert growth < GROWTH_BOUND_KIB, (
        f"RSS grew {growth / 1024:.1f} MiB (bound {GROWTH_BOUND_KIB / 1024:.0f} MiB)"
    )
    gateway.stop()
    assert tracebacks(gateway.log()) == []
