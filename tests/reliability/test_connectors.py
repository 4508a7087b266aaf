"""Several connectors in one ``mapper serve mappings/`` process, as an operator runs them: HR on
SQLite and payroll on PostgreSQL, each at ``/{name}/scim/v2`` and ``/ecma2host_{name}/scim`` with
its own tokens (one connector's token does not open the other), its own readiness, and a third
connector whose database is missing failing alone while the others serve. HR and payroll are
named by their files' ``connector`` lines, not by the file names; two files of one name stop the
start (MAP118)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.reliability.support import CORE_USER, HR, ROOT, ServedGateway, free_port, is_scim_error
from tests.support.databases import load_sql, reset_database

WITHIN = 90.0  # a bound on the waits: the test must not hang, never a timing claim
PAYROLL = ROOT / "examples" / "payroll"
HR_TOKEN, PAYROLL_TOKEN = "hr-token-1f3a", "payroll-token-9c2e"


@pytest.fixture
def served(tmp_path: Path, postgres_url: str) -> Iterator[ServedGateway]:
    """``mapper serve mappings/`` with people.map (SQLite, ``connector "hr"``), money.map
    (PostgreSQL, ``connector "payroll"``) and broken.map (the payroll mapping on a PostgreSQL
    database that does not exist, named after its file), once the HR and payroll connectors are
    ready."""
    reset_database(postgres_url)
    load_sql(postgres_url, [PAYROLL / "schema.postgres.sql"])
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    hr = (HR / "hr.map").read_text(encoding="utf-8")
    payroll = (PAYROLL / "payroll.map").read_text(encoding="utf-8")
    (mappings / "people.map").write_text(f'connector "hr"\n{hr}', encoding="utf-8")
    (mappings / "money.map").write_text(f'connector "payroll"\n{payroll}', encoding="utf-8")
    broken = payroll.replace("PAYROLL_DATABASE_URL", "BROKEN_DATABASE_URL")
    (mappings / "broken.map").write_text(broken, encoding="utf-8")
    port = free_port()
    environ = {
        "PATH": "/usr/bin:/bin",
        "HR_DATABASE_URL": f"sqlite:///{tmp_path / 'hr.db'}",
        "PAYROLL_DATABASE_URL": postgres_url,
        "BROKEN_DATABASE_URL": postgres_url.rsplit("/", 1)[0] + "/no_such_database_here",
        "MAPPER_TOKEN_HR": f"hr-app:{HR_TOKEN}",
        "MAPPER_TOKEN_PAYROLL": f"payroll-app:{PAYROLL_TOKEN}",
        "MAPPER_TOKEN_BROKEN": "unused-token",
    }
    command = [
        sys.executable, "-m", "mapper", "serve", str(mappings), f"--port={port}",
        f"--create-schema={HR / 'schema.sql'}", f"--seed={HR / 'sample-data.sql'}",
    ]  # fmt: skip
    gateway = ServedGateway(
        environ["HR_DATABASE_URL"],
        tmp_path / "gateway.log",
        environ=environ,
        whole_environ=True,
        command=command,
        port=port,
        ready_path="/hr/readyz",
        cwd=tmp_path,
    )
    try:
        yield gateway.start(ready_within=WITHIN).wait_ready(WITHIN, path="/payroll/readyz")
    finally:
        gateway.stop()


def get(url: str, token: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(url, headers=headers, timeout=10)


@pytest.mark.postgres
def test_two_connectors_with_their_own_roots_tokens_and_readiness(served: ServedGateway) -> None:
    root = served.root

    hr_users = get(f"{root}/hr/scim/v2/Users?count=1", HR_TOKEN)
    assert hr_users.status_code == 200 and hr_users.json()["totalResults"] == 20
    payroll_users = get(f"{root}/payroll/scim/v2/Users?count=1", PAYROLL_TOKEN)
    assert payroll_users.status_code == 200
    ecma = get(f"{root}/ecma2host_payroll/scim/Users?count=1", PAYROLL_TOKEN)
    assert ecma.status_code == 200 and ecma.json()["totalResults"] == payroll_users.json()["totalResults"]

    # a token opens its own connector only, on either root
    assert get(f"{root}/payroll/scim/v2/Users", HR_TOKEN).status_code == 401
    assert get(f"{root}/ecma2host_payroll/scim/Users", HR_TOKEN).status_code == 401
    assert get(f"{root}/hr/scim/v2/Users", PAYROLL_TOKEN).status_code == 401
    # the single-mapping root does not exist here
    nowhere = get(f"{root}/scim/v2/Users", HR_TOKEN)
    assert nowhere.status_code == 404 and is_scim_error(nowhere)

    # a write reaches its own connector's database only
    created = httpx.post(
        f"{root}/hr/scim/v2/Users",
        headers={"Authorization": f"Bearer {HR_TOKEN}"},
        json={"schemas": [CORE_USER], "userName": "only.in.hr"},
        timeout=10,
    )
    assert created.status_code == 201
    found = get(f'{root}/hr/scim/v2/Users?filter=userName+eq+"only.in.hr"', HR_TOKEN).json()
    assert found["totalResults"] == 1
    elsewhere = get(f'{root}/payroll/scim/v2/Users?filter=userName+eq+"only.in.hr"', PAYROLL_TOKEN).json()
    assert elsewhere["totalResults"] == 0

    # the broken connector failed alone: the others stay ready, the whole is not
    broken = get(f"{root}/broken/readyz")
    assert broken.status_code == 503 and broken.json()["phase"] == "failed"
    assert get(f"{root}/ecma2host_broken/scim/Users", "unused-token").status_code == 503
    everything = get(f"{root}/readyz")
    assert everything.status_code == 503
    connectors = everything.json()["connectors"]
    assert connectors["hr"]["ready"] and connectors["payroll"]["ready"]
    assert connectors["broken"]["ready"] is False
    assert "the database does not exist" in connectors["broken"]["reason"]
    assert get(f"{root}/healthz").status_code == 200
    # a connector's page points at its own readiness, which reports that connector alone
    for name in ("hr", "payroll", "broken"):
        page = get(f"{root}/{name}/").json()
        assert page["readiness"] == f"{root}/{name}/readyz"
        assert [c["name"] for c in page["connectors"]] == [name]
        own = get(page["readiness"])
        assert own.status_code == (503 if name == "broken" else 200)
        assert "connectors" not in own.json() and own.json()["phase"] == connectors[name]["phase"]
    home = get(f"{root}/").json()  # no token: the connectors' roots and nothing else
    assert [(c["name"], c["scim"], c["ecma2host"]) for c in home["connectors"]] == [
        (name, f"{root}/{name}/scim/v2", f"{root}/ecma2host_{name}/scim")
        for name in ("broken", "payroll", "hr")  # in the order of their files
    ]

    # each connector passes Entra's provisioning life cycle on its own root, with its own token
    for name, token in (("hr", HR_TOKEN), ("payroll", PAYROLL_TOKEN)):
        simulated = subprocess.run(
            [sys.executable, "-m", "mapper", "simulate", f"{root}/{name}/scim/v2"],
            env={"PATH": "/usr/bin:/bin", "MAPPER_TOKEN": token},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert simulated.returncode == 0, f"{name}:\n{simulated.stdout}{simulated.stderr}"

    text = served.log()
    assert "connector hr: serving" in text and "connector payroll: serving" in text
    assert "connector payroll: ready: first import done" in text
    assert "connector broken cannot start: database payroll (postgresql" in text
    assert "Traceback" not in text


def test_two_files_of_one_connector_name_stop_the_start(tmp_path: Path) -> None:
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    hr = (HR / "hr.map").read_text(encoding="utf-8")
    (mappings / "hr.map").write_text(hr, encoding="utf-8")
    (mappings / "people.map").write_text(f'# the people\nconnector "HR"\n{hr}', encoding="utf-8")
    gateway = ServedGateway(
        "sqlite://",
        tmp_path / "gateway.log",
        mapping=mappings,
        environ={"PATH": "/usr/bin:/bin", "MAPPER_TOKEN": "t0ken", "HR_DATABASE_URL": "sqlite://"},
        whole_environ=True,
        cwd=tmp_path,
    )
    gateway.bootstrap = False
    assert gateway.spawn().exit_code(within=WITHIN) == 1
    log = gateway.log()
    people = mappings / "people.map"
    taken = f"{people}:2:11: error[MAP118] connector 'HR' is taken: {mappings / 'hr.map'} is served"
    assert taken in log
    assert log.strip().endswith("not serving them")
    assert "Traceback" not in log
