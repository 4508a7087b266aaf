"""Property-based fuzzing of the HTTP surface, in process (the real app and lifespan on a real
SQLite file): bodies, query parameters, paths and PATCH operations generated from the HR
mapping's own ``/Schemas`` (tests/reliability/fuzz.py draws them from a hypothesis-controlled
random source), with hostile values. Every answer keeps the promise: no 5xx but 501/503, every
error a SCIM error body, nothing logged as an error.

Then issue #9's reproducers, each on SQLite, PostgreSQL and MariaDB: each answers the 4xx or 2xx
it should, never a 5xx.
"""

from __future__ import annotations

import logging
import random
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import given
from hypothesis import strategies as st

from mapper.pipeline import load
from mapper.runtime.database import bootstrap_sqlite
from mapper.scim.app import build_app
from mapper.scim.auth import parse_credentials
from mapper.scim.settings import Settings
from tests.reliability.fuzz import Generator, SchemaModel, Worker, body_bytes, fit_query, nested
from tests.reliability.support import (
    AUTH,
    CORE_GROUP,
    CORE_USER,
    ENTERPRISE,
    HR_MAP,
    PATCH_OP,
    TOKEN,
    is_scim_error,
    server_fault,
)
from tests.support.databases import HR, HrDatabase


class ErrorRecords(logging.Handler):
    """Every record at ERROR or above, from any logger."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class Surface:
    client: AppClient
    models: dict[str, SchemaModel]
    errors: ErrorRecords

    def check(self, response: httpx.Response) -> httpx.Response:
        fault = server_fault(response)
        assert fault is None, (
            f"{response.request.method} {response.request.url}: {fault}: {response.text[:300]}"
        )
        logged = [r.getMessage() for r in self.errors.records]
        self.errors.records.clear()
        assert logged == [], logged
        return response


class AppClient:
    """A synchronous client of the real app (lifespan included) on an event loop in a thread of
    its own, so hypothesis's synchronous tests can drive it; errors become responses, as a server
    would send them (no exception reaches the test)."""

    def __init__(self, portal: BlockingPortal, client: httpx.AsyncClient) -> None:
        self.portal = portal
        self.client = client

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self.portal.call(lambda: self.client.request(method, url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)


@contextmanager
def app_client(url: str, dialect: str) -> Iterator[AppClient]:
    settings = Settings(
        credentials=parse_credentials([f"tests:{TOKEN}"]), environ={"HR_DATABASE_URL": url}, autosync=False
    )
    app = build_app(load(str(HR_MAP), write=dialect), settings)

    @asynccontextmanager
    async def running() -> AsyncIterator[httpx.AsyncClient]:
        async with app.router.lifespan_context(app) as state:

            async def with_state(scope: Any, receive: Any, send: Any) -> None:
                scope["state"] = dict(state or {})
                await app(scope, receive, send)

            transport = httpx.ASGITransport(app=with_state, raise_app_exceptions=False)
            base = "http://scim.test/scim/v2"
            async with httpx.AsyncClient(transport=transport, base_url=base, headers=AUTH) as client:
                yield client

    with start_blocking_portal() as portal, portal.wrap_async_context_manager(running()) as client:
        yield AppClient(portal, client)


@pytest.fixture(scope="module")
def surface(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Surface]:
    path: Path = tmp_path_factory.mktemp("surface") / "hr.db"
    url = f"sqlite:///{path}"
    bootstrap_sqlite(url, [HR / "schema.sql", HR / "sample-data.sql"])
    errors = ErrorRecords()
    logging.getLogger().addHandler(errors)
    try:
        with app_client(url, "sqlite") as client:
            schemas = client.get("/Schemas").json()
            models = {
                "User": SchemaModel.from_schemas(schemas, CORE_USER, (ENTERPRISE,)),
                "Group": SchemaModel.from_schemas(schemas, CORE_GROUP, ()),
            }
            yield Surface(client, models, errors)
    finally:
        logging.getLogger().removeHandler(errors)


def generator(surface: Surface, rng: random.Random) -> Generator:
    return Generator(rng, surface.models, "h")


def send(surface: Surface, method: str, url: str, body: Any = None, **kwargs: Any) -> httpx.Response:
    if body is not None:
        kwargs["content"] = body_bytes(body)
        kwargs["headers"] = {"Content-Type": "application/scim+json"}
    return surface.check(surface.client.request(method, url, **kwargs))


types = st.sampled_from(["User", "Group"])
ENDPOINT = Worker.ENDPOINT
REQUIRED = Worker.REQUIRED


@given(types, st.randoms(use_true_random=False))
def test_created_resources(surface: Surface, type_: str, rng: random.Random) -> None:
    gen = generator(surface, rng)
    body = gen.resource(type_, REQUIRED[type_], ["1", "2", "3"])
    created = send(surface, "POST", ENDPOINT[type_], body)
    if created.status_code == 201:  # read it back, then leave the database as it was
        id_ = created.json()["id"]
        assert send(surface, "GET", f"{ENDPOINT[type_]}/{id_}").json() == created.json()
        assert send(surface, "DELETE", f"{ENDPOINT[type_]}/{id_}").status_code == 204


@given(types, st.randoms(use_true_random=False))
def test_patches(surface: Surface, type_: str, rng: random.Random) -> None:
    gen = generator(surface, rng)
    operations = [gen.operation(type_, ["1", "2"]) for _ in range(rng.randint(1, 3))]
    target = gen.id_or_hostile(["1", "2", "3"])
    send(surface, "PATCH", f"{ENDPOINT[type_]}/{target}", {"schemas": [PATCH_OP], "Operations": operations})


@given(types, st.randoms(use_true_random=False))
def test_replaces(surface: Surface, type_: str, rng: random.Random) -> None:
    gen = generator(surface, rng)
    body = gen.resource(type_, REQUIRED[type_], ["1", "2"])
    send(surface, "PUT", f"{ENDPOINT[type_]}/{gen.id_or_hostile(['5', '6'])}", body)


@given(types, st.randoms(use_true_random=False))
def test_lists_and_searches(surface: Surface, type_: str, rng: random.Random) -> None:
    gen = generator(surface, rng)
    params = gen.params(type_)
    send(surface, "GET", ENDPOINT[type_], params=fit_query(params))
    send(surface, "POST", f"{ENDPOINT[type_]}/.search", dict(params))


@given(types, st.randoms(use_true_random=False), st.sampled_from(["GET", "DELETE"]))
def test_reads_and_deletes_of_hostile_ids(
    surface: Surface, type_: str, rng: random.Random, method: str
) -> None:
    target = generator(surface, rng).id_or_hostile([])  # never an existing id: deletes find nothing
    assert send(surface, method, f"{ENDPOINT[type_]}/{target}").status_code in (400, 404)


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
        max_leaves=12,
    ),
    st.sampled_from(["/Users", "/Groups", "/Users/1", "/Groups/1", "/Users/.search", "/.search"]),
)
def test_any_json_body(surface: Surface, body: Any, path: str) -> None:
    method = "POST" if path in ("/Users", "/Groups") or path.endswith(".search") else "PATCH"
    response = send(surface, method, path, body)
    if response.status_code == 201:
        send(surface, "DELETE", f"{path}/{response.json()['id']}")


# ---------------------------------------------------------------------- issue 9's reproducers


@dataclass(frozen=True)
class Probe:
    name: str
    method: str
    path: str
    params: dict[str, str] | None = None
    body: Any = None
    statuses: tuple[int, ...] = (400,)


BIG = "18446744073709551616"
PROBES = [
    Probe("get id 2^64", "GET", f"/Users/{BIG}", statuses=(404,)),
    Probe("delete id 2^64", "DELETE", f"/Users/{BIG}", statuses=(404,)),
    Probe("filter id 2^64", "GET", "/Users", {"filter": f'id eq "{BIG}"'}, statuses=(200,)),
    Probe("id of 4301 digits", "GET", f"/Users/{'1' * 4301}", statuses=(404,)),
    Probe("filter id of 4301 digits", "GET", "/Users", {"filter": f'id eq "{"1" * 4301}"'}, statuses=(200,)),
    Probe("startIndex 2^63", "GET", "/Users", {"startIndex": "9223372036854775808"}, statuses=(200,)),
    Probe(
        "startIndex 2^64 with filter",
        "GET",
        "/Users",
        {"filter": "userName pr", "startIndex": BIG},
        statuses=(200,),
    ),
    Probe(
        "startIndex 2^64 with sort",
        "GET",
        "/Users",
        {"sortBy": "userName", "startIndex": BIG},
        statuses=(200,),
    ),
    Probe("count 2^64", "GET", "/Users", {"count": BIG}, statuses=(200,)),
    Probe("count -1", "GET", "/Users", {"count": "-1"}, statuses=(200,)),
    Probe(
        "PATCH value nested 1000 deep",
        "PATCH",
        "/Users/1",
        body={
            "schemas": [PATCH_OP],
            "Operations": [{"op": "replace", "path": "title", "value": nested(1000)}],
        },
    ),
    Probe("lone surrogate in filter", "GET", "/Users", {"filter": 'userName eq "\\ud800"'}),
    Probe("lone surrogate in dateTime filter", "GET", "/Users", {"filter": 'meta.created ge "\\ud800"'}),
    Probe("NUL in filter", "GET", "/Users", {"filter": 'userName eq "a\\u0000b"'}, statuses=(200, 400)),
    Probe("NUL in userName", "POST", "/Users", body={"userName": "x\u0000a"}),
    Probe("control character in userName", "POST", "/Users", body={"userName": "a\u0001b"}),
    Probe("control character in displayName of a group", "POST", "/Groups", body={"displayName": "g\u001fh"}),
    Probe(
        "userName of 2,700 characters", "POST", "/Users", body={"userName": "u" * 2700}, statuses=(201, 400)
    ),
    Probe(
        "invalid boolean",
        "PATCH",
        "/Users/1",
        body={"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": "maybe"}]},
    ),
]


@pytest.mark.parametrize("probe", PROBES, ids=[p.name for p in PROBES])
def test_issue_9_reproducers(probe: Probe, hr_database: HrDatabase) -> None:
    errors = ErrorRecords()
    logging.getLogger().addHandler(errors)
    try:
        with app_client(hr_database.url, hr_database.dialect) as client:
            content = body_bytes(probe.body) if probe.body is not None else None
            headers = {"Content-Type": "application/scim+json"} if content else {}
            response = client.request(
                probe.method, probe.path, params=probe.params, content=content, headers=headers
            )
    finally:
        logging.getLogger().removeHandler(errors)
    assert response.status_code in probe.statuses, response.text[:500]
    if response.status_code >= 400:
        assert is_scim_error(response)
        assert "maybe" not in response.json()["detail"]  # details never echo client values
    assert [r.getMessage() for r in errors.records] == []
