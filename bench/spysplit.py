"""Where a gateway's request spends its time: ``mapper serve`` on a generated HR database,
POSTs (``bench/lua/post.lua``, or PATCHes, or the reads: GET by id, filtered GET) driven by wrk,
sampled by py-spy, and the samples split into the parts of a request.

Each busy sample (a thread not waiting) goes to the deepest of its frames that names a part, so
a log line written by the audit middleware counts as "audit log", not "middlewares". The event
loop's thread and the thread that runs the commit batches are split apart; the server's CPU time
per request (``/proc``) is printed beside them. py-spy is not a dependency of the project: it is
looked up on PATH or given with ``--py-spy`` (``pip install py-spy``). ``--script`` is one of
post (the default), patch, get_id and get_filter::

    python -m bench.spysplit --database sqlite --users 100k --seconds 10 --script patch
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import data, servers, wrk
from bench.measures.http import cpu_seconds, script_env

#: (part, pattern on a frame "function (file:line)"), the loop thread's parts
LOOP_PARTS = (
    ("audit log", r"audit_line|^Logger\.|^Handler\.|StreamHandler|logging/__init__"),
    (
        "render (resource to JSON)",
        r"Codec\.render|render_resource|orjson|rendering\.py|ResourceEndpoints\.respond",
    ),
    (
        "SCIM parse and validate",
        r"read_json|read_object|scim/names\.py|ResourceEndpoints\.incoming|Codec\.(values|items)|"
        r"store_checks\.py|attributes\.py|scim/patch|scim/schema",
    ),
    (
        "store: write path, locks, hand-off to the commit thread",
        r"store_writes\.py|group_commit\.py|Database\.run|runtime/locks\.py|to_thread|queue\.py|threading\.py",
    ),
    ("SCIM endpoint (routing within the SCIM app)", r"mapper/scim/routes/"),
    ("middlewares (front door, metrics, audit, proxy headers)", r"mapper/scim/|proxy_headers\.py"),
    ("Starlette (routing, request, response)", r"starlette/"),
    ("uvicorn and HTTP", r"uvicorn/|httptools"),
)
#: (part, pattern), the loop thread's parts for a cached read (``get_id``, ``get_filter``)
READ_PARTS = (
    ("version (the ETag's hash, on a record's first read)", r"record\.py|version_bytes|blake2"),
    ("render (record to resource)", r"Codec\.render|rendering\.py|<renderer"),
    (
        "response (location, body to JSON, headers)",
        r"scim/responses\.py|ResourceEndpoints\.output|routes/urls\.py",
    ),
    (
        "filter (query string, parse, key)",
        r"only_filter|unquote|parse_qsl|filtershape\.py|routes/search\.py|scimfilter",
    ),
    ("cache look-up (key, index)", r"store_reads\.py|runtime/cache\.py|runtime/keys\.py|store_base\.py"),
    ("read fast path (routes/reads.py)", r"routes/reads\.py"),
    ("metrics", r"scim/metrics\.py|scim/requestcount\.py"),
    ("connection guard", r"scim/connections\.py"),
    ("front door, auth, path", r"scim/front\.py|scim/auth\.py|scim/tokens\.py|routes/normalise\.py|hmac"),
    ("Starlette (response send)", r"starlette/"),
    ("uvicorn and HTTP", r"uvicorn/|httptools|proxy_headers\.py"),
)
#: the wrk scripts that read
READS = ("get_id", "get_filter")
#: the commit thread's parts
BATCH_PARTS = (
    ("commit (fsync wait)", r"do_commit|_do_commit|Transaction\.commit"),
    ("re-read of the written row", r"^fetch |rows\.py"),
    ("INSERT and child rows", r"Tx\.insert|child_writes|MultiSlot\.diff|StoreWrites\._insert"),
    ("uniqueness check, savepoints, other SQL", r"tx\.py|sqlalchemy/"),
    ("store write logic", r"store_writes\.py|store_checks\.py|codec\.py|database\.py"),
)
IDLE = re.compile(r"^(Condition\.wait|WorkerThread\.run \(anyio)")  # a worker waiting for work


def record(pyspy: str, pid: int, seconds: int, out: Path) -> subprocess.Popen:
    argv = [pyspy, "record", "-p", str(pid), "-d", str(seconds), "-r", "200", "-f", "raw", "-o", str(out)]
    return subprocess.Popen(
        [*argv, "--threads", "--nonblocking"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )


def split(raw: Path, loop_parts: tuple[tuple[str, str], ...] = LOOP_PARTS) -> dict[str, collections.Counter]:
    """``{"loop": Counter(part -> samples), "batch": ..., "other": ...}``."""
    threads: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        thread, *frames = stack.split(";")
        if not frames or IDLE.match(frames[-1]):
            continue
        text = ";".join(frames)
        if "MainThread" in thread:
            kind, parts = "loop", loop_parts
        elif "run_batch" in text or "run_job" in text:
            kind, parts = "batch", BATCH_PARTS
        else:
            kind, parts = "other", ()
        threads[kind][part_of(frames, parts)] += int(count)
    return threads


def part_of(frames: list[str], parts: tuple[tuple[str, str], ...]) -> str:
    if frames and frames[-1].startswith("Runner.run"):  # in uvloop's C code, which py-spy cannot see
        return "uvloop's own C code (I/O, HTTP parsing, callbacks)"
    for frame in reversed(frames):
        for name, pattern in parts:
            if re.search(pattern, frame):
                return name
    return "other (asyncio, anyio)"


def main(argv: list[str] | None = None) -> int:
    from bench.__main__ import parse_size

    parser = argparse.ArgumentParser(prog="python -m bench.spysplit", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="sqlite")
    parser.add_argument("--users", default="100k")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--conns", type=int, default=16)
    parser.add_argument("--script", default="post", choices=("post", "patch", *READS))
    parser.add_argument("--py-spy", default=shutil.which("py-spy") or "py-spy")
    parser.add_argument("--raw", type=Path, default=None, help="keep py-spy's raw samples in this file")
    args = parser.parse_args(argv)
    users = parse_size(args.users)
    token = secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory(prefix="mapper-spy-") as tmp:
        workdir = Path(tmp)
        db = data.create(args.database, users, workdir)
        try:
            with servers.start_gateway(db.url, db.dialect, token, workdir) as gateway:
                pid = gateway.process.pid
                spy = record(args.py_spy, pid, args.seconds, workdir / "raw.txt")
                time.sleep(0.5)
                before = cpu_seconds(pid)
                result = wrk.run(
                    gateway.base, args.script, args.seconds, script_env(token, users), args.conns
                )
                used = cpu_seconds(pid) - before
                spy.wait()
            threads = split(workdir / "raw.txt", READ_PARTS if args.script in READS else LOOP_PARTS)
            if args.raw:
                shutil.copyfile(workdir / "raw.txt", args.raw)
        finally:
            db.drop()
    print(
        f"{args.database}, {users:,} users, {args.script.upper()} at {args.conns} conns: "
        f"{result.rps:,.0f} req/s, {1e6 * used / max(result.requests, 1):,.0f} µs CPU per request "
        f"(load average {os.getloadavg()[0]:.1f})"
    )
    for kind, title in (
        ("loop", "event loop thread"),
        ("batch", "commit thread"),
        ("other", "other threads"),
    ):
        counts = threads.get(kind)
        if not counts:
            continue
        total = sum(counts.values())
        print(f"\n{title}: {total} busy samples")
        for part, n in counts.most_common():
            print(f"  {100 * n / total:5.1f} %  {part}")
    print("\nreproduce: " + " ".join([".venv/bin/python", "-m", "bench.spysplit", *(argv or sys.argv[1:])]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
