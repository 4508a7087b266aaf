"""The resource endpoints of one object type (RFC 7644 §3.3-3.6): ``/Users`` (list, create),
``/Users/{id}`` (get, replace, patch, delete) and ``/Users/.search``.

Handlers speak to the runtime's :class:`~mapper.runtime.store.ObjectStore` only, found with the
object a request names by :mod:`mapper.scim.routes.lookup`; every failure is an exception that
:mod:`mapper.scim.routes.exceptions` turns into a SCIM error. Resources come from
the store freshly rendered, so the handlers decorate them in place: ``meta.location``, and
``$ref``/``type``/``display`` on references to other resources (group members).
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Mapping
from dataclasses import replace
from functools import partial
from itertools import islice
from typing import Any

import anyio
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from mapper.plan import Plan, PlanObject
from mapper.runtime.errors import ContendedError, DatabaseUnavailableError, PreconditionFailedError
from mapper.runtime.locks import KeyedLocks, arrived
from mapper.runtime.store import Dangling, ObjectStore
from mapper.scim import names
from mapper.scim.attributes import Resolver
from mapper.scim.audit import note
from mapper.scim.errors import not_found, too_large
from mapper.scim.patch import apply_patch
from mapper.scim.projection import project
from mapper.scim.responses import ScimResponse, list_response, no_content, resource_response
from mapper.scim.routes.lookup import existing, gateway_of, located, store_of
from mapper.scim.routes.references import Members, note_drops
from mapper.scim.routes.requests import read_object
from mapper.scim.routes.search import Query, matching, query
from mapper.scim.routes.urls import location, scim_root
from mapper.scim.settings import Settings
from mapper.scim.strict import check_mapped

#: Top-level keys a client may send but never sets (RFC 7643 §3.1: id and meta are the server's).
_SERVER_KEYS = ("id", "meta")
_PROJECTION_PARAMS = ("attributes", "excludedattributes")
#: The most resources a list response decorates and serialises on the event loop; a larger page
#: (up to --max-results) takes milliseconds, and goes to a worker thread.
INLINE_PAGE = 50
#: how long a PATCH without If-Match re-reads and retries when others change the object under it
_PATCH_RETRY_SECONDS = 10.0


class ResourceEndpoints:
    """The handlers of one object type. One instance per type, built with the app."""

    def __init__(self, obj: PlanObject, plan: Plan, settings: Settings) -> None:
        self.obj = obj
        self.name = obj.name
        self.endpoint = obj.endpoint
        self.resolver = Resolver.for_object(obj, plan.schemas)
        self.base_path = settings.base_path
        self.max_body_bytes = settings.max_body_bytes
        self.max_results = settings.max_results
        self.max_filter_length = settings.max_filter_length
        self.max_filter_depth = settings.max_filter_depth
        self.filter_budget = settings.filter_budget
        self.max_patch_operations = settings.max_patch_operations
        self.members = Members.of(obj, plan)
        self.strict = settings.strict
        self.patch_locks = KeyedLocks()  # PATCHes of one object, one at a time (see ``patch``)

    # -- routing ----------------------------------------------------------------------------

    async def collection(self, request: Request) -> Response:
        """``/Users``: GET lists, POST creates."""
        if request.method == "POST":
            return await self.create(request)
        return await self.list_resources(request)

    async def item(self, request: Request) -> Response:
        """``/Users/{id}``: GET (and HEAD), PUT, PATCH, DELETE."""
        method = request.method
        if method == "GET" or method == "HEAD":
            return await self.get(request)
        if method == "PATCH":
            return await self.patch(request)
        if method == "PUT":
            return await self.replace(request)
        if method == "DELETE":
            return await self.delete(request)
        raise HTTPException(405, headers={"Allow": "GET, HEAD, PUT, PATCH, DELETE"})

    # -- reads ------------------------------------------------------------------------------

    async def list_resources(self, request: Request) -> Response:
        return await self.respond_list(request, self.query(request.query_params))

    async def search(self, request: Request) -> Response:
        """``POST /Users/.search`` with a SearchRequest body (RFC 7644 §3.4.3)."""
        return await self.respond_list(request, self.query(await read_object(request, self.max_body_bytes)))

    def query(self, params: Mapping[str, Any]) -> Query:
        """The query ``params`` ask for, its filter within the configured limits and its names
        canonical for this type (:mod:`mapper.scim.names`)."""
        return query(
            params, max_length=self.max_filter_length, max_depth=self.max_filter_depth, resolver=self.resolver
        )

    async def respond_list(self, request: Request, q: Query) -> Response:
        total, resources = await self.matching(request, q)
        stores, root = gateway_of(request).stores, scim_root(request, self.base_path)
        if len(resources) > INLINE_PAGE:  # decorated and serialised off the event loop
            return await anyio.to_thread.run_sync(self.list_page, stores, root, q, total, resources)
        return self.list_page(stores, root, q, total, resources)

    def list_page(
        self,
        stores: Mapping[str, ObjectStore],
        root: str,
        q: Query,
        total: int,
        resources: list[dict[str, Any]],
    ) -> ScimResponse:
        """The ListResponse of ``resources``, the page of ``total`` matches that ``q`` asked for."""
        page_ = [self.output(stores, r, root, q) for r in resources]
        return list_response(page_, total, q.start_index, count_only=q.count == 0)

    async def matching(self, request: Request, q: Query) -> tuple[int, list[dict[str, Any]]]:
        """The total number of matches and the requested page of them."""
        store = store_of(request, self.obj)
        size = self.max_results if q.count is None else min(q.count, self.max_results)
        if q.filter is None and q.sort_by is None:  # render only the page, off the event loop
            records = store.records()
            start = min(q.start_index - 1, len(records))  # islice takes no index beyond sys.maxsize
            page_ = islice(records, start, start + size)
            render = store.codec.render
            return len(records), await anyio.to_thread.run_sync(lambda: [render(r) for r in page_])
        return await matching(
            store,
            q,
            self.resolver,
            self.obj.query_attribute,
            max_results=self.max_results,
            budget=self.filter_budget,
        )

    async def get(self, request: Request) -> Response:
        _, _, resource = await existing(request, self.obj)
        version = resource.get("meta", {}).get("version")
        if_none_match = request.headers.get("if-none-match")
        if version and if_none_match and _etag_in(version, if_none_match):
            return Response(status_code=304, headers={"ETag": version})
        q = _projection(request)
        return resource_response(
            self.output(gateway_of(request).stores, resource, scim_root(request, self.base_path), q)
        )

    # -- writes -----------------------------------------------------------------------------

    async def create(self, request: Request) -> Response:
        note(request.scope, self.name)
        body = self.incoming(await read_object(request, self.max_body_bytes))
        store = store_of(request, self.obj)
        dropped: list[Dangling] = []
        try:
            created = await store.create(body, dropped=dropped)
        finally:
            note_drops(request.scope, dropped)
        note(
            request.scope, self.name, store.codec.anchor_of(created["id"])
        )  # what the id names (id dn: a DN)
        root = scim_root(request, self.base_path)
        out = self.output(gateway_of(request).stores, created, root, _projection(request))
        return resource_response(out, 201, location=location(root, self.endpoint, created["id"]))

    async def replace(self, request: Request) -> Response:
        note(request.scope, self.name)
        body = self.incoming(await read_object(request, self.max_body_bytes))
        store, id_ = await located(request, self.obj)
        note(request.scope, self.name, store.codec.anchor_of(id_))
        if_match = request.headers.get("if-match")
        dropped: list[Dangling] = []
        try:
            replaced = await store.replace(id_, body, if_match=if_match, dropped=dropped)
        finally:
            note_drops(request.scope, dropped)
        return self.single(request, replaced, scim_root(request, self.base_path), _projection(request))

    async def patch(self, request: Request) -> Response:
        """PATCH answers 200 with the resource (RFC 7644 §3.5.2 allows 200 or 204; Entra and Okta
        accept both, and 200 lets clients see the result without another GET), except on an
        object with membership lists (Groups): there it answers 204 with the new ETag, since the
        body grows with the membership and a provisioning run adds members one PATCH at a time.
        Asked for ``attributes`` or ``excludedAttributes``, it answers 200 (as §3.5.2 requires).

        The operations apply to the cached resource and the result is written as a replace.
        PATCHes of one object are serialised in this process, so each applies to the result of
        the one before (Entra ID sends member additions concurrently). So that a change made in
        the database since the last sync (by another process, or a cascade) is never overwritten,
        the write requires the cached version, as an If-Match of it would (it carries the cached
        record itself: docs/decisions.md); when the database has moved on, the
        object is read again and the PATCH applied to it, again and again after a short random
        pause (other processes may be patching the same group), for up to
        :data:`_PATCH_RETRY_SECONDS`; then 503 with Retry-After, never a 412 the client did not
        ask for. A client's own If-Match is final: a mismatch is its 412. A PATCH that changes
        nothing in the cached resource is answered without a write only once the database has
        been read and holds that resource (:meth:`ObjectStore.refresh`); else it is applied to
        what the database holds."""
        note(request.scope, self.name)
        body = await read_object(request, self.max_body_bytes)
        operations = names.operations(body, self.resolver)
        bare = names.leave_meta(operations)  # then applied to the cached resource without meta
        if isinstance(operations, list) and len(operations) > self.max_patch_operations:
            raise too_large(f"a PATCH carries at most {self.max_patch_operations} operations")
        if self.strict:
            check_mapped(operations, self.obj, self.resolver)
        client_if_match = request.headers.get("if-match")
        root = scim_root(request, self.base_path)  # for the answer's links
        store, id_ = await located(request, self.obj)
        note(request.scope, self.name, store.codec.anchor_of(id_))
        database = store.database  # a PATCH queued behind others of this object waits within the bound
        unavailable = partial(DatabaseUnavailableError, database.name)
        async with self.patch_locks.hold([id_], database.timeouts.statement, unavailable):
            # what the PATCH before this one left; for operations that leave ``meta`` alone (a
            # readOnly check could compare its values), the cached record and its resource without
            # what ``meta`` holds, whose version the write requires of the record itself (see
            # ``expected``)
            if bare:
                found = await store.patchable(id_)
                cached, current = found if found is not None else (None, None)
            else:
                cached, current = None, await store.get(id_)
            give_up = time.monotonic() + _PATCH_RETRY_SECONDS
            confirmed = False  # whether ``current`` was read from the database for this PATCH
            for attempt in itertools.count():
                if current is None:
                    raise not_found(f"{self.name} not found")
                patched = apply_patch(current, operations, self.resolver)
                if patched == current and client_if_match is None:  # nothing changes: no write
                    if cached is not None:  # the cached resource, whole, as get() renders it
                        current, cached = store.codec.render(cached), None
                    if confirmed:
                        return self.patched(request, current, root)
                    # ... in the cached copy, which may lag the database (an application's
                    # UPDATE, another process's write): its word, not the cache's
                    confirmed = True
                    fresh = await store.refresh(id_)
                    if fresh == current:
                        return self.patched(request, current, root)
                    current = fresh
                    continue
                # the write requires the version of what the PATCH was applied to: the cached
                # record's (``expected``, the same condition as an If-Match of its version, which
                # needs neither version worked out when the database holds that record's very
                # values), a refreshed resource's, or the client's If-Match
                if_match = client_if_match or current.get("meta", {}).get("version")
                expected = cached if client_if_match is None else None
                dropped: list[Dangling] = []
                try:
                    written = await store.replace(
                        id_, patched, if_match=if_match, expected=expected, dropped=dropped
                    )
                    note_drops(request.scope, dropped)
                    return self.patched(request, written, root)
                except PreconditionFailedError:
                    if client_if_match is not None:
                        raise
                    if time.monotonic() >= give_up:
                        raise ContendedError(store.database.name) from None
                    if attempt:  # the first retry at once; then back off, at random, up to 0.2 s
                        await anyio.sleep(random.uniform(0, min(0.2, 0.005 * 2**attempt)))  # noqa: S311 - jitter
                    arrived.set(time.monotonic())  # the database answered: a new attempt, a new bound
                    current, cached, confirmed = await store.refresh(id_), None, True
        raise AssertionError("unreachable")

    async def delete(self, request: Request) -> Response:
        note(request.scope, self.name)
        store, id_ = await located(request, self.obj)
        note(request.scope, self.name, store.codec.anchor_of(id_))
        await store.delete(id_, if_match=request.headers.get("if-match"))
        return no_content()

    def incoming(self, body: dict[str, Any]) -> dict[str, Any]:
        """A POST/PUT body with canonical names (:mod:`mapper.scim.names`), without what only the
        server sets (``id``, ``meta``)."""
        canonical = names.resource(body, self.resolver)
        return {k: v for k, v in canonical.items() if k not in _SERVER_KEYS}

    # -- output -----------------------------------------------------------------------------

    def patched(self, request: Request, resource: dict[str, Any], root: str) -> Response:
        """The answer to a successful PATCH (see :meth:`patch`); ``root`` is the request's SCIM
        root (:func:`~mapper.scim.routes.urls.scim_root`)."""
        q = _projection(request)
        if not self.members or (q is not None and (q.attributes or q.excluded)):
            return self.single(request, resource, root, q)
        version = resource.get("meta", {}).get("version")
        return no_content({"ETag": str(version)} if version else None)

    def single(self, request: Request, resource: dict[str, Any], root: str, q: Query | None) -> ScimResponse:
        """The answer of a write that returns the resource, its links under ``root``, projected
        as the request's ``q`` (:func:`_projection`) asks."""
        return resource_response(self.output(gateway_of(request).stores, resource, root, q))

    def output(
        self, stores: Mapping[str, ObjectStore], resource: dict[str, Any], root: str, q: Query | None
    ) -> dict[str, Any]:
        """The resource as returned: projected when asked, with its location and references."""
        if q is not None and (q.attributes or q.excluded):
            resource = project(resource, q.attributes, q.excluded, self.resolver)
        meta = resource.get("meta")
        if isinstance(meta, dict):
            meta["location"] = location(root, self.endpoint, resource["id"])
        if self.members:
            for members in self.members:
                members.decorate(resource, root, stores.get(members.target))
        return resource


def _projection(request: Request) -> Query | None:
    """``attributes``/``excludedAttributes`` of a single-resource request, if any (most have no
    query string: then its parameters are not parsed)."""
    if not request.scope["query_string"]:
        return None
    folded = {
        k.casefold(): v
        for k, v in request.query_params.items()
        if k.casefold() in ("attributes", "excludedattributes")
    }
    return query(folded) if folded else None


def _etag_in(version: str, header: str) -> bool:
    ours = version.removeprefix("W/")
    return header.strip() == "*" or any(t.strip().removeprefix("W/") == ours for t in header.split(","))


class RootSearch:
    """``POST /.search``: one query over every object type (RFC 7644 §3.4.3). Resources are listed
    type by type in plan order; with ``sortBy`` they are sorted within each type."""

    def __init__(self, endpoints: tuple[ResourceEndpoints, ...], settings: Settings) -> None:
        self.endpoints = endpoints
        self.max_body_bytes = settings.max_body_bytes
        self.max_results = settings.max_results
        self.max_filter_length = settings.max_filter_length
        self.max_filter_depth = settings.max_filter_depth
        self.base_path = settings.base_path

    async def search(self, request: Request) -> Response:
        params = await read_object(request, self.max_body_bytes)
        q = query(params, max_length=self.max_filter_length, max_depth=self.max_filter_depth)
        root = scim_root(request, self.base_path)
        # each type counts its matches, and lists only its part of the page (by the database
        # where it can: see ResourceEndpoints.matching)
        size = self.max_results if q.count is None else min(q.count, self.max_results)
        skip, total = q.start_index - 1, 0
        chosen: list[tuple[ResourceEndpoints, dict[str, Any]]] = []
        for endpoints in self.endpoints:
            found, _ = await endpoints.matching(request, replace(q, start_index=1, count=0))
            total += found
            if skip >= found:
                skip -= found
                continue
            if len(chosen) < size:
                part = replace(q, start_index=skip + 1, count=size - len(chosen))
                _, resources = await endpoints.matching(request, part)
                chosen += [(endpoints, r) for r in resources]
            skip = 0
        stores = gateway_of(request).stores

        def respond() -> ScimResponse:
            page_ = [e.output(stores, r, root, q) for e, r in chosen]
            return list_response(page_, total, q.start_index, count_only=q.count == 0)

        if len(chosen) > INLINE_PAGE:
            return await anyio.to_thread.run_sync(respond)
        return respond()
