"""Several worker processes, one scrape: with ``PROMETHEUS_MULTIPROC_DIR`` set, each process writes
its metrics to that directory and whichever answers ``/metrics`` adds them all up. Two real
``mapper serve`` processes on one database stand in for ``--workers 2`` (the same mechanism: the
directory in the environment before the processes start)."""

from __future__ import annotations

from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from mapper.scim.exposition import multiprocess_directory
from tests.support.served import AUTH, SAMPLE_USERS, ServedGateway, sqlite_url


def requests_to(text: str, route: str) -> float:
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            if sample.name == "mapper_http_request_duration_seconds_count" and labels.get("route") == route:
                if labels.get("status") == "200":
                    total += sample.value
    return total


def gauge(text: str, name: str, **wanted: str) -> list[float]:
    return [
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and all(sample.labels.get(k) == v for k, v in wanted.items())
    ]


def test_two_processes_are_counted_together(tmp_path: Path) -> None:
    shared = tmp_path / "metrics"
    shared.mkdir()
    env = {"PROMETHEUS_MULTIPROC_DIR": str(shared)}
    url = sqlite_url(tmp_path / "hr.db")
    first = ServedGateway(url, tmp_path / "first.log", environ=env).start()
    try:
        second = ServedGateway(url, tmp_path / "second.log", environ=env).start()
        try:
            for gateway, times in ((first, 3), (second, 2)):
                for _ in range(times):
                    assert httpx.get(f"{gateway.base}/Users/1", headers=AUTH, timeout=10).status_code == 200
            for gateway in (first, second):  # either answers with both processes' figures
                text = httpx.get(f"http://127.0.0.1:{gateway.port}/metrics", headers=AUTH, timeout=10).text
                assert requests_to(text, "/scim/v2/Users/{id}") == 5
                # a gauge: the largest of the live processes' values, not their sum
                assert gauge(text, "mapper_cache_objects", object_type="User") == [SAMPLE_USERS]
        finally:
            second.stop()
        text = httpx.get(f"http://127.0.0.1:{first.port}/metrics", headers=AUTH, timeout=10).text
        assert requests_to(text, "/scim/v2/Users/{id}") == 5  # counters outlive the process
    finally:
        first.stop()
    assert any(shared.iterdir())


def test_serve_with_workers_counts_every_request_whichever_worker_answers(tmp_path: Path) -> None:
    served = ServedGateway(sqlite_url(tmp_path / "hr.db"), tmp_path / "serve.log", "--workers", "2").start()
    try:
        for _ in range(12):  # a new connection each time: the kernel picks the worker
            assert httpx.get(f"{served.base}/Users/1", headers=AUTH, timeout=10).status_code == 200
        for _ in range(6):
            text = httpx.get(f"http://127.0.0.1:{served.port}/metrics", headers=AUTH, timeout=10).text
            assert requests_to(text, "/scim/v2/Users/{id}") == 12  # every scrape, from any worker
    finally:
        served.stop()


def test_multiprocess_directory_is_made_and_removed_or_emptied(tmp_path: Path) -> None:
    environ: dict[str, str] = {}
    with multiprocess_directory(environ) as made:
        assert environ["PROMETHEUS_MULTIPROC_DIR"] == str(made) and made.is_dir()
    assert not made.exists() and "PROMETHEUS_MULTIPROC_DIR" not in environ
    given = tmp_path / "given"
    given.mkdir()
    (given / "counter_123.db").write_bytes(b"stale")
    (given / "keep.txt").write_text("not ours")
    with multiprocess_directory({"PROMETHEUS_MULTIPROC_DIR": str(given)}) as used:
        assert used == given and not (given / "counter_123.db").exists()
    assert (given / "keep.txt").exists()
