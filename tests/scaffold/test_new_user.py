"""Issue #14's "done when", as a new user would do it, with the real commands in subprocesses:
``mapper init --from-db URL -o mappings/app.map``, then ``mapper serve mappings/app.map``, then
``mapper simulate`` against the served URL (Entra's create, update, disable, group and delete
flow), with no hand edits in between. The schemas are two the scaffold was not written for (they
were tried this way first, and what broke was fixed): a staff/teams app and a helpdesk."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.scaffold import load_schema
from tests.support.served import TOKEN, ServedGateway


class ServedMapping(ServedGateway):
    """``mapper serve`` of a scaffolded mapping, on the database its source's variable names."""

    def __init__(self, mapping: Path, variable: str, url: str, log_path: Path) -> None:
        super().__init__(url, log_path, environ={variable: url})
        self.mapping = mapping

    def argv(self) -> list[str]:
        return [sys.executable, "-m", "mapper", "serve", str(self.mapping), f"--port={self.port}"]


def mapper(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mapper", *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


@pytest.mark.parametrize(
    ("schema", "kind"),
    [("staff_teams", "sqlite"), pytest.param("helpdesk", "postgres", marks=pytest.mark.postgres)],
)
def test_init_then_serve_then_simulate(
    schema: str, kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    db = load_schema(schema, kind, tmp_path, request)
    mapping = tmp_path / "mappings" / "app.map"
    init = mapper("init", "--from-db", db.url, "-o", str(mapping))
    assert init.returncode == 0, init.stderr
    assert f"wrote {mapping}" in init.stderr

    gateway = ServedMapping(
        mapping, f"{db.name.upper()}_DATABASE_URL", db.url, tmp_path / "serve.log"
    ).start()
    try:
        simulated = mapper("simulate", gateway.base, env={"MAPPER_TOKEN": f"reliability:{TOKEN}"})
    finally:
        gateway.stop()
    report = simulated.stdout
    assert simulated.returncode == 0, report + simulated.stderr + mapping.read_text(encoding="utf-8")
    assert report.rstrip().splitlines()[-1].split()[2:4] == ["0", "failed,"], report
    for step in (
        "create: POST the user",
        "disable: replace active",
        "group members: add two",
        "delete: DELETE the user",
    ):
        assert f"PASS  [flag] {step}" in report and f"PASS  [noflag] {step}" in report, report
