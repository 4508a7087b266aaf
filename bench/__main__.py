"""The bench's one command::

    .venv/bin/python -m bench --sizes 10k,100k,1m --databases sqlite,postgres --repeat 3
    .venv/bin/python -m bench --smoke        # 10k users, SQLite, one short repetition

For each database and size it generates the HR example's data, measures the in-process figures
(full import, memory, delta sync) in fresh subprocesses, then starts the gateway with the real CLI
and the bare Starlette baseline and drives both with wrk. It prints a table with each figure
against its target, writes bench/results/latest.json, and prints the command that reproduces it.
Exit status: 0 when every measure produced a number (targets missed or not), 1 otherwise.
"""

from __future__ import annotations

import argparse
import datetime
import os
import secrets
import shlex
import sys
import tempfile
import time
import traceback
from pathlib import Path

from bench import data, report, servers, wrk
from bench.measures import floors, http, probe
from bench.report import Row, median, ratio_row

DELTA_CHANGES = 100
TARGET_USERS = 1_000_000  # the memory and delta targets are stated at 1M users
FLOOR_CONNS = [16, 64]
TRACEMALLOC_MAX_USERS = 100_000  # tracing costs a second import and its memory: only at small sizes


def parse_size(text: str) -> int:
    text = text.strip().lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("km")) * scale)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", default="10k,100k", help="user counts, e.g. 10k,100k,1m (default 10k,100k)"
    )
    parser.add_argument("--databases", default="sqlite,postgres", help="sqlite,postgres (default both)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="repetitions of each measure; the median is kept"
    )
    parser.add_argument("--seconds", type=float, default=10, help="duration of each wrk run (default 10)")
    parser.add_argument(
        "--workers",
        default="",
        help="also measure reads and creates with mapper serve --workers N for these counts, e.g. 1,2,4 "
        "(1 also runs with --coherence off)",
    )
    parser.add_argument(
        "--workers-only", action="store_true", help="only the --workers figures (no other measure)"
    )
    parser.add_argument(
        "--floors",
        action="store_true",
        help="also measure the write floor (bench.measures.floors: a bare Starlette app committing "
        "POSTs per request and grouped) at the first size",
    )
    parser.add_argument("--output", type=Path, default=report.RESULTS / "latest.json")
    parser.add_argument(
        "--smoke", action="store_true", help="10k users, SQLite, 1 repetition of 2 s: checks the bench runs"
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.sizes, args.databases, args.repeat, args.seconds = "10k", "sqlite", 1, 2
    args.size_list = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    args.database_list = [d.strip() for d in args.databases.split(",") if d.strip()]
    args.worker_list = [int(w) for w in args.workers.split(",") if w.strip()]
    return args


class Run:
    """The figures of one database at one size, and the errors of measures that failed."""

    def __init__(self, database: str, users: int) -> None:
        self.database = database
        self.users = users
        self.rows: list[Row] = []
        self.raw: dict = {}

    def failed(self, keys: tuple[str, ...], error: BaseException) -> None:
        message = f"{type(error).__name__}: {error}".splitlines()[0][:300]
        traceback.print_exception(error, file=sys.stderr)
        for key in keys:
            self.rows.append(Row(key, None, None, "", None, error=message))

    def as_dict(self) -> dict:
        return {
            "database": self.database,
            "users": self.users,
            "rows": [row.as_dict() for row in self.rows],
            "raw": self.raw,
        }


def in_process(run: Run, db: data.BenchDatabase, repeat: int, trace: bool) -> None:
    """Measures 4-6: full import against a plain fetch loop, memory per user, one delta cycle."""
    fetches, imports = [], []
    for _ in range(repeat):
        fetches.append(probe("imports", "fetch", db.url, db.dialect))
        imports.append(probe("imports", "gateway", db.url, db.dialect, DELTA_CHANGES, db.users))
    run.raw["fetch"], run.raw["import"] = fetches, imports
    if trace and db.users <= TRACEMALLOC_MAX_USERS:
        args = ("gateway", db.url, db.dialect, DELTA_CHANGES, db.users, "--tracemalloc")
        run.raw["import_traced"] = probe("imports", *args)
    gateway_rate = median([r["rows_per_s"] for r in imports])
    run.rows.append(
        ratio_row(
            "import",
            gateway_rate,
            median([r["rows_per_s"] for r in fetches]),
            "rows/s",
            floor_note(run, db, repeat),
        )
    )
    per_user = median([r["bytes_per_user"] for r in imports])
    notes = [] if db.users >= TARGET_USERS else ["target is at 1M; fixed costs weigh more here"]
    if run.raw.get("import_traced", {}).get("traced_bytes_per_user"):
        notes.append(f"tracemalloc {run.raw['import_traced']['traced_bytes_per_user']:.0f} B")
    run.rows.append(Row("memory", per_user, None, "B", per_user, "; ".join(notes)))
    delta = median([r["delta_seconds"] for r in imports])
    full = median([r["seconds"] for r in imports])
    seen = [r["delta_seen"] for r in imports]
    run.rows.append(Row("delta", delta, full, "s", delta / full if delta and full else None, f"saw {seen}"))
    scan = median([r["delete_scan_seconds"] for r in imports])
    run.rows.append(
        Row("delete_scan", scan, full, "s", scan / full if scan and full else None, "vs full import")
    )


def floor_note(run: Run, db: data.BenchDatabase, repeat: int) -> str:
    """The import floor (:mod:`bench.measures.import_floor`): CPU per row against the fetch's when
    rows are only kept, kept as records, and the gateway's import, in one process."""
    try:
        floor = run.raw["import_floor"] = probe("import_floor", db.url, db.dialect, repeat)
    except Exception as error:  # noqa: BLE001 - a note only; the measure itself stands
        return f"import floor failed: {str(error).splitlines()[0][:100]}"
    ratio = floor["ratio_to_fetch"]
    return (
        f"CPU per row vs fetch: rows kept {ratio['keep']:.2f}x, as records {ratio['records']:.2f}x, "
        f"+indexes {ratio['indexes']:.2f}x, import {ratio['import']:.2f}x"
    )


def wrk_row(key: str, gateway: list[dict], baseline: list[dict] | None, unit: str = "req/s") -> Row:
    bad = [r for r in gateway + (baseline or []) if not r["ok"]]
    rps = median([r["rps"] for r in gateway])
    base = median([r["rps"] for r in baseline]) if baseline else None
    row = ratio_row(key, rps, base, unit)
    if baseline and all("cpu_us" in r for r in gateway + baseline):
        ours = median([r["cpu_us"] for r in gateway])
        theirs = median([r["cpu_us"] for r in baseline])
        if ours:
            row.note = f"CPU per request {ours:.1f} µs, bare app {theirs:.1f} µs: {theirs / ours:.2f}x by CPU"
    if bad:
        row.error = f"{sum(r['non_2xx'] for r in bad)} non-2xx, {sum(r['errors'] for r in bad)} socket errors"
        row.value = None
    return row


def over_http(run: Run, db: data.BenchDatabase, args: argparse.Namespace, workdir: Path) -> None:
    """Measures 1-3 against the gateway started with ``mapper serve``. The raw commit loops write
    to a twin of the database (:func:`bench.data.twin`), so their rows never go stale in the
    gateway's cache under the PATCHes that follow them."""
    token = secrets.token_urlsafe(24)
    commits_db = data.twin(db, "commits", workdir)
    try:
        with servers.start_gateway(db.url, db.dialect, token, workdir) as gateway:
            run.raw["gateway_ready_seconds"] = gateway.ready_seconds
            bodies = workdir / "bodies.json"
            run.raw["body_sizes"] = http.capture_bodies(gateway, bodies)
            try:
                with servers.start_baseline(bodies, workdir) as baseline:
                    reads = http.reads(gateway, baseline, token, db.users, args.seconds, args.repeat)
                run.raw["reads"] = reads
                filtered = reads["get_filter"]
                run.rows.append(wrk_row("get_filter", filtered["gateway"], filtered["baseline"]))
                p99 = median([r["p99_ms"] for r in filtered["gateway"]])
                base_p99 = median([r["p99_ms"] for r in filtered["baseline"]])
                run.rows.append(Row("get_filter_p99", p99, base_p99, "ms", p99))
                run.rows.append(wrk_row("get_id", reads["get_id"]["gateway"], reads["get_id"]["baseline"]))
            except Exception as error:  # noqa: BLE001 - record it and go on to the writes
                run.failed(("get_filter", "get_filter_p99", "get_id"), error)
            writes = http.writes(
                gateway,
                token,
                commits_db.url,
                db.dialect,
                db.users,
                args.seconds,
                args.repeat,
                engine=not args.smoke,
            )
    finally:
        commits_db.drop()
    run.raw["writes"] = writes
    for key, _script, connections, kind in http.WRITES:
        row = wrk_row(key, writes[key], None)
        strict = median([c["rate"] for c in writes["commits"][kind]])
        engine = median([c["rate"] for c in writes["commits_database"][kind]])
        if row.gateway is not None:
            row.baseline = strict
            row.value = row.gateway / strict if row.error is None and strict else None
            row.note = f"{connections} conns; via the gateway's Database {engine:,.0f}/s" if engine else ""
        run.rows.append(row)


def multi_worker(run: Run, db: data.BenchDatabase, args: argparse.Namespace, workdir: Path) -> None:
    """Reads and creates with ``mapper serve --workers N`` (each worker with its own cache, kept
    coherent by ``--coherence auto``), neither side pinned; and one worker with ``--coherence
    off``, for what coherence costs."""
    token = secrets.token_urlsafe(24)
    run.raw["workers"] = {}
    shapes = [(workers, "auto") for workers in args.worker_list]
    if 1 in args.worker_list:
        shapes.append((1, "off"))
    bodies = workdir / "worker-bodies.json"
    for workers, coherence in shapes:
        with servers.start_gateway(
            db.url, db.dialect, token, workdir, workers=workers, pin=False, coherence=coherence
        ) as gateway:
            if not bodies.exists():
                http.capture_bodies(gateway, bodies)
            figures = _worker_reads(gateway, ("get_filter", "get_id", "post"), token, db.users, args)
        key = str(workers) if coherence == "auto" else f"{workers}-coherence-{coherence}"
        run.raw["workers"][key] = figures
        _say_workers(f"{db.dialect} workers={workers} coherence={coherence}", figures)
    # The bare app's own scaling on this machine, with wrk on the same cores, in the same run: what
    # two workers can give at most here, whatever the gateway does.
    run.raw["baseline_workers"] = {}
    for workers in sorted({w for w in args.worker_list if w in (1, 2)}):
        with servers.start_baseline(bodies, workdir, workers=workers, pin=False) as baseline:
            figures = _worker_reads(baseline, ("get_filter", "get_id"), token, db.users, args)
        run.raw["baseline_workers"][str(workers)] = figures
        _say_workers(f"bare baseline workers={workers}", figures)
    one, two = run.raw["workers"].get("1"), run.raw["workers"].get("2")
    if one and two:
        by_id = two["get_id"]["rps"] / one["get_id"]["rps"] if one["get_id"]["rps"] else None
        note = f"filtered GET; GET by id {by_id:.2f}x" if by_id else "filtered GET"
        bare_one, bare_two = (run.raw["baseline_workers"].get(k) for k in ("1", "2"))
        if bare_one and bare_two and bare_one["get_filter"]["rps"] and bare_one["get_id"]["rps"]:
            filtered = bare_two["get_filter"]["rps"] / bare_one["get_filter"]["rps"]
            by_id_bare = bare_two["get_id"]["rps"] / bare_one["get_id"]["rps"]
            note += f"; the bare app's own two/one here: filtered {filtered:.2f}x, by id {by_id_bare:.2f}x"
        run.rows.append(
            ratio_row("workers", two["get_filter"]["rps"], one["get_filter"]["rps"], "req/s", note)
        )


def _worker_reads(
    server: servers.Server, scripts: tuple[str, ...], token: str, users: int, args: argparse.Namespace
) -> dict[str, dict]:
    """Each script against an unpinned server (wrk unpinned too), median of ``args.repeat`` runs."""
    figures = {}
    for name in scripts:
        results = [
            wrk.run(server.base, name, args.seconds, http.script_env(token, users), cpu=None).as_dict()
            for _ in range(args.repeat)
        ]
        figures[name] = {
            "rps": median([r["rps"] for r in results]),
            "p99_ms": median([r["p99_ms"] for r in results]),
            "runs": results,
        }
    return figures


def _say_workers(what: str, figures: dict[str, dict]) -> None:
    print(
        f"   {what}: "
        + ", ".join(f"{n} {f['rps']:.0f} req/s (p99 {f['p99_ms']:.1f} ms)" for n, f in figures.items()),
        file=sys.stderr,
        flush=True,
    )


def bench(database: str, users: int, args: argparse.Namespace, workdir: Path) -> Run:
    run = Run(database, users)
    print(f"== {database}, {users:,} users", file=sys.stderr, flush=True)
    started = time.perf_counter()
    try:
        db = data.create(database, users, workdir)
    except Exception as error:  # noqa: BLE001 - a missing server fails this run only
        run.failed(tuple(k for k in report.TARGETS if k not in (*report.COMPILE_KEYS, "workers")), error)
        return run
    run.raw["generate_seconds"] = time.perf_counter() - started
    run.raw["loadavg_before"] = os.getloadavg()  # other work on the machine skews every figure
    try:
        for keys, step in (
            ()
            if args.workers_only
            else (
                (
                    ("import", "memory", "delta", "delete_scan"),
                    lambda: in_process(run, db, args.repeat, not args.smoke),
                ),
                (
                    ("get_filter", "get_filter_p99", "get_id", *(key for key, *_ in http.WRITES)),
                    lambda: over_http(run, db, args, workdir),
                ),
            )
        ):
            try:
                step()
            except Exception as error:  # noqa: BLE001 - record it and go on to the next measure
                done = {row.key for row in run.rows}
                run.failed(tuple(k for k in keys if k not in done), error)
        if args.worker_list:
            try:
                multi_worker(run, db, args, workdir)
            except Exception as error:  # noqa: BLE001 - optional figures
                run.raw["workers_error"] = str(error)
    finally:
        db.drop()
        run.raw["loadavg_after"] = os.getloadavg()
    return run


def compile_measure(args: argparse.Namespace, workdir: Path) -> tuple[list[Row], dict]:
    """Measure 7's rows: compile / sqlglot at 50, 200 and 400 objects, and the time per object
    at 400 over that at 50 (in ms per object)."""
    try:
        result = probe("compile", workdir, 3 if args.smoke else max(args.repeat, 5))
    except Exception as error:  # noqa: BLE001
        message = str(error).splitlines()[0][:300]
        traceback.print_exception(error, file=sys.stderr)
        return [Row(key, None, None, "s", None, error=message) for key in report.COMPILE_KEYS], {}
    by_size = {size["objects"]: size for size in result["sizes"]}
    rows = [
        Row(key, by_size[n]["compile_seconds"], by_size[n]["sqlglot_seconds"], "s", by_size[n]["ratio"])
        for key, n in (("compile", 50), ("compile_200", 200), ("compile_400", 400))
    ]
    per_object = by_size[400]["seconds_per_object"] * 1000, by_size[50]["seconds_per_object"] * 1000
    rows.append(ratio_row("compile_scaling", *per_object, "ms", note="ms per object"))
    return rows, result


def command(argv: list[str]) -> str:
    return shlex.join([".venv/bin/python", "-m", "bench", *argv])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    wrk.ensure_wrk()
    started = datetime.datetime.now(datetime.UTC)
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="mapper-bench-") as tmp:
        workdir = Path(tmp)
        compile_rows, compile_raw = compile_measure(args, workdir)
        for users in args.size_list:
            for database in args.database_list:
                runs.append(bench(database, users, args, workdir))
        floor_results = []
        if args.floors and args.size_list:
            for database in args.database_list:
                try:
                    floor_results.append(
                        floors.measure(
                            database, args.size_list[0], args.seconds, args.repeat, FLOOR_CONNS, workdir
                        )
                    )
                except Exception as error:  # noqa: BLE001 - optional figures
                    traceback.print_exception(error, file=sys.stderr)
    document = {
        "command": command(argv),
        "started": started.isoformat(timespec="seconds"),
        "seconds": (datetime.datetime.now(datetime.UTC) - started).total_seconds(),
        "machine": report.machine(),
        "options": {
            "sizes": args.size_list,
            "databases": args.database_list,
            "repeat": args.repeat,
            "wrk_seconds": args.seconds,
            "connections": wrk.CONNECTIONS,
            "wrk_threads": wrk.THREADS,
            "server_cpu": servers.SERVER_CPU,
            "client_cpu": servers.CLIENT_CPU,
            "smoke": args.smoke,
        },
        "targets": {key: target.describe() for key, target in report.TARGETS.items()},
        "runs": [run.as_dict() for run in runs],
        "compile": {**compile_rows[0].as_dict(), "raw": compile_raw},
        "compile_more": [row.as_dict() for row in compile_rows[1:]],
    }
    if floor_results:
        document["floors"] = floor_results
    report.write_json(document, args.output)
    print(report.table([run.as_dict() | {"rows": run.rows} for run in runs], compile_rows))
    if floor_results:
        print("\nWrite floor (python -m bench.measures.floors), POST against the strict commit rate:")
        print(floors.table(floor_results, FLOOR_CONNS))
    print(f"\nJSON: {args.output}\nreproduce: {command(argv)}")
    errors = [row for run in runs for row in run.rows if row.error] + [r for r in compile_rows if r.error]
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
