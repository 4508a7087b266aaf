"""Measures 4-6, in-process: the full import at start-up, the memory it takes per cached user,
one delta sync cycle after ``CHANGES`` rows changed, and the delete scan every delta runs (the
anchors-only read, :func:`mapper.runtime.loading.scan_anchors`) against the full import.

Run as a subprocess (a clean heap each time)::

    python -m bench.measures.imports fetch   URL DIALECT
    python -m bench.measures.imports gateway URL DIALECT CHANGES USERS [--tracemalloc]

``fetch`` is the baseline: a plain ``fetchmany`` loop on the driver's own DB-API cursor over the
plan's import query (the same SQL and parameters the gateway's import sends, in the driver's
paramstyle), on a connection of the same engine settings, keeping nothing. The gateway's import
reads its pages through the same kind of cursor (``mapper.runtime.loading.driver_pages``), so the
ratio is against the raw driver rate. ``gateway`` starts the runtime's Gateway on the
plan (its full import), then changes ``CHANGES`` users and runs one delta sync cycle. Each prints
one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import time
import tracemalloc
from functools import partial

from bench.data import HR_MAP

FETCH_SIZE = 10_000
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    """This process's resident set size in bytes."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE


def settled_rss() -> int:
    gc.collect()
    return rss()


def fetch(url: str, dialect: str) -> dict:
    from mapper.pipeline import load
    from mapper.runtime.database import Database

    statement = load(str(HR_MAP), write=dialect).object("User").import_all
    database = Database("hr", url)

    def loop(tx) -> int:
        compiled = tx.database.statements.compiled(statement).compile(dialect=tx.connection.dialect)
        cursor = tx.connection.connection.cursor()  # the DB-API cursor: plain tuples
        try:
            cursor.execute(compiled.string, () if compiled.positional else {})
            rows = 0
            while batch := cursor.fetchmany(FETCH_SIZE):
                rows += len(batch)
        finally:
            cursor.close()
        return rows

    started = time.perf_counter()
    rows = database.run_sync(loop)
    seconds = time.perf_counter() - started
    database.dispose()
    return {"rows": rows, "seconds": seconds, "rows_per_s": rows / seconds}


async def gateway(url: str, dialect: str, changes: int, users: int, trace: bool) -> dict:
    from bench import data
    from mapper.pipeline import load
    from mapper.runtime.gateway import Gateway
    from mapper.runtime.loading import collector_paused, scan_anchors
    from mapper.scim.app import freeze_cache

    plan = load(str(HR_MAP), write=dialect)
    environ = {**os.environ, "HR_DATABASE_URL": url}
    before = settled_rss()
    if trace:
        tracemalloc.start()
    gw = Gateway(plan, environ=environ, autosync=False)
    started = time.perf_counter()
    await gw.start()
    seconds = time.perf_counter() - started
    traced = tracemalloc.get_traced_memory()[0] if trace else None
    tracemalloc.stop()
    after = settled_rss()
    freeze_cache()  # what `mapper serve` does after its import, untimed (measures 6 and 6b follow it)
    store = gw.stores["User"]
    cached = store.count()

    scans = []
    for _ in range(3):
        started = time.perf_counter()
        with collector_paused():  # as a delta's scan runs (Store.sync_delta)
            present = await store.database.run(
                partial(scan_anchors, obj=store.obj, page_size=store.page_size), snapshot=True
            )
        scans.append(time.perf_counter() - started)
    scan_seconds = sorted(scans)[1]
    assert len(present) == cached

    db = data.BenchDatabase(dialect, url, users)
    tag = f"Delta {time.time_ns()}"
    ids = data.touch_users(db, changes, tag=tag)
    store.delete_scan = False  # measure 6 is the changes alone; the scan is measured above (6b)
    started = time.perf_counter()
    await gw.sync_delta()
    delta_seconds = time.perf_counter() - started
    seen = 0
    for anchor in ids:
        resource = await store.get(str(anchor))
        seen += bool(resource and str(resource.get("title", "")).startswith(tag))
    await gw.stop()
    return {
        "rows": cached,
        "seconds": seconds,
        "rows_per_s": cached / seconds,
        "rss_before": before,
        "rss_after": after,
        "bytes_per_user": (after - before) / cached if cached else None,
        "traced_bytes_per_user": traced / cached if traced and cached else None,
        "changes": changes,
        "delta_seen": seen,
        "delta_seconds": delta_seconds,
        "delta_fraction": delta_seconds / seconds,
        "delete_scan_seconds": scan_seconds,
        "delete_scan_fraction": scan_seconds / seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.measures.imports")
    parser.add_argument("mode", choices=("fetch", "gateway"))
    parser.add_argument("url")
    parser.add_argument("dialect")
    parser.add_argument("changes", type=int, nargs="?", default=100)
    parser.add_argument("users", type=int, nargs="?", default=0)
    parser.add_argument("--tracemalloc", action="store_true")
    args = parser.parse_args()
    if args.mode == "fetch":
        result = fetch(args.url, args.dialect)
    else:
        result = asyncio.run(gateway(args.url, args.dialect, args.changes, args.users, args.tracemalloc))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
