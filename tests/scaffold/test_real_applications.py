"""Scaffolds of real applications' schemas served as drafted, for what the life cycle of
``test_scaffold_databases`` does not look at (tests/scaffold/schemas/wordpress and nextcloud)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mapper.scaffold import scaffold
from tests.support.databases import HrDatabase
from tests.support.scaffold import load_schema
from tests.support.scim import CORE_USER, scim_client

pytestmark = pytest.mark.anyio


@pytest.mark.mariadb
async def test_wordpress_users_created_by_the_gateway_have_a_creation_time(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """WordPress's ``user_registered DATETIME NOT NULL DEFAULT '0000-00-00 00:00:00'`` is drafted
    ``meta.created``; a row inserted without it held the zero date, which is no time, so every
    user the gateway created had no ``meta.created`` (and WordPress showed it registered in year
    0). The scaffold now drafts ``create set user_registered = CURRENT_TIMESTAMP``."""
    db = load_schema("wordpress", "mariadb", tmp_path, request)
    text = scaffold(db.url).text
    mapping = tmp_path / "wordpress.map"
    mapping.write_text(text, encoding="utf-8")
    served = HrDatabase("mariadb", "mysql", db.url)
    environ = {f"{db.name.upper()}_DATABASE_URL": db.url}
    async with scim_client(served, mapping=mapping, environ=environ) as client:
        created = await client.post("/Users", json={"schemas": [CORE_USER], "userName": "joan"})
        assert created.status_code == 201, created.text
        assert created.json()["meta"]["created"].startswith("20"), created.text
        (registered,) = served.execute("SELECT user_registered FROM wp_users WHERE user_login = 'joan'")
        assert str(registered[0]) > "2000"
