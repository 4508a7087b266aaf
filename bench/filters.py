"""Full-scan filters must not hold up other requests (issue #11 item 4)::

    .venv/bin/python -m bench.filters --users 200k --databases sqlite,postgres

For each database it generates the HR example's data (:mod:`bench.data`), starts the gateway with
``mapper serve`` (pinned to the server core, as the main bench does) and measures, from client
processes on the other core:

1. ``get_id_quiet``: GET /Users/{random id}, one request at a time, on a quiet gateway (p50, p99);
2. ``get_id_busy``: the same while two other client processes send full-scan filters
   (``title co "gin"``, ``displayName co "user00"``) back to back; the target is a p99 of at most
   10 ms, reported with its ratio to the quiet p99 of the same run;
3. ``co_filter``: ``GET /Users?filter=title co "gin"`` alone (median and worst of several, with its
   totalResults); target: within 1 s.

It prints a table, writes ``bench/results/filters-<users>.json`` and the command to reproduce it.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import secrets
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from bench import data, servers
from bench.__main__ import parse_size
from bench.report import RESULTS

SCANS = ('title co "gin"', 'displayName co "user00"')
CO_FILTER = 'title co "gin"'
P99_TARGET_MS = 10.0
CO_TARGET_S = 1.0


def _client(port: int, token: str) -> http.client.HTTPConnection:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    connection.connect()
    return connection


def _get(connection: http.client.HTTPConnection, path: str, token: str) -> tuple[int, bytes]:
    connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    response = connection.getresponse()
    return response.status, response.read()


def get_ids(port: int, token: str, users: int, seconds: float) -> list[float]:
    """Latencies (ms) of GET /Users/{random id}, one at a time, for ``seconds``."""
    connection = _client(port, token)
    out: list[float] = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        path = f"{servers.BASE_PATH}/Users/{random.randint(1, users)}"
        started = time.perf_counter()
        status, _ = _get(connection, path, token)
        out.append((time.perf_counter() - started) * 1000)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}")
    connection.close()
    return out


def _scanner(port: int, token: str, text: str, stop: multiprocessing.synchronize.Event, done: list) -> None:
    connection = _client(port, token)
    path = f"{servers.BASE_PATH}/Users?filter={quote(text)}"
    count = 0
    statuses: dict[int, int] = {}
    while not stop.is_set():
        status, _ = _get(connection, path, token)
        statuses[status] = statuses.get(status, 0) + 1
        count += 1
    done.append({"filter": text, "requests": count, "statuses": statuses})


def latencies(values: list[float]) -> dict:
    return {"requests": len(values), "p50_ms": percentile(values, 0.5), "p99_ms": percentile(values, 0.99)}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(database: str, users: int, seconds: float, workdir: Path) -> dict:
    print(f"== {database}, {users:,} users", file=sys.stderr, flush=True)
    db = data.create(database, users, workdir)
    token = secrets.token_urlsafe(24)
    try:
        with servers.start_gateway(db.url, db.dialect, token, workdir) as gateway:
            os.sched_setaffinity(0, {servers.CLIENT_CPU}) if hasattr(os, "sched_setaffinity") else None
            get_ids(gateway.port, token, users, 2)  # warm up
            quiet = get_ids(gateway.port, token, users, seconds)
            manager = multiprocessing.Manager()
            done = manager.list()
            stop = multiprocessing.Event()
            scanners = [
                multiprocessing.Process(target=_scanner, args=(gateway.port, token, text, stop, done))
                for text in SCANS
            ]
            for process in scanners:
                process.start()
            time.sleep(1)  # both scans under way
            busy = get_ids(gateway.port, token, users, seconds)
            stop.set()
            for process in scanners:
                process.join(timeout=120)
            connection = _client(gateway.port, token)
            co: list[float] = []
            total = None
            for _ in range(5):
                started = time.perf_counter()
                status, body = _get(connection, f"{servers.BASE_PATH}/Users?filter={quote(CO_FILTER)}", token)
                co.append(time.perf_counter() - started)
                if status != 200:
                    raise RuntimeError(f"the co filter answered {status}: {body[:300]!r}")
                total = json.loads(body)["totalResults"]
            connection.close()
    finally:
        db.drop()
    quiet_figures, busy_figures = latencies(quiet), latencies(busy)
    busy_figures["p99_vs_quiet"] = busy_figures["p99_ms"] / max(quiet_figures["p99_ms"], 1e-9)
    return {
        "database": database,
        "users": users,
        "get_id_quiet": quiet_figures,
        "get_id_busy": busy_figures,
        "scanners": list(done),
        "co_filter": {"median_s": statistics.median(co), "max_s": max(co), "total_results": total},
        "loadavg": os.getloadavg(),
    }


def table(runs: list[dict]) -> str:
    lines = [
        f"{'database':<10} {'users':>8} {'quiet p99':>10} {'busy p50':>9} {'busy p99':>9} {'ratio':>6} "
        f"{'target':>9} {'scans':>6} {'co median':>10} {'co max':>7} {'target':>7}"
    ]
    for run in runs:
        quiet, busy, co = run["get_id_quiet"], run["get_id_busy"], run["co_filter"]
        scans = sum(s["requests"] for s in run["scanners"])
        lines.append(
            f"{run['database']:<10} {run['users']:>8,} {quiet['p99_ms']:>8.2f}ms {busy['p50_ms']:>7.2f}ms "
            f"{busy['p99_ms']:>7.2f}ms {busy['p99_vs_quiet']:>5.1f}x "
            f"{'ok' if busy['p99_ms'] <= P99_TARGET_MS else 'MISSED':>9} {scans:>6} "
            f"{co['median_s']:>9.3f}s {co['max_s']:>6.3f}s "
            f"{'ok' if co['max_s'] <= CO_TARGET_S else 'MISSED':>7}"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.filters", description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", default="200k")
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--seconds", type=float, default=15, help="duration of each GET-by-id phase")
    args = parser.parse_args(argv)
    users = parse_size(args.users)
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-filters-") as work:
        for database in [d.strip() for d in args.databases.split(",") if d.strip()]:
            runs.append(measure(database, users, args.seconds, Path(work)))
    print(table(runs))
    out = RESULTS / f"filters-{args.users}.json"
    out.write_text(json.dumps(runs, indent=2) + "\n")
    command = shlex.join([".venv/bin/python", "-m", "bench.filters", *argv])
    print(f"wrote {out.relative_to(data.ROOT)}; reproduce with: {command}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
