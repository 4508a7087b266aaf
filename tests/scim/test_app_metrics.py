"""``/metrics``: who may read it, and that its figures move with real requests, syncs and writes
on a real database. The exposition is read back with prometheus-client's own parser, and checked
with ``promtool check metrics`` (the Prometheus server's linter) where it is installed."""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from mapper.scim.auth import parse_credentials
from mapper.scim.metrics import LATENCY_BUCKETS, METHODS, Metrics
from mapper.scim.requestcount import RouteTemplates
from tests.support.scim import CORE_GROUP, TOKEN, new_user, scim_client

pytestmark = pytest.mark.anyio

METRICS_TOKEN = "metrics-only-token-42"
USER_ROUTE = "/scim/v2/Users/{id}"


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of an exposition, by name and label set, through the client library's parser."""
    out: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


def value(scrape: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    """The sample ``name`` with ``labels`` (and connector hr); 0 when absent."""
    wanted = frozenset({"connector": "hr", **labels}.items())
    return scrape.get((name, wanted), 0.0)


async def scrape(client: httpx.AsyncClient, token: str = TOKEN) -> dict[Any, float]:
    response = await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return samples(response.text)


@pytest.fixture
async def host(hr_sqlite: Any) -> Any:
    credentials = parse_credentials([f"prometheus:{METRICS_TOKEN}"])
    async with scim_client(hr_sqlite, metrics_credentials=credentials) as client:
        client.base_url = httpx.URL("http://scim.test")
        yield client


async def test_metrics_need_a_token_and_a_metrics_token_opens_nothing_else(host: httpx.AsyncClient) -> None:
    anonymous = await host.get("/metrics", headers={"Authorization": ""})
    assert anonymous.status_code == 401
    assert anonymous.json()["status"] == "401"
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    wrong = await host.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    await scrape(host, TOKEN)  # a SCIM token opens it
    await scrape(host, METRICS_TOKEN)  # so does a metrics token
    users = await host.get("/scim/v2/Users", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert users.status_code == 401  # but the metrics token opens no SCIM endpoint


async def test_requests_are_counted_by_route_template_method_and_status(host: httpx.AsyncClient) -> None:
    before = await scrape(host)
    for _ in range(3):
        assert (await host.get("/scim/v2/Users/1")).status_code == 200
    assert (await host.get("/scim/v2/users/999999")).status_code == 404  # normalised: same route
    after = await scrape(host)
    requests = "mapper_http_request_duration_seconds_count"  # a histogram's count
    ok = {"route": USER_ROUTE, "method": "GET", "status": "200"}
    assert value(after, requests, **ok) - value(before, requests, **ok) == 3
    missing = {"route": USER_ROUTE, "method": "GET", "status": "404"}
    assert value(after, requests, **missing) == 1
    assert value(after, "mapper_http_request_duration_seconds_sum", **ok) > 0
    assert value(after, "mapper_http_request_duration_seconds_bucket", **ok, le="+Inf") == value(
        after, requests, **ok
    )
    # the first scrape itself was counted by the second
    scraped = {"route": "/metrics", "method": "GET", "status": "200"}
    assert value(after, "mapper_http_request_duration_seconds_count", **scraped) >= 1


async def test_the_route_label_never_carries_a_raw_path(host: httpx.AsyncClient) -> None:
    for path in (
        "/scim/v2/Nope/abc",
        "/wp-admin/x.php",
        "/scim/v2/Users/1/extra",
        "/ecma2host_x/scim/Users/7",
    ):
        await host.get(path)
    await host.request("BREW", "/scim/v2/Users")
    after = await scrape(host)
    routes = {
        dict(labels)["route"]
        for name, labels in after
        if name == "mapper_http_request_duration_seconds_count"
    }
    assert routes <= {
        "/",
        "/metrics",
        "other",
        "/scim/v2/Users",
        "/scim/v2/Users/{id}",
    }, routes
    assert (
        value(after, "mapper_http_request_duration_seconds_count", route="other", method="GET", status="404")
        >= 2
    )
    methods = {
        dict(labels)["method"]
        for name, labels in after
        if name == "mapper_http_request_duration_seconds_count"
    }
    assert "BREW" not in methods and "other" in methods


async def test_rejections_are_counted_by_scim_type(host: httpx.AsyncClient) -> None:
    before = await scrape(host)
    bad_filter = await host.get("/scim/v2/Users", params={"filter": "userName eq"})
    assert bad_filter.status_code == 400
    assert bad_filter.json()["scimType"] == "invalidFilter"
    duplicate = await host.post("/scim/v2/Users", json=new_user("ada.lovelace"))
    assert duplicate.status_code == 409
    assert (await host.get("/scim/v2/Users", headers={"Authorization": "Bearer x"})).status_code == 401
    after = await scrape(host)

    def moved(**labels: str) -> float:
        name = "mapper_http_rejected_requests_total"
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved(status="400", scim_type="invalidFilter") == 1
    assert moved(status="409", scim_type="uniqueness") == 1
    assert moved(status="401", scim_type="none") == 1


async def test_cache_sizes_match_the_api(host: httpx.AsyncClient) -> None:
    created = await host.post("/scim/v2/Users", json=new_user("grace.hopper.metrics"))
    assert created.status_code == 201
    after = await scrape(host)
    for object_type, endpoint in (("User", "Users"), ("Group", "Groups")):
        total = (await host.get(f"/scim/v2/{endpoint}", params={"count": 0})).json()["totalResults"]
        assert value(after, "mapper_cache_objects", object_type=object_type) == total


async def test_syncs_are_counted_by_kind_with_their_errors(host: httpx.AsyncClient, hr_sqlite: Any) -> None:
    gateway = host.state["gateway"]  # type: ignore[attr-defined]
    start = await scrape(host)
    assert value(start, "mapper_sync_runs_total", object_type="User", kind="full") == 1  # the first import
    assert value(start, "mapper_sync_last_success_timestamp_seconds", object_type="User", kind="full") > 0
    hr_sqlite.execute("DELETE FROM group_members WHERE employee_id = 20")
    hr_sqlite.execute("DELETE FROM employees WHERE employee_id = 20")
    await gateway.sync_delta()
    after = await scrape(host)
    assert value(after, "mapper_sync_runs_total", object_type="User", kind="delete_scan") == 1
    assert (
        value(after, "mapper_sync_changes_total", object_type="User", kind="delete_scan", change="removed")
        == 1
    )
    assert value(after, "mapper_sync_duration_seconds_count", object_type="User", kind="delete_scan") == 1
    assert value(after, "mapper_sync_errors_total", object_type="User", kind="delete_scan") == 0
    lag = value(after, "mapper_sync_lag_seconds", object_type="User")
    assert 0 <= lag < 3600

    hr_sqlite.execute("ALTER TABLE employees RENAME TO employees_gone")
    with pytest.raises(Exception):  # noqa: B017 - the sync error is the database's own
        await gateway.sync_full()
    failed = await scrape(host)
    assert value(failed, "mapper_sync_errors_total", object_type="User", kind="full") == 1
    assert value(failed, "mapper_sync_runs_total", object_type="User", kind="full") == 2


async def test_group_commits_and_dropped_references(host: httpx.AsyncClient) -> None:
    before = await scrape(host)
    group = {"schemas": [CORE_GROUP], "displayName": "Metrics", "members": [{"value": "424242"}]}
    created = await host.post("/scim/v2/Groups", json=group)
    assert created.status_code == 201, created.text
    assert created.json().get("members", []) == []  # on missing drop: left out
    after = await scrape(host)
    batches = "mapper_commit_batch_size_count"
    assert value(after, batches, source="hr") - value(before, batches, source="hr") == 1
    assert value(after, "mapper_commit_batch_size_sum", source="hr") >= 1
    assert value(after, "mapper_commit_duration_seconds_count", source="hr") >= 1
    dropped = "mapper_dangling_references_dropped_total"
    assert value(after, dropped, object_type="Group") - value(before, dropped, object_type="Group") == 1
    assert value(after, "mapper_db_pool_size", source="hr") >= 1
    assert value(after, "mapper_db_pool_connections", source="hr", state="in_use") >= 0
    assert value(after, "mapper_commit_queue_length", source="hr") == 0
    assert value(after, "mapper_ready") == 1


PROMTOOL = shutil.which("promtool")


@pytest.mark.skipif(
    PROMTOOL is None and os.environ.get("CI") != "true",
    reason="promtool is not installed (Debian: apt-get install prometheus; .ci/run installs it)",
)
async def test_promtool_accepts_the_exposition(host: httpx.AsyncClient) -> None:
    assert PROMTOOL is not None, "promtool is required under CI=true (.ci/run installs prometheus)"
    await host.get("/scim/v2/Users/1")
    await host.get("/scim/v2/Users", params={"filter": "bad"})
    text = (await host.get("/metrics")).text
    checked = subprocess.run(
        [PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_route_templates_come_from_a_fixed_set() -> None:
    templates = RouteTemplates("/scim/v2", ("Users", ".search"), ("/", "/metrics"))
    assert templates.route("/scim/v2/Users") == "/scim/v2/Users"
    assert templates.route("/scim/v2/Users/42") == "/scim/v2/Users/{id}"
    assert templates.route("/scim/v2/Users/CN=a/b") == "/scim/v2/Users/{id}"  # an id holding a decoded '/'
    assert templates.route("/scim/v2/Users/.search") == "/scim/v2/Users/.search"
    assert templates.route("/scim/v2/.search") == "/scim/v2/.search"
    assert templates.route("/metrics") == "/metrics"
    for unknown in ("/scim/v2", "/scim/v2/Nope/1", "/scim/v2/Users/", "/x", "/metrics/x", ""):
        assert templates.route(unknown) == "other", unknown


REQUESTS = "mapper_http_request_duration_seconds"
#: latencies at, just above and just below the bucket bounds, none, and past the last bound
LATENCIES = (0.0, 0.0005, 0.00050001, 0.001, 0.0049, 0.005, 0.3, 1.0, 29.99, 30.0, 30.0001, 1e6) + tuple(
    i / 7919 for i in range(300)
)


def request_lines(text: bytes) -> list[str]:
    """The request histogram's lines of an exposition but their ``_created`` (a time)."""
    return [
        line
        for line in text.decode().splitlines()
        if REQUESTS in line and not line.startswith(f"{REQUESTS}_created")
    ]


def test_the_request_histogram_exposes_what_prometheus_clients_own_does() -> None:
    """One process counts requests in plain slots, set into prometheus-client's values when
    scraped: the same requests expose the same lines (HELP, TYPE, every bucket, count and sum) as
    the library's histogram fed them one by one, bucket bounds included."""
    templates = RouteTemplates("/scim/v2", ("Users", "Groups"), ("/", "/metrics"))
    metrics = Metrics("hr", templates.route, multiprocess=False)
    registry = CollectorRegistry()
    reference = Histogram(
        REQUESTS,
        metrics.latency._documentation,
        ("connector", "route", "method", "status"),
        buckets=LATENCY_BUCKETS,
        registry=registry,
    )
    paths = ("/scim/v2/Users/1", "/scim/v2/Groups", "/metrics", "/nope", "/scim/v2/Users/.search")
    for i, seconds in enumerate(LATENCIES):
        path, method, status = paths[i % 5], ("GET", "PUT", "BREW")[i % 3], (200, 404, 201, 500)[i % 4]
        metrics.observe(path, method, status, seconds)
        labels = ("hr", templates.route(path), method if method in METHODS else "other", str(status))
        reference.labels(*labels).observe(seconds)
    exposed = generate_latest(metrics.registry)
    assert request_lines(exposed) == request_lines(generate_latest(registry))
    assert len(request_lines(exposed)) > 60 * 18
    created = [line for line in exposed.decode().splitlines() if line.startswith(f"{REQUESTS}_created")]
    assert len(created) == 60  # one per series, as the library's own


def test_hostile_paths_and_methods_add_no_series() -> None:
    """The request series are kept per route template, method and status: paths and methods a
    client makes up, however many, all land in the same few (memory stays bounded)."""
    templates = RouteTemplates("/scim/v2", ("Users", "Groups"), ("/", "/metrics"))
    metrics = Metrics("hr", templates.route, multiprocess=False)
    for i in range(2000):
        for path in (f"/scim/v2/Users/{i}", f"/x{i}", f"/scim/v2/Users/{i}/{i}", f"/scim/v2/N{i}/1"):
            metrics.observe(path, f"M{i}", 404, 0.001)
            metrics.observe(path, "GET", 404, 0.001)
    series = {
        tuple(sorted(sample.labels.items()))
        for family in text_string_to_metric_families(generate_latest(metrics.registry).decode())
        for sample in family.samples
        if sample.name == f"{REQUESTS}_count"
    }
    assert len(series) == 4, series  # {id} and other, each by GET and other
    assert len(metrics._series_observe) == 4  # and what is kept per request series, not per path or method
