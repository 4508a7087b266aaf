"""The child-table and manager-reference recipes in mappings/ served through ``mapper simulate``
on SQLite, PostgreSQL and MariaDB, with the database checked after each write; plus what the
simulator does not exercise: a second email kept with its type and primary, and a manager id that
names nobody refused by ``on missing reject``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from mapper.pipeline import load
from mapper.runtime.database import bootstrap_sqlite
from mapper.scim.app import build_app
from mapper.scim.auth import parse_credentials
from mapper.scim.settings import Settings
from mapper.simulate.report import render_text
from mapper.simulate.runner import simulate_plan
from tests.support.databases import HrDatabase, load_sql, reset_database

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]
RECIPES = ("child_tables", "manager_reference")
#: what each recipe leaves unmapped on purpose (its simulator steps are skipped)
NOT_MAPPED = ("nickName", "externalId", "addresses", "manager", "emails.work", "department")
TOKEN = "recipe-token-0123456789"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def database(recipe: str, kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> HrDatabase:
    folder = ROOT / "examples" / recipe
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'recipe.db'}"
        bootstrap_sqlite(url, [folder / "schema.sql"])
        return HrDatabase("sqlite", "sqlite", url)
    url = request.getfixturevalue(f"{kind}_url")
    reset_database(url)
    load_sql(url, [folder / ("schema.postgres.sql" if kind == "postgres" else "schema.mysql.sql")])
    return HrDatabase(kind, "postgres" if kind == "postgres" else "mysql", url)


KINDS = [
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("mariadb", marks=pytest.mark.mariadb),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("recipe", RECIPES)
async def test_recipe_simulates_clean(
    recipe: str, kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    db = database(recipe, kind, tmp_path, request)
    plan = load(ROOT / "mappings" / f"{recipe}.map", write=db.dialect)
    report = await simulate_plan(plan, {f"{recipe.upper()}_DATABASE_URL": db.url})
    text = render_text(report)
    assert report.failed == 0, text
    for step in report.steps:
        if step.status == "SKIP":
            assert step.expected and any(k in step.expected for k in NOT_MAPPED), text
    writes = [s for s in report.steps if s.name.startswith(("create:", "update:", "delete:"))]
    assert writes and any(s.database for s in writes), text


@asynccontextmanager
async def recipe_client(recipe: str, db: HrDatabase) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app serving the recipe from ``db``, lifespan included."""
    settings = Settings(
        credentials=parse_credentials([f"t:{TOKEN}"]),
        environ={f"{recipe.upper()}_DATABASE_URL": db.url},
        autosync=False,
    )
    app = build_app(load(ROOT / "mappings" / f"{recipe}.map", write=db.dialect), settings)
    async with app.router.lifespan_context(app) as state:

        async def with_state(scope: Any, receive: Any, send: Any) -> None:
            scope["state"] = dict(state or {})
            await app(scope, receive, send)

        transport = httpx.ASGITransport(app=with_state)
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://t/scim/v2", headers=headers) as c:
            yield c


@pytest.mark.parametrize("kind", KINDS)
async def test_child_tables_keep_type_and_primary(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    db = database("child_tables", kind, tmp_path, request)
    async with recipe_client("child_tables", db) as c:
        emails = [
            {"type": "work", "value": "ann@example.com", "primary": True},
            {"type": "work", "value": "ann@example.org"},
        ]
        created = await c.post("/Users", json={"userName": "ann", "emails": emails})
        assert created.status_code == 201, created.text
        rows = db.execute("SELECT kind, address, is_primary FROM person_emails ORDER BY address")
        assert [(k, a, bool(p)) for k, a, p in rows] == [
            ("work", "ann@example.com", True),
            ("work", "ann@example.org", False),
        ]
        two = [{"value": "a@x", "primary": True}, {"value": "b@x", "primary": True}]
        refused = await c.post("/Users", json={"userName": "bob", "emails": two})
        assert refused.status_code == 400 and refused.json()["scimType"] == "invalidValue"


@pytest.mark.parametrize("kind", KINDS)
async def test_manager_reference_rejects_an_unknown_manager(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    db = database("manager_reference", kind, tmp_path, request)
    async with recipe_client("manager_reference", db) as c:
        boss = (await c.post("/Users", json={"userName": "boss"})).json()
        body = {"userName": "report", ENTERPRISE: {"manager": {"value": boss["id"]}}}
        report = await c.post("/Users", json=body)
        assert report.status_code == 201 and report.json()[ENTERPRISE]["manager"]["value"] == boss["id"]
        orphan = {"userName": "orphan", ENTERPRISE: {"manager": {"value": "424242"}}}
        refused = await c.post("/Users", json=orphan)
        assert refused.status_code == 400 and "424242" in refused.json()["detail"]
        assert db.execute("SELECT COUNT(*) FROM staff WHERE login = 'orphan'") == [(0,)]
        team = await c.post("/Groups", json={"displayName": "T", "members": [{"value": "424242"}]})
        assert team.status_code == 201 and "members" not in team.json()  # members: on missing drop
