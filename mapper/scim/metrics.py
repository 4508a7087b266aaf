"""Prometheus metrics (``/metrics``), with prometheus-client.

One :class:`Metrics` per app, in a registry of its own (no global state: two apps in one process
count apart). Every series carries a ``connector`` label (the mapping's file name without its
extension), so one gateway serving several connectors keeps them apart. What is counted, and how:

- requests: the front door (:mod:`mapper.scim.front`) times every HTTP request and counts it by
  route *template* (``/scim/v2/Users/{id}``, never the raw path: the client does not choose how
  many series there are), method (unknown methods are ``other``) and status; errors (4xx) are
  counted again by the ``scimType`` of their body. This runs for every request, so its route is
  found in one or two dict look-ups (an item path's parent is the one string made) and, in one
  process, it is two additions to a list kept per series (both in :mod:`mapper.scim.requestcount`),
  read into prometheus-client's values when scraped;
- syncs: the gateway reports each object type's full and delta imports as they finish
  (:attr:`mapper.runtime.gateway.Gateway.observe_sync`); group commits report each batch
  (:attr:`mapper.runtime.database.GroupCommitter.observe`);
- the rest is read when scraped (:meth:`Metrics.refresh`): cache sizes, pool use, the commit
  queue, the sync lag, readiness, and references dropped by ``on missing drop`` (a running total
  the store keeps, turned into counter increments).

Several worker processes (``PROMETHEUS_MULTIPROC_DIR`` set before the workers start) use
prometheus-client's multiprocess mode: each worker writes its values to files in that directory
(every request as it is answered) and a scrape, answered by any worker, adds them up (counters
and histograms summed; gauges as their ``multiprocess_mode`` says). Workers then also refresh
their gauges every :data:`REFRESH_SECONDS`, so a scrape answered by another worker sees them at
most that old. Several connectors' metrics as one, and the workers' shared directory, are
:mod:`mapper.scim.exposition`'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import orjson
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from mapper.runtime.cache import SyncStats
from mapper.scim.exposition import MULTIPROC_ENV
from mapper.scim.requestcount import LATENCY_BUCKETS, TalliedHistogram

if TYPE_CHECKING:
    from mapper.runtime.gateway import Gateway

__all__ = ["LATENCY_BUCKETS", "Metrics", "SyncRun"]

REFRESH_SECONDS = 5.0
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: RFC 7644 Table 9; any other value in an error body is counted as ``other``
SCIM_TYPES = frozenset(
    {
        "invalidFilter",
        "tooMany",
        "uniqueness",
        "mutability",
        "invalidSyntax",
        "invalidPath",
        "noTarget",
        "invalidValue",
        "invalidVers",
        "sensitive",
    }
)
SYNC_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64)
_LARGEST_ERROR_BODY = 64 * 1024  # error bodies are small; a larger 4xx body is not parsed


@dataclass(frozen=True)
class SyncRun:
    """The last import of one object type and kind, for the status page: when it ended (Unix
    time), how long it took, and what it changed (None: it failed)."""

    ended: float
    seconds: float
    stats: SyncStats | None


#: how a gauge's values of several worker processes combine (prometheus-client's multiprocess_mode)
Mode = Literal["livemax", "livesum", "livemin"]
#: the labels of families after ``connector``, which every family has first
BY_TYPE = ("object_type",)
BY_TYPE_KIND = ("object_type", "kind")
BY_SOURCE = ("source",)


class _Families:
    """Makes the metric families of one registry, each labelled by ``connector`` first, then by
    ``labels``; a gauge says how worker processes' values combine (``mode``: prometheus-client's
    ``multiprocess_mode``)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def counter(self, name: str, documentation: str, labels: tuple[str, ...]) -> Counter:
        return Counter(name, documentation, ("connector", *labels), registry=self.registry)

    def gauge(self, name: str, documentation: str, labels: tuple[str, ...], mode: Mode) -> Gauge:
        return Gauge(
            name, documentation, ("connector", *labels), multiprocess_mode=mode, registry=self.registry
        )

    def histogram(
        self,
        name: str,
        documentation: str,
        labels: tuple[str, ...],
        buckets: tuple[float, ...],
        kind: type[Histogram] = Histogram,
    ) -> Histogram:
        return kind(name, documentation, ("connector", *labels), buckets=buckets, registry=self.registry)


class Metrics:
    """The metrics of one connector; ``route`` gives a request path's route template (a bound
    method such as :meth:`RouteTemplates.route <mapper.scim.requestcount.RouteTemplates.route>`:
    calling an instance's ``__call__`` costs three times as much, and this runs for every request)."""

    def __init__(self, connector: str, route: Callable[[str], str], *, multiprocess: bool | None = None):
        self.connector = connector
        self._route = route
        self.multiprocess = MULTIPROC_ENV in os.environ if multiprocess is None else multiprocess
        self.registry = CollectorRegistry()
        family = _Families(self.registry)
        self.latency = family.histogram(  # its _count is the number of requests
            "mapper_http_request_duration_seconds",
            "HTTP requests answered and the time from arrival to the end of the response, by route "
            "template, method and status",
            ("route", "method", "status"),
            LATENCY_BUCKETS,
            Histogram if self.multiprocess else TalliedHistogram,
        )
        self.rejected = family.counter(
            "mapper_http_rejected_requests",
            "Requests answered with a 4xx SCIM error, by status and scimType ('none' when it has none)",
            ("status", "scim_type"),
        )
        self.cache_objects = family.gauge(
            "mapper_cache_objects", "Objects held in the cache, by object type", BY_TYPE, "livemax"
        )
        self.shared_query = family.gauge(
            "mapper_cache_shared_query_objects",
            "Cached objects whose query-attribute value (userName) another object holds too: the database "
            "does not keep it unique, by object type",
            BY_TYPE,
            "livemax",
        )
        self.sync_runs = family.counter(
            "mapper_sync_runs",
            "Imports run, by object type and kind (full, delta, delete_scan: a watermark delta that also "
            "scans anchors for deletes)",
            BY_TYPE_KIND,
        )
        self.sync_errors = family.counter(
            "mapper_sync_errors", "Imports that failed, by object type and kind", BY_TYPE_KIND
        )
        self.sync_seconds = family.histogram(
            "mapper_sync_duration_seconds",
            "Duration of imports (failed ones included), by object type and kind",
            BY_TYPE_KIND,
            SYNC_BUCKETS,
        )
        self.sync_changes = family.counter(
            "mapper_sync_changes",
            "Cache changes imports made, by object type, kind and change (added, changed, removed)",
            (*BY_TYPE_KIND, "change"),
        )
        self.sync_last = family.gauge(
            "mapper_sync_last_success_timestamp_seconds",
            "Unix time of the last successful import, by object type and kind",
            BY_TYPE_KIND,
            "livemax",
        )
        self.sync_lag = family.gauge(
            "mapper_sync_lag_seconds",
            "Seconds since the object type's last successful import of any kind (since start when none)",
            BY_TYPE,
            "livemax",
        )
        self.commit_batch = family.histogram(
            "mapper_commit_batch_size",
            "Writes carried by one group-commit transaction, by source",
            BY_SOURCE,
            BATCH_BUCKETS,
        )
        self.commit_seconds = family.histogram(
            "mapper_commit_duration_seconds",
            "Time one group-commit transaction took, its writes and its commit, by source",
            BY_SOURCE,
            LATENCY_BUCKETS,
        )
        self.commit_queue = family.gauge(
            "mapper_commit_queue_length",
            "Writes waiting for the next group-commit transaction, by source",
            BY_SOURCE,
            "livesum",
        )
        self.pool = family.gauge(
            "mapper_db_pool_connections",
            "Database connections of the pool, by source and state (in_use, idle)",
            (*BY_SOURCE, "state"),
            "livesum",
        )
        self.pool_size = family.gauge(
            "mapper_db_pool_size",
            "Configured pool size (connections kept open), by source",
            BY_SOURCE,
            "livesum",
        )
        self.dangling = family.counter(
            "mapper_dangling_references_dropped",
            "References to objects that do not exist, left out of writes (on missing drop), by object type",
            BY_TYPE,
        )
        self.ready = family.gauge(
            "mapper_ready",
            "1 when the connector is ready (first import done, databases reachable), else 0",
            (),
            "livemin",
        )
        #: each request series' ``observe`` (a tallied histogram's in one process, prometheus-client's
        #: in several), by (route, method, status); bounded: routes and methods from fixed sets,
        #: statuses are ours
        self._series_observe: dict[tuple[str, str, int], Callable[[float], None]] = {}
        self._last_ok: dict[str, float] = {}
        #: the last run and the last failed run of each (object type, kind), this process's
        self.last_runs: dict[tuple[str, str], SyncRun] = {}
        self.last_failures: dict[tuple[str, str], SyncRun] = {}
        self._dropped_seen: dict[str, int] = {}
        self._started = time.time()

    # -- requests (the front door) -----------------------------------------------------------

    def observe(self, path: str, method: str, status: int, seconds: float, error_body: bytes = b"") -> None:
        """Count one request to ``path`` (normalised) answered with ``status`` after ``seconds``; a
        4xx again by the ``scimType`` of its ``error_body``."""
        route = self._route(path)
        if method not in METHODS:
            method = "other"
        key = (route, method, status)
        observe = self._series_observe.get(key)
        if observe is None:
            observe = self._series_observe[key] = self._series(route, method, status).observe
        observe(seconds)
        if 400 <= status < 500:
            self.rejected.labels(self.connector, str(status), _scim_type(error_body) or "none").inc()

    def _series(self, route: str, method: str, status: int) -> Any:
        return self.latency.labels(self.connector, route, method, str(status))

    # -- the runtime -------------------------------------------------------------------------

    def attach(self, gateway: Gateway) -> None:
        """Have ``gateway`` report its syncs and group commits here."""
        gateway.observe_sync = self.synced
        for name, database in gateway.databases.items():
            database.committer.observe = self._committer(name)

    def _committer(self, source: str) -> Callable[[int, float], None]:
        size = self.commit_batch.labels(self.connector, source)
        seconds = self.commit_seconds.labels(self.connector, source)

        def committed(jobs: int, took: float) -> None:
            size.observe(jobs)
            seconds.observe(took)

        return committed

    def synced(self, object_type: str, kind: str, seconds: float, stats: SyncStats | None) -> None:
        """One import of ``object_type`` finished (``stats`` None: it failed)."""
        labels = (self.connector, object_type, kind)
        now = time.time()
        run = self.last_runs[(object_type, kind)] = SyncRun(now, seconds, stats)
        self.sync_runs.labels(*labels).inc()
        self.sync_seconds.labels(*labels).observe(seconds)
        if stats is None:
            self.last_failures[(object_type, kind)] = run
            self.sync_errors.labels(*labels).inc()
            return
        self._last_ok[object_type] = now
        self.sync_last.labels(*labels).set(now)
        self.sync_lag.labels(self.connector, object_type).set(0)
        for change, count in (("added", stats.added), ("changed", stats.changed), ("removed", stats.removed)):
            if count:
                self.sync_changes.labels(*labels, change).inc(count)

    def refresh(self, gateway: Gateway) -> None:
        """Read what is not counted as it happens: cache sizes, lag, pools, queues, readiness."""
        c = self.connector
        now = time.time()
        for name, store in gateway.stores.items():
            self.cache_objects.labels(c, name).set(store.count())
            self.shared_query.labels(c, name).set(store.cache.state.shared_rows())
            self.sync_lag.labels(c, name).set(now - self._last_ok.get(name, self._started))
            dropped = store.dangling_dropped
            seen = self._dropped_seen.get(name, 0)
            child = self.dangling.labels(c, name)  # shown at 0 before the first drop
            if dropped > seen:
                child.inc(dropped - seen)
                self._dropped_seen[name] = dropped
        for name, database in gateway.databases.items():
            self.commit_queue.labels(c, name).set(database.committer.queued)
            pool = database.engine.pool
            checked_out = getattr(pool, "checkedout", None)
            checked_in = getattr(pool, "checkedin", None)
            if callable(checked_out) and callable(checked_in):  # QueuePool (SQLite files too)
                self.pool.labels(c, name, "in_use").set(checked_out())
                self.pool.labels(c, name, "idle").set(checked_in())
            size = getattr(pool, "size", None)
            if callable(size):
                self.pool_size.labels(c, name).set(size())
        self.ready.labels(c).set(1 if gateway.health()["ready"] else 0)

    @contextlib.asynccontextmanager
    async def watching(self, gateway: Gateway) -> AsyncIterator[None]:
        """For the app's lifespan: attach to ``gateway``; in multiprocess mode also refresh every
        :data:`REFRESH_SECONDS` (another worker may answer the scrape), and on the way out drop
        this process's live gauges."""
        self.attach(gateway)
        task = asyncio.get_running_loop().create_task(self._every(gateway)) if self.multiprocess else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if self.multiprocess:
                from prometheus_client import multiprocess

                multiprocess.mark_process_dead(os.getpid())

    async def _every(self, gateway: Gateway) -> None:
        while True:
            self.refresh(gateway)
            await asyncio.sleep(REFRESH_SECONDS)

    # -- exposition --------------------------------------------------------------------------

    def exposition(self) -> bytes:
        """The text exposition format: this registry's, or every worker's summed in multiprocess
        mode. Reads files in that mode: call it from a worker thread."""
        if not self.multiprocess:
            return generate_latest(self.registry)
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)


def _scim_type(body: bytes) -> str | None:
    """The ``scimType`` of an error body (``other`` when not one of RFC 7644's); None without one."""
    if not body or len(body) > _LARGEST_ERROR_BODY:
        return None
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    value = parsed.get("scimType") if isinstance(parsed, dict) else None
    if value is None:
        return None
    return value if value in SCIM_TYPES else "other"
