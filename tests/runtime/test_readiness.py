"""Readiness follows the database: the reconnect probe (its own short interval, not autosync's)
makes the gateway unready soon after PostgreSQL becomes unreachable (through a TCP proxy that
cuts or blackholes it) and ready again soon after it returns, without a restart."""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import pytest

from mapper.runtime.gateway import Gateway
from tests.support.databases import HrDatabase
from tests.support.hr import hr_plan
from tests.support.proxy import TcpProxy

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]

PROBE = 0.2  # seconds between probes
WITHIN = 10.0  # a bound on the test, far above PROBE: the test must not hang, never a timing claim


@pytest.fixture
def proxied(hr_postgres: HrDatabase) -> Iterator[tuple[TcpProxy, str]]:
    port = int(hr_postgres.url.rsplit(":", 1)[1].split("/", 1)[0])
    proxy = TcpProxy(port).start()
    try:
        yield proxy, hr_postgres.url.replace(f":{port}/", f":{proxy.port}/")
    finally:
        proxy.stop()


async def ready_becomes(gateway: Gateway, wanted: bool) -> None:
    with anyio.fail_after(WITHIN):
        while gateway.health()["ready"] is not wanted:
            await anyio.sleep(PROBE / 4)


@pytest.mark.parametrize("fault", ["cut", "blackhole"])
async def test_readiness_follows_the_database(proxied: tuple[TcpProxy, str], fault: str) -> None:
    proxy, url = proxied
    gateway = Gateway(
        hr_plan("postgres"), environ={"HR_DATABASE_URL": url}, delta_interval=3600, probe_interval=PROBE
    )
    await gateway.start()
    try:
        assert gateway.health()["ready"] is True
        proxy.set_mode(fault)
        await ready_becomes(gateway, False)
        assert gateway.health()["reachable"] is False
        assert gateway.health()["phase"] == "unreachable"  # not "ready" beside ready: false
        assert gateway.stores["User"].lookup("id", "5")  # the cache still answers
        proxy.set_mode("pass")
        await ready_becomes(gateway, True)
        assert gateway.health()["phase"] == "ready"
    finally:
        await gateway.stop()


async def test_a_start_during_an_outage_imports_as_soon_as_the_database_returns(
    proxied: tuple[TcpProxy, str],
) -> None:
    proxy, url = proxied
    proxy.set_mode("refuse")
    gateway = Gateway(
        hr_plan("postgres"), environ={"HR_DATABASE_URL": url}, delta_interval=3600, probe_interval=PROBE
    )
    await gateway.start()
    try:
        assert gateway.health()["ready"] is False
        proxy.set_mode("pass")
        await ready_becomes(gateway, True)  # not the autosync tick (an hour): the probe's import
        assert gateway.stores["User"].count() == 20
    finally:
        await gateway.stop()
