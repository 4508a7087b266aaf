"""Network faults between the gateway and PostgreSQL (and a blackholed MariaDB), through a TCP
proxy on 127.0.0.1 (tests/reliability/proxy.py): the gateway's database URL points at the proxy.

Under each fault (cut, refuse, blackhole) writes answer 503 with Retry-After, cached reads keep
answering, and once the proxy passes again the gateway recovers without a restart and has lost
nothing it acknowledged.

The bound: the gateway is served with ``--connect-timeout`` and ``--statement-timeout`` of
:data:`TIMEOUT` seconds (``mapper.runtime.database.Timeouts``): reaching the database, and a
request's or a write's whole wait (queueing included), are bounded by them. Every write under a
fault, a blackhole included (a pooled connection whose database never answers: the watchdog
breaks it), must answer within that bound plus :data:`SLACK`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.reliability.support import AUTH, PATCH_OP, ServedGateway, table_rows, tracebacks
from tests.support.databases import HrDatabase
from tests.support.proxy import TcpProxy

TIMEOUT = 5.0
BOUNDS = ("--connect-timeout", str(TIMEOUT), "--statement-timeout", str(TIMEOUT))
SLACK = 5.0
BOUND = TIMEOUT + SLACK
RECOVERY_BOUND = 30.0  # seconds of retries (every 0.25 s) before "did not recover"


class UnboundedWait(AssertionError):
    """A write under a fault took longer than the gateway's bound."""


@dataclass
class Outcome:
    status: int | None
    seconds: float
    retry_after: str | None = None


@dataclass
class Ledger:
    """Creates sent through the proxy, and the ids of those acknowledged."""

    serial: int = 0
    acknowledged: dict[str, str] = field(default_factory=dict)  # id -> userName
    lock: threading.Lock = field(default_factory=threading.Lock)

    def create(self, base: str, timeout: float = 60.0) -> Outcome:
        with self.lock:
            self.serial += 1
            name = f"partition.{self.serial}"
        started = time.monotonic()
        try:
            response = httpx.post(f"{base}/Users", json={"userName": name}, headers=AUTH, timeout=timeout)
        except httpx.TimeoutException:
            return Outcome(None, time.monotonic() - started)
        seconds = time.monotonic() - started
        if response.status_code == 201:
            with self.lock:
                self.acknowledged[response.json()["id"]] = name
        else:
            assert response.status_code == 503, response.text
        return Outcome(response.status_code, seconds, response.headers.get("retry-after"))


@pytest.fixture
def proxied(
    hr_postgres: HrDatabase, served: Callable[..., ServedGateway]
) -> Iterator[tuple[ServedGateway, TcpProxy, str]]:
    target = httpx.URL(hr_postgres.url.replace("postgresql://", "http://"))
    proxy = TcpProxy(target.port or 5432).start()
    via_proxy = hr_postgres.url.replace(f":{target.port}/", f":{proxy.port}/")
    try:
        yield served(via_proxy, *BOUNDS), proxy, hr_postgres.url
    finally:
        proxy.stop()


def recover(gateway: ServedGateway, ledger: Ledger) -> float:
    """Seconds until a create succeeds again (bounded); the gateway process is the same one."""
    pid, started = gateway.pid, time.monotonic()
    while time.monotonic() - started < RECOVERY_BOUND:
        if ledger.create(gateway.base, timeout=RECOVERY_BOUND).status == 201:
            assert gateway.pid == pid and gateway.process is not None and gateway.process.poll() is None
            return time.monotonic() - started
        time.sleep(0.25)
    raise AssertionError(f"no recovery within {RECOVERY_BOUND} s of the proxy passing again")


def cached_reads_answer(base: str) -> None:
    assert httpx.get(f"{base}/Users/1", headers=AUTH, timeout=BOUND).status_code == 200
    # a user the cache holds (a userName it does not hold is read through from the database)
    params = {"filter": 'userName eq "ada.lovelace"'}
    found = httpx.get(f"{base}/Users", params=params, headers=AUTH, timeout=BOUND)
    assert found.status_code == 200


def nothing_lost(gateway: ServedGateway, ledger: Ledger, url: str) -> None:
    rows = {str(r[0]): r[1] for r in table_rows(url, "SELECT employee_id, login FROM employees")}
    lost = {i: n for i, n in ledger.acknowledged.items() if rows.get(i) != n}
    assert lost == {}, f"acknowledged creates missing: {lost}"
    listed = httpx.get(
        f"{gateway.base}/Users", params={"count": 1000, "attributes": "userName"}, headers=AUTH, timeout=60
    )
    assert {u["id"]: u["userName"] for u in listed.json()["Resources"]} == rows
    gateway.stop()
    assert tracebacks(gateway.log()) == []


@pytest.mark.postgres
@pytest.mark.parametrize("fault", ["cut", "refuse"])
def test_writes_answer_503_within_the_bound_and_recover(
    fault: str, proxied: tuple[ServedGateway, TcpProxy, str]
) -> None:
    gateway, proxy, url = proxied
    ledger = Ledger()
    assert ledger.create(gateway.base).status == 201
    proxy.set_mode(fault)
    outcomes = [ledger.create(gateway.base, timeout=BOUND * 2) for _ in range(3)]
    cached_reads_answer(gateway.base)
    proxy.set_mode("pass")
    recovered = recover(gateway, ledger)
    answers = [(o.status, round(o.seconds, 2)) for o in outcomes]
    print(f"\n{fault}: writes answered {answers}; recovered in {recovered:.2f} s")
    for outcome in outcomes:
        assert outcome.status == 503 and outcome.retry_after and outcome.retry_after.isdigit(), outcome
        assert outcome.seconds <= BOUND, (
            f"a write under {fault} took {outcome.seconds:.1f} s (bound {BOUND} s)"
        )
    nothing_lost(gateway, ledger, url)


@pytest.mark.postgres
def test_a_blackhole_answers_503_within_the_bound_and_recovers(
    proxied: tuple[ServedGateway, TcpProxy, str],
) -> None:
    gateway, proxy, url = proxied
    ledger = Ledger()
    assert ledger.create(gateway.base).status == 201
    proxy.set_mode("blackhole")
    partition = BOUND + 1.0  # long enough for any bounded wait to have ended
    with ThreadPoolExecutor(max_workers=3) as pool:
        started = time.monotonic()
        pending = [pool.submit(ledger.create, gateway.base, partition + 60) for _ in range(3)]
        cached_reads_answer(gateway.base)
        time.sleep(max(0.0, partition - (time.monotonic() - started)))
        answered_in_partition = [f.result() for f in pending if f.done()]
        proxy.set_mode("pass")
        outcomes = [f.result() for f in pending]
    recovered = recover(gateway, ledger)
    answers = [(o.status, round(o.seconds, 2)) for o in outcomes]
    print(
        f"\nblackhole of {partition:.0f} s: writes answered {answers}"
        f" ({len(answered_in_partition)} during the partition); recovered in {recovered:.2f} s after it"
    )
    for outcome in outcomes:
        assert outcome.status in (201, 503), outcome
    nothing_lost(gateway, ledger, url)
    slow = [o for o in outcomes if o.seconds > BOUND]
    if slow:
        raise UnboundedWait(
            f"writes under a blackhole took {[round(o.seconds, 1) for o in slow]} s (bound {BOUND} s)"
        )


@pytest.mark.mariadb
def test_a_blackholed_mariadb_bounds_new_connections_and_readiness(
    hr_mariadb: HrDatabase, served: Callable[..., ServedGateway]
) -> None:
    """pymysql's connect_timeout bounds the TCP connect only, and the proxy accepts at once: its
    handshake then waited for ever. Once the pool's connections had been broken by the watchdog,
    every request that needed a new one (a read the cache cannot answer, a member add) and the
    reconnect probe hung for the whole partition, and /readyz stayed 200 (found by a trial of
    issue 11 on a helpdesk schema)."""
    port = make_url(hr_mariadb.url).port or 3306
    proxy = TcpProxy(port).start()
    try:
        gateway = served(hr_mariadb.url.replace(f":{port}/", f":{proxy.port}/"), *BOUNDS)
        ledger = Ledger()
        assert ledger.create(gateway.base).status == 201
        proxy.set_mode("blackhole")
        answers: list[tuple[str, int | None, float]] = []
        try:
            for round_ in range(3):  # the first rounds break the pooled connections; later ones connect anew
                created = ledger.create(gateway.base, timeout=BOUND * 3)
                answers.append(("create", created.status, created.seconds))
                for what, send in (
                    (
                        "read-through",
                        lambda: httpx.get(
                            f"{gateway.base}/Users",
                            params={"filter": f'userName eq "nobody.{round_}"'},
                            headers=AUTH,
                            timeout=BOUND * 3,
                        ),
                    ),
                    (
                        "member add",
                        lambda: httpx.patch(
                            f"{gateway.base}/Groups/4",  # Managers: 10-12 are not members
                            headers=AUTH,
                            timeout=BOUND * 3,
                            json={
                                "schemas": [PATCH_OP],
                                "Operations": [
                                    {"op": "add", "path": "members", "value": [{"value": str(10 + round_)}]}
                                ],
                            },
                        ),
                    ),
                ):
                    started = time.monotonic()
                    try:
                        status: int | None = send().status_code
                    except httpx.TimeoutException:
                        status = None
                    answers.append((what, status, time.monotonic() - started))
            readyz = httpx.get(f"http://127.0.0.1:{gateway.port}/readyz", timeout=BOUND).status_code
        finally:
            proxy.set_mode("pass")
        print(f"\nMariaDB blackhole: {[(w, s, round(t, 2)) for w, s, t in answers]}; /readyz {readyz}")
        assert [a for a in answers if a[1] != 503 or a[2] > BOUND] == [], answers
        assert readyz == 503
        recover(gateway, ledger)
        nothing_lost(gateway, ledger, hr_mariadb.url)
    finally:
        proxy.stop()


@pytest.mark.postgres
def test_writes_queued_behind_one_object_answer_within_the_bound(
    proxied: tuple[ServedGateway, TcpProxy, str],
) -> None:
    """Writes of one object wait for each other (a PATCH lock and the object's lock); under a
    blackhole each used to wait its whole bound after the one before it, so the sixth of six
    concurrent member adds to one group answered after six bounds. The wait for the lock now
    counts against the write's own bound (found by a trial of issue 11 on a helpdesk schema)."""
    gateway, proxy, url = proxied
    assert httpx.get(f"{gateway.base}/Groups/4", headers=AUTH, timeout=BOUND).status_code == 200
    proxy.set_mode("blackhole")

    def add(member: int) -> tuple[int | None, float]:
        started = time.monotonic()
        body = {
            "schemas": [PATCH_OP],
            "Operations": [{"op": "add", "path": "members", "value": [{"value": str(member)}]}],
        }
        try:
            status: int | None = httpx.patch(
                f"{gateway.base}/Groups/4", json=body, headers=AUTH, timeout=BOUND * 8
            ).status_code
        except httpx.TimeoutException:
            status = None
        return status, time.monotonic() - started

    try:
        with ThreadPoolExecutor(max_workers=6) as pool:
            outcomes = list(pool.map(add, [6, 7, 9, 10, 11, 12]))  # Managers: none is a member yet
    finally:
        proxy.set_mode("pass")
    print(f"\nsix member adds to one group under a blackhole: {[(s, round(t, 2)) for s, t in outcomes]}")
    assert [o for o in outcomes if o[0] != 503 or o[1] > BOUND] == [], outcomes
    members = table_rows(url, "SELECT employee_id FROM group_members WHERE group_id = 4")
    assert sorted(r[0] for r in members) == [1, 2, 3, 4, 5, 8]  # nothing of a refused write kept
    gateway.stop()
    assert tracebacks(gateway.log()) == []
