"""What an orchestrator sees of ``mapper serve``'s start, with real processes on real databases:
the port answers before the first import has finished (``/readyz`` 503 with the phase, the reason
and each type's progress; resource requests 503 with a SCIM body and Retry-After), an outage at
start is retried until the database comes back, and a start that cannot work exits with a
documented code and one line: the port in use (4, before any import), a database that refuses the
configuration or an import query that does not fit the schema (5). Configuration comes from
``MAPPER_*`` variables too, and ``--log-format json`` lines parse as JSON."""

from __future__ import annotations

import json
import socket
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine

from mapper.cli import EXIT_DATABASE, EXIT_LISTEN
from mapper.runtime.database import engine_url
from tests.reliability.support import AUTH, CORE_USER, ServedGateway, is_scim_error, sqlite_url, tracebacks
from tests.support.databases import HrDatabase
from tests.support.proxy import TcpProxy

WITHIN = 60.0  # a bound on each wait: the test must not hang, never a timing claim

Gateways = Callable[..., ServedGateway]


@pytest.fixture
def gateways(tmp_path: Path) -> Iterator[Gateways]:
    """A factory of ``mapper serve`` processes that are not started yet; all stopped afterwards."""
    made: list[ServedGateway] = []

    def make(url: str, *extra: str, environ: dict[str, str] | None = None) -> ServedGateway:
        gateway = ServedGateway(url, tmp_path / f"gateway-{len(made)}.log", *extra, environ=environ)
        made.append(gateway)
        return gateway

    try:
        yield make
    finally:
        for gateway in made:
            gateway.stop()


@pytest.fixture
def proxied_postgres(hr_postgres: HrDatabase) -> Iterator[tuple[TcpProxy, str]]:
    """A TCP proxy in front of the HR database on PostgreSQL, and the URL through it."""
    port = int(hr_postgres.url.rsplit(":", 1)[1].split("/", 1)[0])
    proxy = TcpProxy(port).start()
    try:
        yield proxy, hr_postgres.url.replace(f":{port}/", f":{proxy.port}/")
    finally:
        proxy.stop()


def readyz(gateway: ServedGateway) -> httpx.Response:
    """``/readyz``, polled until the port answers (the process is starting)."""
    deadline = time.monotonic() + WITHIN
    while True:
        try:
            return httpx.get(f"http://127.0.0.1:{gateway.port}/readyz", timeout=5)
        except httpx.TransportError:
            assert gateway.process is not None and gateway.process.poll() is None, gateway.log()[-3000:]
            assert time.monotonic() < deadline, "the port never answered"
            time.sleep(0.05)


def readyz_until(gateway: ServedGateway, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The first ``/readyz`` body for which ``wanted`` holds."""
    deadline = time.monotonic() + WITHIN
    while True:
        body = readyz(gateway).json()
        if wanted(body):
            return body
        assert time.monotonic() < deadline, f"/readyz never showed it; last: {body}\n{gateway.log()[-3000:]}"
        time.sleep(0.05)


def assert_not_ready_answer(gateway: ServedGateway) -> None:
    """Resource requests before the first import: 503, a SCIM error body and Retry-After."""
    for path in ("/Users", "/Users/1", "/Groups?filter=displayName+eq+%22x%22"):
        response = httpx.get(gateway.base + path, headers=AUTH, timeout=5)
        assert response.status_code == 503 and is_scim_error(response), response.text
        assert int(response.headers["retry-after"]) > 0
    created = httpx.post(
        gateway.base + "/Users",
        headers=AUTH,
        timeout=5,
        json={"schemas": [CORE_USER], "userName": "early.bird"},
    )
    assert created.status_code == 503 and is_scim_error(created)


# -- the port opens at once -----------------------------------------------------------------------


@pytest.mark.postgres
def test_the_port_answers_while_the_database_is_blackholed_and_the_import_follows_its_return(
    gateways: Gateways, proxied_postgres: tuple[TcpProxy, str]
) -> None:
    proxy, url = proxied_postgres
    proxy.set_mode("blackhole")  # connections accepted, nothing answered: the import hangs
    gateway = gateways(url, "--connect-timeout=2").spawn()
    first = readyz(gateway)
    assert first.status_code == 503 and int(first.headers["retry-after"]) > 0
    assert first.json()["ready"] is False and first.json()["phase"] in ("starting", "importing", "waiting")
    assert_not_ready_answer(gateway)
    waiting = readyz_until(gateway, lambda body: body["phase"] == "waiting")
    assert waiting["reason"].startswith("waiting for the first import: database hr: ")
    assert "retrying within" in waiting["reason"]
    proxy.set_mode("pass")
    gateway.wait_ready(WITHIN)
    ready = readyz(gateway).json()
    assert ready["phase"] == "ready" and ready["objects"] == {"User": 20, "Group": 4}
    assert httpx.get(gateway.base + "/Users/1", headers=AUTH, timeout=5).status_code == 200
    assert not tracebacks(gateway.log())


@pytest.mark.postgres
def test_a_refused_database_at_start_is_retried_until_it_comes_back(
    gateways: Gateways, proxied_postgres: tuple[TcpProxy, str]
) -> None:
    proxy, url = proxied_postgres
    proxy.set_mode("refuse")
    gateway = gateways(url).spawn()
    body = readyz_until(gateway, lambda body: body["phase"] == "waiting")
    assert "connection refused" in body["reason"]
    # the back-off doubles: wait for a second failed try, so the return meets a longer wait
    readyz_until(gateway, lambda body: "within 2 s" in (body.get("reason") or ""))
    proxy.set_mode("pass")
    gateway.wait_ready(WITHIN)
    log = gateway.log()
    assert "database hr is reachable again" in log and "ready: first import done" in log


@pytest.mark.postgres
def test_readyz_shows_each_types_progress_while_the_import_runs(
    gateways: Gateways, hr_postgres: HrDatabase
) -> None:
    """The Group import waits on a lock the test holds on its table: the User import has finished
    (20 rows), the Group import has not, and the gateway is not ready; then it is."""
    engine = create_engine(engine_url(hr_postgres.url))
    try:
        with engine.connect() as connection:
            transaction = connection.begin()
            connection.exec_driver_sql("LOCK TABLE group_members IN ACCESS EXCLUSIVE MODE")
            gateway = gateways(hr_postgres.url).spawn()
            body = readyz_until(gateway, lambda body: body["progress"]["User"]["loaded"])
            assert body["ready"] is False and body["phase"] == "importing"
            assert body["reason"] == "the first import is in progress"
            assert body["progress"]["User"] == {"rows": 20, "loaded": True, "importing": False}
            assert body["progress"]["Group"]["loaded"] is False
            assert_not_ready_answer(gateway)
            transaction.rollback()
        gateway.wait_ready(WITHIN)
    finally:
        engine.dispose()
    assert readyz(gateway).json()["objects"] == {"User": 20, "Group": 4}


# -- exit codes -----------------------------------------------------------------------------------


def test_a_port_in_use_exits_4_before_any_import(gateways: Gateways, tmp_path: Path) -> None:
    gateway = gateways(sqlite_url(tmp_path / "hr.db"))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", gateway.port))
        taken.listen()
        gateway.spawn()
        assert gateway.exit_code(WITHIN) == EXIT_LISTEN
    log = gateway.log()
    assert log.strip().splitlines()[-1] == (
        f"mapper serve: cannot listen on 127.0.0.1:{gateway.port}: Address already in use"
    )
    assert "source hr" not in log and "first import" not in log and not tracebacks(log)


def assert_exits_with_one_line(gateway: ServedGateway, *expected: str) -> str:
    """The process exits 5 with one last line holding ``expected``, without a traceback."""
    assert gateway.exit_code(WITHIN) == EXIT_DATABASE, gateway.log()[-3000:]
    log = gateway.log()
    last = log.strip().splitlines()[-1]
    assert last.startswith("mapper serve: ") and last.endswith("; not serving"), last
    for text in expected:
        assert text in last, last
    assert "Traceback" not in log  # the ERROR line "cannot start: ..." is expected
    return last


def scratch_url(url: str, **changes: Any) -> str:
    return engine_url(url).set(**changes).render_as_string(hide_password=False)


@pytest.mark.postgres
def test_a_missing_postgresql_database_exits_5_with_the_url_redacted(
    gateways: Gateways, postgres_url: str
) -> None:
    url = scratch_url(postgres_url, database="no_such_database_here", password="s3cret-pw")
    gateway = gateways(url).spawn()
    line = assert_exits_with_one_line(gateway, "database hr (", "the database does not exist")
    assert "***" in line and "s3cret-pw" not in gateway.log()


@pytest.mark.postgres
def test_a_refused_postgresql_login_exits_5(gateways: Gateways, postgres_url: str) -> None:
    # the test server trusts every local login, so a password cannot be wrong there: an unknown
    # role is refused the same way (SQLSTATE class 28, invalid authorization)
    url = scratch_url(postgres_url, username="no_such_role_here", password="s3cret-pw")
    gateway = gateways(url).spawn()
    assert_exits_with_one_line(gateway, "authentication failed", 'role "no_such_role_here" does not exist')
    assert "s3cret-pw" not in gateway.log()


@pytest.mark.mariadb
def test_a_wrong_mariadb_password_exits_5(gateways: Gateways, mariadb_url: str) -> None:
    url = scratch_url(mariadb_url, password="wrong-pw-77")
    gateway = gateways(url).spawn()
    assert_exits_with_one_line(gateway, "authentication failed", "Access denied for user")
    assert "wrong-pw-77" not in gateway.log()


@pytest.mark.mariadb
def test_a_missing_mariadb_database_exits_5(gateways: Gateways, mariadb_url: str) -> None:
    gateway = gateways(scratch_url(mariadb_url, database="no_such_database_here")).spawn()
    assert_exits_with_one_line(
        gateway, "the database does not exist", "Unknown database 'no_such_database_here'"
    )


def test_a_sqlite_database_without_the_imported_table_exits_5(gateways: Gateways, tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()  # exists: --create-schema leaves it alone
    gateway = gateways(sqlite_url(path)).spawn()
    assert_exits_with_one_line(gateway, "the database rejected the import query", "no such table")


def test_a_missing_sqlite_file_exits_5(gateways: Gateways, tmp_path: Path) -> None:
    path = tmp_path / "absent" / "hr.db"
    gateway = gateways(sqlite_url(path))
    gateway.bootstrap = False  # no --create-schema: nothing creates the file
    gateway.spawn()
    assert_exits_with_one_line(gateway, "the SQLite file does not exist", "--create-schema")
    assert not path.exists()


# -- configuration from the environment, JSON logs --------------------------------------------------


def test_options_from_the_environment_and_json_log_lines(gateways: Gateways, tmp_path: Path) -> None:
    gateway = gateways(
        sqlite_url(tmp_path / "hr.db"),
        environ={"MAPPER_LOG_FORMAT": "json", "MAPPER_BASE_PATH": "/api/scim", "MAPPER_MAX_RESULTS": "3"},
    )
    gateway.start(WITHIN)
    root = f"http://127.0.0.1:{gateway.port}/api/scim"
    listed = httpx.get(f"{root}/Users?count=50", headers=AUTH, timeout=5).json()
    assert listed["itemsPerPage"] == 3  # MAPPER_MAX_RESULTS
    created = httpx.post(
        f"{root}/Users", headers=AUTH, timeout=5, json={"schemas": [CORE_USER], "userName": "json.logger"}
    )
    assert created.status_code == 201
    gateway.stop()
    lines = [json.loads(line) for line in gateway.log().splitlines() if line.strip()]
    assert all({"time", "level", "logger"} <= line.keys() for line in lines)
    messages = [line.get("message", "") for line in lines]
    assert any(m.startswith("serving ") and "/api/scim" in m for m in messages)
    assert any(m.startswith("source hr: sqlite:///") for m in messages)
    assert any(m.startswith("ready: first import done") and "User 20, Group 4" in m for m in messages)
    audit = [line for line in lines if line["logger"] == "mapper.audit"]
    assert [(a["method"], a["type"], a["status"], a["client"]) for a in audit] == [
        ("POST", "User", 201, "reliability")
    ]


def test_a_bad_variable_exits_2_before_anything(gateways: Gateways, tmp_path: Path) -> None:
    gateway = gateways(sqlite_url(tmp_path / "hr.db"), environ={"MAPPER_MAX_RESULTS": "many"}).spawn()
    assert gateway.exit_code(WITHIN) == 2
    assert gateway.log().strip().splitlines() == [
        "mapper serve: MAPPER_MAX_RESULTS: input should be a valid integer, unable to parse string as an "
        "integer (got 'many')"
    ]
    assert not (tmp_path / "hr.db").exists()


def test_the_exit_line_is_json_too_with_json_logs(gateways: Gateways, tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()
    gateway = gateways(sqlite_url(path), environ={"MAPPER_LOG_FORMAT": "json"}).spawn()
    assert gateway.exit_code(WITHIN) == EXIT_DATABASE
    lines = [json.loads(line) for line in gateway.log().splitlines() if line.strip()]
    last = lines[-1]
    assert (last["level"], last["logger"]) == ("CRITICAL", "mapper.cli")
    assert last["message"].startswith("mapper serve: User: the database rejected the import query")
