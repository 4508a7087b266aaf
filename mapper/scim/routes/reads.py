"""The read fast path: the two reads provisioning clients send most, answered from the cache
without Starlette's router, :class:`~starlette.requests.Request` or query-parameter parsing.

- ``GET {base}/{Type}/{id}`` with no query string and no ``If-None-Match``;
- ``GET {base}/{Type}?filter=<attr> eq "<value>"`` (the only parameter), where ``<attr>`` resolves
  to ``id`` or to the type's query attribute (``userName``): Entra ID's probe before every create.
  The filter goes through the general path's parser and AST
  (:func:`~mapper.scim.filtershape.equality`) and its key recogniser
  (:func:`~mapper.scim.routes.search.key_of`), so both paths accept and answer the same filters;
  what they answer for a filter of one string is remembered by its shape (:class:`KeyShapes`).

It answers only when the object is in the cache and the gateway is ready, and it builds the
response with the handlers' own pieces (:meth:`ResourceEndpoints.output`,
:func:`~mapper.scim.responses.list_response`; by id, the :class:`ScimResponse` and ``ETag``
that :func:`~mapper.scim.responses.resource_response` makes, without its checks of a resource
that may have no ``meta``), so the bytes are those of the general path
(``tests/scim/test_app_cached_reads.py`` compares status, headers and bytes).
Anything else (a miss, which reads through to the database; an odd path or query; HEAD; a
conditional request) goes on to the router unchanged, so every error comes from the general path.
The front door (:mod:`mapper.scim.front`) asks it after authentication and path normalisation.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote

from starlette.types import Scope

from mapper.runtime.gateway import Gateway
from mapper.runtime.values import text_problem
from mapper.scim.filtershape import equality, one_string
from mapper.scim.responses import ScimResponse, list_response
from mapper.scim.routes.resources import ResourceEndpoints
from mapper.scim.routes.search import key_of
from mapper.scim.routes.urls import root_of


def only_filter(raw: bytes) -> str | None:
    """The filter of a query string that holds one parameter, ``filter`` (in any case), decoded as
    Starlette decodes query strings (``parse_qsl``: ``+`` is a space, then percent-decoding as
    UTF-8); None for any other query string. The usual form (ASCII, one ``=``-separated pair, a
    plain name) is split and decoded here; anything else takes ``parse_qsl`` itself."""
    if b"&" not in raw and raw.isascii():
        name, _, value = raw.partition(b"=")
        if b"%" not in name and b"+" not in name:
            return _unquoted(value.replace(b"+", b" ")) if name.lower() == b"filter" else None
    params = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    if len(params) != 1 or params[0][0].casefold() != "filter":
        return None
    return params[0][1]


def _unquoted(value: bytes) -> str:
    """``unquote`` of ASCII ``value``; a filter's usual escapes (``%20``, ``%22``) are replaced
    without it. Each ``%`` it consumes starts one of those two escapes, which ``unquote`` reads
    alike; any ``%`` left over sends the whole value to ``unquote``."""
    plain = value.replace(b"%20", b" ").replace(b"%22", b'"')
    return unquote(value) if b"%" in plain else plain.decode("ascii")


class KeyShapes:
    """What :func:`~mapper.scim.routes.search.key_of` answers for the filters of one object type,
    remembered by shape for the filters that hold one string and no escapes.

    :func:`~mapper.scim.filtershape.parse` lifts such a string out and parses the rest
    (``userName eq ""``) alone, so whether the filter is a key look-up (and by id or by the query
    attribute) follows from the shape, once the whole text is within the length limit and the
    string passes the text check: the same tests ``parse`` makes of the values. The string is
    then the key's value. Up to ``MAX_SHAPES`` shapes are kept, as ``parse`` keeps its parsed ones."""

    MAX_SHAPES = 512

    def __init__(self, endpoints: ResourceEndpoints) -> None:
        self.endpoints = endpoints
        #: shape -> ``(by id?,)`` for a key look-up, ``()`` for any other filter
        self.known: dict[str, tuple[bool, ...]] = {}

    def key(self, text: str) -> tuple[bool, str] | None:
        """``(True, id)``, ``(False, query attribute's value)`` or None, as ``key_of`` answers."""
        endpoints = self.endpoints
        one = one_string(text) if len(text) <= endpoints.max_filter_length else None
        if one is not None:
            shape, value = one
            if text_problem(value) is not None:
                one = None
            else:
                known = self.known.get(shape)
                if known is not None:
                    return (known[0], value) if known else None
        node = equality(text, endpoints.max_filter_length, endpoints.max_filter_depth)
        key = None if node is None else key_of(node, endpoints.resolver, endpoints.obj.query_attribute)
        if one is not None and len(self.known) < self.MAX_SHAPES:
            self.known[one[0]] = () if key is None else (key[0],)
        return key


class CachedReads:
    """Answers cached single-object reads (see the module docstring)."""

    def __init__(self, endpoints: tuple[ResourceEndpoints, ...], base_path: str) -> None:
        self.base_path = base_path
        #: ``/scim/v2/Users`` -> the endpoints of Users; an item path is one of these plus ``/{id}``
        self.collections = {f"{base_path}{e.endpoint}": e for e in endpoints}
        self.key_shapes = {e.name: KeyShapes(e) for e in endpoints}

    def answer(self, scope: Scope) -> ScimResponse | None:
        """The response to an authenticated, normalised request if it is a cached read; None for
        the router to answer."""
        if scope["method"] != "GET" or scope.get("root_path"):
            return None
        state = scope.get("state")
        gateway: Gateway | None = state.get("gateway") if state else None
        if gateway is None or not gateway.ready:
            return None
        path: str = scope["path"]
        endpoints = self.collections.get(path)
        if endpoints is not None:
            return self.filtered(scope, gateway, endpoints)
        head, _, id_ = path.rpartition("/")
        endpoints = self.collections.get(head)
        if endpoints is None or not id_ or scope["query_string"]:
            return None
        return self.by_id(scope, gateway, endpoints, id_)

    def by_id(
        self, scope: Scope, gateway: Gateway, endpoints: ResourceEndpoints, id_: str
    ) -> ScimResponse | None:
        """``GET /Users/{id}`` (``ResourceEndpoints.get`` when the record is cached)."""
        for name, _ in scope["headers"]:
            if name == b"if-none-match":
                return None
        store = gateway.stores[endpoints.name]
        record = store.cached(id_)
        if record is None:
            return None
        root = root_of(scope, self.base_path)
        resource = endpoints.output(gateway.stores, store.codec.render(record), root, None)
        # resource_response's answer, whose ETag is meta.version (render always sets it)
        response = ScimResponse(resource)
        response.raw_headers.append((b"etag", resource["meta"]["version"].encode("latin-1")))
        return response

    def filtered(self, scope: Scope, gateway: Gateway, endpoints: ResourceEndpoints) -> ScimResponse | None:
        """``GET /Users?filter=userName eq "..."`` (``ResourceEndpoints.list_resources`` when the
        filter is one key look-up and the record is cached)."""
        raw: bytes = scope["query_string"]
        filter_ = only_filter(raw) if raw else None
        if filter_ is None:
            return None
        key = self.key_shapes[endpoints.name].key(filter_)
        if key is None:
            return None
        store = gateway.stores[endpoints.name]
        by_id, value = key
        record = store.cached(value) if by_id else store.cached_by_query(value)
        if record is None:
            return None
        # what ``list_page`` answers for the one match on the first page (max_results is at
        # least 1) with every attribute, without the page and query around it
        resource = endpoints.output(
            gateway.stores, store.codec.render(record), root_of(scope, self.base_path), None
        )
        return list_response([resource], 1, 1)
