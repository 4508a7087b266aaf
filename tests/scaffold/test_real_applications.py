"""Scaffolds of real applications' schemas served as drafted, for what the life cycle of
``test_scaffold_databases`` does not look at (tests/scaffold/schemas/wordpress and nextcloud)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mapper.scaffold import scaffold
from tests.support.databases import HrDatabase, load_sql, reset_database
from tests.support.scaffold import SCHEMAS, load_schema
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


@pytest.mark.postgres
def test_nextcloud_without_foreign_keys_is_scaffolded_from_oc_users(
    tmp_path: Path, postgres_url: str
) -> None:
    """Nextcloud declares no foreign keys, and both ``oc_users`` and ``oc_accounts`` are keyed
    ``uid``: ``oc_group_user.uid`` was linked to the first of them by name, ``oc_accounts``, which
    then won the user table (a key and a JSON ``data`` column) and the Group's members pointed at
    it. The link now goes to the table the membership table's name names (``group_user``)."""
    schema = (SCHEMAS / "nextcloud" / "schema.postgres.sql").read_text(encoding="utf-8")
    schema = re.sub(r" REFERENCES \w+ \(\w+\) ON DELETE CASCADE", "", schema)
    assert "REFERENCES" not in schema
    file = tmp_path / "nextcloud.sql"
    file.write_text(schema, encoding="utf-8")
    reset_database(postgres_url)
    load_sql(postgres_url, [file])
    result = scaffold(postgres_url)
    assert "# User: guessed from table oc_users (by its name and columns)\n" in result.text
    assert 'import sql"""SELECT gid, uid FROM oc_group_user"""' in result.text
    assert "members: the rows of oc_group_user, found through its column names" in result.text
    assert not [w for w in result.warnings if "guessed table 'oc_accounts'" in w]
