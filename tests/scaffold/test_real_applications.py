"""Scaffolds of real applications' schemas served as drafted, for what the life cycle of
``test_scaffold_databases`` does not look at (tests/scaffold/schemas/wordpress and nextcloud),
the mapping docs/authoring.md writes by hand for Redmine (tests/scaffold/schemas/redmine),
Keycloak's realms (tests/scaffold/fill_in/keycloak: its draft has a FILL IN lint refuses), and
OrangeHRM's logins beside their employees (tests/scaffold/fill_in/orangehrm)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from mapper.lint import lint_text
from mapper.pipeline import load
from mapper.scaffold import scaffold
from mapper.simulate.report import render_text
from mapper.simulate.runner import simulate_plan
from tests.support.databases import HrDatabase, load_sql, reset_database
from tests.support.scaffold import GOLDEN, KINDS, ROOT, SCHEMAS, load_schema, stable
from tests.support.scim import CORE_GROUP, CORE_USER, scim_client

Golden = Callable[[str, Path], None]  # the golden fixture (tests/conftest.py)

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


ACME = "0b9e4c4a-7f52-4d8e-b1c3-2a6e9f8d5c10"  # Keycloak's realm 'acme' (the other is 'master')
MASTER_ADMIN = "a0000000-0000-4000-8000-000000000001"  # the master realm's 'admin'
ACME_ADMIN = "a0000000-0000-4000-8000-000000000002"  # acme's own 'admin'


@pytest.mark.parametrize("kind", KINDS)
async def test_keycloak_realms_are_a_fill_in_and_the_filled_draft_serves_one_realm(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest, golden: Golden
) -> None:
    """Keycloak keeps the users of every realm in ``user_entity``, the login unique only within
    its realm (``UNIQUE (realm_id, username)``). The draft served every realm: ``GET``, ``PATCH``
    and ``DELETE`` reached the master realm's administrator, and a filter on the ``admin`` both
    realms have found one of the two (Entra then updates whichever it found). The realm is now a
    FILL IN lint refuses; filled, the draft serves and writes acme's rows alone. It had no Group:
    ``user_group_membership.group_id`` declares no key to ``keycloak_group``, and its
    ``membership_type`` is required; the add now writes the one value its rows hold. On MariaDB the
    flags are ``BIT(1) NOT NULL DEFAULT b'0'``, a default the inspector does not read: ``ENABLED``
    was drafted ``create set ENABLED = FILL_IN`` instead of ``active``, and a mapping leaving
    ``EMAIL_VERIFIED`` to its default failed lint (MAP303). ``created_timestamp`` holds
    milliseconds: read as seconds, no user had a ``meta.created``."""
    db = load_schema("keycloak", kind, tmp_path, request)
    result = scaffold(db.url)
    golden(stable(result.text, db), GOLDEN / f"keycloak.{kind}.map")
    text = result.text
    assert result.fill_in == 3, text  # the users' realm, the groups' realm, a group's parent
    refused = [
        d.code for d in lint_text(text, "keycloak.map", db=db.url).diagnostics if d.severity.name == "ERROR"
    ]
    assert "MAP243" in refused, refused
    assert re.search(r"\n    active +<-> (?:ENABLED|enabled) +boolean\n", text), text

    filled = re.sub(r"(WHERE \S+) = FILL_IN", rf"\1 = '{ACME}'", text)
    filled = re.sub(r"(create set \S+) = FILL_IN", rf'\1 = "{ACME}"', filled)
    filled = re.sub(r"(?i)(parent_group) = FILL_IN", r'\1 = " "', filled)  # a top-level group
    linted = lint_text(filled, "keycloak.map", db=db.url).diagnostics
    assert not [d for d in linted if d.severity.name == "ERROR"], "\n".join(map(str, linted))
    path = tmp_path / "keycloak.map"
    path.write_text(filled, encoding="utf-8")
    environ = {f"{db.name.upper()}_DATABASE_URL": db.url}
    report = await simulate_plan(load(path), environ)
    assert report.failed == 0, render_text(report)

    served = HrDatabase(kind, db.dialect, db.url)
    q = "`" if kind == "mariadb" else ""
    users = "`USER_ENTITY`" if q else "user_entity"
    master = f"SELECT * FROM {users} WHERE {q}REALM_ID{q} <> '{ACME}' ORDER BY 1"
    before = served.execute(master)
    patch = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}
    disable = {**patch, "Operations": [{"op": "replace", "path": "active", "value": False}]}
    async with scim_client(served, mapping=path, environ=environ) as client:
        assert (await client.get(f"/Users/{MASTER_ADMIN}")).status_code == 404
        assert (await client.patch(f"/Users/{MASTER_ADMIN}", json=disable)).status_code == 404
        assert (await client.delete(f"/Users/{MASTER_ADMIN}")).status_code == 404
        assert (await client.get("/Groups/d0000000-0000-4000-8000-000000000001")).status_code == 404
        staff = (await client.get('/Groups?filter=displayName eq "staff"')).json()["Resources"]
        assert [m["value"] for m in staff[0]["members"]] == ["a0000000-0000-4000-8000-000000000003"]
        found = (await client.get('/Users?filter=userName eq "admin"')).json()
        assert [r["id"] for r in found["Resources"]] == [ACME_ADMIN], found
        assert found["Resources"][0]["meta"]["created"] == "2024-01-02T00:00:00Z", found
        taken = await client.post("/Users", json={"schemas": [CORE_USER], "userName": "admin"})
        assert taken.status_code == 409, taken.text
        created = await client.post("/Users", json={"schemas": [CORE_USER], "userName": "joan"})
        assert created.status_code == 201, created.text
        assert created.json()["meta"]["created"].startswith("20"), created.text
    assert served.execute(master) == before
    where = f"{q}USERNAME{q} = 'joan'"
    (row,) = served.execute(f"SELECT {q}REALM_ID{q}, {q}CREATED_TIMESTAMP{q} FROM {users} WHERE {where}")
    assert row[0] == ACME and row[1] > 10**12, row  # milliseconds, as Keycloak writes them


@pytest.mark.mariadb
def test_keycloak_bit_flags_with_a_default_are_not_required_by_lint(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Keycloak's flags on MariaDB are ``BIT(1) NOT NULL DEFAULT b'0'``, a default SQLAlchemy's
    inspector does not read: ``mapper lint --db`` said an insert leaving ``EMAIL_VERIFIED`` to it
    would fail (MAP303, an error) though MariaDB fills it. It is read from information_schema."""
    db = load_schema("keycloak", "mariadb", tmp_path, request)
    text = f"""source kc {{
  dialect mysql
  url "{db.url}"
}}

object User from kc {{
  anchor ID uuid
  query userName
  import sql\"\"\"SELECT ID, USERNAME, ENABLED FROM USER_ENTITY WHERE REALM_ID = '{ACME}'\"\"\"
  attributes {{
    userName <-> USERNAME required unique
    active   <-> ENABLED  boolean
  }}
  write table USER_ENTITY
  create set REALM_ID = "{ACME}"
}}
"""
    linted = lint_text(text, "keycloak.map", db=db.url).diagnostics
    assert not [d for d in linted if d.code == "MAP303"], "\n".join(map(str, linted))


#: Keycloak's names as its Liquibase changelogs create them on MariaDB (upper case)
KEYCLOAK_NAMES = (
    *("user_entity", "keycloak_group", "user_group_membership", "username", "email", "first_name"),
    *("last_name", "enabled", "created_timestamp", "realm_id", "service_account_client_link"),
    *("parent_group", "group_id", "user_id", "membership_type", "id", "name", "type"),
)


def keycloak_mapping(kind: str, url: str) -> str:
    """The Keycloak mapping of docs/authoring.md (*Users of several realms in one table*), for
    ``kind``: on MariaDB with Keycloak's upper-case names, ``DIV`` and ``UNIX_TIMESTAMP()``, as
    the section says."""
    text = (ROOT / "docs" / "authoring.md").read_text(encoding="utf-8")
    section = text.split("## Users of several realms in one table\n", 1)[1]
    body = section.split("```\n", 4)[3]
    if kind == "mariadb":
        sql = re.compile(r'sql"""(.*?)"""', re.S)
        names = re.compile(rf"\b({'|'.join(KEYCLOAK_NAMES)})\b")

        def upper(found: re.Match[str]) -> str:
            inner = names.sub(lambda n: n.group(1).upper(), found.group(1))
            return f'sql"""{inner}"""'

        body = sql.sub(upper, body)
        body = re.sub(
            rf"(<->|<-|table|anchor|set|,)(\s+)({'|'.join(KEYCLOAK_NAMES)})\b",
            lambda m: m.group(1) + m.group(2) + m.group(3).upper(),
            body,
        )
        body = body.replace("/ 1000", "DIV 1000").replace(
            "CAST(EXTRACT(EPOCH FROM CURRENT_TIMESTAMP) AS BIGINT) * 1000", "UNIX_TIMESTAMP() * 1000"
        )
    dialect = "postgres" if kind == "postgres" else "mysql"
    return f'source keycloak {{\n  dialect {dialect}\n  url "{url}"\n}}\n\n{body}'


@pytest.mark.parametrize(
    "kind",
    [
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ],
)
async def test_keycloak_mapping_of_the_docs_serves_one_realm(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """The Keycloak mapping docs/authoring.md gives lints without an error, passes Entra's life
    cycle, and reaches no row of the master realm: its users, its group, a subgroup and an
    organization's groups are 404, and a member of another realm is left out."""
    db = load_schema("keycloak", kind, tmp_path, request)
    text = keycloak_mapping(kind, db.url)
    linted = lint_text(text, "keycloak.map", db=db.url).diagnostics
    assert [d.code for d in linted] == ["MAP310", "MAP310"], "\n".join(
        map(str, linted)
    )  # credential, user_attribute
    path = tmp_path / "keycloak.map"
    path.write_text(text, encoding="utf-8")
    report = await simulate_plan(load(path), {})
    assert report.failed == 0, render_text(report)

    served = HrDatabase(kind, db.dialect, db.url)
    q = "`" if kind == "mariadb" else ""
    users, groups, members = (
        (f"{q}{t.upper()}{q}" if q else t) for t in ("user_entity", "keycloak_group", "user_group_membership")
    )
    others = f"SELECT * FROM {users} WHERE {q}REALM_ID{q} <> '{ACME}' ORDER BY 1"
    before = served.execute(others), served.execute(f"SELECT * FROM {members} ORDER BY 1, 2")
    async with scim_client(served, mapping=path, environ={}) as client:
        for other in (
            f"/Users/{MASTER_ADMIN}",
            "/Users/a0000000-0000-4000-8000-000000000004",  # acme's service account
            "/Groups/d0000000-0000-4000-8000-000000000001",  # master's admins
            "/Groups/d0000000-0000-4000-8000-000000000003",  # acme's /staff/engineering
        ):
            assert (await client.get(other)).status_code == 404, other
            assert (await client.delete(other)).status_code == 404, other
        group = await client.post(
            "/Groups",
            json={"schemas": [CORE_GROUP], "displayName": "admins", "members": [{"value": MASTER_ADMIN}]},
        )
        assert group.status_code == 201, group.text
        assert "members" not in group.json(), group.text  # the master realm's admin is no user here
        twice = await client.post(
            "/Users",
            json={
                "schemas": [CORE_USER],
                "userName": "al",
                "emails": [{"type": "work", "value": "ALICE@acme.example"}],
            },
        )
        assert twice.status_code == 409 and twice.json()["scimType"] == "uniqueness", twice.text
        found = (await client.get('/Groups?filter=displayName eq "admins"')).json()
        assert [g["id"] for g in found["Resources"]] == [group.json()["id"]], found
    assert served.execute(others) == before[0]
    assert served.execute(f"SELECT * FROM {members} ORDER BY 1, 2") == before[1]
    (row,) = served.execute(
        f"SELECT {q}REALM_ID{q}, {q}PARENT_GROUP{q} FROM {groups} WHERE {q}ID{q} = '{group.json()['id']}'"
    )
    assert row == (ACME, " ")


PATCH = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}


def patch(path: str, value: object, op: str = "replace") -> dict[str, object]:
    return {**PATCH, "Operations": [{"op": op, "path": path, "value": value}]}


@pytest.mark.parametrize("kind", KINDS)
async def test_orangehrm_logins_are_served_from_ohrm_user_beside_their_employees(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest, golden: Golden
) -> None:
    """OrangeHRM keeps its logins in ``ohrm_user`` (``user_name`` unique, a ``deleted`` flag, a
    ``status`` flag 1 for enabled, a required ``user_role_id``) and the people's names and
    addresses in ``hs_hr_employee``, which ``emp_number`` points at. The draft served the
    employees (userName from an e-mail not declared unique, ``delete row`` deleting the employee
    and its login by the cascade), found no active flag in ``status``, and on SQLite read
    ``user_name VARCHAR(40) UNIQUE`` as not unique. Now it serves the logins, says where the names
    are, and leaves the role to fill in; filled, Entra's life cycle works and hostile values are
    refused precisely or stored as sent."""
    db = load_schema("orangehrm", kind, tmp_path, request)
    result = scaffold(db.url)
    golden(stable(result.text, db), GOLDEN / f"orangehrm.{kind}.map")
    assert result.fill_in == 2, result.text  # the role of a new login; the employee's columns
    refused = [d.code for d in lint_text(result.text, "ohrm.map", db=db.url).diagnostics]
    assert "MAP243" in refused, refused
    filled = result.text.replace("user_role_id = FILL_IN", "user_role_id = 2")  # ESS
    linted = lint_text(filled, "ohrm.map", db=db.url).diagnostics
    assert not linted, "\n".join(map(str, linted))
    path = tmp_path / "ohrm.map"
    path.write_text(filled, encoding="utf-8")
    environ = {f"{db.name.upper()}_DATABASE_URL": db.url}
    report = await simulate_plan(load(path), environ)
    assert report.failed == 0, render_text(report)

    served = HrDatabase(kind, db.dialect, db.url)
    row = "SELECT user_role_id, status, deleted, date_entered FROM ohrm_user WHERE user_name = :name"
    logins = served.execute("SELECT COUNT(*) FROM ohrm_user")[0][0]  # the simulator's, soft-deleted
    async with scim_client(served, mapping=path, environ=environ) as client:
        found = (await client.get('/Users?filter=userName eq "ADMIN"')).json()
        assert [r["id"] for r in found["Resources"]] == ["1"], found
        assert found["Resources"][0]["meta"]["created"] == "2024-01-02T00:00:00Z", found
        grace = (await client.get("/Users/3")).json()
        assert grace["active"] is False, grace
        assert (await client.get("/Users/4")).status_code == 404  # deleted = 1
        created = await client.post("/Users", json={"schemas": [CORE_USER], "userName": "joan"})
        assert created.status_code == 201, created.text
        joan = created.json()["id"]
        ((role, status, deleted, entered),) = served.execute(row, {"name": "joan"})
        assert (role, bool(status), bool(deleted)) == (2, True, False) and entered is not None
        taken = await client.post("/Users", json={"schemas": [CORE_USER], "userName": "JOAN"})
        assert (taken.status_code, taken.json().get("scimType")) == (409, "uniqueness"), taken.text
        off = await client.patch(f"/Users/{joan}", json=patch("active", False))
        assert off.status_code == 200 and off.json()["active"] is False, off.text
        assert [bool(r[1]) for r in served.execute(row, {"name": "joan"})] == [False]
        assert (await client.delete(f"/Users/{joan}")).status_code == 204
        assert [bool(r[2]) for r in served.execute(row, {"name": "joan"})] == [True]  # kept, hidden
        revived = await client.post("/Users", json={"schemas": [CORE_USER], "userName": "olduser"})
        assert (revived.status_code, revived.json()["id"]) == (201, "4"), revived.text

        # SQLite holds any length in a VARCHAR(40): there a long login is stored as sent
        for hostile in ("nul\x00byte",) if kind == "sqlite" else ("nul\x00byte", "x" * 10_000, "x" * 41):
            answer = await client.post("/Users", json={"schemas": [CORE_USER], "userName": hostile})
            assert (answer.status_code, answer.json().get("scimType")) == (400, "invalidValue"), answer.text
        for stored in ("Robert'); DROP TABLE ohrm_user;--", "ünïcødé", "emoji\U0001f600"):
            answer = await client.post("/Users", json={"schemas": [CORE_USER], "userName": stored})
            if kind == "mariadb" and "\U0001f600" in stored:  # utf8 (utf8mb3) holds no emoji
                assert (answer.status_code, answer.json().get("scimType")) == (400, "invalidValue")
                continue
            assert answer.status_code == 201, answer.text
            assert served.execute(
                "SELECT user_name FROM ohrm_user WHERE id = :id", {"id": answer.json()["id"]}
            ) == [(stored,)]
    stored = 2 if kind == "mariadb" else 3
    assert served.execute("SELECT COUNT(*) FROM ohrm_user")[0][0] == logins + 1 + stored  # joan
    assert served.execute("SELECT COUNT(*) FROM hs_hr_employee")[0][0] == 3


def orangehrm_mapping(kind: str, url: str) -> str:
    """The OrangeHRM mapping of docs/authoring.md (*An account table and a profile table*)."""
    text = (ROOT / "docs" / "authoring.md").read_text(encoding="utf-8")
    section = text.split("## An account table and a profile table\n", 1)[1]
    body = section.split("```\n", 2)[1]
    dialect = "postgres" if kind == "postgres" else "mysql"
    return f'source orangehrm {{\n  dialect {dialect}\n  url "{url}"\n}}\n\n{body}'


@pytest.mark.parametrize(
    "kind",
    [
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ],
)
async def test_orangehrm_mapping_of_the_docs_reads_the_employee_and_writes_the_login(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """The OrangeHRM mapping docs/authoring.md gives (the employee's names, e-mail and job title
    joined import-only) lints clean and passes ``mapper simulate``, which crashed on it (it
    expected back the names a create sends); a PATCH of a name is refused whole, writing nothing."""
    db = load_schema("orangehrm", kind, tmp_path, request)
    text = orangehrm_mapping(kind, db.url)
    linted = lint_text(text, "orangehrm.map", db=db.url).diagnostics
    assert not linted, "\n".join(map(str, linted))
    clearing = "recreate revive set deleted = false, emp_number = null, user_password = null"
    assert f"`{clearing}`" in " ".join((ROOT / "docs" / "authoring.md").read_text(encoding="utf-8").split())
    revived = text.replace("  recreate revive\n", f"  {clearing}\n")
    assert not lint_text(revived, "orangehrm.map", db=db.url).diagnostics  # MAP240 settled by the proof
    path = tmp_path / "orangehrm.map"
    path.write_text(text, encoding="utf-8")
    report = await simulate_plan(load(path), {})
    assert report.failed == 0, render_text(report)

    served = HrDatabase(kind, db.dialect, db.url)
    employees = served.execute("SELECT * FROM hs_hr_employee ORDER BY emp_number")
    async with scim_client(served, mapping=path, environ={}) as client:
        alan = (await client.get('/Users?filter=userName eq "alan"')).json()["Resources"][0]
        assert (alan["name"], alan["title"]) == (
            {"givenName": "Alan", "familyName": "Turing"},
            "Software Engineer",
        )
        assert alan["emails"] == [{"type": "work", "value": "alan@acme.example"}], alan
        both = {
            **PATCH,
            "Operations": [
                {"op": "replace", "path": "active", "value": False},
                {"op": "replace", "path": "name.givenName", "value": "Al"},
            ],
        }
        refused = await client.patch("/Users/2", json=both)
        assert (refused.status_code, refused.json().get("scimType")) == (400, "mutability"), refused.text
        assert [bool(s) for (s,) in served.execute("SELECT status FROM ohrm_user WHERE id = 2")] == [True]
        off = await client.patch("/Users/2", json=patch("active", False))
        assert off.status_code == 200 and off.json()["name"]["givenName"] == "Alan", off.text
    assert served.execute("SELECT * FROM hs_hr_employee ORDER BY emp_number") == employees

    served.execute("UPDATE ohrm_user SET emp_number = 2 WHERE id = 4")  # a deleted login of Alan's
    path.write_text(revived, encoding="utf-8")
    async with scim_client(served, mapping=path, environ={}) as client:
        again = await client.post("/Users", json={"schemas": [CORE_USER], "userName": "olduser"})
        assert (again.status_code, again.json()["id"]) == (201, "4"), again.text
        assert "name" not in again.json(), again.text  # not Alan's employee
    assert served.execute("SELECT emp_number, user_password, deleted FROM ohrm_user WHERE id = 4") == [
        (None, None, False if kind == "postgres" else 0)
    ]


# -- Mattermost (tests/scaffold/schemas/mattermost) ---------------------------------------------

MM_SYSADMIN = "9xk3tyq8zfgp7ctq1wjhbyxk4e"
MM_ALICE = "p5m8rdwa1jbhtm3u6k9yq4oc7h"
MM_BOB = "e4n1dz6cgbb8jq7wf3kt9rmu5a"  # deactivated; has left engineering (his row's deleteat set)
MM_ENGINEERING = "t1qz8n3mxbd7yk5ucr9ws4fa6e"


@pytest.mark.parametrize(
    "kind",
    [
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ],
)
async def test_mattermost_draft_serves_entra_as_drafted(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Mattermost's draft had a FILL IN for its VARCHAR(26) keys (a UUID does not fit, and lint
    passed ``anchor id uuid``), took ``mfaactive`` for the active flag, and found no Group
    (``teammembers`` declares no keys and keeps six more columns). Now, served as drafted: a new
    user gets a 26-character id; Entra's disable sets ``deleteat`` to the time in milliseconds, a
    later PATCH keeps that time (the map's ``else false`` wrote 1 over it), and its enable writes 0;
    a member who left a team (his row kept, ``deleteat`` set) comes back by an add that revives the
    row, and a remove sets the time rather than deleting it; a DELETE keeps the deactivated user."""
    db = load_schema("mattermost", kind, tmp_path, request)
    result = scaffold(db.url)
    text = result.text
    assert result.fill_in == 0, text
    assert re.search(r"\n  anchor (?:Id|id) random\n", text), text
    assert not re.search(r"(?i)active +<-> mfaactive", text), text
    linted = lint_text(text, "mattermost.map", db=db.url).diagnostics
    assert not [d for d in linted if d.severity.name == "ERROR"], "\n".join(map(str, linted))
    path = tmp_path / "mattermost.map"
    path.write_text(text, encoding="utf-8")
    environ = {f"{db.name.upper()}_DATABASE_URL": db.url}

    served = HrDatabase(kind, db.dialect, db.url)
    mysql = kind == "mariadb"
    users, members = ("`Users`", "`TeamMembers`") if mysql else ("users", "teammembers")
    deleteat, uid, tid = ("DeleteAt", "UserId", "TeamId") if mysql else ("deleteat", "userid", "teamid")

    def deactivated(id: str) -> int:
        (row,) = served.execute(f"SELECT {deleteat} FROM {users} WHERE {'Id' if mysql else 'id'} = '{id}'")
        return int(row[0])

    def membership(user: str) -> list[tuple[int]]:
        where = f"{tid} = '{MM_ENGINEERING}' AND {uid} = '{user}'"
        return [(int(r[0]),) for r in served.execute(f"SELECT {deleteat} FROM {members} WHERE {where}")]

    patch = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}

    def op(operation: str, path: str, value: object) -> dict[str, object]:
        return {**patch, "Operations": [{"op": operation, "path": path, "value": value}]}

    async with scim_client(served, mapping=path, environ=environ) as client:
        found = (await client.get('/Users?filter=userName eq "Alice"')).json()  # Entra's case
        assert [r["id"] for r in found["Resources"]] == [MM_ALICE], found
        created = await client.post(
            "/Users",
            json={"schemas": [CORE_USER], "userName": "joan", "active": True, "name": {"givenName": "J"}},
        )
        assert created.status_code == 201, created.text
        joan = created.json()["id"]
        assert re.fullmatch(r"[a-z0-9]{26}", joan), joan
        assert deactivated(joan) == 0
        assert (await client.patch(f"/Users/{joan}", json=op("replace", "active", False))).status_code == 200
        when = deactivated(joan)
        assert when > 10**12, when  # the time, in milliseconds
        renamed = await client.patch(f"/Users/{joan}", json=op("replace", "name.givenName", "Joan"))
        assert renamed.status_code == 200 and renamed.json()["active"] is False, renamed.text
        assert deactivated(joan) == when
        assert (await client.patch(f"/Users/{joan}", json=op("replace", "active", True))).status_code == 200
        assert deactivated(joan) == 0

        team = (await client.get(f"/Groups/{MM_ENGINEERING}")).json()
        assert {m["value"] for m in team["members"]} == {MM_SYSADMIN, MM_ALICE}, team
        assert membership(MM_BOB)[0][0] > 0
        back = await client.patch(f"/Groups/{MM_ENGINEERING}", json=op("add", "members", [{"value": MM_BOB}]))
        assert back.status_code in (200, 204), back.text
        assert membership(MM_BOB) == [(0,)]
        gone = await client.patch(
            f"/Groups/{MM_ENGINEERING}",
            json={**patch, "Operations": [{"op": "remove", "path": f'members[value eq "{MM_ALICE}"]'}]},
        )
        assert gone.status_code in (200, 204), gone.text
        assert len(membership(MM_ALICE)) == 1 and membership(MM_ALICE)[0][0] > 10**12
        team = (await client.get(f"/Groups/{MM_ENGINEERING}")).json()
        assert {m["value"] for m in team["members"]} == {MM_SYSADMIN, MM_BOB}, team

        nul = await client.patch(f"/Users/{joan}", json=op("replace", "name.givenName", "a\u0000b"))
        assert nul.status_code == 400 and nul.json()["scimType"] == "invalidValue", nul.text
        assert (await client.delete(f"/Users/{joan}")).status_code == 204
        assert deactivated(joan) == 0  # delete ignore: Mattermost keeps its users


def mattermost_mapping(url: str) -> str:
    """The filled-in Mattermost mapping of docs/authoring.md, for PostgreSQL."""
    text = (ROOT / "docs" / "authoring.md").read_text(encoding="utf-8")
    section = text.split("## Soft-deleted rows kept as times: Mattermost\n", 1)[1]
    body = section.split("```\n", 2)[1]
    return f'source mattermost {{\n  dialect postgres\n  url "{url}"\n}}\n\n{body}'


@pytest.mark.postgres
async def test_mattermost_mapping_of_the_docs_creates_rows_mattermost_can_read(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """The filled-in mapping docs/authoring.md gives lints clean and passes Entra's life cycle; the
    rows it creates carry what Mattermost's own sign-up writes (no NULL where its server reads a
    value), and a team gets a URL name and a type."""
    db = load_schema("mattermost", "postgres", tmp_path, request)
    text = mattermost_mapping(db.url)
    linted = lint_text(text, "mattermost.map", db=db.url)
    assert not linted.diagnostics, "\n".join(map(str, linted.diagnostics))
    path = tmp_path / "mattermost.map"
    path.write_text(text, encoding="utf-8")
    report = await simulate_plan(load(path), {})
    assert report.failed == 0, render_text(report)
    served = HrDatabase("postgres", db.dialect, db.url)
    async with scim_client(served, mapping=path, environ={}) as client:
        user = {"schemas": [CORE_USER], "userName": "joan", "name": {"givenName": "Joan"}, "active": True}
        assert (await client.post("/Users", json=user)).status_code == 201
        team = await client.post("/Groups", json={"schemas": [CORE_GROUP], "displayName": "Support"})
        assert team.status_code == 201, team.text
    required = (
        "createat, updateat, deleteat, password, authservice, roles, props, notifyprops, timezone, locale"
    )
    (row,) = served.execute(f"SELECT {required} FROM users WHERE username = 'joan'")
    assert None not in row, row
    (name, kind) = served.execute("SELECT name, type FROM teams WHERE displayname = 'Support'")[0]
    assert re.fullmatch(r"scim-[0-9a-f]{20}", name) and kind == "I", (name, kind)
