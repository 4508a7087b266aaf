"""``/status``: who may read it, that every value on it is escaped, and that database passwords
never reach it. (tests/ops/test_status_browser.py loads it in a real browser.)"""

from __future__ import annotations

import base64
import re
from typing import Any

import httpx
import pytest

from mapper.pipeline import load
from mapper.runtime.gateway import Gateway
from mapper.scim.audit import AuditTrail
from mapper.scim.auth import parse_credentials
from mapper.scim.metrics import Metrics
from mapper.scim.routes.status import Connector, connector_section, statements
from tests.support.scim import HR_MAP, TOKEN, new_user, scim_client

pytestmark = pytest.mark.anyio

METRICS_TOKEN = "metrics-only-token-42"


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
async def host(hr_sqlite: Any) -> Any:
    credentials = parse_credentials([f"prometheus:{METRICS_TOKEN}"])
    async with scim_client(hr_sqlite, metrics_credentials=credentials) as client:
        client.base_url = httpx.URL("http://scim.test")
        yield client


async def test_the_status_page_needs_a_scim_token(host: httpx.AsyncClient) -> None:
    anonymous = await host.get("/status", headers={"Authorization": ""})
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == 'Basic realm="mapper status"'  # the browser asks
    assert (await host.get("/status", headers={"Authorization": "Bearer wrong"})).status_code == 401
    assert (await host.get("/status", headers=basic("ops", "wrong"))).status_code == 401
    assert (await host.get("/status", headers={"Authorization": "Basic !!"})).status_code == 401
    # a metrics token opens /metrics, not the status page
    metrics_only = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    assert (await host.get("/status", headers=metrics_only)).status_code == 401
    for headers in ({"Authorization": f"Bearer {TOKEN}"}, basic("anyone", TOKEN)):
        page = await host.get("/status", headers=headers)
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert "script-src" not in page.headers["content-security-policy"]  # default-src 'none'
        assert page.headers["cache-control"] == "no-store"


async def test_the_page_shows_counts_writes_and_sql(host: httpx.AsyncClient) -> None:
    created = await host.post("/scim/v2/Users", json=new_user("status.page"))
    assert created.status_code == 201
    refused = await host.post("/scim/v2/Users", json=new_user("status.page"))
    assert refused.status_code == 409
    html = (await host.get("/status")).text
    users = (await host.get("/scim/v2/Users", params={"count": 0})).json()["totalResults"]
    assert f'data-count="User">{users}<' in html
    rows = re.findall(r"<tr><td>[^<]+</td><td>tests</td><td>POST</td><td>User</td>", html)
    assert len(rows) == 2  # both writes, newest first
    assert "<td class=n error>409</td>" in html
    assert "INSERT INTO employees" in html
    assert "sqlite:///" in html
    # the first import of each type, from the metrics' record of runs
    assert re.search(r'<tr data-sync="User/full"><td>User</td><td>full</td><td>[0-9T:-]+Z</td>', html)


async def test_every_value_is_escaped(host: httpx.AsyncClient) -> None:
    hostile = "<script>alert(1)</script>"
    await host.delete(f"/scim/v2/Users/{hostile}")
    await host.post("/scim/v2/Users", json=new_user(hostile))
    html = (await host.get("/status")).text
    assert "<script" not in html
    assert "&lt;script&gt;" in html or hostile not in html


async def test_the_database_password_never_reaches_the_page() -> None:
    plan = load(str(HR_MAP), write="postgres")
    secret = "s3cret-Pa55"
    gateway = Gateway(plan, environ={"HR_DATABASE_URL": f"postgresql://hr:{secret}@db.internal:5432/hr"})
    try:
        metrics = Metrics("hr", lambda path: "other")
        html = connector_section(Connector("hr", plan, "/scim/v2", AuditTrail(), metrics), gateway)
    finally:
        gateway.databases["hr"].dispose()
    assert secret not in html
    assert "postgresql+psycopg://hr:***@db.internal:5432/hr" in html


def test_statements_lists_every_compiled_statement() -> None:
    plan = load(str(HR_MAP))
    group = plan.object("Group")
    labels = [label for label, _ in statements(group)]
    assert {"import_all", "by_anchor", "insert", "update", "delete", "members.add", "members.remove"} <= set(
        labels
    )
