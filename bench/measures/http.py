"""Measures 1-3 over HTTP: the gateway and the bare Starlette baseline driven by wrk.

Reads (filtered GET and GET by id) alternate between baseline and gateway in each repetition, so
drift on the machine hits both alike. Writes (POST of unique users, PATCH of one attribute, at 16
and 64 connections) are compared with the raw serial commit rate (:mod:`bench.measures.commits`),
measured in a subprocess pinned to the server core between the gateway's runs, while it idles.
Each run also records the server's CPU time per request (``cpu_us``, all its threads and the
kernel's work for it, from /proc): with it, a write run's rate tells whether the core was busy
(rate times CPU per request near one second per second) or waiting for the disk, and a read run's
pair tells the gateway's cost per request apart from the run's wall-clock luck (on two cores, the
gateway and the bare app run one after the other, and their req/s ratio swings between runs far
more than their CPU per request does).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import orjson

from bench import wrk
from bench.measures import probe
from bench.servers import BASE_PATH, Server


def capture_bodies(gateway: Server, path: Path) -> dict[str, int]:
    """Save a real user resource and a real one-user list response from the gateway, for the
    baseline to send; returns their sizes in bytes."""
    status, resource = gateway.get(f"{BASE_PATH}/Users/1")
    if status != 200:
        raise RuntimeError(f"GET /Users/1 answered {status}: {resource[:300]!r}")
    status, listed = gateway.get(f"{BASE_PATH}/Users?filter=userName%20eq%20%22user0000001%22")
    if status != 200:
        raise RuntimeError(f"filtered GET answered {status}: {listed[:300]!r}")
    bodies = {"resource": orjson.loads(resource), "list": orjson.loads(listed)}
    if bodies["list"].get("totalResults") != 1:
        raise RuntimeError(f"filtered GET found {bodies['list'].get('totalResults')} users, expected 1")
    path.write_bytes(orjson.dumps(bodies))
    return {"resource_bytes": len(resource), "list_bytes": len(listed)}


TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of process ``pid`` and its threads."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def script_env(token: str, users: int) -> dict[str, str]:
    return {
        "BENCH_TOKEN": token,
        "BENCH_USERS": str(users),
        "BENCH_BASE": BASE_PATH,
        "BENCH_PREFIX": f"bench-{uuid.uuid4().hex[:8]}",  # unique userNames across runs
    }


def measured(server: Server, script: str, seconds: float, env: dict[str, str], connections: int = 16) -> dict:
    """One wrk run of ``script`` against ``server``: its WrkResult dict with the server's CPU
    microseconds per request (``cpu_us``)."""
    before = cpu_seconds(server.process.pid)
    run = wrk.run(server.base, script, seconds, env, connections).as_dict()
    used = cpu_seconds(server.process.pid) - before
    run["cpu_us"] = round(1e6 * used / max(run["requests"], 1), 1)
    return run


def reads(gateway: Server, baseline: Server, token: str, users: int, seconds: float, repeat: int) -> dict:
    """``{"get_filter": {"gateway": [...], "baseline": [...]}, "get_id": {...}}``, one WrkResult
    dict (with ``cpu_us``) per repetition."""
    results: dict[str, dict[str, list[dict]]] = {
        name: {"gateway": [], "baseline": []} for name in ("get_filter", "get_id")
    }
    for _ in range(repeat):
        for name in results:
            for side, server in (("baseline", baseline), ("gateway", gateway)):
                results[name][side].append(measured(server, name, seconds, script_env(token, users)))
    return results


#: the write measures: (result key, wrk script, connections, raw commit kind)
WRITES = (
    ("post", "post", 16, "insert"),
    ("post_64", "post", 64, "insert"),
    ("patch", "patch", 16, "update"),
    ("patch_64", "patch", 64, "update"),
)


def writes(
    gateway: Server,
    token: str,
    url: str,
    dialect: str,
    users: int,
    seconds: float,
    repeat: int,
    *,
    engine: bool = True,
) -> dict:
    """POST and PATCH at 16 and 64 connections, interleaved in each repetition with the strict raw
    serial commit rate they are compared with (and, with ``engine``, the rate through the
    gateway's ``Database``), measured while the gateway idles, so that drift in the disk's fsync
    latency hits both alike. ``url`` is where the raw loops commit: a twin of the gateway's
    database (:func:`bench.data.twin`), so that their updates do not leave the gateway's cached
    rows stale. ``{"post": [...], "post_64": [...], "patch": [...], "patch_64":
    [...], "commits": {"insert": [...], "update": [...]}, "commits_database": {...}}``: one dict
    per repetition, a write run's with the gateway's CPU microseconds per request (``cpu_us``)."""
    results: dict = {key: [] for key, *_ in WRITES}
    results["commits"] = {"insert": [], "update": []}
    results["commits_database"] = {"insert": [], "update": []}
    for _ in range(repeat):
        for kind in ("insert", "update"):
            for key, script, connections, of in WRITES:
                if of == kind:
                    env = script_env(token, users)
                    results[key].append(measured(gateway, script, seconds, env, connections))
            results["commits"][kind].append(raw_commits(url, dialect, kind, seconds, users))
            if engine:
                results["commits_database"][kind].append(
                    raw_commits(url, dialect, kind, seconds, users, "database")
                )
    return results


def raw_commits(url: str, dialect: str, kind: str, seconds: float, users: int, via: str = "driver") -> dict:
    """The raw serial commit rate (``insert`` or ``update``; ``via`` the bare ``driver`` or the
    gateway's ``database``), in a subprocess on the server core."""
    return probe("commits", url, dialect, kind, seconds, users, via)
