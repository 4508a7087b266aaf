"""The recipes in mappings/ served through ``mapper simulate`` on SQLite, PostgreSQL and MariaDB
with the database checked after each write: an inverted flag, a status enum and a soft-delete
tombstone (each with a team membership table)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mapper.pipeline import load
from mapper.runtime.database import bootstrap_sqlite
from mapper.simulate.report import render_text
from mapper.simulate.runner import simulate_plan
from tests.support.databases import load_sql, reset_database

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]
RECIPES = ("inverted_flag", "status_enum", "soft_delete")
NOT_MAPPED = ("nickName", "manager", "externalId", "phoneNumbers", "addresses")


async def simulate(recipe: str, url: str, dialect: str) -> None:
    plan = load(str(ROOT / "mappings" / f"{recipe}.map"), write=dialect)
    report = await simulate_plan(plan, {f"{recipe.upper()}_DATABASE_URL": url})
    text = render_text(report)
    assert report.failed == 0, text
    for step in report.steps:
        if step.status == "SKIP":  # only what the recipe does not map
            assert step.expected and any(k in step.expected for k in NOT_MAPPED), text
    writes = [s for s in report.steps if s.name.startswith(("create:", "disable:", "delete:"))]
    assert writes and any(s.database for s in writes), text


@pytest.mark.parametrize("recipe", RECIPES)
async def test_recipe_on_sqlite(recipe: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'recipe.db'}"
    bootstrap_sqlite(url, [ROOT / "examples" / recipe / "schema.sql"])
    await simulate(recipe, url, "sqlite")


@pytest.mark.postgres
@pytest.mark.parametrize("recipe", RECIPES)
async def test_recipe_on_postgres(recipe: str, postgres_url: str) -> None:
    reset_database(postgres_url)
    load_sql(postgres_url, [ROOT / "examples" / recipe / "schema.postgres.sql"])
    await simulate(recipe, postgres_url, "postgres")


@pytest.mark.mariadb
@pytest.mark.parametrize("recipe", RECIPES)
async def test_recipe_on_mariadb(recipe: str, mariadb_url: str) -> None:
    reset_database(mariadb_url)
    load_sql(mariadb_url, [ROOT / "examples" / recipe / "schema.mysql.sql"])
    await simulate(recipe, mariadb_url, "mysql")
