"""Queries (RFC 7644 §3.4.2): the query parameters or SearchRequest body of a list, the matching
resources of one store, their order and their page.

Equality on the id or the query attribute is answered from the store by key (read-through, so a
user created in the database a second ago is found); equality on another indexed attribute from
the store's index (whatever found the candidates, the whole filter is evaluated on each, so an
index is only ever a shortcut). Every other filter, and sortBy, is answered by the database
(:mod:`mapper.runtime.sqlfilter`); what it cannot answer exactly is evaluated on the cache in a
worker thread within a time budget. No scan runs on the event loop.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import anyio

from mapper.runtime.codec import Codec
from mapper.runtime.record import Record
from mapper.runtime.sqlfilter import Describe, Sort
from mapper.scim import names
from mapper.scim.attributes import AttributeResolver
from mapper.scim.errors import ScimError, invalid_filter, invalid_value, too_many
from mapper.scim.filter import (
    MAX_DEPTH,
    MAX_LENGTH,
    And,
    AttrPath,
    Compare,
    Filter,
    equality_terms,
    matches,
    validate,
)
from mapper.scim.filtershape import TOO_DEEP, leaves, parse
from mapper.scim.paths import split_list


class Store(Protocol):
    """What a query needs of :class:`mapper.runtime.store.ObjectStore`."""

    name: str
    codec: Codec
    scans: anyio.CapacityLimiter

    def records(self) -> list[Record]: ...

    async def search(
        self,
        node: Filter | None,
        describe: Describe,
        *,
        sort: Sort | None = None,
        offset: int = 0,
        limit: int,
    ) -> tuple[int, list[dict[str, Any]]] | None: ...

    def count(self) -> int: ...

    async def get(self, id: str) -> dict[str, Any] | None: ...

    async def find_all_by_query(self, value: str) -> list[dict[str, Any]]: ...

    def lookup(self, path: str, value: Any) -> list[dict[str, Any]] | None: ...


@dataclass(frozen=True)
class Query:
    """One list or search request. ``count`` None means "as many as the server allows".
    ``resolver`` is the one the filter's paths are canonical for (:func:`query`), if any."""

    filter: Filter | None = None
    start_index: int = 1
    count: int | None = None
    attributes: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    sort_by: str | None = None
    descending: bool = False
    resolver: AttributeResolver | None = field(default=None, compare=False, repr=False)


#: The largest startIndex and count a query keeps: larger ones (any number of digits) are read
#: as this, which no list reaches, so they still answer an empty page; it fits the 64-bit
#: integers of JSON encoders and of ``itertools.islice``.
MAX_INDEX = 2**63 - 1
_INTEGER = re.compile(r"\s*([+-]?)(\d+)\s*", re.ASCII)


def _int(name: str, value: Any) -> int | None:
    """An integer parameter, saturated to ``[-MAX_INDEX, MAX_INDEX]``; 400 when not an integer."""
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value) if abs(value) < MAX_INDEX else (MAX_INDEX if value > 0 else -MAX_INDEX)
    if isinstance(value, int) and not isinstance(value, bool):
        return max(-MAX_INDEX, min(value, MAX_INDEX))
    digits = _INTEGER.fullmatch(value) if isinstance(value, str) else None
    if digits is None:
        raise invalid_value(f"{name} must be an integer")
    sign, number = digits.groups()
    magnitude = int(number) if len(number) <= 18 else MAX_INDEX
    return -magnitude if sign == "-" else magnitude


def _list(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(split_list(value))
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(p for v in value for p in split_list(v))
    raise invalid_value("attributes and excludedAttributes must be strings or lists of strings")


def _order(value: Any) -> bool:
    if value is None or value == "":
        return False
    if not isinstance(value, str) or value.casefold() not in ("ascending", "descending"):
        raise invalid_value("sortOrder must be 'ascending' or 'descending'")
    return value.casefold() == "descending"


def query(
    params: Mapping[str, Any],
    *,
    max_length: int = MAX_LENGTH,
    max_depth: int = MAX_DEPTH,
    resolver: AttributeResolver | None = None,
) -> Query:
    """A :class:`Query` from query parameters or a SearchRequest body; names in any case. The
    filter is refused over ``max_length`` characters or ``max_depth`` levels (see
    :func:`~mapper.scim.filter.check_size`). Given the type's ``resolver``, the filter's paths
    are canonical (:func:`~mapper.scim.filtershape.parse`); without one (``POST /.search``, over
    every type) :func:`matching` makes them so for each type.

    RFC 7644 §3.4.2.4: a startIndex below 1 is read as 1, a negative count as 0."""
    folded = {str(k).casefold(): v for k, v in params.items()}
    text = folded.get("filter")
    if text is not None and not isinstance(text, str):
        raise ScimError(400, "filter must be a string", "invalidFilter")
    start = _int("startIndex", folded.get("startindex"))
    count = _int("count", folded.get("count"))
    sort_by = folded.get("sortby")
    if sort_by is not None and not isinstance(sort_by, str):
        raise invalid_value("sortBy must be a string")
    return Query(
        filter=parse(text, max_length, max_depth, resolver) if text is not None and text.strip() else None,
        start_index=max(start, 1) if start is not None else 1,
        count=max(count, 0) if count is not None else None,
        attributes=_list(folded.get("attributes")),
        excluded=_list(folded.get("excludedattributes")),
        sort_by=sort_by.strip() or None if sort_by else None,
        descending=_order(folded.get("sortorder")),
        resolver=resolver,
    )


#: The most comparisons (cached resources × terms of the filter) the cache evaluates itself: a
#: database round trip costs more than that (docs/performance.md, "Filters that scan").
SMALL = 2000
#: How long a filter the database cannot answer may take on the cache, in seconds, unless the
#: server is told otherwise (``mapper serve --filter-budget``).
DEFAULT_BUDGET = 2.0
OVER_BUDGET = (
    "the filter needs a scan of every cached {type} that takes longer than the server allows "
    "({budget:g} s); narrow it with an equality on userName, id or a unique attribute, or use "
    "operators the database answers"
)


async def matching(
    store: Store,
    q: Query,
    resolver: AttributeResolver,
    query_attribute: str,
    *,
    max_results: int,
    budget: float = DEFAULT_BUDGET,
) -> tuple[int, list[dict[str, Any]]]:
    """(the number of matches, the requested page of them) for a query with a filter or sortBy.

    Equality on the id, the query attribute or a unique attribute is answered from the cache's
    indexes; a small cache (:data:`SMALL`) is evaluated directly; any other filter (and sortBy) by
    the database, through
    :meth:`~mapper.runtime.store.ObjectStore.search`; one the database cannot answer exactly is
    evaluated on the cache in a worker thread, and answers 400 ``tooMany`` when that takes longer
    than ``budget`` seconds. Nothing of it scans on the event loop.

    The filter's and sortBy's paths are canonical from here on (:mod:`mapper.scim.names`)."""
    size = max_results if q.count is None else min(q.count, max_results)
    node = q.filter
    if node is not None and q.resolver is not resolver:
        node = names.filter_paths(node, resolver)
    sort_by = names.attr_path(q.sort_by, resolver) if q.sort_by else None
    if node is not None:
        indexed = await _indexed(store, node, resolver, query_attribute)
        if indexed is not None:
            if sort_by:
                indexed = sort(indexed, sort_by, q.descending, resolver)
            return len(indexed), page(indexed, q.start_index, q.count, max_results)
    if store.count() * leaves(node) > SMALL:
        ordering = Sort(sort_by, q.descending) if sort_by else None
        found = await store.search(node, resolver, sort=ordering, offset=q.start_index - 1, limit=size)
        if found is not None:
            return found
    matched = await scan(store, node, resolver, sort_by, q.descending, budget)
    return len(matched), page(matched, q.start_index, q.count, max_results)


async def _indexed(
    store: Store, node: Filter, resolver: AttributeResolver, query_attribute: str
) -> list[dict[str, Any]] | None:
    """The matches of a filter an index narrows (see :func:`_by_key`, :func:`_by_index`), or None."""
    try:
        validate(node, resolver)  # 400 for a type misuse, even when nothing would be compared
        if isinstance(node, Compare) and node.op == "eq" and isinstance(node.value, str):
            exact = await _by_key(store, node, resolver, query_attribute)
            if exact is not None:
                return exact
        candidates = await _by_index(store, node, resolver, query_attribute)
        if candidates is None:
            return None
        return [r for r in candidates if matches(node, r, resolver, store.codec.fold)]
    except RecursionError:  # a chain of thousands of terms: the evaluator recurses per term
        raise invalid_filter(TOO_DEEP) from None


async def scan(
    store: Store,
    node: Filter | None,
    resolver: AttributeResolver,
    sort_by: AttrPath | str | None,
    descending: bool,
    budget: float,
) -> list[dict[str, Any]]:
    """Every cached resource ``node`` matches (all without one), sorted by ``sort_by`` if given:
    rendered and evaluated in a worker thread (at most two per type at once), which gives up
    with 400 ``tooMany`` once ``budget`` seconds have passed since the call, waiting included."""
    deadline = time.monotonic() + budget
    records = store.records()  # a snapshot: the event loop goes on changing the cache meanwhile
    render, fold = store.codec.render, store.codec.fold  # strings fold as the database's LOWER

    def evaluate() -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for i, record in enumerate(records):
            if not i & 127 and time.monotonic() > deadline:
                raise too_many(OVER_BUDGET.format(type=store.name, budget=budget))
            resource = render(record)
            if node is None or matches(node, resource, resolver, fold):
                out.append(resource)
        if sort_by:
            if time.monotonic() > deadline:
                raise too_many(OVER_BUDGET.format(type=store.name, budget=budget))
            out = sort(out, sort_by, descending, resolver)
        return out

    try:
        return await anyio.to_thread.run_sync(evaluate, limiter=store.scans)
    except RecursionError:
        raise invalid_filter(TOO_DEEP) from None


def key_of(node: Filter, resolver: AttributeResolver, query_attribute: str) -> tuple[bool, str] | None:
    """``(True, id)`` for ``id eq "..."``, ``(False, value)`` for ``<query attribute> eq "..."``
    alone (Entra's probe): filters the store's key look-up answers exactly (case folded as the
    attribute's caseExact says), so they need not be evaluated again. None for any other filter.
    The cached-read fast path (:mod:`mapper.scim.routes.reads`) asks the same."""
    if not (isinstance(node, Compare) and node.op == "eq" and isinstance(node.value, str)):
        return None
    path = resolver.resolve(node.path.urn, node.path.attribute, node.path.sub).path.casefold()
    if path == "id":
        return True, node.value
    if path == query_attribute.casefold():
        return False, node.value
    return None


async def _by_key(
    store: Store, node: Compare, resolver: AttributeResolver, query_attribute: str
) -> list[dict[str, Any]] | None:
    """The answer to a filter :func:`key_of` recognises, from the store's key look-up."""
    key = key_of(node, resolver, query_attribute)
    if key is None:
        return None
    by_id, value = key
    if not by_id:  # every object holding it: the database may hold it in several rows
        return await store.find_all_by_query(value)
    found = await store.get(value)
    return [found] if found is not None else []


async def _by_index(
    store: Store, node: Filter, resolver: AttributeResolver, query_attribute: str
) -> list[dict[str, Any]] | None:
    terms = [t for part in _conjuncts(node) for t in (equality_terms(part, resolver) or ())]
    if not terms:
        return None
    usable = [(resolver.resolve(p.urn, p.attribute, p.sub), v) for p, v in terms if not isinstance(v, bool)]
    for info, value in usable:
        if info.path.casefold() == "id":
            found = await store.get(str(value))
            return [found] if found is not None else []
        if info.path.casefold() == query_attribute.casefold():
            return await store.find_all_by_query(str(value))
    for info, value in usable:
        hits = store.lookup(info.path, value)
        if hits is not None:
            return hits
    return None


def _conjuncts(node: Filter) -> list[Filter]:
    """The terms of a top-level ``and`` chain: any one ``eq`` among them narrows the candidates
    (Entra's ``id eq "7" and members[value eq "5"]``); the whole filter is checked afterwards."""
    if isinstance(node, And):
        return _conjuncts(node.left) + _conjuncts(node.right)
    return [node]


def sort(
    resources: list[Any], sort_by: AttrPath | str, descending: bool, resolver: AttributeResolver
) -> list[Any]:
    """``resources`` ordered by ``sort_by`` (RFC 7644 §3.4.2.3); resources without a value come last
    in either order. A multi-valued attribute sorts by its primary value, else its first."""
    path = names.attr_path(sort_by, resolver) if isinstance(sort_by, str) else sort_by
    info = resolver.resolve(path.urn, path.attribute, path.sub)
    present: list[tuple[Any, Any]] = []
    absent: list[Any] = []
    for resource in resources:
        value = _sort_value(resource, path)
        if value is None:
            absent.append(resource)
        else:
            if isinstance(value, str) and not info.case_exact:
                value = value.casefold()
            present.append((value, resource))
    try:
        present.sort(key=lambda pair: pair[0], reverse=descending)
    except TypeError:  # mixed types: order by their text
        present.sort(key=lambda pair: str(pair[0]), reverse=descending)
    return [r for _, r in present] + absent


def _sort_value(resource: dict[str, Any], path: AttrPath) -> Any:
    """The value ``path`` (canonical: its URN is the extension holding it, or None) sorts
    ``resource`` by; rendered resources' names are canonical too."""
    container = resource.get(path.urn) if path.urn else resource
    value = container.get(path.attribute) if isinstance(container, dict) else None
    if isinstance(value, list):
        items = [i for i in value if isinstance(i, dict)]
        chosen = next((i for i in items if i.get("primary") is True), items[0] if items else None)
        value = chosen
    if isinstance(value, dict):
        value = value.get(path.sub or "value")
    elif path.sub:
        value = None
    return None if value == "" else value


def page(resources: list[Any], start_index: int, count: int | None, max_results: int) -> list[Any]:
    """The 1-based page ``[start_index, start_index + count)``, at most ``max_results`` long."""
    size = max_results if count is None else min(count, max_results)
    start = min(start_index - 1, len(resources))
    return resources[start : start + size]
