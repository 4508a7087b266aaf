"""The one way the tests start a real ``mapper serve`` process: :class:`ServedGateway`.

A process of the HR example (or another mapping) on a given database, on a port the OS chose
(:func:`free_port`), its output in a log file (never a pipe that could fill), ready once
``/readyz`` answers 200. ``with ServedGateway(...) as gateway`` starts it and stops it;
``kill()`` is SIGKILL, and ``start()`` again restarts it on the same database and port.

Other commands that end in ``mapper serve`` (the container's entrypoint script, the systemd
unit's ``ExecStart``, several connectors from a folder) run through it too: ``command`` replaces
the command line, ``whole_environ`` makes ``environ`` the process's whole environment, and
``ready_path`` is the readiness URL to wait for.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from mapper.plan import dialect_of as plan_dialect
from mapper.runtime.database import engine_url

ROOT = Path(__file__).resolve().parents[2]
HR = ROOT / "examples" / "hr"
HR_MAP = HR / "hr.map"
TOKEN = "reliability-token-5b1e7c"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SAMPLE_USERS = 20  # the users of examples/hr/sample-data.sql


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def dialect_of(url: str) -> str:
    """The plan dialect (``write=``) of a database URL."""
    backend = engine_url(url).get_backend_name()
    return plan_dialect(backend) or backend


class ServedGateway:
    """A real ``mapper serve`` process of ``mapping`` (the HR example) on ``url``.

    On SQLite the file is created with the HR schema and sample data when absent (``--create-schema``
    and ``--seed``); other databases must be loaded already (the ``hr_postgres`` fixture). The
    process's output goes to ``log_path`` (appended across restarts). ``extra`` are more
    ``mapper serve`` arguments; the bearer token is ``token``, under the client name ``client``;
    ``scheme`` and ``verify`` are for a gateway serving TLS.

    ``command`` is a whole command line to run instead (on ``port``, chosen before it is built);
    with ``whole_environ`` the process's environment is ``environ`` alone (no token, no database
    URL added); ``ready_path`` is polled for readiness; the process runs in ``cwd``."""

    def __init__(
        self,
        url: str,
        log_path: Path,
        *extra: str,
        environ: dict[str, str] | None = None,
        token: str = TOKEN,
        client: str = "reliability",
        mapping: Path = HR_MAP,
        scheme: str = "http",
        verify: Any = True,
        command: Sequence[str] | None = None,
        port: int | None = None,
        whole_environ: bool = False,
        ready_path: str = "/readyz",
        cwd: Path = ROOT,
    ) -> None:
        self.url = url
        self.log_path = log_path
        self.extra = extra
        self.environ = environ or {}
        self.token = token
        self.client = client
        self.mapping = mapping
        self.scheme = scheme
        self.verify = verify
        self.command = None if command is None else list(command)
        self.port = free_port() if port is None else port
        self.whole_environ = whole_environ
        self.ready_path = ready_path
        self.cwd = cwd
        self.process: subprocess.Popen[bytes] | None = None
        self.bootstrap = True  # on SQLite: --create-schema and --seed

    @property
    def root(self) -> str:
        """The server's root URL (``/readyz`` lives here)."""
        return f"{self.scheme}://127.0.0.1:{self.port}"

    @property
    def base(self) -> str:
        """The SCIM base URL."""
        return f"{self.root}/scim/v2"

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def argv(self) -> list[str]:
        if self.command is not None:
            return self.command
        argv = [sys.executable, "-m", "mapper", "serve", str(self.mapping), f"--port={self.port}"]
        dialect = dialect_of(self.url)
        if dialect == "sqlite":
            if self.bootstrap:
                argv += [f"--create-schema={HR / 'schema.sql'}", f"--seed={HR / 'sample-data.sql'}"]
        else:
            argv.append(f"--dialect={dialect}")
        return [*argv, *self.extra]

    def start(self, ready_within: float = 60.0) -> ServedGateway:
        """Start the process and wait (a bounded number of polls) until ``/readyz`` answers 200."""
        self.spawn()
        return self.wait_ready(ready_within)

    def spawn(self) -> ServedGateway:
        """Start the process without waiting for anything. ``environ`` may override the token and
        the database URL."""
        assert self.process is None or self.process.poll() is not None, "already running"
        if self.whole_environ:
            env = dict(self.environ)
        else:
            env = {**os.environ, "MAPPER_TOKEN": f"{self.client}:{self.token}", "HR_DATABASE_URL": self.url}
            env.update(self.environ)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.argv(),
                env=env,
                cwd=self.cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        return self

    def wait_ready(self, ready_within: float = 60.0, path: str | None = None) -> ServedGateway:
        """Wait (a bounded number of polls) until ``path`` (``ready_path``) answers 200.

        With ``--workers N`` each worker imports in the background and answers 503 until it has,
        so one 200 says nothing of the others: then 24 requests in a row, each on a connection of
        its own (the kernel picks the worker), must answer 200; a worker still importing would
        be reached by about 1 in N of them."""
        assert self.process is not None
        url = f"{self.root}{path or self.ready_path}"
        several = any(a.startswith("--workers") and a not in ("--workers=1",) for a in self.extra)
        needed = 24 if several else 1
        in_a_row = 0
        deadline = time.monotonic() + ready_within
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                raise RuntimeError(f"mapper serve exited with {code}:\n{self.log()[-3000:]}")
            try:
                ok = httpx.get(url, timeout=2, verify=self.verify).status_code == 200
            except httpx.TransportError:
                ok = False
            in_a_row = in_a_row + 1 if ok else 0
            if in_a_row >= needed:
                return self
            time.sleep(0.01 if in_a_row else 0.1)
        self.stop()
        raise RuntimeError(f"mapper serve was not ready within {ready_within} s:\n{self.log()[-3000:]}")

    def exit_code(self, within: float = 60.0) -> int:
        """The process's exit code, once it has exited by itself (a bound on the test: never a
        timing claim)."""
        assert self.process is not None
        try:
            return self.process.wait(timeout=within)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"mapper serve still ran after {within} s:\n{self.log()[-3000:]}") from None

    def __enter__(self) -> ServedGateway:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, as a power cut or the OOM killer would."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self, within: float = 15.0) -> int | None:
        """SIGTERM, then SIGKILL if the process still runs ``within`` seconds later; its exit code
        (None when it never started)."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=within)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.process.returncode

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def wait_for_log(self, text: str, polls: int = 100) -> str:
        """The log once it holds ``text`` (the server writes some lines a moment after a response)."""
        for _ in range(polls):
            log = self.log()
            if text in log:
                return log
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared in the log:\n{self.log()}")

    def rss_kib(self) -> int:
        """The process's resident set size (``VmRSS`` of ``/proc/<pid>/status``), in KiB."""
        status = Path(f"/proc/{self.pid}/status").read_text()
        match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        assert match, "no VmRSS in /proc status"
        return int(match.group(1))
