"""The reliability suite: property-based fuzzing, an HTTP fuzz of a real gateway, kill -9, network
faults and memory (docs/reliability.md). Every test here carries the ``reliability`` marker.

Hypothesis profiles: ``ci`` (the default) is derandomized with a bounded number of examples, so a
run is reproducible and bounded in time; ``long`` (``MAPPER_FUZZ_PROFILE=long``) explores many
more, randomly, for a run by hand.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.reliability.support import ServedGateway

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=200,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "long",
    max_examples=5000,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("MAPPER_FUZZ_PROFILE", "ci"))

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.reliability)
            # hypothesis warns when it renders a large strategy repr for a failure report
            item.add_marker(pytest.mark.filterwarnings("ignore:Generating overly large repr"))


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Callable[..., ServedGateway]]:
    """A factory of real ``mapper serve`` processes; every one is stopped afterwards."""
    started: list[ServedGateway] = []

    def serve(url: str, *extra: str, log: str = "gateway.log", **kwargs: object) -> ServedGateway:
        gateway = ServedGateway(url, tmp_path / log, *extra, **kwargs)  # type: ignore[arg-type]
        started.append(gateway)
        return gateway.start()

    try:
        yield serve
    finally:
        for gateway in started:
            gateway.stop()
