"""Shared pieces of the reliability suite (this module holds no tests).

- :class:`ServedGateway`: a real ``mapper serve`` process of the HR example on a given database,
  its output in a log file, with ``kill()`` (SIGKILL) and ``start()`` again on the same database;
- :func:`is_scim_error` / :func:`server_fault`: what every answer must look like;
- :func:`table_count` / :func:`table_rows`: the database as it is, read directly.

Every process and port is the OS's to choose and is cleaned up by the fixtures that use these.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from mapper.runtime.database import engine_url

ROOT = Path(__file__).resolve().parents[2]
HR = ROOT / "examples" / "hr"
HR_MAP = HR / "hr.map"
TOKEN = "reliability-token-5b1e7c"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SAMPLE_USERS = 20  # examples/hr/sample-data.sql
#: statuses a server fault may legitimately answer: not implemented, and unavailable (retry later)
ALLOWED_5XX = frozenset({501, 503})
#: what a traceback or an unhandled error leaves in the gateway's log
TRACEBACK = re.compile(r"Traceback \(most recent call last\)| ERROR |Exception in ASGI application")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def is_scim_error(response: httpx.Response) -> bool:
    """Whether ``response`` carries a well-formed SCIM Error message (RFC 7644 §3.12)."""
    if not response.headers.get("content-type", "").startswith("application/scim+json"):
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    return (
        isinstance(body, dict)
        and body.get("schemas") == [ERROR_SCHEMA]
        and body.get("status") == str(response.status_code)
        and isinstance(body.get("detail"), str)
        and bool(body["detail"])
        and (body.get("scimType") is None or isinstance(body["scimType"], str))
    )


def server_fault(response: httpx.Response) -> str | None:
    """Why ``response`` breaks the gateway's promise (a 5xx other than 501/503, an error without a
    SCIM error body, a 503 without Retry-After), or None when it keeps it."""
    status = response.status_code
    if status >= 500 and status not in ALLOWED_5XX:
        return f"status {status}"
    if status == 503 and not response.headers.get("retry-after", "").isdigit():
        return "503 without Retry-After"
    if status >= 400 and not is_scim_error(response):
        return f"status {status} without a SCIM error body"
    return None


def tracebacks(log: str) -> list[str]:
    """The log lines that show a traceback or an unhandled error."""
    return [line for line in log.splitlines() if TRACEBACK.search(line)]


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def _engine(url: str) -> Any:
    return create_engine(engine_url(url))


def table_count(url: str, table: str) -> int:
    engine = _engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())
    finally:
        engine.dispose()


def table_rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    engine = _engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql))]
    finally:
        engine.dispose()


def dialect_of(url: str) -> str:
    """The plan dialect (``write=``) of a database URL."""
    backend = engine_url(url).get_backend_name()
    return {"postgresql": "postgres", "mariadb": "mysql"}.get(backend, backend)


class ServedGateway:
    """A real ``mapper serve`` process of the HR example on ``url``.

    On SQLite the file is created with the HR schema and sample data when absent (``--create-schema``
    and ``--seed``); other databases must be loaded already (the ``hr_postgres`` fixture). The
    process's output goes to ``log_path`` (appended across restarts), never to a pipe that could
    fill. ``extra`` are more ``mapper serve`` arguments."""

    def __init__(self, url: str, log_path: Path, *extra: str, environ: dict[str, str] | None = None) -> None:
        self.url = url
        self.log_path = log_path
        self.extra = extra
        self.environ = environ or {}
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.bootstrap = True  # on SQLite: --create-schema and --seed

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/scim/v2"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def argv(self) -> list[str]:
        argv = [sys.executable, "-m", "mapper", "serve", str(HR_MAP), f"--port={self.port}"]
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
        """Start the process without waiting for anything."""
        assert self.process is None or self.process.poll() is not None, "already running"
        env = {**os.environ, "MAPPER_TOKEN": f"reliability:{TOKEN}", "HR_DATABASE_URL": self.url}
        env.update(self.environ)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.argv(), env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        return self

    def wait_ready(self, ready_within: float = 60.0) -> ServedGateway:
        """Wait (a bounded number of polls) until ``/readyz`` answers 200."""
        assert self.process is not None
        deadline = time.monotonic() + ready_within
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                raise RuntimeError(f"mapper serve exited with {code}:\n{self.log()[-3000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/readyz", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
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

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, as a power cut or the OOM killer would."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def rss_kib(self) -> int:
        """The process's resident set size (``VmRSS`` of ``/proc/<pid>/status``), in KiB."""
        status = Path(f"/proc/{self.pid}/status").read_text()
        match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        assert match, "no VmRSS in /proc status"
        return int(match.group(1))
