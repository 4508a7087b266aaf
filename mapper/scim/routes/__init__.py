"""The HTTP routes of the gateway, one module per concern: resources (CRUD, list, search),
discovery, health; plus how requests are read, errors rendered and paths normalised."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from mapper.plan import Plan
from mapper.scim.routes import health
from mapper.scim.routes.discovery import Discovery, unsupported
from mapper.scim.routes.resources import ResourceEndpoints, RootSearch
from mapper.scim.settings import Settings

#: Canonical first path segments besides the object types' endpoints, and the aliases clients use.
DISCOVERY_SEGMENTS = ("ServiceProviderConfig", "ResourceTypes", "Schemas", "Me", "Bulk")
_ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
ALIASES = {"serviceConfiguration": "ServiceProviderConfig", "ServiceProviderConfigs": "ServiceProviderConfig"}


def resource_endpoints(plan: Plan, settings: Settings) -> tuple[ResourceEndpoints, ...]:
    """The handlers of every object type, in plan order."""
    return tuple(ResourceEndpoints(obj, plan, settings) for obj in plan.objects)


def build_routes(
    plan: Plan, settings: Settings, endpoints: tuple[ResourceEndpoints, ...] | None = None
) -> list[BaseRoute]:
    """Every route: the object types' endpoints first (the hot path), then discovery and health.
    ``endpoints`` are the handlers to route to (built here when not given)."""
    base = settings.base_path
    if endpoints is None:
        endpoints = resource_endpoints(plan, settings)
    routes: list[BaseRoute] = []
    for e in endpoints:
        # the list and get routes first: the router tries routes in order. POST /Users/.search
        # only partially matches /{id} (method), so the router goes on to the .search route.
        routes += [
            Route(f"{base}{e.endpoint}", e.collection, methods=["GET", "POST"]),
            Route(f"{base}{e.endpoint}/{{id}}", e.item, methods=["GET", "PUT", "PATCH", "DELETE"]),
            Route(f"{base}{e.endpoint}/.search", e.search, methods=["POST"]),
        ]
    discovery = Discovery(plan, settings)
    routes += [
        Route(f"{base}/.search", RootSearch(endpoints, settings).search, methods=["POST"]),
        Route(f"{base}/ServiceProviderConfig", discovery.service_provider_config, methods=["GET"]),
        Route(f"{base}/ResourceTypes", discovery.resource_types, methods=["GET"]),
        Route(f"{base}/ResourceTypes/{{name}}", discovery.resource_type, methods=["GET"]),
        Route(f"{base}/Schemas", discovery.schemas, methods=["GET"]),
        Route(f"{base}/Schemas/{{urn}}", discovery.schema, methods=["GET"]),
        Route(f"{base}/Me", unsupported, methods=_ALL_METHODS),
        Route(f"{base}/Bulk", unsupported, methods=_ALL_METHODS),
        Route("/healthz", health.healthz, methods=["GET"]),
        Route("/readyz", health.readyz, methods=["GET"]),
    ]
    return routes


def segments(plan: Plan) -> tuple[str, ...]:
    """The canonical first segments under the SCIM root, for the path normaliser."""
    return (*(obj.endpoint.strip("/") for obj in plan.objects), *DISCOVERY_SEGMENTS, ".search")
