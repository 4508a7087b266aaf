"""The status page in a real headless browser: Debian's chromium driven by Playwright, against a
real ``mapper serve``. The browser signs in the way a person would (the token as the password of
the Basic credentials the page asks for), the figures on the page are checked against the SCIM
API, and screenshots at a phone's and a wall screen's size are kept in ``test-artifacts/``.

Under ``CI=true`` this test never skips: ``.ci/run`` installs chromium, and Playwright comes with
the dev dependencies (it is told to use the system's chromium; it downloads no browser)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mapper.plan import CORE_USER
from tests.support.served import AUTH, ROOT, TOKEN, ServedGateway, sqlite_url

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - a dev dependency
    sync_playwright = None  # type: ignore[assignment]

needs_browser = pytest.mark.skipif(
    (CHROMIUM is None or sync_playwright is None) and os.environ.get("CI") != "true",
    reason="needs chromium (apt-get install chromium) and playwright (the dev dependencies)",
)


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[ServedGateway]:
    served = ServedGateway(sqlite_url(tmp_path / "hr.db"), tmp_path / "serve.log").start()
    try:
        yield served
    finally:
        served.stop()


def api(gateway: ServedGateway, method: str, path: str, **kwargs: Any) -> httpx.Response:
    return httpx.request(method, f"{gateway.base}{path}", headers=AUTH, timeout=10, **kwargs)


@needs_browser
def test_the_status_page_in_a_browser(gateway: ServedGateway) -> None:
    assert CHROMIUM is not None and sync_playwright is not None, "chromium and playwright are required"
    user = {"schemas": [CORE_USER], "userName": "status.browser", "name": {"familyName": "Browser"}}
    assert api(gateway, "POST", "/Users", json=user).status_code == 201
    assert api(gateway, "POST", "/Users", json=user).status_code == 409
    assert api(gateway, "DELETE", "/Users/999999").status_code == 404
    users = api(gateway, "GET", "/Users", params={"count": 0}).json()["totalResults"]
    groups = api(gateway, "GET", "/Groups", params={"count": 0}).json()["totalResults"]
    url = f"http://127.0.0.1:{gateway.port}/status"
    ARTIFACTS.mkdir(exist_ok=True)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            anonymous = browser.new_context()
            refused = anonymous.request.get(url)  # no credentials: 401, and the browser is asked
            assert refused.status == 401
            assert refused.headers["www-authenticate"].startswith("Basic")
            anonymous.close()

            for name, viewport in (
                ("phone", {"width": 390, "height": 844}),
                ("wall", {"width": 2560, "height": 1440}),
            ):
                context = browser.new_context(
                    viewport=viewport, http_credentials={"username": "operator", "password": TOKEN}
                )
                page = context.new_page()
                answer = page.goto(url)
                assert answer is not None and answer.status == 200
                section = page.locator("[data-connector=hr]")
                assert section.locator("[data-ready]").get_attribute("data-ready") == "true"
                assert int(section.locator('[data-count="User"]').inner_text()) == users
                assert int(section.locator('[data-count="Group"]').inner_text()) == groups
                assert section.locator("#last-full-sync").inner_text().endswith("Z")
                assert section.locator("#last-error").inner_text() == "—"
                assert section.locator("#phase").inner_text() == "ready"
                full = section.locator('[data-sync="User/full"] td')
                assert (
                    full.nth(4).inner_text() == f"+{users - 1} ~0 −0"
                )  # the first import, before the create
                writes = section.locator("#writes tr")
                assert writes.count() == 1 + 3  # the header, then the three writes, newest first
                assert writes.nth(1).locator("td").nth(5).inner_text() == "404"
                assert writes.nth(2).locator("td").nth(5).inner_text() == "409"
                assert writes.nth(3).locator("td").nth(5).inner_text() == "201"
                assert "sqlite:///" in section.locator('[data-source="hr"]').inner_text()
                sql = section.locator('details[data-object="User"]')
                sql.locator("summary").click()
                assert "INSERT INTO employees" in sql.inner_text()
                page.screenshot(path=str(ARTIFACTS / f"status-{name}.png"), full_page=True)
                # readable at this size: nothing wider than the screen but the scrolling boxes
                width = page.evaluate("document.documentElement.scrollWidth")
                assert width <= viewport["width"], f"{name}: the page is {width}px wide"
                context.close()
        finally:
            browser.close()
    assert (ARTIFACTS / "status-phone.png").stat().st_size > 0
