"""Bearer-token authentication (RFC 6750), checked by the front door (:mod:`mapper.scim.front`).

Tokens come from ``MAPPER_TOKEN`` (comma-separated) or a token file (one per line); each is either
a bare token or ``label:token``, and the label (never the token) names the client in the audit log.
A presented token is compared with every configured token using :func:`hmac.compare_digest`, so the
time taken does not depend on where a guess first differs nor on which token matched.
"""

from __future__ import annotations

import hmac

from starlette.responses import Response
from starlette.types import Scope

from mapper.scim.errors import unauthorized
from mapper.scim.responses import error_response
from mapper.scim.tokens import Credential, TokenConfigError, load_credentials, parse_credentials

__all__ = [
    "CLIENT_KEY",
    "OPEN_PATHS",
    "BearerAuth",
    "Credential",
    "TokenConfigError",
    "authenticate",
    "load_credentials",
    "parse_credentials",
]

#: The scope key where the middleware leaves the authenticated client's label.
CLIENT_KEY = "mapper.client"

#: Paths served without a token; they reveal no data (liveness, readiness, what the service is).
OPEN_PATHS = frozenset({"/healthz", "/readyz", "/"})
#: The operator pages check tokens themselves (:mod:`mapper.scim.routes.operator`): they also take
#: the metrics tokens, and a browser's Basic credentials.
OPERATOR_PATHS = frozenset({"/metrics", "/status"})


def authenticate(header: bytes | None, credentials: tuple[Credential, ...]) -> str | None:
    """The label of the client whose token ``header`` (an ``Authorization`` value) carries, or None."""
    if not header or len(header) < 8 or header[:7].lower() != b"bearer ":
        return None
    presented = header[7:].strip()
    found: str | None = None
    for credential in credentials:  # no early exit: every token is compared every time
        if hmac.compare_digest(presented, credential.token) and found is None:
            found = credential.label
    return found


class BearerAuth:
    """Rejects every HTTP request without a valid bearer token with a SCIM 401 body, except the
    open health paths. With ``insecure`` set, every request passes as client ``anonymous``.
    An accepted request carries its client's label in ``scope[CLIENT_KEY]``."""

    def __init__(self, credentials: tuple[Credential, ...], insecure: bool = False) -> None:
        self.credentials = credentials
        self.insecure = insecure

    def rejection(self, scope: Scope) -> Response | None:
        """The 401 for an HTTP request without a valid token; None (and the label noted) otherwise."""
        if scope["path"] in OPEN_PATHS or scope["path"] in OPERATOR_PATHS:
            return None
        if self.insecure:
            scope[CLIENT_KEY] = "anonymous"
            return None
        header = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                header = value
                break
        label = authenticate(header, self.credentials)
        if label is None:
            detail = "missing bearer token" if header is None else "invalid bearer token"
            response = error_response(unauthorized(detail))
            response.headers["WWW-Authenticate"] = 'Bearer realm="SCIM"'
            return response
        scope[CLIENT_KEY] = label
        return None
