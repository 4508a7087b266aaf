"""``name.givenName`` kept in a key-value (EAV) table: WordPress's ``wp_usermeta`` (a row per user
and ``meta_key``), Nextcloud's ``oc_preferences`` (a row per user, app and ``configkey``). The
language maps one column per attribute, so a joined value is import-only (MAP210); the documented
ways to write it (docs/authoring.md, *A key-value table*) are the mapping's own procedures
(MariaDB/MySQL, which has no trigger on a view) or a view with ``INSTEAD OF`` triggers
(PostgreSQL). Tried as a new user would, each failed in a way that hid the cause:

- PostgreSQL, a view over ``LEFT JOIN``s: every PATCH was a 500 with a traceback (the write's
  locking read, ``FOR NO KEY UPDATE OF`` the view, cannot lock the join's nullable side), and
  ``mapper lint --db`` passed it (``PREPARE`` does not plan the lock). Now lint reports it (MAP304,
  with the fix: scalar subqueries in the view) and the gateway answers 503 with one warning
  naming it; the view written with scalar subqueries works end to end.
- MariaDB, procedures whose ``VARCHAR`` parameters have the database's default collation, compared
  with ``wp_usermeta.meta_key`` (``utf8mb4_unicode_520_ci``): every create was 400 *a database
  column cannot hold a value's characters*, for plain ASCII, blaming the client. Now it is the
  mapping's SQL refused (503, one warning naming the collations); the procedures written with the
  table's collation work end to end.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from mapper.lint import lint_text
from tests.support.databases import HrDatabase, scratch_database
from tests.support.scim import CORE_USER, ERROR, mapping_client, patch_body

pytestmark = pytest.mark.anyio

# -- PostgreSQL: Nextcloud's oc_users and oc_preferences, written through a view ----------------

NEXTCLOUD = """
CREATE TABLE oc_users (
  uid VARCHAR(64) DEFAULT '' NOT NULL PRIMARY KEY,
  displayname VARCHAR(64) DEFAULT NULL,
  password VARCHAR(255) DEFAULT '' NOT NULL,
  uid_lower VARCHAR(64) DEFAULT ''
);
CREATE TABLE oc_preferences (
  userid VARCHAR(64) DEFAULT '' NOT NULL,
  appid VARCHAR(32) DEFAULT '' NOT NULL,
  configkey VARCHAR(64) DEFAULT '' NOT NULL,
  configvalue TEXT DEFAULT NULL,
  PRIMARY KEY (userid, appid, configkey)
);
INSERT INTO oc_users (uid, displayname, uid_lower) VALUES ('admin', 'Administrator', 'admin');
INSERT INTO oc_preferences VALUES ('admin', 'settings', 'email', 'admin@example.com');
CREATE VIEW scim_users AS
VIEW_BODY;
CREATE FUNCTION scim_users_write() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    DELETE FROM oc_preferences WHERE userid = OLD.uid;
    DELETE FROM oc_users WHERE uid = OLD.uid;
    RETURN OLD;
  ELSIF TG_OP = 'INSERT' THEN
    INSERT INTO oc_users (uid, displayname, uid_lower) VALUES (NEW.uid, NEW.displayname, lower(NEW.uid));
  ELSE
    UPDATE oc_users SET displayname = NEW.displayname WHERE uid = OLD.uid;
  END IF;
  DELETE FROM oc_preferences WHERE userid = NEW.uid AND appid = 'settings' AND configkey = 'email';
  IF NEW.email IS NOT NULL THEN
    INSERT INTO oc_preferences VALUES (NEW.uid, 'settings', 'email', NEW.email);
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER scim_users_write INSTEAD OF INSERT OR UPDATE OR DELETE ON scim_users
FOR EACH ROW EXECUTE FUNCTION scim_users_write();
"""
JOINED = """SELECT u.uid, u.displayname, p.configvalue AS email FROM oc_users u
LEFT JOIN oc_preferences p ON p.userid = u.uid AND p.appid = 'settings' AND p.configkey = 'email'"""
SUBQUERIES = """SELECT u.uid, u.displayname,
  (SELECT p.configvalue FROM oc_preferences p
   WHERE p.userid = u.uid AND p.appid = 'settings' AND p.configkey = 'email') AS email
FROM oc_users u"""

NEXTCLOUD_MAP = """
source t {
  dialect DIALECT
  url env("HR_DATABASE_URL", "sqlite:///t.db")
}

object User from t {
  anchor uid from userName
  query userName
  import sql\"\"\"SELECT uid, displayname, email FROM scim_users\"\"\"
  attributes {
    userName                     <-> uid         required unique
    displayName                  <-> displayname
    emails[type eq "work"].value <-> email
  }
  write table scim_users
  delete row
}
"""


def nextcloud(tmp_path: Path, postgres_url: str, view: str) -> HrDatabase:
    return scratch_database("postgres", tmp_path, NEXTCLOUD.replace("VIEW_BODY", view), postgres_url)


def preferences(db: HrDatabase) -> list[tuple[object, ...]]:
    return [tuple(r) for r in db.execute("SELECT userid, configvalue FROM oc_preferences ORDER BY userid")]


@pytest.mark.postgres
async def test_a_view_over_a_left_join_is_linted_and_answers_503_not_500(
    tmp_path: Path, postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    db = nextcloud(tmp_path, postgres_url, JOINED)
    text = NEXTCLOUD_MAP.replace("DIALECT", "postgres").replace("sqlite:///t.db", db.url)
    found = lint_text(text, "t.map", db=db.url).diagnostics
    assert [d.code for d in found] == ["MAP304"], "\n".join(map(str, found))
    assert "nullable side of an outer join" in found[0].message
    assert "scalar subqueries" in (found[0].hint or "")
    assert str(found[0]).startswith("t.map:10:10:")  # the import query, which the locking read is made from

    caplog.set_level(logging.INFO)
    async with mapping_client(db, tmp_path, NEXTCLOUD_MAP) as client:
        assert (await client.get("/Users/admin")).status_code == 200
        before = preferences(db)
        patched = await client.patch(
            "/Users/admin",
            json=patch_body({"op": "replace", "path": 'emails[type eq "work"].value', "value": "a@b.c"}),
        )
        assert patched.status_code == 503, patched.text
        assert patched.headers["Retry-After"]
        assert patched.json()["schemas"] == [ERROR]
        assert preferences(db) == before
    tracebacks = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not tracebacks, [r.getMessage() for r in tracebacks]
    assert [r for r in caplog.records if "outer join" in r.getMessage()]


@pytest.mark.postgres
async def test_a_view_of_scalar_subqueries_writes_the_key_value_rows(
    tmp_path: Path, postgres_url: str
) -> None:
    db = nextcloud(tmp_path, postgres_url, SUBQUERIES)
    text = NEXTCLOUD_MAP.replace("DIALECT", "postgres").replace("sqlite:///t.db", db.url)
    found = lint_text(text, "t.map", db=db.url).diagnostics
    assert not found, "\n".join(map(str, found))
    async with mapping_client(db, tmp_path, NEXTCLOUD_MAP) as client:
        body = {"schemas": [CORE_USER], "userName": "Ada", "emails": [{"type": "work", "value": "ada@x.y"}]}
        created = await client.post("/Users", json=body)
        assert created.status_code == 201, created.text
        patched = await client.patch(
            "/Users/Ada",
            json=patch_body({"op": "replace", "path": 'emails[type eq "work"].value', "value": "ada@z.y"}),
        )
        assert patched.status_code == 200, patched.text
        assert patched.json()["emails"] == [{"type": "work", "value": "ada@z.y"}]
        assert ("Ada", "ada@z.y") in preferences(db)
        assert list(db.execute("SELECT uid_lower FROM oc_users WHERE uid = 'Ada'")) == [("ada",)]
        removed = await client.patch("/Users/Ada", json=patch_body({"op": "remove", "path": "emails"}))
        assert removed.status_code == 200, removed.text
        assert "emails" not in removed.json()
        assert preferences(db) == [("admin", "admin@example.com")]
        assert (await client.delete("/Users/Ada")).status_code == 204
        assert list(db.execute("SELECT uid FROM oc_users")) == [("admin",)]


# -- MariaDB: WordPress's wp_users and wp_usermeta, written through procedures ------------------

WORDPRESS = """
CREATE TABLE wp_users (
  ID BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  user_login VARCHAR(60) NOT NULL DEFAULT '',
  user_pass VARCHAR(255) NOT NULL DEFAULT '',
  user_email VARCHAR(100) NOT NULL DEFAULT '',
  display_name VARCHAR(250) NOT NULL DEFAULT ''
) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci;
CREATE TABLE wp_usermeta (
  umeta_id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  user_id BIGINT UNSIGNED NOT NULL DEFAULT 0,
  meta_key VARCHAR(255) DEFAULT NULL,
  meta_value LONGTEXT
) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci;
INSERT INTO wp_users (user_login, display_name) VALUES ('admin', 'admin');
INSERT INTO wp_usermeta (user_id, meta_key, meta_value) VALUES (1, 'first_name', 'Ad');
DELIMITER //
CREATE PROCEDURE scim_meta(IN p_id BIGINT UNSIGNED,
  IN p_key VARCHAR(255) CHARACTER SET utf8mb4 COLLATE KEY_COLLATION, IN p_value LONGTEXT)
BEGIN
  DELETE FROM wp_usermeta WHERE user_id = p_id AND meta_key = p_key;
  INSERT INTO wp_usermeta (user_id, meta_key, meta_value) VALUES (p_id, p_key, COALESCE(p_value, ''));
END//
CREATE PROCEDURE scim_insert(IN p_login VARCHAR(60), IN p_first LONGTEXT)
BEGIN
  INSERT INTO wp_users (user_login, display_name) VALUES (p_login, p_login);
  CALL scim_meta(LAST_INSERT_ID(), 'first_name', p_first);
END//
CREATE PROCEDURE scim_update(IN p_id BIGINT UNSIGNED, IN p_login VARCHAR(60), IN p_first LONGTEXT)
BEGIN
  UPDATE wp_users SET user_login = p_login WHERE ID = p_id;
  CALL scim_meta(p_id, 'first_name', p_first);
END//
CREATE PROCEDURE scim_delete(IN p_id BIGINT UNSIGNED)
BEGIN
  DELETE FROM wp_usermeta WHERE user_id = p_id;
  DELETE FROM wp_users WHERE ID = p_id;
END//
DELIMITER ;
"""

WORDPRESS_MAP = """
source t {
  dialect DIALECT
  url env("HR_DATABASE_URL", "sqlite:///t.db")
}

object User from t {
  anchor ID generated by database
  query userName
  import sql\"\"\"
    SELECT u.ID, u.user_login, fn.meta_value AS first_name
    FROM wp_users u
    LEFT JOIN wp_usermeta fn ON fn.user_id = u.ID AND fn.meta_key = 'first_name'
  \"\"\"
  attributes {
    userName       <-> user_login required unique
    name.givenName <-> first_name
  }
  write {
    insert call scim_insert(:user_login, :first_name)
    update call scim_update(:anchor, :user_login, :first_name)
    delete call scim_delete(:anchor)
  }
}
"""


@pytest.fixture
async def wordpress(
    request: pytest.FixtureRequest, tmp_path: Path, mariadb_url: str
) -> AsyncIterator[tuple[HrDatabase, httpx.AsyncClient]]:
    script = WORDPRESS.replace("KEY_COLLATION", request.param)
    db = scratch_database("mariadb", tmp_path, script, mariadb_url)
    async with mapping_client(db, tmp_path, WORDPRESS_MAP) as client:
        yield db, client


def usermeta(db: HrDatabase) -> list[tuple[object, ...]]:
    return [
        tuple(r) for r in db.execute("SELECT user_id, meta_key, meta_value FROM wp_usermeta ORDER BY user_id")
    ]


@pytest.mark.mariadb
@pytest.mark.parametrize("wordpress", ["utf8mb4_general_ci"], indirect=True)
async def test_procedures_comparing_two_collations_are_503_not_the_clients_characters(
    wordpress: tuple[HrDatabase, httpx.AsyncClient], caplog: pytest.LogCaptureFixture
) -> None:
    db, client = wordpress
    caplog.set_level(logging.INFO)
    body = {"schemas": [CORE_USER], "userName": "joan", "name": {"givenName": "Joan"}}
    created = await client.post("/Users", json=body)
    assert created.status_code == 503, created.text
    assert "characters" not in created.json()["detail"]
    assert created.headers["Retry-After"]
    assert list(db.execute("SELECT user_login FROM wp_users")) == [("admin",)]  # rolled back
    warned = [r.getMessage() for r in caplog.records if "collations" in r.getMessage()]
    assert warned and "utf8mb4_unicode_520_ci" in warned[0], warned
    tracebacks = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not tracebacks, [r.getMessage() for r in tracebacks]


@pytest.mark.mariadb
@pytest.mark.parametrize("wordpress", ["utf8mb4_unicode_520_ci"], indirect=True)
async def test_procedures_read_and_write_the_given_name_in_usermeta(
    wordpress: tuple[HrDatabase, httpx.AsyncClient],
) -> None:
    db, client = wordpress
    assert (await client.get("/Users/1")).json()["name"] == {"givenName": "Ad"}
    body = {"schemas": [CORE_USER], "userName": "joan", "name": {"givenName": "Joan 😀"}}
    created = await client.post("/Users", json=body)
    assert created.status_code == 201, created.text
    id_ = created.json()["id"]
    assert created.json()["name"] == {"givenName": "Joan 😀"}
    patched = await client.patch(
        f"/Users/{id_}", json=patch_body({"op": "replace", "path": "name.givenName", "value": "Jo"})
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["name"] == {"givenName": "Jo"}
    assert (int(id_), "first_name", "Jo") in usermeta(db)
    found = await client.get("/Users", params={"filter": 'name.givenName eq "jo"'})
    assert [r["id"] for r in found.json()["Resources"]] == [id_]
    assert (await client.delete(f"/Users/{id_}")).status_code == 204
    assert usermeta(db) == [(1, "first_name", "Ad")]


NEXTCLOUD_CTE_MAP = """
source t {
  dialect DIALECT
  url env("HR_DATABASE_URL", "sqlite:///t.db")
}

object User from t {
  anchor uid from userName
  query userName
  import sql\"\"\"
    SELECT u.uid, u.displayname, p.configvalue AS email
    FROM oc_users u
    LEFT JOIN oc_preferences p ON p.userid = u.uid AND p.appid = 'settings' AND p.configkey = 'email'
  \"\"\"
  attributes {
    userName                     <-> uid         required unique
    displayName                  <-> displayname
    emails[type eq "work"].value <-> email
  }
  write {
    insert sql\"\"\"
      WITH u AS (INSERT INTO oc_users (uid, displayname, uid_lower)
                 VALUES (CAST(:anchor AS VARCHAR), :displayname, lower(CAST(:anchor AS VARCHAR))))
      INSERT INTO oc_preferences (userid, appid, configkey, configvalue)
      SELECT CAST(:anchor AS VARCHAR), 'settings', 'email', CAST(:email AS TEXT)
      WHERE CAST(:email AS TEXT) IS NOT NULL
    \"\"\"
    update sql\"\"\"
      WITH u AS (UPDATE oc_users SET displayname = :displayname WHERE uid = :anchor),
           d AS (DELETE FROM oc_preferences WHERE userid = :anchor AND appid = 'settings'
                 AND configkey = 'email' AND CAST(:email AS TEXT) IS NULL)
      INSERT INTO oc_preferences (userid, appid, configkey, configvalue)
      SELECT CAST(:anchor AS VARCHAR), 'settings', 'email', CAST(:email AS TEXT)
      WHERE CAST(:email AS TEXT) IS NOT NULL
      ON CONFLICT (userid, appid, configkey) DO UPDATE SET configvalue = EXCLUDED.configvalue
    \"\"\"
    delete sql\"\"\"
      WITH p AS (DELETE FROM oc_preferences WHERE userid = :anchor)
      DELETE FROM oc_users WHERE uid = :anchor
    \"\"\"
  }
}
"""


@pytest.mark.postgres
async def test_statements_with_data_modifying_with_clauses_write_the_key_value_rows(
    tmp_path: Path, postgres_url: str
) -> None:
    """The recipe's third way (docs/authoring.md): the mapping's own statements on PostgreSQL."""
    db = nextcloud(tmp_path, postgres_url, SUBQUERIES)
    text = NEXTCLOUD_CTE_MAP.replace("DIALECT", "postgres").replace("sqlite:///t.db", db.url)
    found = lint_text(text, "t.map", db=db.url).diagnostics
    assert not found, "\n".join(map(str, found))
    async with mapping_client(db, tmp_path, NEXTCLOUD_CTE_MAP) as client:
        body = {"schemas": [CORE_USER], "userName": "Ada", "emails": [{"type": "work", "value": "ada@x.y"}]}
        assert (await client.post("/Users", json=body)).status_code == 201
        path = 'emails[type eq "work"].value'
        patched = await client.patch(
            "/Users/Ada", json=patch_body({"op": "replace", "path": path, "value": "a@z.y"})
        )
        assert patched.status_code == 200, patched.text
        assert ("Ada", "a@z.y") in preferences(db)
        removed = await client.patch("/Users/Ada", json=patch_body({"op": "remove", "path": "emails"}))
        assert removed.status_code == 200, removed.text
        assert preferences(db) == [("admin", "admin@example.com")]
        assert list(db.execute("SELECT uid_lower FROM oc_users WHERE uid = 'Ada'")) == [("ada",)]
        assert (await client.delete("/Users/Ada")).status_code == 204
        assert list(db.execute("SELECT uid FROM oc_users")) == [("admin",)]
