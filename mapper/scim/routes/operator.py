"""The operator's endpoints and who may read them: ``/metrics`` (Prometheus) and the guard that
``/status`` shares.

The front door lets these paths through (:data:`mapper.scim.auth.OPERATOR_PATHS`); each checks its
token here. Any SCIM token opens both (a SCIM client can already read and change everything). A
metrics token (``MAPPER_METRICS_TOKEN`` or ``--metrics-token-file``) opens ``/metrics`` only, so a
Prometheus server never holds a token that can write. ``/status`` also takes the token as the
password of HTTP Basic credentials (any user name), so a browser can ask for it: no cookie, no
form, no JavaScript. Every presented token is compared with every configured one in constant
time, as :func:`mapper.scim.auth.authenticate` does.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Callable
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import Response

from mapper.scim.auth import Credential, authenticate
from mapper.scim.errors import unauthorized
from mapper.scim.exposition import CONTENT_TYPE_LATEST, merged_exposition
from mapper.scim.metrics import Metrics
from mapper.scim.responses import error_response


class OperatorGuard:
    """Accepts ``credentials`` as bearer tokens, and with ``basic`` as Basic passwords too;
    everything with ``insecure`` (``--insecure-no-auth``)."""

    def __init__(
        self,
        credentials: tuple[Credential, ...],
        *,
        insecure: bool = False,
        basic: bool = False,
        realm: str = "mapper",
    ) -> None:
        self.credentials = credentials
        self.insecure = insecure
        self.basic = basic
        self.realm = realm

    def client(self, request: Request) -> str | None:
        """The label of the client whose token the request carries, or None."""
        if self.insecure:
            return "anonymous"
        header = request.headers.get("authorization")
        if header is None:
            return None
        raw = header.encode("latin-1", "replace")
        if self.basic and raw[:6].lower() == b"basic ":
            return _basic_client(raw[6:].strip(), self.credentials)
        return authenticate(raw, self.credentials)

    def challenge(self, request: Request) -> Response:
        """The 401 (a SCIM error body) asking for credentials the way this guard takes them."""
        missing = "authorization" not in request.headers
        response = error_response(unauthorized("missing token" if missing else "invalid token"))
        scheme = "Basic" if self.basic else "Bearer"
        response.headers["WWW-Authenticate"] = f'{scheme} realm="{self.realm}"'
        return response


def _basic_client(encoded: bytes, credentials: tuple[Credential, ...]) -> str | None:
    try:
        decoded = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return None
    _user, sep, password = decoded.partition(b":")
    if not sep:
        return None
    found: str | None = None
    for credential in credentials:  # no early exit, as authenticate()
        if hmac.compare_digest(password, credential.token) and found is None:
            found = credential.label
    return found


class MetricsEndpoint:
    """``GET /metrics``: the Prometheus text format, the gauges read first."""

    def __init__(self, metrics: Metrics, guard: OperatorGuard) -> None:
        self.metrics = metrics
        self.guard = guard

    async def serve(self, request: Request) -> Response:
        if self.guard.client(request) is None:
            return self.guard.challenge(request)
        gateway = getattr(request.state, "gateway", None)
        if gateway is not None:
            self.metrics.refresh(gateway)
        body = await anyio.to_thread.run_sync(self.metrics.exposition)
        return Response(body, media_type=CONTENT_TYPE_LATEST)


class HubMetrics:
    """``GET /metrics`` of a hub of several connectors: every connector's metrics in one
    exposition. ``connectors`` are (metrics, the connector's gateway or None while it starts)."""

    def __init__(self, connectors: Callable[[], list[tuple[Metrics, Any]]], guard: OperatorGuard) -> None:
        self.connectors = connectors
        self.guard = guard

    async def serve(self, request: Request) -> Response:
        if self.guard.client(request) is None:
            return self.guard.challenge(request)
        found = self.connectors()
        for metrics, gateway in found:
            if gateway is not None:
                metrics.refresh(gateway)
        body = await anyio.to_thread.run_sync(merged_exposition, [metrics for metrics, _ in found])
        return Response(body, media_type=CONTENT_TYPE_LATEST)
