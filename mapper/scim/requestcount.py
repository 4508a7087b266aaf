"""How one request is counted, cheaply, for :mod:`mapper.scim.metrics`: the route template that
labels it (:class:`RouteTemplates`: a fixed set, so the client does not choose how many series
there are) and the latency histogram that tallies it (:class:`TalliedHistogram`). Both run for
every request; the metric families, the scrape and the worker processes are metrics.py's."""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable

from prometheus_client import Histogram
from prometheus_client.samples import Sample

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 30.0)
#: the buckets' upper bounds, +Inf last: an observation's bucket is ``bisect_left(LATENCY_BOUNDS, it)``
#: (the first bound at or above it, as prometheus-client finds it)
LATENCY_BOUNDS = (*LATENCY_BUCKETS, math.inf)


class RouteTemplates:
    """The route template of a request path, from a fixed set: the SCIM root's first segments
    (``segments``) with ``/{id}`` and ``/.search`` below them, the ``fixed`` paths outside the
    root, and ``other`` for anything else (a 404). ``normalise`` puts a path the front door did not
    get to normalise (a request refused a token) in its canonical form first."""

    def __init__(
        self,
        base_path: str,
        segments: tuple[str, ...],
        fixed: tuple[str, ...],
        normalise: Callable[[str], str] | None = None,
    ) -> None:
        self.base = base_path
        self.normalise = normalise
        # looked up whole, without building strings: this runs for every request
        self.fixed = {path: path for path in fixed}
        self.prefix = f"{base_path}/"
        self.items: dict[str, tuple[str, str]] = {}
        for segment in segments:
            root = f"{base_path}/{segment}"
            self.fixed[root] = root
            self.items[segment] = (f"{root}/{{id}}", f"{root}/.search")
        self.parents = {f"{base_path}/{segment}": item for segment, item in self.items.items()}

    def route(self, path: str) -> str:
        """The route template of ``path``."""
        found = self.fixed.get(path)  # a collection, a fixed path: the whole path is the key
        if found is not None:
            return found
        # the usual item path, /scim/v2/Users/42, has a collection for parent: one slice, one look-up
        cut = path.rfind("/")
        item = self.parents.get(path[:cut])
        if item is not None and cut + 1 < len(path):
            return item[1] if path.endswith("/.search") else item[0]
        route = self.template(path)
        if route == "other" and self.normalise is not None:
            route = self.template(self.normalise(path))
        return route

    def template(self, path: str) -> str:
        found = self.fixed.get(path)
        if found is not None:
            return found
        if path.startswith(self.prefix):
            first, _, tail = path[len(self.prefix) :].partition("/")
            item = self.items.get(first)  # /scim/v2/Users/{id} (an id may hold a decoded '/')
            if item is not None and tail:
                return item[1] if tail == ".search" else item[0]
        return "other"


class TalliedHistogram(Histogram):
    """A histogram whose series each keep their observations in a plain list, :attr:`tally` (the
    count of each bucket, ``le`` order, then the sum), which :meth:`observe` adds to with no lock
    and no call into prometheus-client (:meth:`mapper.scim.metrics.Metrics.observe` keeps each
    series' bound ``observe``); prometheus-client's values are set from it when the series is collected,
    so the exposition is the plain histogram's. One writer only (the loop's thread; a scrape's
    thread only reads, each slot whole), and one process only: in multiprocess mode each
    observation must reach the shared files as it happens, so that mode keeps :class:`Histogram`."""

    def _metric_init(self) -> None:
        super()._metric_init()
        if tuple(self._upper_bounds) != LATENCY_BOUNDS:
            raise ValueError(f"a tallied histogram has the buckets {LATENCY_BOUNDS}")
        self.tally = [0.0] * (len(LATENCY_BOUNDS) + 1)

    def observe(self, amount: float, exemplar: dict[str, str] | None = None) -> None:
        if exemplar:
            raise ValueError("a tallied histogram keeps no exemplars")
        tally = self.tally
        tally[bisect_left(LATENCY_BOUNDS, amount)] += 1.0
        tally[-1] += amount

    def _child_samples(self) -> tuple[Sample, ...]:
        tally = self.tally
        for value, count in zip(self._buckets, tally, strict=False):
            value.set(count)
        self._sum.set(tally[-1])
        return tuple(super()._child_samples())
