"""Scaffolds of real applications' schemas served as drafted, for what the life cycle of
``test_scaffold_databases`` does not look at (tests/scaffold/schemas/wordpress and nextcloud),
and the mapping docs/authoring.md writes by hand for Redmine (tests/scaffold/schemas/redmine)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mapper.lint import lint_text
from mapper.pipeline import load
from mapper.scaffold import scaffold
from mapper.simulate.report import render_text
from mapper.simulate.runner import simulate_plan
from tests.support.databases import HrDatabase, load_sql, reset_database
from tests.support.scaffold import ROOT, SCHEMAS, load_schema
from tests.support.scim import CORE_GROUP, CORE_USER, scim_client

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


def redmine_mapping(kind: str, url: str) -> str:
    """The Redmine mapping of docs/authoring.md (*Users and groups in one table*), for ``kind``."""
    text = (ROOT / "docs" / "authoring.md").read_text(encoding="utf-8")
    section = text.split("## Users and groups in one table\n", 1)[1]
    body = section.split("```\n", 2)[1]
    dialect = "postgres" if kind == "postgres" else "mysql"
    return f'source redmine {{\n  dialect {dialect}\n  url "{url}"\n}}\n\n{body}'


@pytest.mark.parametrize(
    "kind",
    [
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ],
)
async def test_redmine_users_and_groups_in_one_table(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Redmine's users, groups and built-in rows share ``users``, told apart by ``type``: the
    mapping docs/authoring.md gives lints clean, passes Entra's life cycle (its re-enable of a
    locked user, ``status`` 3 to 1, was a 200 that changed nothing), and no request reaches a row
    of another type."""
    db = load_schema("redmine", kind, tmp_path, request)
    text = redmine_mapping(kind, db.url)
    linted = lint_text(text, "redmine.map", db=db.url)
    assert not linted.diagnostics, "\n".join(map(str, linted.diagnostics))
    path = tmp_path / "redmine.map"
    path.write_text(text, encoding="utf-8")
    report = await simulate_plan(load(path), {})
    assert report.failed == 0, render_text(report)

    served = HrDatabase(kind, db.dialect, db.url)
    builtins = "SELECT id, login, lastname, status, type FROM users WHERE id <= 4 ORDER BY id"
    before = served.execute(builtins)
    async with scim_client(served, mapping=path, environ={}) as client:
        for built_in in ("/Users/2", "/Users/3", "/Groups/1", "/Groups/3", "/Groups/4"):
            assert (await client.get(built_in)).status_code == 404, built_in
            assert (await client.delete(built_in)).status_code == 404, built_in
        other = await client.get('/Groups?filter=displayName eq "Non member users"')
        assert other.json()["totalResults"] == 0, other.text
        named = await client.post(
            "/Groups", json={"schemas": [CORE_GROUP], "displayName": "Admin", "members": [{"value": "3"}]}
        )
        assert named.status_code == 201, named.text
        assert "members" not in named.json()  # a built-in group is no user: left out
    assert served.execute(builtins) == before
    assert served.execute("SELECT type FROM users WHERE lastname = 'Admin' ORDER BY id") == [
        ("User",),
        ("Group",),
    ]
