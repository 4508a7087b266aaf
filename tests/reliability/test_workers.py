"""``mapper serve --workers N`` as an operator runs it, with real processes:

- several connectors (HR on SQLite, payroll on PostgreSQL) in every worker, a write through one
  worker read back through fresh connections that reach the others;
- a database that refuses connections at start: every worker answers ``/readyz`` 503 with its
  phase and retries, none dies and none is restarted, and all are ready once the database is;
- a database that refuses the configuration (a missing SQLite file, a database that does not
  exist): the server exits 5 once with one line naming the source, its URL without the password;
- SIGTERM ends the server by SIGTERM (exit 143, as without workers), SIGINT with 130, also when the
  process started with the signal ignored; as a container's first process (PID 1) SIGTERM ends it
  with 0 after a clean shutdown, as ``deploy/build-offline.sh`` checks of the image.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.reliability.support import CORE_USER, HR, ROOT, ServedGateway, sqlite_url, tracebacks
from tests.support.databases import load_sql, reset_database
from tests.support.proxy import TcpProxy

WITHIN = 90.0  # a bound on the waits: the test must not hang, never a timing claim
PAYROLL = ROOT / "examples" / "payroll"
#: uvicorn's supervisor's line for a worker it replaces
RESTARTED = "died"


def wait_for(check: Callable[[], bool], what: str, gateway: ServedGateway) -> None:
    deadline = time.monotonic() + WITHIN
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"never {what}:\n{gateway.log()[-4000:]}")


def fresh(url: str, gateway: ServedGateway) -> httpx.Response:
    """One request on a connection of its own: it may reach any worker."""
    once = httpx.Limits(max_keepalive_connections=0)
    with httpx.Client(headers=gateway.auth, timeout=10, limits=once) as client:
        return client.get(url)


@pytest.mark.postgres
def test_each_worker_serves_every_connector_coherently(tmp_path: Path, postgres_url: str) -> None:
    reset_database(postgres_url)
    load_sql(postgres_url, [PAYROLL / "schema.postgres.sql"])
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    for source in (HR / "hr.map", PAYROLL / "payroll.map"):
        (mappings / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    gateway = ServedGateway(
        sqlite_url(tmp_path / "hr.db"),
        tmp_path / "gateway.log",
        "--workers=3",
        "--delta-interval=3600",  # a sync must not be what makes a write visible
        "--full-interval=7200",
        mapping=mappings,
        environ={"PAYROLL_DATABASE_URL": postgres_url},
    )
    with gateway:
        for connector in ("hr", "payroll"):
            base = f"{gateway.root}/{connector}/scim/v2"
            for n in range(6):
                name = f"{connector}.worker.{n}"
                person = {"givenName": "W", "familyName": "N"}
                body = {"schemas": [CORE_USER], "userName": name, "name": person}
                created = httpx.post(f"{base}/Users", json=body, headers=gateway.auth, timeout=30)
                assert created.status_code == 201, created.text
                location = created.headers["Location"]
                assert location.startswith(f"{base}/Users/")
                for _ in range(8):  # fresh connections: each may reach another worker
                    wait_for(lambda: fresh(location, gateway).status_code == 200, f"{name} read", gateway)
                wanted = f'{base}/Users?filter=userName+eq+"{name}"'
                for _ in range(8):
                    wait_for(
                        lambda: fresh(wanted, gateway).json()["totalResults"] == 1, f"{name} found", gateway
                    )
        # one scrape adds up every worker's figures, for each connector
        scraped = httpx.get(f"{gateway.root}/metrics", headers=gateway.auth, timeout=10)
        created = {
            sample.labels["connector"]: sample.value
            for family in text_string_to_metric_families(scraped.text)
            for sample in family.samples
            if sample.name == "mapper_http_request_duration_seconds_count"
            and sample.labels.get("method") == "POST"
            and sample.labels.get("status") == "201"
        }
        assert created == {"hr": 6, "payroll": 6}
    log = gateway.log()
    writers = set(re.findall(r"INFO \[(\d+)\] mapper\.audit", log))
    assert len(writers) >= 2, f"the writes all reached one worker: {writers}"
    assert RESTARTED not in log and tracebacks(log) == []


@pytest.mark.postgres
def test_workers_wait_for_a_database_that_refuses_connections(tmp_path: Path, postgres_url: str) -> None:
    reset_database(postgres_url)
    load_sql(postgres_url, [HR / "schema.postgres.sql", HR / "sample-data.sql"])
    target = httpx.URL(postgres_url.replace("postgresql://", "http://", 1)).port or 5432
    proxy = TcpProxy(target).start()
    try:
        proxy.set_mode("refuse")
        through = re.sub(r"@[^/]+/", f"@127.0.0.1:{proxy.port}/", postgres_url, count=1)
        gateway = ServedGateway(through, tmp_path / "gateway.log", "--workers=2").spawn()
        try:
            readyz = f"{gateway.root}/readyz"

            def waiting() -> bool:
                answer = httpx.get(readyz, timeout=5)
                return answer.status_code == 503 and answer.json().get("phase") == "waiting"

            for _ in range(6):  # both workers, whichever answers
                wait_for(waiting, "503 waiting", gateway)
            assert gateway.process is not None and gateway.process.poll() is None
            proxy.set_mode("pass")
            # every worker ready: 24 answers in a row on fresh connections, not 6 that need not be
            # in a row (a worker still in its back-off answered the request below 503 under load)
            gateway.wait_ready(ready_within=WITHIN)
            users = httpx.get(f"{gateway.base}/Users?count=1", headers=gateway.auth, timeout=10)
            assert users.status_code == 200, users.text
        finally:
            gateway.stop()
        log = gateway.log()
        assert "retrying within" in log
        assert RESTARTED not in log and "failed to start" not in log and tracebacks(log) == []
    finally:
        proxy.stop()


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_refused_configuration_stops_every_worker_once(
    tmp_path: Path, request: pytest.FixtureRequest, database: str
) -> None:
    if database == "sqlite":
        url = sqlite_url(tmp_path / "nowhere" / "hr.db")
        words = "database hr (sqlite:///"
    else:
        scratch: str = request.getfixturevalue("postgres_url")
        url = scratch.rsplit("/", 1)[0] + "/ops_no_such_database"
        words = "the database does not exist"
    gateway = ServedGateway(url, tmp_path / "gateway.log", "--workers=2")
    gateway.bootstrap = False
    gateway.spawn()
    assert gateway.exit_code(within=WITHIN) == 5
    log = gateway.log()
    last = log.strip().splitlines()[-1]
    assert last.startswith("mapper serve: database hr (") and words in last and last.endswith("; not serving")
    assert log.count("; not serving") == 1
    assert RESTARTED not in log and "Traceback" not in log


@pytest.mark.parametrize(("sent", "code"), [(signal.SIGTERM, -signal.SIGTERM), (signal.SIGINT, 130)])
def test_a_signal_stops_the_workers_with_its_exit_code(tmp_path: Path, sent: int, code: int) -> None:
    gateway = ServedGateway(sqlite_url(tmp_path / "hr.db"), tmp_path / "gateway.log", "--workers=2").start()
    assert gateway.process is not None
    gateway.process.send_signal(sent)
    assert gateway.exit_code(within=WITHIN) == code  # -SIGTERM: ended by it, which a shell shows as 143
    log = gateway.log()
    assert log.count("Finished server process") == 2, "both workers shut down cleanly"
    assert tracebacks(log) == []


@pytest.mark.parametrize("workers", ["--workers=1", "--workers=2"])
@pytest.mark.parametrize(("sent", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, -signal.SIGTERM)])
def test_a_signal_ends_with_its_exit_code_when_the_process_started_with_it_ignored(
    tmp_path: Path, workers: str, sent: int, code: int
) -> None:
    """A non-interactive shell starts a background job (``mapper serve ... &``) with SIGINT
    ignored; a parent's ``trap '' TERM`` leaves SIGTERM ignored. uvicorn stops and drains on
    either all the same, and re-raised it under the ignored disposition to end: the process
    exited 0, which says it ended of its own accord, where a stop by SIGTERM is 143."""
    gateway = ServedGateway(sqlite_url(tmp_path / "hr.db"), tmp_path / "gateway.log", workers)
    before = signal.signal(sent, signal.SIG_IGN)  # inherited by the child, as from a shell
    try:
        gateway.spawn()
    finally:
        signal.signal(sent, before)
    gateway.wait_ready()
    assert gateway.process is not None
    gateway.process.send_signal(sent)
    assert gateway.exit_code(within=WITHIN) == code
    log = gateway.log()
    assert log.count("Finished server process") == int(workers[-1]), "every worker shut down cleanly"
    assert tracebacks(log) == []


class _FirstProcess(ServedGateway):
    """``mapper serve`` as the first process of a PID namespace of its own, as in a container
    (``docker run``, ``podman run`` without ``--init``): ``unshare --fork --pid`` runs it as PID 1
    and exits as it does."""

    def argv(self) -> list[str]:
        return ["unshare", "--fork", "--pid", *super().argv()]

    def server_pid(self) -> int:
        """The server's process id as this namespace sees it (unshare's one child)."""
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        assert len(children) == 1, children
        return int(children[0])


def _can_be_first_process() -> str | None:
    """Why this machine cannot start a process in a PID namespace of its own (None: it can)."""
    if shutil.which("unshare") is None:
        return "unshare (util-linux) is not installed"
    probe = subprocess.run(["unshare", "--fork", "--pid", "true"], capture_output=True, check=False)  # noqa: S607
    return None if probe.returncode == 0 else f"unshare --pid is refused: {probe.stderr.decode().strip()}"


@pytest.mark.parametrize("workers", ["--workers=1", "--workers=2"])
def test_sigterm_stops_a_containers_first_process_cleanly_with_0(tmp_path: Path, workers: str) -> None:
    """``docker stop``, ``podman stop`` and Kubernetes send SIGTERM to the container's PID 1. The
    server drains, then re-raises the signal under its default disposition, which the kernel
    drops for a namespace's first process: it exits 0, which Kubernetes shows as Completed (143
    would be Error) and the image's own check (``deploy/build-offline.sh``, podman) requires.
    Outside a container the same server ends by the signal (143 in a shell)."""
    why = _can_be_first_process()
    if why is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{why}; CI=true requires it", pytrace=False)
        pytest.skip(why)
    gateway = _FirstProcess(sqlite_url(tmp_path / "hr.db"), tmp_path / "gateway.log", workers).start()
    os.kill(gateway.server_pid(), signal.SIGTERM)
    assert gateway.exit_code(within=WITHIN) == 0
    log = gateway.log()
    assert log.count("Finished server process") == int(workers[-1]), "every worker shut down cleanly"
    assert "Application shutdown complete" in log
    assert tracebacks(log) == []
