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
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.reliability.support import AUTH, PATCH_OP, ServedGateway, table_rows
from tests.support.databases import HrDatabase
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
