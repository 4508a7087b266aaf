"""Shared pieces of the reliability suite (this module holds no tests).

- :class:`ServedGateway` and :func:`free_port` (re-exported from :mod:`tests.support.served`, the
  one helper that starts a real ``mapper serve`` process);
- :func:`is_scim_error` / :func:`server_fault`: what every answer must look like;
- :func:`table_count` / :func:`table_rows`: the database as it is, read directly.

Every process and port is the OS's to choose and is cleaned up by the fixtures that use these.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from mapper.runtime.database import engine_url
from tests.support.served import (
    AUTH,
    HR,
    HR_MAP,
    ROOT,
    SAMPLE_USERS,
    TOKEN,
    ServedGateway,
    dialect_of,
    free_port,
    sqlite_url,
)

__all__ = [
    "AUTH",
    "HR",
    "HR_MAP",
    "ROOT",
    "SAMPLE_USERS",
    "TOKEN",
    "ServedGateway",
    "dialect_of",
    "free_port",
    "sqlite_url",
]

ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
#: statuses a server fault may legitimately answer: not implemented, and unavailable (retry later)
ALLOWED_5XX = frozenset({501, 503})
#: what a traceback or an unhandled error leaves in the gateway's log
TRACEBACK = re.compile(r"Traceback \(most recent call last\)| ERROR |Exception in ASGI application")


def is_scim_error(response: httpx.Response) -> bool:
    """Whether ``response`` carries a well-formed SCIM Error message (RFC 7644 §3.12)."""
    if not response.headers.get("content-type", "").startswith("application/scim+json"):
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    return (
        isinstance(body, dict)
        and body.get("schemas") == [ERROR_SCHEMA]
        and body.get("status") == str(response.status_code)
        and isinstance(body.get("detail"), str)
        and bool(body["detail"])
        and (body.get("scimType") is None or isinstance(body["scimType"], str))
    )


def server_fault(response: httpx.Response) -> str | None:
    """Why ``response`` breaks the gateway's promise (a 5xx other than 501/503, an error without a
    SCIM error body, a 503 without Retry-After), or None when it keeps it."""
    status = response.status_code
    if status >= 500 and status not in ALLOWED_5XX:
        return f"status {status}"
    if status == 503 and not response.headers.get("retry-after", "").isdigit():
        return "503 without Retry-After"
    if status >= 400 and not is_scim_error(response):
        return f"status {status} without a SCIM error body"
    return None


def tracebacks(log: str) -> list[str]:
    """The log lines that show a traceback or an unhandled error."""
    return [line for line in log.splitlines() if TRACEBACK.search(line)]


def _engine(url: str) -> Any:
    return create_engine(engine_url(url))


def table_count(url: str, table: str) -> int:
    engine = _engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())
    finally:
        engine.dispose()


def table_rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    engine = _engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql))]
    finally:
        engine.dispose()
