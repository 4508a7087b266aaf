"""A write's read-back (:meth:`mapper.runtime.tx.Tx.read_back`): on SQLite, whose write
transaction holds the one write lock from its BEGIN, the child rows a write's transaction read
before the write are not read again when nothing the write sent can have changed them
(:class:`mapper.runtime.tx.Quiet`: no statement of it writes their tables, no trigger's body names
them, no foreign key of theirs has an ON UPDATE action); a trigger that writes them is seen, also
one another application creates while the gateway runs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from mapper.runtime.database import Database
from tests.support.databases import HrDatabase
from tests.support.scim import patch_body, scim_client

pytestmark = pytest.mark.anyio

#: a trigger of another application: a title change files the employee's desk phone
DESK_PHONE = """
CREATE TRIGGER desk_phone AFTER UPDATE OF title ON employees
FOR EACH ROW BEGIN
  INSERT INTO employee_phones (employee_id, number, phone_type, is_primary)
  VALUES (NEW.employee_id, '+1 555 0100', 'work', 0);
END"""


def database_of(client: httpx.AsyncClient) -> Database:
    return client.state["gateway"].databases["hr"]  # type: ignore[attr-defined]


@contextmanager
def statements(database: Database) -> Iterator[list[str]]:
    """The statements SQLite runs on ``database``'s connections meanwhile (a trigger's statements
    show as repeats of the statement that fired it)."""
    seen: list[str] = []

    def trace(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        dbapi_connection.set_trace_callback(seen.append)

    event.listen(database.engine, "checkout", trace)
    try:
        yield seen
    finally:
        event.remove(database.engine, "checkout", trace)


def retitle(title: str) -> dict[str, Any]:
    return patch_body({"op": "replace", "path": "title", "value": title})


def phones(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [phone["value"] for phone in response.json().get("phoneNumbers", [])]


async def test_a_title_patch_reads_the_child_rows_once(hr_sqlite: HrDatabase) -> None:
    """The HR schema's triggers write ``employees`` only (its own ``updated_at``): the PATCH reads
    the row again (the trigger moved ``updated_at``), its e-mails and phones only before it."""
    async with scim_client(hr_sqlite) as client:
        database = database_of(client)
        with statements(database) as seen:
            first = await client.patch("/Users/3", json=retitle("Boss"))
            second = await client.patch("/Users/3", json=retitle("Chief"))
        assert first.status_code == second.status_code == 200, second.text
        assert second.json()["title"] == "Chief"
        assert second.json()["meta"]["lastModified"] >= first.json()["meta"]["lastModified"]
        assert sum("FROM employee_emails" in sql for sql in seen) == 2  # one per PATCH
        assert sum("FROM employee_phones" in sql for sql in seen) == 2
        assert sum("FROM employees WHERE employee_id" in sql for sql in seen) == 4  # before and after


async def test_a_trigger_that_writes_child_rows_is_seen(hr_sqlite: HrDatabase) -> None:
    hr_sqlite.execute(DESK_PHONE)
    async with scim_client(hr_sqlite) as client:
        before = phones(await client.get("/Users/3"))
        assert "+1 555 0100" in phones(await client.patch("/Users/3", json=retitle("Boss")))
        assert "+1 555 0100" not in before


async def test_a_trigger_created_while_serving_is_seen(hr_sqlite: HrDatabase) -> None:
    """The schema's version is asked in every write transaction: a trigger another application
    creates between two writes counts for the second."""
    async with scim_client(hr_sqlite) as client:
        assert "+1 555 0100" not in phones(await client.patch("/Users/3", json=retitle("Boss")))
        hr_sqlite.execute(DESK_PHONE)
        assert "+1 555 0100" in phones(await client.patch("/Users/3", json=retitle("Chief")))
        assert "+1 555 0100" in phones(await client.get("/Users/3"))


async def test_a_write_of_child_rows_reads_them_again(hr_sqlite: HrDatabase) -> None:
    """A PATCH that adds a phone sends an INSERT into the table its read-back reads: read again,
    so the row's DEFAULTs show."""
    async with scim_client(hr_sqlite) as client:
        database = database_of(client)
        with statements(database) as seen:
            body = patch_body({"op": "add", "path": "phoneNumbers", "value": [{"value": "+1 555 0199"}]})
            assert "+1 555 0199" in phones(await client.patch("/Users/3", json=body))
        assert sum("FROM employee_phones" in sql for sql in seen) == 2


async def test_child_rows_a_trigger_deletes_by_a_foreign_keys_action_are_seen(hr_sqlite: HrDatabase) -> None:
    """A trigger that replaces the employee's row (``INSERT OR REPLACE``: SQLite deletes the row
    it conflicts with, and ``ON DELETE CASCADE`` its e-mails) names ``employees`` alone: the
    e-mails it takes away are seen all the same."""
    hr_sqlite.execute(
        """CREATE TRIGGER reissue AFTER UPDATE OF title ON employees
        FOR EACH ROW WHEN NEW.title = 'Reissued' BEGIN
          INSERT OR REPLACE INTO employees (employee_id, login, given_name, family_name, title)
          VALUES (NEW.employee_id, NEW.login, NEW.given_name, NEW.family_name, NEW.title);
        END"""
    )
    async with scim_client(hr_sqlite) as client:
        assert (await client.get("/Users/3")).json().get("emails")
        response = await client.patch("/Users/3", json=retitle("Reissued"))
        assert response.status_code == 200, response.text
        assert response.json().get("emails", []) == []
        assert hr_sqlite.execute("SELECT COUNT(*) FROM employee_emails WHERE employee_id = 3") == [(0,)]
