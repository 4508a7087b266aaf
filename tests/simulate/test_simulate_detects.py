"""The simulator fails when the gateway misbehaves, and skips what the target does not map.

The misbehaving gateway is a test double of the *server under test*: the real HR gateway behind a
small ASGI layer that turns Entra's ``{"op": "Remove", "path": "members", "value": [...]}`` into a
removal of every member, a bug clients have seen in real SCIM servers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from mapper.pipeline import load
from mapper.plan import Plan
from mapper.scim.app import build_app
from mapper.scim.auth import parse_credentials
from mapper.scim.settings import Settings
from mapper.simulate.dbcheck import DbCheck
from mapper.simulate.model import from_discovery, from_plan
from mapper.simulate.report import render_json, render_text
from mapper.simulate.runner import discover, simulate_plan
from mapper.simulate.scenario import run_scenario

pytestmark = pytest.mark.anyio

HR = Path(__file__).resolve().parents[2] / "examples" / "hr"
TOKEN = "detects-token-51d0"
App = Callable[[Any, Any, Any], Any]


class RemovesEveryMember:
    """A broken gateway: a member Remove with a value list removes all the members."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "PATCH" or "/Groups/" not in scope["path"]:
            await self.app(scope, receive, send)
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        document = json.loads(body)
        for operation in document.get("Operations", []):
            if operation.get("op", "").lower() == "remove" and operation.get("path") == "members":
                operation.pop("value", None)  # "remove every member"
        rewritten = json.dumps(document).encode()
        headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(rewritten)).encode()))
        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return dict(await receive())
            sent = True
            return {"type": "http.request", "body": rewritten, "more_body": False}

        await self.app({**scope, "headers": headers}, replay, send)


@asynccontextmanager
async def client_of(
    plan: Plan, url: str, wrap: Callable[[App], App] = lambda app: app
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the gateway serving ``plan`` on ``url``, behind ``wrap``."""
    settings = Settings(
        credentials=parse_credentials([TOKEN]), environ={"HR_DATABASE_URL": url}, autosync=False
    )
    app = build_app(plan, settings)
    async with app.router.lifespan_context(app) as state:

        async def with_state(scope: Any, receive: Any, send: Any) -> None:
            await app({**scope, "state": dict(state or {})}, receive, send)

        transport = httpx.ASGITransport(app=wrap(with_state))
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://sim.test/scim/v2", headers=headers
        ) as c:
            yield c


async def test_a_gateway_that_removes_every_member_fails(hr_sqlite: Any) -> None:
    plan = load(str(HR / "hr.map"))
    db = DbCheck(plan, {"HR_DATABASE_URL": hr_sqlite.url})
    try:
        async with client_of(plan, hr_sqlite.url, RemovesEveryMember) as client:
            report = await run_scenario(client, from_plan(plan), db=db)
    finally:
        db.close()
    failed = [s for s in report.steps if s.status == "FAIL"]
    assert [(s.mode, s.name) for s in failed] == [("noflag", "group members: remove one, the other stays")]
    step = failed[0]
    # the PATCH answers 204 (a Group's), so the re-read is what shows the loss
    assert step.request and step.request.startswith("GET /Groups/")
    assert step.response and step.response.startswith("200 ")
    assert step.expected and "members" in step.expected
    text = render_text(report)
    assert "      expected: members = " in text
    assert text.splitlines()[-1].startswith(f"{report.passed} passed, 1 failed")
    assert json.loads(render_json(report))["failed"] == 1
    # the flag's remove-by-filter is not affected; and the cleanup left nothing behind
    assert all(s.status == "PASS" for s in report.steps if s.mode == "flag")


async def test_the_database_check_catches_what_http_does_not_show(hr_sqlite: Any) -> None:
    """A gateway whose answers look right but whose rows are wrong: the simulator checks the rows."""
    plan = load(str(HR / "hr.map"))
    # a plan whose by_anchor reads another user's row: every HTTP answer is right, the rows are not
    user = plan.object("User")
    wrong = user.by_anchor.model_copy(update={"sql": user.by_anchor.sql.replace(":anchor", ":anchor + 1")})
    lying = plan.model_copy(
        update={"objects": (user.model_copy(update={"by_anchor": wrong}), plan.object("Group"))}
    )
    db = DbCheck(lying, {"HR_DATABASE_URL": hr_sqlite.url})
    try:
        async with client_of(plan, hr_sqlite.url) as client:
            report = await run_scenario(client, from_plan(lying), modes=("flag",), db=db)
    finally:
        db.close()
    failed = [s for s in report.steps if s.status == "FAIL"]
    assert failed and all(s.expected and s.expected.startswith("database: ") for s in failed), render_text(
        report
    )


MINIMAL = '''
source hr {
  dialect sqlite
  url env("HR_DATABASE_URL", "sqlite:///hr.db")
}

object User from hr {
  anchor employee_id generated by database
  query userName
  dn "CN={anchor},OBJECT=USER"

  import sql"""SELECT employee_id, login, active, updated_at FROM employees"""
  delta watermark updated_at

  attributes {
    userName <-> login  required unique
    active   <-> active boolean
  }

  write table employees
  disable set active = false
  delete row
}
'''


async def test_what_the_target_does_not_map_is_skipped(hr_sqlite: Any, tmp_path: Path) -> None:
    mapping = tmp_path / "minimal.map"
    mapping.write_text(MINIMAL, encoding="utf-8")
    plan = load(str(mapping))
    report = await simulate_plan(plan, {"HR_DATABASE_URL": hr_sqlite.url}, modes=("noflag",))
    assert report.failed == 0, render_text(report)
    skipped = {s.name: s.expected for s in report.steps if s.status == "SKIP"}
    assert skipped["update: add nickName"] == "skipped: not mapped (nickName)"
    assert skipped["update: add manager as a bare id"] == "skipped: not mapped (enterprise:manager)"
    assert str(skipped["group create: POST without members (Entra's body)"]).startswith("skipped: not mapped")
    passed = {s.name for s in report.steps if s.status == "PASS"}
    assert {
        "create: POST the user (Entra's body)",
        "disable: replace active with false",
        "delete: DELETE the user",
    } <= passed


async def test_the_model_from_discovery_matches_the_plan(hr_sqlite: Any) -> None:
    plan = load(str(HR / "hr.map"))
    async with client_of(plan, hr_sqlite.url) as client:
        from mapper.simulate.report import Report

        discovered = await discover(client, Report())
    planned = from_plan(plan)
    assert discovered is not None and planned.users and planned.groups
    assert discovered.users.endpoint == "/Users" and discovered.groups.endpoint == "/Groups"
    # /Schemas leaves out the common attributes (externalId, meta): everything else agrees
    common = {"externalId", "meta.created", "meta.lastModified"}
    assert discovered.users.writable == planned.users.writable - common
    assert discovered.users.readable == planned.users.readable - common
    assert discovered.groups.writable == planned.groups.writable - common
    assert from_discovery([], []).users is None


def test_an_anchor_taken_from_an_attribute_is_immutable() -> None:
    """payroll.map anchors groups on displayName: a rename is skipped, not sent."""
    plan = load(str(HR.parent / "payroll" / "payroll.map"))
    groups = from_plan(plan).groups
    assert groups is not None
    assert (
        "displayName" in groups.immutable and groups.creates("displayName") and not groups.maps("displayName")
    )
