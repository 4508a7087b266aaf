"""The front door calls the resource routes directly (:mod:`mapper.scim.routes.direct`): the same
route, path parameters and answers as Starlette's router, errors, metrics and audit lines included."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.routing import Match, Route

from mapper.pipeline import load
from mapper.scim.app import build_app
from mapper.scim.routes.direct import DirectRoutes
from tests.support.scim import HR_MAP, new_user, patch_body, scim_client, settings_for

pytestmark = pytest.mark.anyio

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
PATHS = (
    "/scim/v2/Users",
    "/scim/v2/Users/1",
    "/scim/v2/Users/.search",
    "/scim/v2/Users/CN=a,OU=b",
    "/scim/v2/Users/1/2",
    "/scim/v2/Users/",
    "/scim/v2/Groups",
    "/scim/v2/Groups/7",
    "/scim/v2/Groups/.search",
    "/scim/v2/.search",
    "/scim/v2/ResourceTypes/User",
    "/scim/v2/Schemas",
    "/scim/v2",
    "/metrics",
    "/healthz",
)


def router_choice(routes: list[Any], scope: dict[str, Any]) -> tuple[Any, dict[str, Any], Match]:
    """What Starlette's router takes: the first full match, else the first partial one (a 405)."""
    partial = None
    for route in routes:
        match, child = route.matches(scope)
        if match is Match.FULL:
            return route, child["path_params"], match
        if match is Match.PARTIAL and partial is None:
            partial = (route, child["path_params"], match)
    return partial or (None, {}, Match.NONE)


def test_a_direct_call_takes_the_route_the_router_takes(hr_sqlite: Any) -> None:
    app = build_app(load(str(HR_MAP), write="sqlite"), settings_for(hr_sqlite))
    direct: DirectRoutes = app.user_middleware[0].kwargs["direct"]
    taken = set()
    for method in METHODS:
        for path in PATHS:
            scope = {"type": "http", "method": method, "path": path, "root_path": ""}
            route = direct.route(scope)
            if route is None:
                continue
            taken.add((method, path))
            expected, params, match = router_choice(app.routes, {**scope})
            assert (route, scope["path_params"], match) == (expected, params, Match.FULL), (method, path)
            assert scope["endpoint"] == route.endpoint and scope["route"] is route
            assert scope["router"] is app.router
    hot = {
        ("GET", "/scim/v2/Users"),
        ("POST", "/scim/v2/Users"),
        ("POST", "/scim/v2/Users/.search"),
        ("POST", "/scim/v2/Groups/.search"),
        *((method, "/scim/v2/Users/1") for method in ("GET", "HEAD", "PUT", "PATCH", "DELETE")),
        ("GET", "/scim/v2/Users/.search"),  # the item route, as the router takes it
    }
    assert hot <= taken
    for method, path in taken:  # the rest is the router's: 404, 405, discovery, operator pages
        assert path.count("/") <= 4 and not path.endswith("/"), (method, path)


def test_a_route_another_one_shadows_is_left_to_the_router() -> None:
    async def handler(request: Any) -> Any:
        raise AssertionError

    shadow = Route("/scim/v2/{anything:path}", handler, methods=["GET"])
    routes = [
        shadow,
        Route("/scim/v2/Users", handler, methods=["GET", "POST"]),
        Route("/scim/v2/Users/{id}", handler, methods=["GET"]),
        Route("/scim/v2/Users/.search", handler, methods=["POST"]),
    ]
    assert DirectRoutes(routes, "/scim/v2", {Exception: handler}).collections == {}
    assert set(DirectRoutes(routes[1:], "/scim/v2", {Exception: handler}).collections) == {"/scim/v2/Users"}


def answers_of(responses: list[Any]) -> list[tuple[int, dict[str, str], bytes]]:
    return [
        (r.status_code, {k: v for k, v in r.headers.items() if k != "date"}, r.content) for r in responses
    ]


async def requests_of(client: Any) -> list[Any]:
    """Requests the direct calls answer, most of them refused (nothing is written), and a few the
    router still answers."""
    bad_match = {"If-Match": 'W/"nope"'}
    return [
        await client.get("/Users/1?attributes=userName"),
        await client.get("/Users/1", headers={"If-None-Match": 'W/"x"'}),
        await client.head("/Users/1", headers={"If-None-Match": 'W/"x"'}),
        await client.get("/Users/999999"),
        await client.get("/Users/.search"),
        await client.get("/users/?count=1&sortBy=userName"),
        await client.get("/Users", params={"filter": "userName eq"}),
        await client.get("/Users", params={"filter": 'title co "o"', "attributes": "userName"}),
        await client.post("/Users/.search", json={"filter": 'userName sw "a"'}),
        await client.post("/Users/.search", content=b"{not json"),
        await client.post("/Users", json=new_user("ada.lovelace")),  # 409
        await client.post("/Users", json={"schemas": []}),  # 400
        await client.patch(
            "/Users/999999", json=patch_body({"op": "replace", "path": "title", "value": "x"})
        ),
        await client.patch("/Users/1", json=patch_body({"op": "explode", "path": "title", "value": "x"})),
        await client.put("/Users/1", json=new_user("ada.lovelace"), headers=bad_match),  # 412
        await client.delete("/Users/1", headers=bad_match),  # 412
        await client.delete("/Users/999999"),  # 404
        await client.post("/Users/1"),  # 405: the router
        await client.delete("/Users"),  # 405: the router
        await client.get("/Nope/1"),  # 404: the router
        await client.get("/ResourceTypes/User"),  # the router
    ]


def audit_of(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "mapper.audit"]
    return [{k: v for k, v in line.items() if k not in ("time", "ms")} for line in lines]


def counts_of(exposition: str) -> list[str]:
    """The request counts and refusals of an exposition, without the times."""
    return [
        line
        for line in exposition.splitlines()
        if line.startswith(
            ("mapper_http_request_duration_seconds_count", "mapper_http_rejected_requests_total")
        )
    ]


async def test_direct_calls_answer_count_and_audit_as_the_router(
    hr_sqlite: Any, caplog: pytest.LogCaptureFixture
) -> None:
    outcomes = []
    for direct_routes in (True, False):
        caplog.clear()
        async with scim_client(hr_sqlite, direct_routes=direct_routes) as client:
            with caplog.at_level("INFO", logger="mapper.audit"):
                answers = answers_of(await requests_of(client))
            exposition = (await client.get("http://scim.test/metrics")).text
        outcomes.append((answers, audit_of(caplog), counts_of(exposition)))
    (direct, direct_audit, direct_counts), (router, router_audit, router_counts) = outcomes
    assert [answer[0] for answer in direct] == [200, 200, 200, 404, 404, 200, 400, 200, 200, 400, 409,
                                                400, 404, 400, 412, 412, 404, 405, 405, 404, 200]  # fmt: skip
    assert direct == router
    assert len(direct_audit) == 7 and direct_audit == router_audit
    assert len(direct_counts) > 10 and direct_counts == router_counts
