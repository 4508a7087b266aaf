"""``/healthz`` (liveness: the process answers) and ``/readyz`` (readiness: the first import has
finished and every database answers the reconnect probe). Both are served without a token, so
they reveal no data: readiness says where the start is, why it is not ready (in our words: never a
driver message or a URL), how many rows each object type's import has read and how many objects
the cache holds, nothing more."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mapper.runtime.errors import SyncError
from mapper.scim.responses import JsonResponse

RETRY_AFTER = {"Retry-After": "5"}


async def healthz(request: Request) -> Response:
    return JsonResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    gateway = getattr(request.state, "gateway", None)
    if gateway is None:
        return JsonResponse({"ready": False, "phase": "starting"}, status_code=503, headers=RETRY_AFTER)
    health = gateway.health()
    body: dict[str, Any] = {
        "ready": bool(health.get("ready")),
        "phase": health.get("phase"),
        "lastSync": health.get("lastSync"),
        "lastFullSync": health.get("lastFullSync"),
        "objects": health.get("objects", {}),
    }
    if body["ready"]:
        return JsonResponse(body)
    body["reason"] = _reason(gateway, health)
    body["progress"] = health.get("progress", {})
    return JsonResponse(body, status_code=503, headers=RETRY_AFTER)


def _reason(gateway: Any, health: dict[str, Any]) -> str:
    phase = health.get("phase")
    if phase == "waiting" and health.get("waiting"):
        return f"waiting for the first import: {health['waiting']}"
    fatal = gateway.fatal
    if phase == "failed" and fatal is not None:
        if isinstance(fatal, SyncError):  # its message quotes the driver: not for an open path
            return f"cannot start: the database rejected the import query of {fatal.object_type}"
        return f"cannot start: {fatal}"
    if phase in ("starting", "importing"):
        return "the first import is in progress"
    down = ", ".join(sorted(gateway.unreachable))
    return f"database {down} is unreachable" if down else "not ready"
