"""A write whose COMMIT reached PostgreSQL but whose answer was lost (the link went dark while
the commit ran) answers 503, as it must: the gateway cannot know. The database holds the write
all the same, so the gateway's cache must not go on serving the object as it was before it.

A red-team session found it so: with ``pg_terminate_backend`` on the gateway's connections during
a PATCH loop, 9 of 109 writes answered 503 had committed, and GET went on answering the older
values (until the next full import: the watermark delta is the only other thing that reads
them again). Here the commit is made slow (a deferred constraint trigger that sleeps), the
proxy goes dark while it runs, and passes again once the write has answered 503."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from mapper.runtime.errors import DatabaseUnavailableError
from mapper.runtime.gateway import Gateway
from mapper.runtime.locks import arrived
from mapper.runtime.watchdog import Timeouts
from tests.reliability.support import AUTH, ENTERPRISE, PATCH_OP, ServedGateway, table_rows
from tests.support.databases import HrDatabase
from tests.support.hr import hr_plan
from tests.support.proxy import TcpProxy

SLOW_COMMIT = """
CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.given_name = 'slow' THEN PERFORM pg_sleep(1.5); END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER slow_commit AFTER UPDATE ON employees
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit();
"""


@pytest.fixture
def proxied(
    hr_postgres: HrDatabase, served: Callable[..., ServedGateway]
) -> Iterator[tuple[ServedGateway, TcpProxy]]:
    hr_postgres.execute(SLOW_COMMIT)
    target = httpx.URL(hr_postgres.url.replace("postgresql://", "http://"))
    proxy = TcpProxy(target.port or 5432).start()
    via_proxy = hr_postgres.url.replace(f":{target.port}/", f":{proxy.port}/")
    bounds = ("--statement-timeout", "4", "--connect-timeout", "4", "--delta-interval", "3600")
    try:
        yield served(via_proxy, *bounds), proxy
    finally:
        proxy.stop()


@pytest.mark.postgres
def test_a_write_answered_503_that_committed_is_not_served_stale(
    proxied: tuple[ServedGateway, TcpProxy], hr_postgres: HrDatabase
) -> None:
    gateway, proxy = proxied
    body = {
        "schemas": [PATCH_OP],
        "Operations": [{"op": "replace", "path": "name.givenName", "value": "slow"}],
    }
    dark = threading.Timer(0.7, proxy.set_mode, ("blackhole",))
    dark.start()
    answered = httpx.patch(f"{gateway.base}/Users/1", json=body, headers=AUTH, timeout=60)
    dark.join()
    proxy.set_mode("pass")
    assert answered.status_code == 503, answered.text
    stored = table_rows(hr_postgres.url, "SELECT given_name FROM employees WHERE employee_id = 1")
    assert stored == [("slow",)]  # the commit went through: the write is in doubt, not lost
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        shown = httpx.get(f"{gateway.base}/Users/1", headers=AUTH, timeout=30).json()["name"]["givenName"]
        if shown == "slow":
            break
        time.sleep(0.5)
    assert shown == "slow", "the gateway serves the object as it was before a write the database holds"


# ---------------------------------------------------------------------------- without autosync
# A gateway run in-process without autosync has no reconnect probe: nothing reads an object in
# doubt again in the background. The gateway then reads it again when a request needs it.


@asynccontextmanager
async def _through(database: HrDatabase, statement: float) -> AsyncIterator[tuple[Gateway, TcpProxy]]:
    """An in-process gateway without autosync whose connections to ``database`` go through a
    proxy, each request bounded by ``statement`` seconds."""
    target = httpx.URL(database.url.replace("postgresql://", "http://").replace("mysql://", "http://"))
    default = 5432 if database.dialect == "postgres" else 3306
    proxy = TcpProxy(target.port or default).start()
    via_proxy = database.url.replace(f":{target.port}/", f":{proxy.port}/")
    bounds = Timeouts(statement=statement, connect=statement)
    gateway = Gateway(
        hr_plan(database.dialect), environ={"HR_DATABASE_URL": via_proxy}, autosync=False, timeouts=bounds
    )
    try:
        await gateway.start()
        yield gateway, proxy
    finally:
        proxy.set_mode("pass")
        await gateway.stop()
        proxy.stop()


async def _lost_answer(users: Any, proxy: TcpProxy, id: str, resource: dict[str, Any]) -> None:
    """Replace ``id`` by ``resource`` while the link goes dark during its (slow) COMMIT: 503."""
    dark = threading.Timer(0.7, proxy.set_mode, ("blackhole",))
    dark.start()
    with pytest.raises(DatabaseUnavailableError):
        await users.replace(id, resource)
    dark.join()
    proxy.set_mode("pass")


def _named(resource: dict[str, Any], given: str) -> dict[str, Any]:
    return {**resource, "name": {**resource["name"], "givenName": given}}


@pytest.mark.postgres
@pytest.mark.anyio
async def test_without_autosync_an_object_in_doubt_is_read_again_when_asked_for(
    hr_postgres: HrDatabase,
) -> None:
    """Two writes answered 503 whose COMMIT landed. Then: a PUT that restores the first object as
    it was is written (the cached copy, not the database, held those values: "unchanged" would
    have left the database with the write the client was told had failed), and a GET of the
    second serves what the database holds. Before, both answered from the stale cached copy."""
    hr_postgres.execute(SLOW_COMMIT)
    async with _through(hr_postgres, 4.0) as (gateway, proxy):
        users = gateway.stores["User"]
        first, second = await users.get("1"), await users.get("2")
        assert first is not None and second is not None
        await _lost_answer(users, proxy, "1", _named(first, "slow"))
        await _lost_answer(users, proxy, "2", _named(second, "slow"))
        held = "SELECT given_name FROM employees WHERE employee_id IN (1, 2) ORDER BY employee_id"
        assert table_rows(hr_postgres.url, held) == [("slow",), ("slow",)]  # both landed
        restored = await users.replace("1", first)
        assert restored["name"]["givenName"] == first["name"]["givenName"]
        assert table_rows(hr_postgres.url, held)[0] == (first["name"]["givenName"],)
        shown = await users.get("2")
        assert shown is not None and shown["name"]["givenName"] == "slow"
        assert users.in_doubt == set()


@pytest.mark.parametrize(
    "database",
    [
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ],
)
@pytest.mark.anyio
async def test_reading_an_object_in_doubt_again_is_bounded_by_the_writes_deadline(
    database: str, request: pytest.FixtureRequest
) -> None:
    """A write of an object in doubt reads it again first, within what is left of the write's
    own bound (counted from its arrival), not a whole read's bound on top: the database gone
    dark, the write answers 503 by its deadline and the object stays in doubt; once the database
    answers, the next request reads it again."""
    hr: HrDatabase = request.getfixturevalue(f"hr_{database}")
    statement = 8.0
    async with _through(hr, statement) as (gateway, proxy):
        users = gateway.stores["User"]
        third = await users.get("3")
        assert third is not None
        proxy.set_mode("blackhole")  # the write never reaches the database: in doubt all the same
        with pytest.raises(DatabaseUnavailableError):
            await users.replace("3", _named(third, "dark"))
        assert users.in_doubt == {users.to_key("3")}
        token = arrived.set(time.monotonic() - (statement - 1.0))  # a write with a second left
        try:
            began = time.monotonic()
            with pytest.raises(DatabaseUnavailableError):
                await users.replace("3", _named(third, "later"))
            waited = time.monotonic() - began
        finally:
            arrived.reset(token)
        assert waited < statement / 2, waited  # not a read's whole bound after the write's
        assert users.in_doubt == {users.to_key("3")}
        proxy.set_mode("pass")
        shown = await users.get("3")
        assert shown is not None and shown["name"]["givenName"] == third["name"]["givenName"]
        assert users.in_doubt == set()


SLOW_DELETE = """
CREATE FUNCTION slow_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.given_name = 'Margaret' THEN PERFORM pg_sleep(1.5); END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER slow_delete AFTER DELETE ON employees
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_delete();
"""


@pytest.mark.postgres
@pytest.mark.anyio
async def test_a_deleted_managers_reports_are_read_again_when_the_deletes_answer_was_lost(
    hr_postgres: HrDatabase,
) -> None:
    """A DELETE of a manager answered 503 whose COMMIT landed: the database's ``ON DELETE SET
    NULL`` emptied the report's manager in the same commit. The report, asked for by id, must
    not go on naming the deleted manager (it did, until the next full import: only the manager
    was left in doubt, and nothing reads it again while no one asks for it)."""
    hr_postgres.execute(SLOW_DELETE)
    async with _through(hr_postgres, 4.0) as (gateway, proxy):
        users = gateway.stores["User"]
        report = await users.get("6")  # Dennis, whose manager is Margaret (5)
        assert report is not None and report[ENTERPRISE]["manager"]["value"] == "5"
        dark = threading.Timer(0.7, proxy.set_mode, ("blackhole",))
        dark.start()
        with pytest.raises(DatabaseUnavailableError):
            await users.delete("5")
        dark.join()
        proxy.set_mode("pass")
        held = "SELECT employee_id, manager_id FROM employees WHERE employee_id IN (5, 6)"
        assert table_rows(hr_postgres.url, held) == [(6, None)]  # the delete landed
        shown = await users.get("6")
        assert shown is not None and "manager" not in shown.get(ENTERPRISE, {}), shown
        assert await users.get("5") is None


@pytest.mark.postgres
@pytest.mark.anyio
async def test_a_filter_on_the_query_attribute_reads_an_object_in_doubt_again(
    hr_postgres: HrDatabase,
) -> None:
    """A rename answered 503 whose COMMIT landed: ``filter=userName eq "old"`` (how Entra ID and
    Okta look a user up before they create one) answered the cached copy under its old name,
    and one by the new name found the cached copy too late. The object in doubt is read again
    first, as a GET by id reads it."""
    hr_postgres.execute(SLOW_COMMIT)
    async with _through(hr_postgres, 4.0) as (gateway, proxy):
        users = gateway.stores["User"]
        third = await users.get("3")
        assert third is not None
        renamed = {**_named(third, "slow"), "userName": "alan.renamed"}
        await _lost_answer(users, proxy, "3", renamed)
        held = "SELECT login FROM employees WHERE employee_id = 3"
        assert table_rows(hr_postgres.url, held) == [("alan.renamed",)]  # it landed
        assert await users.find_by_query(third["userName"]) is None
        found = await users.find_by_query("alan.renamed")
        assert found is not None and found["id"] == "3"
        assert users.in_doubt == set()
