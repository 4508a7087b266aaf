"""kill -9 during concurrent POST and PATCH, on SQLite and PostgreSQL.

A real ``mapper serve`` process takes creates and PATCHes from concurrent clients; at a random
(seeded) moment it gets SIGKILL, as from the OOM killer or a power cut of the process. After a
restart on the same database:

- every acknowledged create (201 received) is in the table, with its userName;
- every acknowledged PATCH is there: a user's title is the last one acknowledged, or the one
  PATCH that was still in flight for it when the process died (never an older one);
- the rebuilt cache equals the database: the gateway's listing of /Users is the table.

CI runs a few kills per database; ``MAPPER_KILL_RUNS=20`` runs more, ``MAPPER_FUZZ_SEED`` picks the
moments.
"""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import pytest

from tests.reliability.support import AUTH, PATCH_OP, ServedGateway, table_rows, tracebacks
from tests.support.databases import HrDatabase

CLIENTS = 8
WARM_WRITES = 20  # acknowledged writes of a run before its kill may come
RUNS = {"sqlite": 3, "postgres": 2}


@dataclass
class Acknowledged:
    users: dict[str, str] = field(default_factory=dict)  # id -> userName, creates answered 201
    titles: dict[str, str] = field(default_factory=dict)  # id -> last title answered 200
    in_flight: dict[str, str] = field(default_factory=dict)  # id -> title of a PATCH not answered
    writes: int = 0


async def client_loop(
    base: str, name: str, rng: random.Random, acked: Acknowledged, stop: asyncio.Event
) -> None:
    """Creates and PATCHes, one at a time, until the gateway stops answering."""
    mine: list[str] = []
    serial = 0
    async with httpx.AsyncClient(base_url=base, headers=AUTH, timeout=30) as client:
        while not stop.is_set():
            serial += 1
            try:
                if not mine or rng.random() < 0.5:
                    body = {"userName": f"kill.{name}.{serial}", "title": "created"}
                    response = await client.post("/Users", json=body)
                    if response.status_code == 201:
                        id_ = response.json()["id"]
                        acked.users[id_] = body["userName"]
                        acked.titles[id_] = "created"
                        acked.writes += 1
                        mine.append(id_)
                    else:
                        assert response.status_code == 503, response.text
                else:
                    id_ = rng.choice(mine)
                    title = f"title.{name}.{serial}"
                    acked.in_flight[id_] = title
                    operations = [{"op": "replace", "path": "title", "value": title}]
                    response = await client.patch(
                        f"/Users/{id_}", json={"schemas": [PATCH_OP], "Operations": operations}
                    )
                    if response.status_code == 200:
                        acked.titles[id_] = title
                        acked.writes += 1
                        del acked.in_flight[id_]
                    else:
                        assert response.status_code == 503, response.text
            except httpx.TransportError:
                return  # the process is gone: what was in flight stays in ``in_flight``


async def load_and_kill(gateway: ServedGateway, rng: random.Random, acked: Acknowledged) -> None:
    stop = asyncio.Event()
    clients = [
        asyncio.create_task(
            client_loop(
                gateway.base, f"{rng.random():.6f}"[2:] + f"c{i}", random.Random(rng.random()), acked, stop
            )
        )
        for i in range(CLIENTS)
    ]
    # under load first: wait (a bounded time) for writes to be acknowledged, then kill at a random moment
    before = acked.writes
    for _ in range(600):
        if acked.writes - before >= WARM_WRITES or any(c.done() for c in clients):
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(rng.uniform(0.0, 1.5))
    await asyncio.to_thread(gateway.kill)
    stop.set()
    await asyncio.wait_for(asyncio.gather(*clients), timeout=60)


def listed(base: str) -> dict[str, tuple[str, str | None]]:
    """The gateway's users: id -> (userName, title)."""
    out: dict[str, tuple[str, str | None]] = {}
    with httpx.Client(base_url=base, headers=AUTH, timeout=60) as client:
        for _ in range(100):
            page = client.get("/Users", params={"startIndex": len(out) + 1, "count": 1000}).json()
            for user in page["Resources"]:
                out[user["id"]] = (user["userName"], user.get("title"))
            if not page["Resources"] or len(out) >= page["totalResults"]:
                break
    return out


@pytest.mark.parametrize("db_name", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_kill_9_loses_no_acknowledged_write(
    db_name: str, request: pytest.FixtureRequest, served: Callable[..., ServedGateway]
) -> None:
    db: HrDatabase = request.getfixturevalue(f"hr_{db_name}")
    if db_name == "sqlite":
        db.url = db.url.replace("hr.db", "kill.db")
    seed = os.environ.get("MAPPER_FUZZ_SEED", "20261205")
    runs = int(os.environ.get("MAPPER_KILL_RUNS", RUNS[db_name]))
    rng = random.Random(f"{seed}:kill:{db_name}")
    print(f"\nkill -9 on {db_name}: seed {seed}, {runs} runs; reproduce with MAPPER_FUZZ_SEED={seed}")
    gateway = served(db.url)
    acked = Acknowledged()
    for run in range(runs):
        asyncio.run(load_and_kill(gateway, rng, acked))
        gateway.start()
        rows = {
            str(r[0]): (r[1], r[2])
            for r in table_rows(db.url, "SELECT employee_id, login, title FROM employees")
        }
        lost = [id_ for id_, name in acked.users.items() if rows.get(id_, (None,))[0] != name]
        assert lost == [], f"run {run}: acknowledged creates missing after kill -9: {lost[:10]}"
        stale = [
            id_
            for id_, title in acked.titles.items()
            if rows[id_][1] not in (title, acked.in_flight.get(id_))
        ]
        assert stale == [], f"run {run}: acknowledged PATCHes lost after kill -9: {stale[:10]}"
        assert listed(gateway.base) == rows, f"run {run}: the rebuilt cache differs from the table"
        # what was in flight is settled now: the table says which title won
        for id_ in list(acked.in_flight):
            acked.titles[id_] = rows[id_][1]
        acked.in_flight.clear()
        print(f"run {run}: {acked.writes} acknowledged writes, {len(acked.users)} users created, none lost")
    assert acked.writes > runs, "the clients got no write acknowledged before the kills"
    gateway.stop()
    assert tracebacks(gateway.log()) == []
