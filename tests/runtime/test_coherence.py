"""Coherence between gateways on one database (mapper/runtime/coherence): two gateways in this
process, each with its own cache and channel, on every database; and the pieces on their own
(notification payloads, the change log's gap handling). The same over separate OS processes is in
tests/reliability/test_coherence.py."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable

import anyio
import pytest

from mapper.runtime.coherence import CoherenceError, mode_for
from mapper.runtime.coherence.changelog import ChangeLogChannel
from mapper.runtime.coherence.notify import PAYLOAD_LIMIT, parse, payloads
from mapper.runtime.gateway import Gateway
from tests.conftest import HrDatabase
from tests.runtime.conftest import hr_plan
from tests.runtime.test_store import new_user

pytestmark = pytest.mark.anyio

GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


@pytest.fixture
async def pair(hr_database: HrDatabase) -> AsyncIterator[tuple[Gateway, Gateway]]:
    environ = {"HR_DATABASE_URL": hr_database.url}
    gateways = [
        Gateway(
            hr_plan(hr_database.dialect),
            environ=environ,
            autosync=False,
            coherence="auto",
            coherence_interval=0.1,
        )
        for _ in range(2)
    ]
    for gateway in gateways:
        await gateway.start()
    try:
        yield gateways[0], gateways[1]
    finally:
        for gateway in gateways:
            await gateway.stop()


async def eventually(check: Callable[[], bool], within: float = 10.0) -> float:
    """Seconds until ``check()`` holds (polled); fails after ``within``."""
    started = time.monotonic()
    with anyio.fail_after(within):
        while not check():
            await anyio.sleep(0.02)
    return time.monotonic() - started


async def test_a_write_through_one_gateway_reaches_the_other(pair):
    first, second = pair
    users = second.stores["User"]
    created = await first.stores["User"].create(new_user("coherent.one"))
    await eventually(lambda: bool(users.lookup("userName", "coherent.one")))
    await first.stores["User"].replace(created["id"], {**new_user("coherent.one"), "title": "Changed"})
    await eventually(lambda: users.lookup("id", created["id"])[0].get("title") == "Changed")
    await first.stores["User"].delete(created["id"])
    await eventually(lambda: not users.lookup("id", created["id"]))
    assert users.cached_by_query("coherent.one") is None


async def test_membership_changes_and_deletes_reach_the_other(pair):
    first, second = pair
    groups = second.stores["Group"]
    group = await first.stores["Group"].create({"schemas": [GROUP], "displayName": "Coherent", "members": []})
    await eventually(lambda: bool(groups.lookup("id", group["id"])))
    user = await first.stores["User"].create(new_user("coherent.member"))
    await first.stores["Group"].replace(
        group["id"], {"schemas": [GROUP], "displayName": "Coherent", "members": [{"value": user["id"]}]}
    )

    def members() -> list[str]:
        found = groups.lookup("id", group["id"])
        return [m["value"] for m in (found[0].get("members") or [])] if found else []

    await eventually(lambda: members() == [user["id"]])
    await first.stores["User"].delete(user["id"])  # the membership goes with the user
    await eventually(lambda: members() == [])


async def test_own_changes_are_not_applied_again(pair):
    first, _ = pair
    await first.stores["User"].create(new_user("coherent.own"))
    await anyio.sleep(0.5)
    assert all(applier.applied == 0 for applier in first.coherence.appliers.values())


def test_auto_picks_notify_on_postgresql_and_the_change_log_elsewhere():
    assert mode_for("auto", "postgresql") == "notify"
    assert mode_for("auto", "sqlite") == "changelog"
    assert mode_for("auto", "mariadb") == "changelog"
    assert mode_for("auto", "mssql") == "off"
    assert mode_for("changelog", "postgresql") == "changelog"
    with pytest.raises(CoherenceError, match="needs PostgreSQL"):
        mode_for("notify", "sqlite")


def test_payloads_stay_under_the_limit_and_keep_every_change_in_order():
    changes = [("User", n, "upsert") for n in range(3000)] + [("Group", "g" * 9000, "delete")]
    out = payloads("host:1:ab", changes)
    assert len(out) > 1
    assert all(len(p.encode()) < PAYLOAD_LIMIT for p in out)
    parsed = [change for p in out for change in parse(p)[1]]  # type: ignore[index]
    assert parsed[:3000] == changes[:3000]
    assert parsed[3000] == ("Group", None, "resync")  # too long alone: the type is read again
    assert {parse(p)[0] for p in out} == {"host:1:ab"}  # type: ignore[index]
    assert parse("not json") is None and parse(json.dumps({"c": []})) is None


class _Timeouts:
    statement = 1.0


class _Database:
    timeouts = _Timeouts()
    dialect = "sqlite"
    name = "test"
    publish = None


def _rows(*seqs: int, origin: str = "other") -> list[tuple[object, ...]]:
    return [(seq, "User", json.dumps(seq), "upsert", origin) for seq in seqs]


def test_the_change_log_waits_for_a_number_committed_late_and_gives_it_up_in_time():
    channel = ChangeLogChannel(_Database(), None, "me")  # type: ignore[arg-type]
    channel.floor = 10
    assert [key for _, key, _ in channel._take(_rows(11, 13))] == [11, 13]
    assert channel.floor == 11  # 12 not committed yet: waited for
    assert [key for _, key, _ in channel._take(_rows(12, 13))] == [12]  # 13 is not applied twice
    assert channel.floor == 13
    assert channel._take(_rows(14, origin="me")) == [] and channel.floor == 14  # own change
    channel._take(_rows(16))
    assert channel.floor == 14
    channel._gaps[15] -= channel.gap_wait + 1  # 15's transaction rolled back long ago
    channel._take([])
    assert channel.floor == 16
