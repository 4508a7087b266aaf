"""A gateway of several connectors (``mapper serve DIR``) answers ``/``, ``/metrics`` and
``/status`` over all of them, as a real process: the roots of each, one exposition with every
connector's series (checked by prometheus-client's parser and ``promtool``), and one status page
with a section per connector, loaded in headless chromium. A connector's own token opens its own
``/{name}/metrics`` and ``/{name}/status``, not the hub's."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.served import HR, ROOT, free_port

SHARED = "hub-shared-token-1"
STAFF = "hub-staff-token-2"
METRICS = "hub-metrics-token-3"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[str]:
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    for name in ("hr", "staff"):  # two connectors on one HR database
        shutil.copy(HR / "hr.map", mappings / f"{name}.map")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAPPER_")}
    env.update(
        HR_DATABASE_URL=f"sqlite:///{tmp_path / 'hr.db'}",
        MAPPER_TOKEN=f"ops:{SHARED}",
        MAPPER_TOKEN_STAFF=f"staff:{STAFF}",
        MAPPER_METRICS_TOKEN=f"prometheus:{METRICS}",
    )
    argv = [sys.executable, "-m", "mapper", "serve", str(mappings), f"--port={port}"]
    argv += [
        f"--create-schema={HR / 'schema.sql'}",
        f"--seed={HR / 'sample-data.sql'}",
        "--log-level=warning",
    ]
    log = tmp_path / "hub.log"
    with log.open("wb") as out:
        process = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()[-3000:]
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        else:
            raise AssertionError(f"the hub was not ready:\n{log.read_text()[-3000:]}")
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_hub_answers_root_metrics_and_status_over_every_connector(hub: str) -> None:
    root = httpx.get(f"{hub}/", timeout=10).json()
    assert [c["name"] for c in root["connectors"]] == ["hr", "staff"]
    assert root["connectors"][1]["scim"] == f"{hub}/staff/scim/v2"
    assert root["connectors"][1]["ecma2host"] == f"{hub}/ecma2host_staff/scim"

    for _ in range(2):
        assert httpx.get(f"{hub}/hr/scim/v2/Users/1", headers=bearer(SHARED), timeout=10).status_code == 200
    assert httpx.get(f"{hub}/staff/scim/v2/Users/1", headers=bearer(STAFF), timeout=10).status_code == 200

    assert httpx.get(f"{hub}/metrics", timeout=10).status_code == 401
    assert (
        httpx.get(f"{hub}/metrics", headers=bearer(STAFF), timeout=10).status_code == 401
    )  # one connector's
    text = httpx.get(f"{hub}/metrics", headers=bearer(METRICS), timeout=10).text
    counted = {
        (s.labels["connector"], s.labels["route"]): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "mapper_http_request_duration_seconds_count" and s.labels.get("status") == "200"
    }
    assert counted[("hr", "/hr/scim/v2/Users/{id}")] == 2
    assert counted[("staff", "/staff/scim/v2/Users/{id}")] == 1
    promtool = shutil.which("promtool")
    if promtool is not None or os.environ.get("CI") == "true":
        assert promtool is not None, "promtool is required under CI=true"
        checked = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True)
        assert checked.returncode == 0, checked.stdout + checked.stderr

    own = httpx.get(f"{hub}/staff/metrics", headers=bearer(STAFF), timeout=10).text
    connectors = {
        s.labels.get("connector") for family in text_string_to_metric_families(own) for s in family.samples
    }
    assert connectors == {"staff"}
    assert httpx.get(f"{hub}/status", headers=bearer(STAFF), timeout=10).status_code == 401
    assert httpx.get(f"{hub}/staff/status", headers=bearer(STAFF), timeout=10).status_code == 200

    page = httpx.get(f"{hub}/status", headers=bearer(SHARED), timeout=10).text
    assert 'data-connector="hr"' in page and 'data-connector="staff"' in page


@pytest.mark.skipif(
    CHROMIUM is None and os.environ.get("CI") != "true",
    reason="needs chromium (apt-get install chromium; .ci/run installs it)",
)
def test_the_hub_status_page_shows_both_connectors_in_a_browser(hub: str) -> None:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM is not None, "chromium is required under CI=true"
    users = httpx.get(
        f"{hub}/staff/scim/v2/Users", params={"count": 0}, headers=bearer(STAFF), timeout=10
    ).json()["totalResults"]
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            context = browser.new_context(
                viewport={"width": 1920, "height": 1080},
                http_credentials={"username": "operator", "password": SHARED},
            )
            page = context.new_page()
            answer = page.goto(f"{hub}/status")
            assert answer is not None and answer.status == 200
            for name in ("hr", "staff"):
                section = page.locator(f"[data-connector={name}]")
                assert section.locator("[data-ready]").get_attribute("data-ready") == "true"
                assert int(section.locator('[data-count="User"]').inner_text()) == users
            page.screenshot(path=str(artifacts / "status-hub.png"), full_page=True)
        finally:
            browser.close()
