"""The database changing under a running gateway, as a DBA's migration or a revoked grant does:
a write whose SQL the database now refuses (a renamed column, a missing table, a read-only
server) answers 503 with ``Retry-After`` and nothing written, is logged as one warning that
names the refusal (no traceback), and succeeds again once the schema matches. And whatever
error a write meets, the log never carries the values it bound: a SCIM password among them.

Found by renaming ``employees.title`` under ``mapper serve`` on PostgreSQL: every write
answered 500, and the log's traceback quoted the statement's bound values."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.support.databases import HrDatabase
from tests.support.scim import CORE_USER, ERROR, HR_MAP, patch_body, scim_client

pytestmark = pytest.mark.anyio

SECRET = "Hunter2-correct-horse"


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.INFO)
    return caplog


@pytest.fixture
async def client(hr_database: Any, logs: pytest.LogCaptureFixture) -> AsyncIterator[httpx.AsyncClient]:
    async with scim_client(hr_database, raise_app_exceptions=False) as c:
        c.db = hr_database  # type: ignore[attr-defined]
        yield c


def rename_title(db: Any, old: str, new: str) -> None:
    db.execute(f"ALTER TABLE employees RENAME COLUMN {old} TO {new}")


def title_of(db: Any, login: str) -> Any:
    return db.execute("SELECT title FROM employees WHERE login = :login", {"login": login})[0][0]


def tracebacks(logs: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in logs.records if r.levelno >= logging.ERROR or r.exc_info or r.exc_text]


async def test_a_column_renamed_under_the_gateway_is_503_until_it_is_back(
    client: httpx.AsyncClient, logs: pytest.LogCaptureFixture
) -> None:
    db = client.db  # type: ignore[attr-defined]
    before = title_of(db, "ada.lovelace")
    rename_title(db, "title", "job_title")

    patch = patch_body({"op": "replace", "path": "title", "value": "Countess"})
    refused = await client.patch("/Users/1", json=patch)
    assert refused.status_code == 503, refused.text
    assert refused.headers["Retry-After"]
    body = refused.json()
    assert body["schemas"] == [ERROR]
    assert "column" in body["detail"], body
    created = await client.post("/Users", json={"schemas": [CORE_USER], "userName": "drift.new"})
    assert created.status_code == 503, created.text

    assert not tracebacks(logs), tracebacks(logs)
    warned = [r.getMessage() for r in logs.records if "refuses the mapping's SQL" in r.getMessage()]
    assert warned and "title" in warned[0], warned

    rename_title(db, "job_title", "title")
    assert title_of(db, "ada.lovelace") == before  # nothing of the refused write was kept
    assert db.execute("SELECT COUNT(*) FROM employees WHERE login = 'drift.new'")[0][0] == 0
    again = await client.patch("/Users/1", json=patch)
    assert again.status_code == 200, again.text
    assert title_of(db, "ada.lovelace") == "Countess"


async def test_a_write_to_a_table_that_is_gone_is_503(
    client: httpx.AsyncClient, logs: pytest.LogCaptureFixture
) -> None:
    db = client.db  # type: ignore[attr-defined]
    db.execute("ALTER TABLE employee_phones RENAME TO employee_phones_old")
    patch = patch_body(
        {"op": "add", "path": "phoneNumbers", "value": [{"type": "work", "value": "+1 555 0100"}]}
    )
    refused = await client.patch("/Users/1", json=patch)
    assert refused.status_code == 503, refused.text
    assert "table" in refused.json()["detail"]
    assert not tracebacks(logs), tracebacks(logs)


async def test_a_filter_the_database_refuses_after_a_rename_is_answered_by_the_cache(
    client: httpx.AsyncClient, logs: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("mapper.scim.routes.search.SMALL", 0)  # every such filter goes to the database
    db = client.db  # type: ignore[attr-defined]
    rename_title(db, "title", "job_title")
    found = await client.get("/Users", params={"filter": "title pr"})  # not indexed: the database's
    assert found.status_code == 200, found.text
    assert found.json()["totalResults"] > 0
    assert not tracebacks(logs), tracebacks(logs)


@pytest.mark.postgres
async def test_a_revoked_privilege_is_named_once_in_the_answer_and_the_log(
    hr_postgres: Any, logs: pytest.LogCaptureFixture
) -> None:
    """A gateway whose login may read but no longer write (a grant revoked): 503, and the detail
    reads "database hr: the gateway's user lacks a privilege ...", where it said "database hr:
    the database denies ..."."""
    role = f"drift_{secrets.token_hex(4)}"
    hr_postgres.execute(f"CREATE ROLE {role} LOGIN")
    try:
        hr_postgres.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
        hr_postgres.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
        url = make_url(hr_postgres.url).set(username=role).render_as_string(hide_password=False)
        reader = HrDatabase(hr_postgres.name, hr_postgres.dialect, url)
        async with scim_client(reader, raise_app_exceptions=False) as client:
            patch = patch_body({"op": "replace", "path": "title", "value": "Countess"})
            refused = await client.patch("/Users/1", json=patch)
        assert refused.status_code == 503, refused.text
        detail = refused.json()["detail"]
        assert detail.startswith("database hr: the gateway's user lacks a privilege the mapping needs"), (
            detail
        )
        warned = [r.getMessage() for r in logs.records if "refuses the mapping's SQL" in r.getMessage()]
        assert warned and warned[0].startswith(
            "database hr refuses the mapping's SQL: the gateway's user lacks a privilege"
        ), warned
        assert not any("the database denies" in r.getMessage() for r in logs.records)
    finally:
        hr_postgres.execute(f"DROP OWNED BY {role}")
        hr_postgres.execute(f"DROP ROLE {role}")


# -- bound values never reach the log -----------------------------------------------------------

#: a trigger that fails the insert in a way the gateway has no name for (an error it answers 500)
FAILING_TRIGGER = {
    "sqlite": [
        "CREATE TRIGGER drift_fail BEFORE INSERT ON employees BEGIN SELECT no_such_function(NEW.login); END"
    ],
    "postgres": [
        "CREATE FUNCTION drift_fail() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'unexpected' USING ERRCODE = 'XX000'; END $$",
        "CREATE TRIGGER drift_fail BEFORE INSERT ON employees FOR EACH ROW EXECUTE FUNCTION drift_fail()",
    ],
    "mariadb": [
        "CREATE TRIGGER drift_fail BEFORE INSERT ON employees FOR EACH ROW "
        "SIGNAL SQLSTATE 'HY000' SET MESSAGE_TEXT = 'unexpected', MYSQL_ERRNO = 1105"
    ],
}


async def test_an_unexpected_refusal_never_logs_the_bound_password(
    hr_database: Any, logs: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    mapping = tmp_path / "hr.map"
    text = HR_MAP.read_text(encoding="utf-8")
    nick = next(line for line in text.splitlines() if line.strip().startswith("nickName"))
    mapping.write_text(text.replace(nick, "    password -> nick_name"), encoding="utf-8")
    for statement in FAILING_TRIGGER[hr_database.name]:
        hr_database.execute(statement)

    async with scim_client(hr_database, mapping=mapping, raise_app_exceptions=False) as client:
        user = {"schemas": [CORE_USER], "userName": "drift.secret", "password": SECRET}
        answer = await client.post("/Users", json=user)
    assert answer.status_code >= 500, answer.text
    assert SECRET not in answer.text
    assert logs.records, "the refusal was logged"
    assert SECRET not in logs.text
    for record in logs.records:
        if record.exc_info:
            assert SECRET not in logging.Formatter().formatException(record.exc_info)
