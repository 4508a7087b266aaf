"""Run wrk against a server and parse what it reports.

The client is pinned to the client core, with a fixed concurrency (16 connections, one thread).
Each script in ``bench/lua`` is run with ``common.lua`` prepended; its ``done()`` prints one
``BENCH_RESULT {json}`` line, which is parsed here (wrk's own text summary is kept for the log).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.servers import CLIENT_CPU, pinned

LUA = Path(__file__).resolve().parent / "lua"
CONNECTIONS = 16
THREADS = 1
MARKER = "BENCH_RESULT "


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: int  # socket errors (connect, read, write, timeout)
    non_2xx: int  # responses with a status outside 2xx/3xx

    @property
    def ok(self) -> bool:
        return self.requests > 0 and self.errors == 0 and self.non_2xx == 0

    def as_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok}


def ensure_wrk() -> str:
    """The wrk executable, installed with apt-get when missing."""
    found = shutil.which("wrk")
    if found:
        return found
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run([*sudo, "apt-get", "install", "-y", "wrk"], check=True)
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is not installed and apt-get could not install it")
    return found


def script(name: str) -> Path:
    """``common.lua`` followed by ``<name>.lua``, written to a temporary file."""
    text = (LUA / "common.lua").read_text() + "\n" + (LUA / f"{name}.lua").read_text()
    handle = tempfile.NamedTemporaryFile("w", prefix=f"bench-{name}-", suffix=".lua", delete=False)
    with handle:
        handle.write(text)
    return Path(handle.name)


def run(
    url: str,
    name: str,
    seconds: float,
    env: dict[str, str],
    connections: int = CONNECTIONS,
    threads: int = THREADS,
    cpu: int | None = CLIENT_CPU,
) -> WrkResult:
    """Drive ``url`` with ``bench/lua/<name>.lua`` for ``seconds``; ``env`` feeds the script
    (BENCH_TOKEN, BENCH_USERS, BENCH_PREFIX, BENCH_BASE)."""
    lua = script(name)
    try:
        argv = [
            ensure_wrk(),
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "--latency",
            "-s",
            str(lua),
            url,
        ]
        completed = subprocess.run(
            pinned(cpu, argv), env={**os.environ, **env}, capture_output=True, text=True, check=True
        )
    finally:
        lua.unlink(missing_ok=True)
    return parse(completed.stdout)


def parse(output: str) -> WrkResult:
    """The ``BENCH_RESULT`` line of wrk's output as a :class:`WrkResult`."""
    for line in output.splitlines():
        if line.startswith(MARKER):
            data = json.loads(line[len(MARKER) :])
            break
    else:
        raise ValueError(f"wrk printed no {MARKER.strip()} line:\n{output}")
    seconds = data["duration_us"] / 1e6
    return WrkResult(
        requests=data["requests"],
        seconds=seconds,
        rps=data["requests"] / seconds if seconds else 0.0,
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        errors=data["connect"] + data["read"] + data["write"] + data["timeout"],
        non_2xx=data["status"],
    )
