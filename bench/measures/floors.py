"""The write floor (measure 3's physical limit): what a minimal Python ASGI service reaches for a
durable POST on this machine, against the same strict raw serial commit rate as the gateway's
POST, in the same run.

Three servers, each one uvicorn worker pinned to the server core with the gateway's settings, are
driven in turn by the bench's own ``post.lua`` (wrk on the client core) at 16 and 64 connections:

- ``floor_serial``: :mod:`bench.floor_app` with one commit per request;
- ``floor_group``: the same app with a minimal group commit (every waiting row, one commit);
- ``gateway``: ``mapper serve`` on the HR example, as measure 3 runs it.

Between them, the strict baseline (:mod:`bench.measures.commits`, the bare driver, one INSERT per
transaction) runs in a subprocess on the server core. Each figure is the median over rounds of
that round's rate over the round's strict rate; each server's CPU time per request (from
``/proc/PID/stat``) is reported beside it, which holds far better than rates on a loaded machine.
If ``floor_group`` stays under 0.8x, no single Python worker on these cores can meet measure 3.

Run (it creates and drops its own databases)::

    python -m bench.measures.floors --databases sqlite,postgres --users 100k --seconds 5 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shlex
import statistics
import sys
import tempfile
from pathlib import Path

from bench import data, servers, wrk
from bench.measures.http import cpu_seconds, raw_commits, script_env

SIDES = ("floor_serial", "floor_group", "gateway")


def start_floor(db: data.BenchDatabase, mode: str, logdir: Path) -> servers.Server:
    port = servers.free_port()
    argv = servers.pinned(servers.SERVER_CPU, servers.uvicorn_argv("bench.floor_app:app", port))
    env = {**os.environ, "FLOOR_URL": db.url, "FLOOR_DIALECT": db.dialect, "FLOOR_MODE": mode}
    return servers._start(f"floor_{mode}", argv, env, port, logdir / f"floor-{db.dialect}-{mode}.log", 60)


def drive(server: servers.Server, token: str, users: int, seconds: float, conns: int) -> dict:
    before = cpu_seconds(server.process.pid)
    result = wrk.run(server.base, "post", seconds, script_env(token, users), conns).as_dict()
    used = cpu_seconds(server.process.pid) - before
    result["cpu_us_per_request"] = 1e6 * used / result["requests"] if result["requests"] else None
    return result


def measure(dialect: str, users: int, seconds: float, rounds: int, conns: list[int], workdir: Path) -> dict:
    db = data.create(dialect, users, workdir)
    token = secrets.token_urlsafe(24)
    result: dict = {"database": dialect, "users": users, "loadavg_before": os.getloadavg(), "rounds": []}
    try:
        gateway = servers.start_gateway(db.url, dialect, token, workdir)
        with (
            gateway,
            start_floor(db, "serial", workdir) as serial,
            start_floor(db, "group", workdir) as group,
        ):
            by_side = {"floor_serial": serial, "floor_group": group, "gateway": gateway}
            for _ in range(rounds):
                strict = raw_commits(db.url, dialect, "insert", seconds, users)
                this = {"strict": strict["rate"], "runs": {}}
                for c in conns:
                    for side in SIDES:
                        this["runs"][f"{side}_{c}"] = drive(by_side[side], token, users, seconds, c)
                this["strict_after"] = raw_commits(db.url, dialect, "insert", seconds, users)["rate"]
                result["rounds"].append(this)
                print(f"   {dialect} floors round: {summary_line(this, conns)}", file=sys.stderr, flush=True)
            _, body = group.get("/stats")
            result["group_stats"] = json.loads(body)
    finally:
        db.drop()
    result["loadavg_after"] = os.getloadavg()
    result["figures"] = figures(result["rounds"], conns)
    return result


def strict_of(one: dict) -> float:
    """A round's strict rate: the mean of the runs before and after its HTTP runs."""
    return (one["strict"] + one["strict_after"]) / 2


def summary_line(one: dict, conns: list[int]) -> str:
    strict = strict_of(one)
    parts = [f"strict {strict:,.0f}/s"]
    for key, run in one["runs"].items():
        parts.append(f"{key} {run['rps']:,.0f}/s ({run['rps'] / strict:.2f}x)")
    return ", ".join(parts)


def figures(rounds: list[dict], conns: list[int]) -> dict:
    out: dict = {"strict": statistics.median(strict_of(r) for r in rounds)}
    for c in conns:
        for side in SIDES:
            key = f"{side}_{c}"
            runs = [(r["runs"][key], strict_of(r)) for r in rounds]
            ok = [(run, strict) for run, strict in runs if run["ok"]]
            cpu = [run["cpu_us_per_request"] for run, _ in ok if run["cpu_us_per_request"]]
            out[key] = {
                "rps": statistics.median(run["rps"] for run, _ in ok) if ok else None,
                "ratio": statistics.median(run["rps"] / strict for run, strict in ok) if ok else None,
                "cpu_us_per_request": statistics.median(cpu) if cpu else None,
                "failed_runs": len(runs) - len(ok),
            }
    return out


def table(results: list[dict], conns: list[int]) -> str:
    lines = [
        "| database | users | strict commits/s | server | conns | req/s | / strict | CPU µs per request |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        f = result["figures"]
        for c in conns:
            for side in SIDES:
                g = f[f"{side}_{c}"]
                rps = "-" if g["rps"] is None else f"{g['rps']:,.0f}"
                ratio = "-" if g["ratio"] is None else f"{g['ratio']:.2f}x"
                cpu = "-" if g["cpu_us_per_request"] is None else f"{g['cpu_us_per_request']:,.0f}"
                lines.append(
                    f"| {result['database']} | {result['users']:,} | {f['strict']:,.0f} | {side} | {c} "
                    f"| {rps} | {ratio} | {cpu} |"
                )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from bench.__main__ import parse_size

    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(
        prog="python -m bench.measures.floors", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--users", default="100k")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--conns", default="16,64")
    parser.add_argument("--output", type=Path, default=None, help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    conns = [int(c) for c in args.conns.split(",")]
    wrk.ensure_wrk()
    results = []
    with tempfile.TemporaryDirectory(prefix="mapper-floors-") as tmp:
        for dialect in args.databases.split(","):
            results.append(
                measure(dialect.strip(), parse_size(args.users), args.seconds, args.rounds, conns, Path(tmp))
            )
    if args.output:
        args.output.write_text(json.dumps(results, indent=1) + "\n")
    print(table(results, conns))
    loads = ", ".join(
        f"{r['database']} {r['loadavg_before'][0]:.1f}-{r['loadavg_after'][0]:.1f}" for r in results
    )
    print(f"\nload average (1 min) before-after: {loads}")
    print("reproduce: " + shlex.join([".venv/bin/python", "-m", "bench.measures.floors", *argv]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
