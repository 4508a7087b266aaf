"""``/healthz`` (liveness: the process answers) and ``/readyz`` (readiness: the first import has
finished). Both are served without a token, so they reveal no data: readiness says when the last
sync ran and how many objects of each type the cache holds, nothing more."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from mapper.scim.responses import JsonResponse


async def healthz(request: Request) -> Response:
    return JsonResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    gateway = getattr(request.state, "gateway", None)
    if gateway is None:
        return JsonResponse({"ready": False}, status_code=503, headers={"Retry-After": "5"})
    health = gateway.health()
    body = {
        "ready": bool(health.get("ready")),
        "lastSync": health.get("lastSync"),
        "lastFullSync": health.get("lastFullSync"),
        "objects": health.get("objects", {}),
    }
    if not body["ready"]:
        return JsonResponse(body, status_code=503, headers={"Retry-After": "5"})
    return JsonResponse(body)
