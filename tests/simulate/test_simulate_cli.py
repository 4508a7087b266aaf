"""``mapper simulate`` as a process: a mapping served in-process on a fresh SQLite file, a running
``mapper serve`` reached by URL, and the usage errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx

from mapper.simulate.scenario import STEPS
from tests.support.served import ServedGateway, free_port, sqlite_url

ROOT = Path(__file__).resolve().parents[2]
HR = ROOT / "examples" / "hr"
ALL = 1 + 2 * len(STEPS)  # the start (or the discovery), then every step in both modes
SUMMARY = f"{ALL} passed, 0 failed, 0 skipped"


def mapper(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mapper", *args],
        env={**os.environ, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_simulate_a_mapping_on_a_fresh_sqlite_file(tmp_path: Path) -> None:
    env = {"HR_DATABASE_URL": f"sqlite:///{tmp_path / 'hr.db'}"}
    result = mapper("simulate", "examples/hr/hr.map", "--create-schema", "examples/hr/schema.sql", env=env)
    lines = result.stdout.splitlines()
    assert result.returncode == 0, result.stdout + result.stderr
    assert lines[-1] == f"{ALL} passed, 0 failed, 0 skipped"
    assert all(line.startswith(("PASS ", "FAIL ", "      ")) for line in lines[:-1])


def test_simulate_a_mapping_with_sample_data_exits_0(tmp_path: Path) -> None:
    env = {"HR_DATABASE_URL": f"sqlite:///{tmp_path / 'hr.db'}"}
    files = ("--create-schema", "examples/hr/schema.sql", "--create-schema", "examples/hr/sample-data.sql")
    result = mapper("simulate", "examples/hr/hr.map", *files, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == SUMMARY
    assert all(line.startswith("PASS ") for line in lines[:-1])


def test_simulate_the_ecma_example_with_dn_ids(tmp_path: Path) -> None:
    """examples/ecma/ecma.map serves the ECMA host's DN ids (``id dn``): Entra's whole flow works
    with them, members and managers included."""
    env = {"ECMA_DATABASE_URL": f"sqlite:///{tmp_path / 'ecma.db'}"}
    schema = ("--create-schema", "examples/ecma/schema.sql")
    result = mapper("simulate", "examples/ecma/ecma.map", *schema, "--mode", "noflag", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1].endswith(" passed, 0 failed, 2 skipped")  # nickName: not mapped
    assert '"value":"CN=2,OBJECT=USER"' in result.stdout


def test_json_report(tmp_path: Path) -> None:
    env = {"HR_DATABASE_URL": f"sqlite:///{tmp_path / 'hr.db'}"}
    files = ("--create-schema", "examples/hr/schema.sql", "--create-schema", "examples/hr/sample-data.sql")
    args = ("simulate", "examples/hr/hr.map", *files)
    result = mapper(*args, "--mode", "noflag", "--format", "json", env=env)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["failed"] == 0 and document["passed"] == len(document["steps"]) == 1 + len(STEPS)
    assert {s["mode"] for s in document["steps"]} == {None, "noflag"}


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    missing = mapper("simulate", str(tmp_path / "nope.map"), env={})
    assert missing.returncode == 2 and "no such mapping file" in missing.stderr
    url_with_schema = mapper("simulate", "http://127.0.0.1:9/scim/v2", "--create-schema", "x.sql", env={})
    assert url_with_schema.returncode == 2 and "--create-schema" in url_with_schema.stderr
    bad_mode = mapper("simulate", "examples/hr/hr.map", "--mode", "sometimes", env={})
    assert bad_mode.returncode == 2
    broken = tmp_path / "broken.map"
    broken.write_text("object User from nowhere {", encoding="utf-8")
    errors = mapper("simulate", str(broken), env={})
    assert errors.returncode == 2 and "has errors" in errors.stderr


def test_an_unreachable_url_fails_with_exit_1() -> None:
    result = mapper(
        "simulate", f"http://127.0.0.1:{free_port()}/scim/v2", "--timeout", "2", env={"MAPPER_TOKEN": "x"}
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == "0 passed, 1 failed, 0 skipped"
    assert result.stdout.startswith("FAIL  discovery")


def test_simulate_a_running_gateway_by_url(tmp_path: Path) -> None:
    """``mapper serve`` in one process, ``mapper simulate URL`` in another: HTTP assertions only,
    the attributes learned from /Schemas, the token read from a file in the gateway's format."""
    token = "simulate-url-token-7c1e"
    token_file = tmp_path / "token"
    token_file.write_text(f"entra:{token}\n", encoding="utf-8")
    url = sqlite_url(tmp_path / "hr.db")
    with ServedGateway(
        url, tmp_path / "server.log", "--log-level=warning", token=token, client="entra"
    ) as server:
        base = server.root
        url = f"{base}/scim/v2?aadOptscim062020"  # a tenant URL with Entra's flag, as admins paste it
        result = mapper("simulate", url, "--token-file", str(token_file), env={"MAPPER_TOKEN": ""})
        assert result.returncode == 0, result.stdout + result.stderr
        lines = result.stdout.splitlines()
        assert lines[0].startswith("PASS  discovery")
        assert lines[-1] == SUMMARY
        assert "+ database" not in result.stdout  # a URL target gets HTTP assertions only
        users = httpx.get(f"{base}/scim/v2/Users", headers={"Authorization": f"Bearer {token}"}, timeout=5)
        assert users.json()["totalResults"] == 20  # the sample data, and nothing the simulator left behind
        wrong = mapper("simulate", url, "--mode", "flag", env={"MAPPER_TOKEN": "not-the-token"})
        assert wrong.returncode == 1 and "401" in wrong.stdout
