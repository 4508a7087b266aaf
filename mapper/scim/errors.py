"""SCIM protocol errors (RFC 7644 §3.12): one exception type that knows its HTTP status, its
``scimType`` and how to render itself as a SCIM Error message. The HTTP app turns every
:class:`ScimError` into a response in one exception handler; nothing else builds error bodies."""

from __future__ import annotations

from typing import Any

from mapper.errors import MapperError

ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
#: The longest ``detail`` sent; details name attributes and positions, never values, so only a
#: path or a name the client made long can reach it.
MAX_DETAIL = 500


class ScimError(MapperError):
    """A SCIM error response: ``status`` (HTTP code), ``scim_type`` (RFC 7644 Table 9, or None)
    and a human-readable ``detail``."""

    def __init__(self, status: int, detail: str, scim_type: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.scim_type = scim_type
        self.detail = detail

    def to_body(self) -> dict[str, Any]:
        """The SCIM Error message; ``status`` is a string, as RFC 7644 §3.12 shows."""
        body: dict[str, Any] = {"schemas": [ERROR_SCHEMA], "status": str(self.status)}
        if self.scim_type:
            body["scimType"] = self.scim_type
        body["detail"] = _sendable(self.detail)
        return body

    def __repr__(self) -> str:
        return f"ScimError({self.status}, {self.detail!r}, scim_type={self.scim_type!r})"


def _sendable(detail: str) -> str:
    """``detail`` cut to :data:`MAX_DETAIL`, with any lone surrogate (from a name the client sent)
    written as its escape: JSON encoders refuse them."""
    if len(detail) > MAX_DETAIL:
        detail = detail[:MAX_DETAIL] + "..."
    if not detail.isascii():
        detail = detail.encode("utf-8", "backslashreplace").decode("utf-8")
    return detail


# 400 with a scimType (RFC 7644 Table 9)


def invalid_filter(detail: str) -> ScimError:
    """The filter syntax was invalid, or the operator/attribute combination is not supported."""
    return ScimError(400, detail, "invalidFilter")


def too_many(detail: str) -> ScimError:
    """The filter yields more results than the server is willing to return."""
    return ScimError(400, detail, "tooMany")


def invalid_syntax(detail: str) -> ScimError:
    """The request body message structure was invalid or did not conform to the schema."""
    return ScimError(400, detail, "invalidSyntax")


def invalid_value(detail: str) -> ScimError:
    """A required value was missing, or the value specified was not compatible."""
    return ScimError(400, detail, "invalidValue")


def invalid_path(detail: str) -> ScimError:
    """The ``path`` attribute was invalid or malformed."""
    return ScimError(400, detail, "invalidPath")


def no_target(detail: str) -> ScimError:
    """The specified ``path`` did not yield an attribute or value that could be operated on."""
    return ScimError(400, detail, "noTarget")


def mutability(detail: str) -> ScimError:
    """The attempted modification is not compatible with the target attribute's mutability."""
    return ScimError(400, detail, "mutability")


# Other statuses


def unauthorized(detail: str = "authorization failure") -> ScimError:
    return ScimError(401, detail)


def not_found(detail: str = "resource not found") -> ScimError:
    return ScimError(404, detail)


def uniqueness(detail: str) -> ScimError:
    """One or more unique attribute values are already in use (409, scimType uniqueness)."""
    return ScimError(409, detail, "uniqueness")


def conflict(detail: str) -> ScimError:
    return ScimError(409, detail)


def precondition_failed(detail: str = "resource version mismatch") -> ScimError:
    return ScimError(412, detail)


def request_timeout(detail: str = "the request did not arrive in time") -> ScimError:
    """The client took too long to send its request (408); the connection is closed after it."""
    return ScimError(408, detail)


def too_large(detail: str = "request payload too large") -> ScimError:
    return ScimError(413, detail)


def internal(detail: str = "internal server error") -> ScimError:
    return ScimError(500, detail)


def not_implemented(detail: str = "not implemented") -> ScimError:
    return ScimError(501, detail)
