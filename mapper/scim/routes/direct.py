"""The resource routes the front door (:mod:`mapper.scim.front`) calls directly, without Starlette's
router: what the router, its ``request_response`` wrapper and the ``ExceptionMiddleware`` in front
of it would do for ``/Users``, ``/Users/{id}`` and ``/Users/.search``, in one call.

Starlette's way to a write's handler tries each route's regular expression in turn and wraps the
request twice (``ExceptionMiddleware``, then ``request_response``), each time in a ``Request`` and a
closure around ``send``, so that every message of the answer passes two more layers. Here the
normalised path's collection is one dict look-up (an item path's parent is the one string made, as
:class:`~mapper.scim.requestcount.RouteTemplates` finds it), the route and its ``id`` are the ones
the router would pick (the same ``Route`` objects, tried in the same order, their methods
included: ``GET /Users/.search`` is the item ``.search``, as the router has it), the scope gets the
keys the router gives it, and an exception becomes the same answer through the same handlers
(:func:`~mapper.scim.routes.exceptions.exception_handlers`, looked up along the exception's class
as Starlette does). Anything else goes to the router: discovery, the health and operator pages,
a method the route does not take (the 405), a path no route takes (the 404), a request under a
``root_path``, a collection whose endpoint is more than one segment, and a handler that is not a
coroutine function (the router runs those in a thread).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

Handler = Callable[[Request, Exception], Awaitable[Response]]


class DirectRoutes:
    """The collection, item and search routes of each collection under ``base_path`` among
    ``routes`` (in the router's order), and the app's exception ``handlers``; ``router`` is put
    in the scope as the router puts itself there."""

    def __init__(
        self,
        routes: Iterable[BaseRoute],
        base_path: str,
        handlers: Mapping[Any, Handler],
        router: Any = None,
    ) -> None:
        self.router = router
        self.handlers = {kind: handler for kind, handler in handlers.items() if kind is not Exception}
        plain = [route for route in routes if isinstance(route, Route)]
        by_path: dict[str, Route] = {}
        for route in plain:
            by_path.setdefault(route.path, route)
        #: ``/scim/v2/Users`` -> its (collection, item, search) routes
        self.collections: dict[str, tuple[Route, Route, Route]] = {}
        for path, route in by_path.items():
            item, search = by_path.get(f"{path}/{{id}}"), by_path.get(f"{path}/.search")
            if not path.startswith(f"{base_path}/") or item is None or search is None:
                continue
            own = (route, item, search)
            samples = (path, f"{path}/x", f"{path}/.search")
            if any(
                other.path_regex.match(sample) for other in plain if other not in own for sample in samples
            ):
                continue  # another route takes one of its paths: the router decides
            if all(inspect.iscoroutinefunction(r.endpoint) and r.methods for r in own):
                self.collections[path] = own

    def route(self, scope: Scope) -> Route | None:
        """The route the router would take for ``scope`` (HTTP, authenticated, normalised), with
        the router's keys put in the scope; None when the router is to decide."""
        if scope.get("root_path"):
            return None
        path: str = scope["path"]
        method: str = scope["method"]
        found = self.collections.get(path)
        params: dict[str, str] = {}
        if found is not None:
            route = found[0]
            if method not in route.methods:  # type: ignore[operator]
                return None
        else:
            cut = path.rfind("/")
            found = self.collections.get(path[:cut])
            if found is None or cut + 1 == len(path):
                return None
            route = found[1]
            if method in route.methods:  # type: ignore[operator]
                params["id"] = path[cut + 1 :]
            else:  # POST /Users/.search: the item route only matches partially, the search route fully
                route = found[2]
                if method not in route.methods or path[cut + 1 :] != ".search":  # type: ignore[operator]
                    return None
        if "router" not in scope:
            scope["router"] = self.router
        scope["route"] = route
        scope["endpoint"] = route.endpoint
        scope["path_params"] = params
        return route

    async def call(self, scope: Scope, receive: Receive, send: Send) -> Response | None:
        """The answer of the route the router would take for ``scope``, an exception with a
        handler answered by it; None when the router is to answer. An exception without a handler
        (a bug) is raised, for the caller's last resort."""
        route = self.route(scope)
        if route is None:
            return None
        request = Request(scope, receive, send)
        try:
            response: Response = await route.endpoint(request)
        except Exception as exc:
            handler = self.handler(exc)
            if handler is None:
                raise
            response = await handler(request, exc)
            exc.__traceback__ = None  # as Starlette: a reused exception would keep every traceback
        return response

    def handler(self, exc: Exception) -> Handler | None:
        """The handler of ``exc``: its class's, else its nearest base class's (Starlette's look-up)."""
        for kind in type(exc).__mro__:
            handler = self.handlers.get(kind)
            if handler is not None:
                return handler
        return None
