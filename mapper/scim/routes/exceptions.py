"""Errors become SCIM responses here, in one place (RFC 7644 §3.12): the app's exception handlers.

| raised | response |
|---|---|
| :class:`~mapper.scim.errors.ScimError` | its status and scimType |
| runtime ``NotFoundError`` | 404 |
| runtime ``UniquenessError`` | 409 uniqueness |
| runtime ``InvalidValueError``, ``MissingReferenceError`` | 400 invalidValue |
| runtime ``MutabilityError`` | 400 mutability |
| runtime ``StillReferencedError`` (a delete a foreign key refuses) | 409 |
| runtime ``PreconditionFailedError`` | 412 |
| runtime ``DatabaseUnavailableError`` | 503 with ``Retry-After`` |
| Starlette ``HTTPException`` (no route: 404, wrong method: 405) | the same status |
| Starlette ``ClientDisconnect`` (the client left mid-body) | 499, sent to no one: for the audit log |
| anything else | 500, logged with its traceback: a 500 is always a bug |
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from mapper.runtime.errors import (
    DatabaseUnavailableError,
    InvalidValueError,
    MissingReferenceError,
    MutabilityError,
    NotFoundError,
    PreconditionFailedError,
    StillReferencedError,
    UniquenessError,
)
from mapper.scim import errors
from mapper.scim.errors import ScimError
from mapper.scim.responses import error_response

log = logging.getLogger("mapper.scim")


async def scim_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ScimError)
    if exc.status == 408:  # the rest of the body may still come: never read it as a request
        return error_response(exc, headers={"Connection": "close"})
    return error_response(exc)


#: nginx's status for a request the client abandoned; no client ever receives it
CLIENT_CLOSED_REQUEST = 499


async def client_disconnected(request: Request, exc: Exception) -> Response:
    """The client went away before its body arrived: nothing to answer, and no bug either."""
    log.info(
        "%s %s: the client disconnected before sending its whole request", request.method, request.url.path
    )
    return Response(status_code=CLIENT_CLOSED_REQUEST)


async def not_found(request: Request, exc: Exception) -> Response:
    return error_response(errors.not_found(str(exc)))


async def uniqueness(request: Request, exc: Exception) -> Response:
    return error_response(errors.uniqueness(str(exc)))


async def invalid_value(request: Request, exc: Exception) -> Response:
    return error_response(errors.invalid_value(str(exc)))


async def mutability(request: Request, exc: Exception) -> Response:
    return error_response(errors.mutability(str(exc)))


async def still_referenced(request: Request, exc: Exception) -> Response:
    return error_response(errors.conflict(str(exc)))


async def precondition_failed(request: Request, exc: Exception) -> Response:
    return error_response(errors.precondition_failed(str(exc)))


async def unavailable(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DatabaseUnavailableError)
    log.warning("%s %s: %s", request.method, request.url.path, exc)
    error = ScimError(503, f"{exc}; retry later")
    return error_response(error, headers={"Retry-After": str(exc.retry_after)})


async def http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    detail = exc.detail
    if exc.status_code == 404:
        detail = f"no SCIM endpoint at {request.url.path}"
    elif exc.status_code == 405:
        detail = f"{request.method} is not supported on {request.url.path}"
    return error_response(ScimError(exc.status_code, detail), headers=exc.headers)


async def last_resort(request: Request, exc: Exception) -> Response:
    log.error("unhandled error in %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(errors.internal("internal server error; the gateway log has the details"))


def exception_handlers() -> dict[Any, Any]:
    """The mapping for ``Starlette(exception_handlers=...)``."""
    return {
        ScimError: scim_error,
        NotFoundError: not_found,
        UniquenessError: uniqueness,
        InvalidValueError: invalid_value,
        MissingReferenceError: invalid_value,
        MutabilityError: mutability,
        StillReferencedError: still_referenced,
        PreconditionFailedError: precondition_failed,
        DatabaseUnavailableError: unavailable,
        HTTPException: http_exception,
        ClientDisconnect: client_disconnected,
        Exception: last_resort,
    }
