"""What the SCIM app tests share (``tests/scim/test_app_*``).

:func:`scim_client` serves the HR example from a real database (the ``hr_*`` fixtures of
``tests/conftest.py``) through the real app, lifespan included, and yields an
``httpx.AsyncClient`` whose base URL is the SCIM root and which sends a valid bearer token.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from mapper.pipeline import load
from mapper.scim.app import build_app
from mapper.scim.auth import parse_credentials
from mapper.scim.settings import Settings
from tests.support.databases import EVERY_DATABASE, HrDatabase, scratch_for

HR_MAP = Path(__file__).resolve().parents[2] / "examples" / "hr" / "hr.map"
ECMA_MAP = Path(__file__).resolve().parents[2] / "examples" / "ecma" / "ecma.map"
TOKEN = "test-token-0123456789"
BASE = "http://scim.test/scim/v2"
CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"


def settings_for(db: Any, **overrides: Any) -> Settings:
    base: dict[str, Any] = {
        "credentials": parse_credentials([f"tests:{TOKEN}"]),
        "environ": {"HR_DATABASE_URL": db.url},
        "autosync": False,
    }
    return Settings(**{**base, **overrides})


@asynccontextmanager
async def scim_client(
    db: Any,
    *,
    raise_app_exceptions: bool = True,
    mapping: Path = HR_MAP,
    cached_reads: bool = True,
    direct_routes: bool = True,
    **overrides: Any,
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app serving ``mapping`` (the HR example) from ``db`` (an ``HrDatabase``);
    ``cached_reads=False`` builds the app without its read fast path, ``direct_routes=False``
    without the front door's direct calls of the resource routes."""
    settings = settings_for(db, **overrides)
    plan = load(str(mapping), write=db.dialect)
    app = build_app(plan, settings, cached_reads=cached_reads, direct_routes=direct_routes)
    async with app.router.lifespan_context(app) as state:

        async def with_state(scope: Any, receive: Any, send: Any) -> None:
            scope["state"] = dict(state or {})  # what a server does with the lifespan's state
            await app(scope, receive, send)

        transport = httpx.ASGITransport(app=with_state, raise_app_exceptions=raise_app_exceptions)
        root = BASE.removesuffix("/scim/v2") + settings.base_path
        async with httpx.AsyncClient(
            transport=transport, base_url=root, headers={"Authorization": f"Bearer {TOKEN}"}
        ) as client:
            client.app = app  # type: ignore[attr-defined]
            client.state = state  # type: ignore[attr-defined]
            yield client


def ecma_client(db: Any, **overrides: Any) -> AbstractAsyncContextManager[httpx.AsyncClient]:
    """:func:`scim_client` serving the ECMA example's ``ecma.map`` from ``db``."""
    return scim_client(db, mapping=ECMA_MAP, environ={"ECMA_DATABASE_URL": db.url}, **overrides)


def new_user(user_name: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "schemas": [CORE_USER],
        "userName": user_name,
        "name": {"givenName": "Test", "familyName": "User"},
        "emails": [{"type": "work", "value": f"{user_name}@example.com", "primary": True}],
        "active": True,
    }
    body.update(extra)
    return body


def patch_body(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


@asynccontextmanager
async def mapping_client(db: Any, tmp_path: Path, mapping: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app serving the mapping text ``mapping`` (its ``DIALECT`` replaced by
    ``db``'s) from ``db``, with the app's errors answered as the server answers them."""
    file = tmp_path / "t.map"
    file.write_text(mapping.replace("DIALECT", db.dialect), encoding="utf-8")
    async with scim_client(db, mapping=file, raise_app_exceptions=False) as client:
        yield client


def app_fixtures(
    schema: Callable[[str], str], mapping: str, databases: Sequence[Any] = EVERY_DATABASE
) -> tuple[Any, Any]:
    """The ``db`` and ``client`` fixtures of an app test module that serves its own mapping from
    its own schema, as the module takes them: ``db, client = app_fixtures(SCHEMA_FOR, MAPPING)``.
    ``db`` is a scratch database of each of ``databases`` (names, or ``pytest.param``s of them)
    made by the script ``schema(name)``; ``client`` a client of the app serving ``mapping`` from it."""

    @pytest.fixture(params=databases)
    def db(request: pytest.FixtureRequest, tmp_path: Path) -> HrDatabase:
        return scratch_for(request, tmp_path, schema(request.param))

    @pytest.fixture
    async def client(db: HrDatabase, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
        async with mapping_client(db, tmp_path, mapping) as c:
            yield c

    return db, client
