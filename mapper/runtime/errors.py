"""Errors the runtime raises on purpose. The SCIM front end maps each to one response:

| error | HTTP |
|---|---|
| :class:`NotFoundError` | 404 |
| :class:`UniquenessError` | 409 uniqueness |
| :class:`InvalidValueError`, :class:`MissingReferenceError` | 400 invalidValue |
| :class:`MutabilityError` | 400 mutability |
| :class:`PreconditionFailedError` | 412 |
| :class:`DatabaseUnavailableError` and its kinds (:class:`ContendedError`, ...) | 503 |

Each 503 carries ``Retry-After: retry_after``. The kinds: :class:`ContendedError`, :class:`LockedError`,
:class:`DatabaseConfigError`, :class:`NotReadyError`.

Messages name attributes, never their values (a value may be sensitive), and never hold URLs or
driver messages (they may hold secrets).
"""

from __future__ import annotations

from mapper.errors import MapperError


class StoreError(MapperError):
    """Base of the runtime's errors."""


class NotFoundError(StoreError):
    def __init__(self, resource_type: str = "resource", id: str | None = None) -> None:
        self.resource_type = resource_type
        self.id = id
        super().__init__(f"{resource_type} not found")  # the id is the client's: not echoed


class UniquenessError(StoreError):
    """A value already in use; ``attribute`` empty when the database did not say whose."""

    def __init__(self, attribute: str, detail: str = "is already in use") -> None:
        self.attribute = attribute
        super().__init__(f"{attribute} {detail}" if attribute else "a value is already in use")


class InvalidValueError(StoreError):
    def __init__(self, path: str, detail: str) -> None:
        self.path = path
        self.detail = detail
        super().__init__(f"{path}: {detail}" if path else detail)


class MutabilityError(StoreError):
    def __init__(self, path: str, detail: str | None = None) -> None:
        self.path = path
        super().__init__(detail or f"{path} cannot be modified")


class PreconditionFailedError(StoreError):
    def __init__(self, detail: str = "resource version mismatch") -> None:
        super().__init__(detail)


class DatabaseUnavailableError(StoreError):
    """The database could not be reached (or timed out). ``source`` is the source's name;
    ``reason`` says why in our words when the driver told (``connection refused``, ``timed
    out``, ``host not found``), for health output and logs."""

    def __init__(self, source: str, retry_after: int = 5, reason: str | None = None) -> None:
        self.source = source
        self.retry_after = retry_after
        self.reason = reason
        super().__init__(f"database {source} is unavailable")


class ContendedError(DatabaseUnavailableError):
    """A write without a client's If-Match that kept finding the object changed by others (other
    processes) until its time was up: 503, retry shortly; never a 412 the client did not ask for."""

    def __init__(self, source: str) -> None:
        super().__init__(source, retry_after=1)
        self.args = ("the resource kept changing under this request",)

    def __str__(self) -> str:
        return "the resource kept changing under this request"


class LockedError(DatabaseUnavailableError):
    """A write that waited out the lock bound for a row another transaction holds (another
    application's long transaction, a DBA's session): that write alone fails, 503 with a short
    Retry-After; nothing of it was kept, and the database is not down."""

    def __init__(self, source: str) -> None:
        super().__init__(source, retry_after=1)
        self.args = ("the resource is locked by another transaction",)

    def __str__(self) -> str:
        return "the resource is locked by another transaction"


class DatabaseConfigError(DatabaseUnavailableError):
    """The database refuses the source as configured, and will until someone changes the
    configuration: it does not exist, the credentials are refused, the SQLite file is missing.
    At start this stops the gateway (``mapper serve`` exits); later it answers 503 like any outage.
    ``reason`` is ours (``authentication failed``); ``detail`` is the driver's own line (it names
    the user or the database, never a password), for the operator's console, not for clients."""

    def __init__(self, source: str, reason: str, detail: str = "") -> None:
        super().__init__(source, reason=reason)
        self.detail = detail
        StoreError.__init__(self, f"database {source}: {reason}")


class SqlRefusedError(DatabaseConfigError):
    """The database refuses the mapping's own SQL, which ran before: the schema changed under
    the gateway (a mapped column or table renamed or dropped), a privilege was revoked, the
    server is read-only. 503 like any :class:`DatabaseConfigError`, until schema and mapping agree."""


class NotReadyError(DatabaseUnavailableError):
    """A request arrived before the first import finished: the cache cannot answer yet (an empty
    cache would say "no such user" and make clients create duplicates)."""

    def __init__(self, source: str, why: str = "the first import has not finished") -> None:
        super().__init__(source)
        StoreError.__init__(self, f"the gateway is starting: {why}")


class SourceUrlError(StoreError):
    """A source has no URL: its environment variable is unset and it has no default."""

    def __init__(self, source: str, variable: str | None) -> None:
        self.source = source
        hint = f": set {variable}" if variable else ""
        super().__init__(f"source {source} has no database URL{hint}")


class SyncError(StoreError):
    """An import or delta query failed for a reason other than an outage (a missing table or
    column, a syntax error): the mapping and the schema disagree. ``detail`` is the driver's first
    line (an import statement binds no values, so it quotes none)."""

    def __init__(self, object_type: str, detail: str) -> None:
        self.object_type = object_type
        self.detail = detail
        super().__init__(f"{object_type}: the database rejected the import query: {detail}")


class StillReferencedError(StoreError):
    """A hard delete the database refused because rows of another table still point at the object
    (a foreign key with no ``ON DELETE`` action: ``mapper lint --db`` reports it as MAP310). The
    request is fine and nothing was deleted: a conflict with the database's state (409)."""

    def __init__(self, object_type: str) -> None:
        self.object_type = object_type
        super().__init__(
            f"the database refuses to delete this {object_type}: rows of another table still point at"
            " it (a foreign key without ON DELETE CASCADE); nothing was deleted"
        )


class MissingReferenceError(StoreError):
    """A reference (a group member, a manager) names an object that does not exist."""

    def __init__(self, path: str, value: object) -> None:
        self.path = path
        self.value = value  # the id as sent, or None when the database found the dangling reference
        if not path:  # the database did not say which of the values it was
            super().__init__("a value refers to a row the database does not hold")
        elif _nameable(value):  # an id is an identifier, not a secret: naming it tells which one
            super().__init__(f"{path}: no resource has the id '{value}'")
        else:
            super().__init__(f"{path}: references a resource that does not exist")


def _nameable(value: object) -> bool:
    """Whether an id may be quoted in an error: short, printable, without quotes or backslashes
    (anything else is not echoed, like every other client value)."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= 128
        and value.isprintable()
        and not any(c in value for c in "'\\\"")
    )
