"""What the Prometheus metrics cost a request: a cached ``GET /Users/1`` through the whole app
(front door, fast path, response), in-process, with the metrics and without them, measured
alternately in the same run. No HTTP: uvicorn's parsing and the socket would only dilute the
difference. Run::

    .venv/bin/python -m bench.measures.metrics [REQUESTS] [ROUNDS]

It prints one JSON object: the best (least disturbed) microseconds per request of each variant
over ROUNDS alternating rounds of REQUESTS requests, their ratio, and the command.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from mapper.pipeline import load
from mapper.runtime.database import bootstrap_sqlite
from mapper.scim.app import build_app
from mapper.scim.auth import parse_credentials
from mapper.scim.settings import Settings

HR = Path(__file__).resolve().parents[2] / "examples" / "hr"
PATH = "/scim/v2/Users/1"


async def per_request(app: Any, state: Any, requests: int) -> float:
    scope = {
        "type": "http",
        "method": "GET",
        "path": PATH,
        "raw_path": PATH.encode(),
        "query_string": b"",
        "headers": [(b"host", b"bench"), (b"authorization", b"Bearer bench-token")],
        "scheme": "http",
        "server": ("bench", 80),
        "root_path": "",
        "http_version": "1.1",
        "client": ("127.0.0.1", 1),
    }
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    started = time.perf_counter()
    for _ in range(requests):
        await app({**scope, "state": dict(state)}, receive, send)
    took = (time.perf_counter() - started) / requests
    assert set(statuses) == {200}, set(statuses)
    return took


async def measure(requests: int, rounds: int) -> dict[str, Any]:
    url = f"sqlite:///{tempfile.mkdtemp(prefix='bench-metrics-')}/hr.db"
    bootstrap_sqlite(url, [HR / "schema.sql", HR / "sample-data.sql"])
    plan = load(str(HR / "hr.map"))
    settings = Settings(
        credentials=parse_credentials(["bench:bench-token"]), environ={"HR_DATABASE_URL": url}, autosync=False
    )
    with_metrics = build_app(plan, settings)
    without = build_app(plan, settings)
    without.user_middleware[0].kwargs["metrics"] = None  # the same front door, counting nothing
    best = {"without": float("inf"), "with": float("inf")}
    async with (
        with_metrics.router.lifespan_context(with_metrics) as on,
        without.router.lifespan_context(without) as off,
    ):
        for _ in range(rounds):
            best["without"] = min(best["without"], await per_request(without, off, requests))
            best["with"] = min(best["with"], await per_request(with_metrics, on, requests))
    return {
        "request": f"GET {PATH} (cached), in-process",
        "without_metrics_us": round(best["without"] * 1e6, 2),
        "with_metrics_us": round(best["with"] * 1e6, 2),
        "ratio": round(best["with"] / best["without"], 3),
        "command": f".venv/bin/python -m bench.measures.metrics {requests} {rounds}",
    }


def main(argv: list[str]) -> None:
    requests = int(argv[0]) if argv else 5000
    rounds = int(argv[1]) if len(argv) > 1 else 8
    print(json.dumps(asyncio.run(measure(requests, rounds)), indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
