"""``mapper init`` on tables keyed by text the client must fill (not generated, too short for a
UUID), on SQLite, PostgreSQL and MariaDB.

- login_keyed (tests/scaffold/schemas/, also run by test_scaffold_databases): the key is the
  query attribute's column, so the anchor is ``from userName`` / ``from displayName``; served
  through the gateway, a create fills the key from the attribute, and a rename is refused.
- coded_teams (tests/scaffold/fill_in/): the group's key is a code that is not its name, so the
  scaffold drafts ``anchor TeamCode from PATH`` with a FILL IN and a warning, and ``mapper lint``
  refuses the draft (MAP140 on the anchor) until it is filled; filled, it serves.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from mapper.lint import lint_text
from mapper.runtime.database import engine_url
from mapper.scaffold import scaffold
from tests.support.scaffold import GOLDEN, KINDS, Loaded, load_schema, stable
from tests.support.scim import CORE_GROUP, CORE_USER, PATCH_OP, scim_client

Golden = Callable[[str, Path], None]

pytestmark = pytest.mark.anyio


def _rows(db: Loaded, sql: str) -> list[tuple[object, ...]]:
    engine = create_engine(engine_url(db.url))
    try:
        with engine.connect() as connection:
            return [tuple(r) for r in connection.execute(text(sql))]
    finally:
        engine.dispose()


def _serve(db: Loaded, mapping: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    file = tmp_path / "scaffold.map"
    file.write_text(mapping, encoding="utf-8")
    env = f"{db.name.upper()}_DATABASE_URL"
    return scim_client(db, mapping=file, environ={env: db.url}, raise_app_exceptions=False)


def _user(login: str) -> dict[str, object]:
    return {"schemas": [CORE_USER], "userName": login, "name": {"givenName": "Ada", "familyName": "L"}}


@pytest.mark.parametrize("kind", KINDS)
async def test_a_key_that_is_the_login_or_the_name_is_filled_from_it(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    db = load_schema("login_keyed", kind, tmp_path, request)
    mapping = scaffold(db.url).text
    assert "anchor login from userName" in mapping and "anchor group_name from displayName" in mapping
    assert not lint_text(mapping, "scaffold.map", db=db.url).diagnostics

    async with _serve(db, mapping, tmp_path) as client:
        created = await client.post("/Users", json=_user("ada.initkey@example.com"))
        assert created.status_code == 201, created.text
        assert created.json()["id"] == "ada.initkey@example.com"
        group = await client.post(
            "/Groups",
            json={
                "schemas": [CORE_GROUP],
                "displayName": "Initkey Admins",
                "members": [{"value": "ada.initkey@example.com"}],
            },
        )
        assert group.status_code == 201, group.text
        assert group.json()["id"] == "Initkey Admins"
        renamed = await client.patch(
            "/Users/ada.initkey@example.com",
            json={
                "schemas": [PATCH_OP],
                "Operations": [{"op": "replace", "path": "userName", "value": "ada2@example.com"}],
            },
        )
        assert renamed.status_code == 400 and renamed.json()["scimType"] == "mutability", renamed.text

    assert _rows(db, "SELECT login, given_name FROM users") == [("ada.initkey@example.com", "Ada")]
    assert _rows(db, "SELECT group_name FROM user_groups") == [("Initkey Admins",)]
    assert _rows(db, "SELECT group_name, login FROM group_members") == [
        ("Initkey Admins", "ada.initkey@example.com")
    ]


@pytest.mark.parametrize("kind", KINDS)
async def test_a_key_that_is_not_the_name_is_a_fill_in_that_lint_refuses(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest, golden: Golden
) -> None:
    db = load_schema("coded_teams", kind, tmp_path, request)
    result = scaffold(db.url)
    golden(stable(result.text, db), GOLDEN / f"coded_teams.{kind}.map")
    assert any("Teams.TeamCode" in w and "FILL IN" in w for w in result.warnings), result.warnings

    lines = result.text.splitlines()
    anchor_line = lines.index("  anchor TeamCode from PATH") + 1
    found = lint_text(result.text, "scaffold.map", db=db.url).diagnostics
    assert [(d.code, d.span.line, d.span.col) for d in found] == [("MAP140", anchor_line, 24)], found

    filled = result.text.replace("anchor TeamCode from PATH", "anchor TeamCode from displayName")
    # the name's column is wider than the key it fills: a longer name is refused (below), MAP317
    # says so where the database holds text to its length
    warned = [d.code for d in lint_text(filled, "scaffold.map", db=db.url).diagnostics]
    assert warned == ([] if kind == "sqlite" else ["MAP317"])
    async with _serve(db, filled, tmp_path) as client:
        user = await client.post("/Users", json=_user("grace"))
        assert user.status_code == 201, user.text
        staff = user.json()["id"]
        group = await client.post(
            "/Groups",
            json={"schemas": [CORE_GROUP], "displayName": "OPS", "members": [{"value": staff}]},
        )
        assert group.status_code == 201, group.text
        assert group.json()["id"] == "OPS"
        if kind != "sqlite":  # SQLite does not hold text to its VARCHAR length
            too_long = await client.post(
                "/Groups", json={"schemas": [CORE_GROUP], "displayName": "Operations and Infrastructure"}
            )
            assert too_long.status_code == 400, too_long.text
            assert too_long.json()["scimType"] == "invalidValue", too_long.text

    q = "`" if kind == "mariadb" else '"'
    assert _rows(db, f"SELECT {q}TeamCode{q}, {q}TeamName{q} FROM {q}Teams{q}") == [("OPS", "OPS")]
    members = _rows(db, f"SELECT {q}TeamCode{q}, {q}StaffID{q} FROM {q}TeamMembers{q}")
    assert members == [("OPS", int(staff))]
