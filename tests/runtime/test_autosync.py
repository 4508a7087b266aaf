"""The background sync loop (mapper/runtime/autosync.py) against a real SQLite file: changes made
behind the gateway's back arrive without anyone asking, a failing round is recorded and the loop
goes on, and stop() ends it. The loop runs with tiny intervals; the tests wait for what it does by
polling a bounded number of times, never by asserting how long it took."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import anyio
import pytest

from mapper.runtime.autosync import AutoSync
from mapper.runtime.gateway import Gateway
from tests.support.databases import HrDatabase
from tests.support.hr import hr_plan

pytestmark = pytest.mark.anyio

INTERVAL = 0.02  # seconds between rounds
POLLS = 1000  # a bound, not a timing: the condition normally holds after a few rounds


@pytest.fixture
async def gateway(hr_sqlite: HrDatabase) -> AsyncIterator[Gateway]:
    gw = Gateway(hr_plan("sqlite"), environ={"HR_DATABASE_URL": hr_sqlite.url}, autosync=False)
    await gw.start()
    try:
        yield gw
    finally:
        await gw.stop()


async def eventually(condition: Callable[[], bool]) -> bool:
    for _ in range(POLLS):
        if condition():
            return True
        await anyio.sleep(INTERVAL)
    return condition()


def title_of(gateway: Gateway, id_: str) -> str | None:
    found = gateway.stores["User"].lookup("id", id_)
    return found[0].get("title") if found else None


async def test_a_change_behind_the_gateways_back_arrives_by_itself(
    gateway: Gateway, hr_sqlite: HrDatabase
) -> None:
    auto = AutoSync(gateway, delta_interval=INTERVAL, full_interval=3600)
    auto.start()
    try:
        assert auto.running
        hr_sqlite.execute("UPDATE employees SET title = 'Changed elsewhere' WHERE employee_id = 5")
        assert await eventually(lambda: title_of(gateway, "5") == "Changed elsewhere")
    finally:
        await auto.stop()
    assert not auto.running


async def test_full_rounds_catch_a_delete(gateway: Gateway, hr_sqlite: HrDatabase) -> None:
    auto = AutoSync(gateway, delta_interval=INTERVAL, full_interval=0)  # every round is full
    before = gateway.last_full_sync
    auto.start()
    try:
        hr_sqlite.execute("DELETE FROM group_members WHERE employee_id = 17")
        hr_sqlite.execute("UPDATE employees SET manager_id = NULL WHERE manager_id = 17")
        hr_sqlite.execute("DELETE FROM employee_emails WHERE employee_id = 17")
        hr_sqlite.execute("DELETE FROM employee_phones WHERE employee_id = 17")
        hr_sqlite.execute("DELETE FROM employees WHERE employee_id = 17")
        assert await eventually(lambda: gateway.stores["User"].lookup("id", "17") == [])
        assert gateway.last_full_sync != before
    finally:
        await auto.stop()


async def test_a_failing_round_is_recorded_and_the_loop_goes_on(
    gateway: Gateway, hr_sqlite: HrDatabase
) -> None:
    auto = AutoSync(gateway, delta_interval=INTERVAL, full_interval=3600)
    hr_sqlite.execute("ALTER TABLE employees RENAME TO employees_away")
    auto.start()
    try:
        assert await eventually(lambda: gateway.health()["lastError"] is not None)
        assert auto.running and gateway.stores["User"].count() == 20  # the last good cache stays
        hr_sqlite.execute("ALTER TABLE employees_away RENAME TO employees")
        hr_sqlite.execute("UPDATE employees SET title = 'After the outage' WHERE employee_id = 6")
        assert await eventually(lambda: title_of(gateway, "6") == "After the outage")
        assert await eventually(lambda: gateway.health()["lastError"] is None)
    finally:
        await auto.stop()


async def test_start_is_idempotent_and_stop_can_be_repeated(gateway: Gateway) -> None:
    auto = AutoSync(gateway, delta_interval=3600, full_interval=3600)
    await auto.stop()  # never started: nothing to do
    auto.start()
    auto.start()
    assert auto.running
    await auto.stop()
    await auto.stop()
    assert not auto.running
    auto.start()  # and it starts again
    assert auto.running
    await auto.stop()
