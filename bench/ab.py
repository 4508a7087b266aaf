"""Interleaved A/B of the gateway between source trees (a change against the commit before it),
on one database, in one run::

    git archive HEAD~1 | tar -x -C /tmp/before
    .venv/bin/python -m bench.ab --database postgres --users 10k --rounds 4 --seconds 5 \\
        --conns 16,64 /tmp/before .

Each tree is served by its own ``mapper serve`` (``PYTHONPATH=TREE``), pinned to the server core,
each on its own twin of one generated database (:func:`bench.data.twin`: the same rows on the same
server or disk), so that no tree sees another's writes: on one shared database each tree's cache
went stale under the other's PATCHes (each then read again and retried, twice the CPU) or, with
coherence, re-read them on the shared core. In each round wrk drives the trees one after the other
(the order alternates between rounds) with the bench's ``post`` and ``patch`` scripts, or the read
scripts with ``--scripts get_id,get_filter``. After each write script the strict raw commit rate
(:mod:`bench.measures.commits`) runs, on a twin of its own. For each figure it prints every
round's value, the median, and the median over rounds of each round's ratio to the tree before:
the figure to trust on a noisy machine. Figures: req/s, the gateway's CPU microseconds per request
(from /proc), and, for writes, the writes per group commit (from /metrics).

With ``--baseline`` (reads), the bare Starlette app (:mod:`bench.baseline`, sending bodies captured
from the first tree) is served too and driven after the trees in each round, and each tree's
req/s and CPU per request are also given against it, as the bench's measures 1 and 2 are::

    .venv/bin/python -m bench.ab --users 100k --scripts get_id,get_filter --baseline \\
        --rounds 6 --seconds 4 /tmp/before .
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
from pathlib import Path

from bench import data, servers, wrk
from bench.__main__ import parse_size
from bench.measures import http, probe
from bench.servers import Server

#: The wrk scripts that write (the others read: get_id, get_filter).
WRITES = frozenset({"post", "patch"})


def cpu_seconds(server: Server) -> float:
    fields = Path(f"/proc/{server.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def commits_so_far(server: Server) -> tuple[float, float]:
    """(writes, batches) the gateway's group committers have run, from /metrics."""
    _status, body = server.get("/metrics")
    writes = batches = 0.0
    for line in body.decode().splitlines():
        if line.startswith("mapper_commit_batch_size_sum"):
            writes += float(line.split()[-1])
        elif line.startswith("mapper_commit_batch_size_count"):
            batches += float(line.split()[-1])
    return writes, batches


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__.split("\n\n")[0])
    parser.add_argument("trees", nargs="+", help="source trees, oldest first")
    parser.add_argument("--database", default="sqlite")
    parser.add_argument("--users", default="10k")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--scripts", default="post,patch")
    parser.add_argument("--conns", default="16")
    parser.add_argument("--baseline", action="store_true", help="reads: also drive the bare Starlette app")
    args = parser.parse_args()
    users = parse_size(args.users)
    workdir = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-ab-{os.getpid()}"
    workdir.mkdir(parents=True, exist_ok=True)
    db = data.create(args.database, users, workdir)
    twins = [data.twin(db, f"tree{i}", workdir) for i in range(len(args.trees))]
    commits_db = data.twin(db, "commits", workdir)
    token = secrets.token_urlsafe(16)
    gateways: list[Server] = []
    baseline: Server | None = None
    results: dict[str, list[float]] = {}
    try:
        for tree, twin in zip(args.trees, twins, strict=True):
            os.environ["PYTHONPATH"] = str(Path(tree).resolve())
            gateways.append(servers.start_gateway(twin.url, db.dialect, token, workdir))
        os.environ.pop("PYTHONPATH")
        if args.baseline:
            http.capture_bodies(gateways[0], workdir / "bodies.json")
            baseline = servers.start_baseline(workdir / "bodies.json", workdir)
        for round_ in range(args.rounds):
            order = list(enumerate(gateways))
            for script in args.scripts.split(","):
                for connections in map(int, args.conns.split(",")):
                    for i, gateway in order if round_ % 2 == 0 else order[::-1]:
                        cpu, (writes, batches) = cpu_seconds(gateway), commits_so_far(gateway)
                        env = http.script_env(token, users)
                        run = wrk.run(gateway.base, script, args.seconds, env, connections)
                        if not run.ok:
                            raise RuntimeError(f"{script} on tree {i}: {run}")
                        now_writes, now_batches = commits_so_far(gateway)
                        name = f"{script}-{connections}"
                        results.setdefault(f"{name} req/s #{i}", []).append(run.rps)
                        per_request = (cpu_seconds(gateway) - cpu) / max(run.requests, 1) * 1e6
                        results.setdefault(f"{name} cpu us #{i}", []).append(per_request)
                        if script in WRITES:
                            per_batch = (now_writes - writes) / max(now_batches - batches, 1)
                            results.setdefault(f"{name} per commit #{i}", []).append(per_batch)
                        else:
                            results.setdefault(f"{name} p99 ms #{i}", []).append(run.p99_ms)
                    if baseline is not None and script not in WRITES:
                        cpu = cpu_seconds(baseline)
                        run = wrk.run(
                            baseline.base, script, args.seconds, http.script_env(token, users), connections
                        )
                        if not run.ok:
                            raise RuntimeError(f"{script} on the baseline: {run}")
                        name = f"{script}-{connections}"
                        results.setdefault(f"{name} req/s #base", []).append(run.rps)
                        per_request = (cpu_seconds(baseline) - cpu) / max(run.requests, 1) * 1e6
                        results.setdefault(f"{name} cpu us #base", []).append(per_request)
                        results.setdefault(f"{name} p99 ms #base", []).append(run.p99_ms)
                if script not in WRITES:  # reads: no commits to count, no raw commit rate
                    continue
                kind = "insert" if script == "post" else "update"
                rate = probe("commits", commits_db.url, db.dialect, kind, args.seconds, users)["rate"]
                results.setdefault(f"raw {kind} commits/s", []).append(rate)
            print(f"round {round_ + 1}/{args.rounds} done, load {os.getloadavg()}", flush=True)
    finally:
        for gateway in gateways:
            gateway.stop()
        if baseline is not None:
            baseline.stop()
        for scratch in (*twins, commits_db, db):
            scratch.drop()
    for key, values in results.items():
        line = f"{key:32} median {statistics.median(values):9.1f}  {[round(v, 1) for v in values]}"
        stem, _, tree = key.rpartition(" #")
        if tree.isdigit() and int(tree) > 0:
            before = results[f"{stem} #{int(tree) - 1}"]
            ratios = [b / a for a, b in zip(before, values, strict=True) if a]
            if ratios:
                median = statistics.median(ratios)
                line += f"  vs #{int(tree) - 1}: {median:.2f}x {[round(r, 2) for r in ratios]}"
        base = results.get(f"{stem} #base")
        if tree.isdigit() and base and " p99 " not in stem:  # as measures 1 and 2: tree over base
            pairs = zip(base, values, strict=True)
            ratios = [b / a if "req/s" in stem else a / b for a, b in pairs if a and b]
            line += f"  vs base: {statistics.median(ratios):.2f}x"
        print(line)


if __name__ == "__main__":
    main()
