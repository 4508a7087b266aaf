"""What a resource request names: its type's store, once the gateway is ready, and the object a
``/Users/{id}`` path names, with ids as clients really encode them.

The write handlers (:mod:`mapper.scim.routes.resources`) look up only after the body is read and
its names made canonical (a bad body is a 400 whatever the id) and after the audit log has the
type (a 404 or a 503 is logged with it)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import unquote

from starlette.requests import Request

from mapper.plan import PlanObject
from mapper.runtime.gateway import Gateway
from mapper.runtime.store import ObjectStore
from mapper.scim.errors import not_found

_PERCENT_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")

T = TypeVar("T")


def gateway_of(request: Request) -> Gateway:
    """The gateway the app's lifespan started."""
    gateway: Gateway = request.scope["state"]["gateway"]
    return gateway


def store_of(request: Request, obj: PlanObject) -> ObjectStore:
    """The store of ``obj``'s type; 503 until the first import has filled the cache, because an
    empty cache would answer "no such user" and make clients create duplicates."""
    gateway = gateway_of(request)
    if not gateway.ready:
        raise gateway.unready_error(obj.source)
    return gateway.stores[obj.name]


async def existing(request: Request, obj: PlanObject) -> tuple[ObjectStore, str, dict[str, Any]]:
    """The store, id and resource a ``/Users/{id}`` request names, or 404 (see :func:`_found`)."""
    store = store_of(request, obj)
    id_, resource = await _found(request, obj, store.get)
    return store, id_, resource


async def located(request: Request, obj: PlanObject) -> tuple[ObjectStore, str]:
    """The store and id of the object a ``/Users/{id}`` request names, or 404, as :func:`existing`
    but without rendering it: a PUT, PATCH or DELETE reads the object again under its lock."""
    store = store_of(request, obj)
    id_, _ = await _found(request, obj, store.get_record)
    return store, id_


async def _found(
    request: Request, obj: PlanObject, read: Callable[[str], Awaitable[T | None]]
) -> tuple[str, T]:
    """The id a ``/Users/{id}`` request names and what ``read`` finds for it, or 404.

    Entra ID sometimes percent-encodes an id twice (``/Groups/cn%253Dabc``): when the id as
    decoded once is unknown and still holds ``%XX``, it is decoded once more."""
    id_ = str(request.path_params["id"])
    found = await read(id_)
    if found is None:
        again = decoded_again(id_)
        if again is not None:
            id_, found = again, await read(again)
    if found is None:
        raise not_found(f"{obj.name} not found")
    return id_, found


def decoded_again(value: str) -> str | None:
    """``value`` percent-decoded once more when it still holds ``%XX`` escapes, else None.

    Entra ID percent-encodes some ids twice (``/Groups/cn%253Dabc``); when the id as decoded once
    (``cn%3Dabc``) is unknown, :func:`_found` tries this second decoding (``cn=abc``)."""
    if "%" not in value or not _PERCENT_ESCAPE.search(value):
        return None
    return unquote(value)
