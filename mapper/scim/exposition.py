"""The text exposition of the metrics (:mod:`mapper.scim.metrics`) beyond one registry's: several
connectors' as one (a hub's ``/metrics``), and the directory where worker processes share theirs
(prometheus-client's multiprocess mode, ``PROMETHEUS_MULTIPROC_DIR``)."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Protocol

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

__all__ = ["CONTENT_TYPE_LATEST", "MULTIPROC_ENV", "merged_exposition", "multiprocess_directory"]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


class Exposed(Protocol):
    """What a connector's metrics (:class:`mapper.scim.metrics.Metrics`) offer an exposition."""

    multiprocess: bool
    registry: CollectorRegistry

    def exposition(self) -> bytes: ...


def merged_exposition(connectors: Sequence[Exposed]) -> bytes:
    """Several connectors' metrics as one exposition (a hub's ``/metrics``): each family once,
    with every connector's samples (they differ by their ``connector`` label). In multiprocess
    mode the directory already holds every connector's values. Call it from a worker thread."""
    if not connectors:
        return b""
    if connectors[0].multiprocess:
        return connectors[0].exposition()
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Merged([m.registry for m in connectors]))
    return generate_latest(registry)


class _Merged(Collector):
    def __init__(self, registries: list[CollectorRegistry]) -> None:
        self.registries = registries

    def collect(self) -> Iterable[Metric]:
        families: dict[str, Metric] = {}
        for registry in self.registries:
            for family in registry.collect():  # fresh objects at every collect: safe to extend
                found = families.get(family.name)
                if found is None:
                    families[family.name] = family
                else:
                    found.samples.extend(family.samples)
        return list(families.values())


@contextlib.contextmanager
def multiprocess_directory(environ: dict[str, str] | None = None) -> Iterator[Path]:
    """For ``mapper serve`` with several workers, before they start: the directory where they
    share their metrics. ``PROMETHEUS_MULTIPROC_DIR`` when the operator set it (emptied of the
    last run's files, as prometheus-client requires), else a new temporary one, set in the
    environment the workers inherit and removed afterwards."""
    env = os.environ if environ is None else environ
    given = env.get(MULTIPROC_ENV)
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()
        yield path
        return
    path = Path(tempfile.mkdtemp(prefix="mapper-metrics-"))
    env[MULTIPROC_ENV] = str(path)
    try:
        yield path
    finally:
        env.pop(MULTIPROC_ENV, None)
        shutil.rmtree(path, ignore_errors=True)
