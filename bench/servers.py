"""Start and stop the servers under test, each a subprocess pinned to the server core.

The gateway is started with the real CLI (``mapper serve``); the baseline is the bare Starlette app
in :mod:`bench.baseline` under the same uvicorn settings (uvloop, httptools, no access log, one
worker). Both are ready when ``/readyz`` answers 200.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from bench.data import HR_MAP, ROOT

BIN = Path(sys.executable).parent
BASE_PATH = "/scim/v2"
SERVER_CPU = 0
CLIENT_CPU = 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pinned(cpu: int | None, argv: list[str]) -> list[str]:
    """``argv`` run under ``taskset -c cpu`` (or as is when ``cpu`` is None or taskset is missing)."""
    if cpu is None or not Path("/usr/bin/taskset").exists():
        return argv
    return ["taskset", "-c", str(cpu), *argv]


@dataclass
class Server:
    """A running server subprocess; ``base`` is its URL root ("http://127.0.0.1:P")."""

    name: str
    process: subprocess.Popen
    port: int
    log: Path
    ready_seconds: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str) -> tuple[int, bytes]:
        request = urllib.request.Request(self.base + path, headers=self.headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _start(name: str, argv: list[str], env: dict[str, str], port: int, log: Path, timeout: float) -> Server:
    started = time.perf_counter()
    with log.open("wb") as out:
        process = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    server = Server(name, process, port, log)
    deadline = started + timeout
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}; see {log}:\n{tail(log)}")
        try:
            with urllib.request.urlopen(f"{server.base}/readyz", timeout=2) as response:
                if response.status == 200:
                    server.ready_seconds = time.perf_counter() - started
                    return server
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"{name} not ready after {timeout:.0f} s; see {log}:\n{tail(log)}")


def tail(path: Path, lines: int = 20) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def start_gateway(
    database_url: str,
    dialect: str,
    token: str,
    logdir: Path,
    workers: int = 1,
    timeout: float = 1800,
    *,
    pin: bool = True,
    coherence: str = "auto",
) -> Server:
    """``mapper serve examples/hr/hr.map`` on ``database_url``: one worker pinned to the server
    core, or (``pin=False``, or several ``workers``: ``mapper serve --workers N``) unpinned, so the
    workers use every core. ``coherence`` is its ``--coherence``."""
    port = free_port()
    env = {**os.environ, "MAPPER_TOKEN": token, "HR_DATABASE_URL": database_url}
    argv = [str(BIN / "mapper"), "serve", str(HR_MAP), "--port", str(port), "--log-level", "warning"]
    argv += ["--workers", str(workers), "--coherence", coherence]
    if dialect != "sqlite":
        argv += ["--dialect", dialect]
    if workers == 1 and pin:
        argv = pinned(SERVER_CPU, argv)
    server = _start(
        "gateway", argv, env, port, logdir / f"gateway-{dialect}-{workers}-{coherence}.log", timeout
    )
    server.headers = {"Authorization": f"Bearer {token}"}
    return server


def uvicorn_argv(app: str, port: int, workers: int = 1, factory: bool = False) -> list[str]:
    """uvicorn with the settings ``mapper serve`` uses: uvloop, httptools, no access log, no
    Server header."""
    argv = [str(BIN / "python"), "-m", "uvicorn", app, "--port", str(port), "--workers", str(workers)]
    argv += ["--loop", "uvloop", "--http", "httptools", "--no-access-log", "--no-server-header"]
    argv += ["--log-level", "warning"]
    return argv + (["--factory"] if factory else [])


def start_baseline(
    bodies: Path, logdir: Path, timeout: float = 60, workers: int = 1, *, pin: bool = True
) -> Server:
    """The bare Starlette app (:mod:`bench.baseline`) on uvicorn with the gateway's settings: one
    worker pinned to the server core, or (``pin=False``, or several ``workers``) unpinned, as
    :func:`start_gateway` runs them."""
    port = free_port()
    argv = uvicorn_argv("bench.baseline:app", port, workers)
    if workers == 1 and pin:
        argv = pinned(SERVER_CPU, argv)
    env = {**os.environ, "BENCH_BODIES": str(bodies)}
    return _start("baseline", argv, env, port, logdir / f"baseline-{workers}.log", timeout)
