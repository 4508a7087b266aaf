"""The read fast path (:mod:`mapper.scim.routes.reads`) answers exactly as the router would: the same
requests sent to the app with and without it get the same status, headers and bytes, for the hot
forms (``GET /Users/{id}``, ``GET /Users?filter=userName eq "..."``) and for the odd ones it leaves
to the router (unknown ids, encodings, conditional requests, projections, other filters, HEAD)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote

import httpx
import pytest

from mapper.scim.routes.reads import only_filter
from tests.support.databases import HrDatabase, ecma_database
from tests.support.scim import TOKEN, ecma_client, scim_client

pytestmark = pytest.mark.anyio

ADA_VERSION = "{ada_version}"  # replaced by Ada's current ETag in the requests below


def q(filter_: str, **params: str) -> str:
    """A ``/Users`` query string with ``filter`` percent-encoded as clients send it."""
    rest = "".join(f"&{k}={quote(v, safe='')}" for k, v in params.items())
    return f"?filter={quote(filter_, safe='')}{rest}"


HR_REQUESTS: list[tuple[str, str, dict[str, str]]] = [
    # by id: hot, then everything around it
    ("GET", "/Users/1", {}),
    ("GET", "/Users/2", {}),
    ("GET", "/Users/10", {}),  # inactive
    ("GET", "/Groups/1", {}),  # members decorated with $ref, type, display
    ("GET", "/Groups/2", {}),
    ("GET", "/users/1", {}),  # normalised path
    ("GET", "/Users/1/", {}),
    ("GET", "/USERS/3", {}),
    ("GET", "/Users/%31", {}),  # percent-encoded "1"
    ("GET", "/Users/999999", {}),  # unknown: read through, 404
    ("GET", "/Users/abc", {}),
    ("GET", "/Users/01", {}),
    ("GET", "/Users/-1", {}),
    ("GET", "/Users/1%2F2", {}),
    ("GET", "/Users/.search", {}),
    ("GET", "/Users/1?attributes=userName", {}),
    ("GET", "/Users/1?excludedAttributes=emails,name", {}),
    ("GET", "/Users/1?unknown=1", {}),
    ("GET", "/Users/1?", {}),
    ("GET", "/Users/1", {"If-None-Match": ADA_VERSION}),
    ("GET", "/Users/1", {"If-None-Match": 'W/"0000000000000000"'}),
    ("GET", "/Users/1", {"If-None-Match": "*"}),
    ("HEAD", "/Users/1", {}),
    ("HEAD", "/Users/999999", {}),
    ("GET", "/Users/1", {"Authorization": "Bearer wrong"}),
    ("GET", "/Users/1", {"Authorization": ""}),
    # filters: hot, then everything around it
    ("GET", "/Users" + q('userName eq "ada.lovelace"'), {}),
    ("GET", "/Users" + q('userName eq "ADA.LOVELACE"'), {}),  # userName is not caseExact
    ("GET", "/Users" + q('USERNAME EQ "grace.hopper"'), {}),  # attribute names in any case
    ("GET", "/Users" + q(' userName  eq "alan.turing" '), {}),
    ("GET", "/Users?filter=userName+eq+%22ada.lovelace%22", {}),  # '+' for spaces
    ("GET", '/Users?filter=userName eq "ada.lovelace"', {}),  # sent unencoded
    ("GET", "/Users?Filter=" + quote('userName eq "ada.lovelace"'), {}),
    ("GET", "/Users?FILTER=" + quote('userName eq "ada.lovelace"'), {}),
    ("GET", "/Users?%66ilter=" + quote('userName eq "ada.lovelace"'), {}),  # an encoded name
    ("GET", "/Users?filter+=" + quote('userName eq "ada.lovelace"'), {}),
    ("GET", "/Users" + q('userName eq "ada.lovelace"') + "&", {}),
    ("GET", "/Users?filter=userName%20eq%20%22ada%2Elovelace%22", {}),
    ("GET", "/Users?filter=userName%20eq%20%22ada+lovelace%22", {}),
    ("GET", "/Users?filter=userName%20eq%20%22ada.lovelace%22=", {}),
    ("GET", "/Users?filter", {}),
    ("GET", "/Users?filters=" + quote('userName eq "ada.lovelace"'), {}),
    ("GET", "/Users" + q('userName eq "adà.lovelace"'), {}),
    ("GET", "/Users" + q('userName eq "nobody"'), {}),  # not cached: read through, empty list
    ("GET", "/Users" + q('userName eq ""'), {}),
    ("GET", "/Users" + q('id eq "1"'), {}),
    ("GET", "/Users" + q('id eq "999999"'), {}),
    ("GET", "/Users" + q('externalId eq "hr-1001"'), {}),  # eq on another attribute
    ("GET", "/Users" + q('displayName eq "Ada Lovelace"'), {}),
    ("GET", "/Users" + q('name.givenName eq "Ada"'), {}),
    ("GET", "/Users" + q('emails.value eq "ada.lovelace@example.com"'), {}),
    ("GET", "/Users" + q('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "ada.lovelace"'), {}),
    ("GET", "/Users" + q('userName ne "ada.lovelace"'), {}),
    ("GET", "/Users" + q('userName eq "ada.lovelace" and active eq true'), {}),
    ("GET", "/Users" + q('userName eq "ada\\"lovelace"'), {}),
    ("GET", "/Users" + q('userName.value eq "ada.lovelace"'), {}),
    ("GET", "/Users" + q('nosuch eq "x"'), {}),
    ("GET", "/Users" + q('userName eq "ada.lovelace"', count="0"), {}),
    ("GET", "/Users" + q('userName eq "ada.lovelace"', startIndex="2"), {}),
    ("GET", "/Users" + q('userName eq "ada.lovelace"', attributes="userName"), {}),
    ("GET", "/Users" + q('userName eq "ada.lovelace"') + "&filter=" + quote('userName eq "alan.turing"'), {}),
    ("GET", "/Users" + q("userName eq"), {}),  # invalid filter
    ("GET", "/Users" + q('userName eq "unterminated'), {}),
    ("GET", "/Users?filter=", {}),
    ("GET", "/Users?filter=%ZZ", {}),
    ("GET", "/Users", {}),
    ("GET", "/Groups" + q('displayName eq "Engineering"'), {}),
    ("GET", "/Groups" + q('displayName eq "engineering"'), {}),
    ("HEAD", "/Users" + q('userName eq "ada.lovelace"'), {}),
    ("GET", "/Users" + q('userName eq "ada.lovelace"'), {"Authorization": "Bearer wrong"}),
    # not resources at all
    ("GET", "/ServiceProviderConfig", {}),
    ("GET", "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", {}),
    ("GET", "/Printers/1", {}),
]


@pytest.fixture
async def clients(hr_sqlite: Any) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """(with the fast path, without it), both serving the same database."""
    async with scim_client(hr_sqlite) as fast, scim_client(hr_sqlite, cached_reads=False) as routed:
        yield fast, routed


async def send(client: httpx.AsyncClient, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
    return await client.request(method, path, headers=headers)


def as_sent(response: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    return response.status_code, sorted(response.headers.multi_items()), response.content


@pytest.mark.parametrize(
    ("method", "path", "headers"), HR_REQUESTS, ids=[f"{m} {p} {h}" for m, p, h in HR_REQUESTS]
)
async def test_the_fast_path_answers_as_the_router(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient], method: str, path: str, headers: dict[str, str]
) -> None:
    fast, routed = clients
    version = (await routed.get("/Users/1")).headers["etag"]
    headers = {k: v.replace(ADA_VERSION, version) for k, v in headers.items()}
    expected = as_sent(await send(routed, method, path, headers))
    assert as_sent(await send(fast, method, path, headers)) == expected
    assert as_sent(await send(fast, method, path, headers)) == expected  # and again, now cached


async def test_the_hot_reads_do_not_reach_the_handlers(hr_sqlite: Any) -> None:
    """With the store methods the handlers call broken, the hot forms still answer: the fast path
    took them. The odd forms still reach the handlers."""
    async with scim_client(hr_sqlite, raise_app_exceptions=False) as client:
        store = client.state["gateway"].stores["User"]  # type: ignore[attr-defined]

        async def broken(*args: Any, **kwargs: Any) -> None:
            raise RuntimeError("the handlers were called")

        store.get = broken
        store.find_all_by_query = broken
        assert (await client.get("/Users/1")).json()["userName"] == "ada.lovelace"
        found = await client.get("/Users" + q('userName eq "Grace.Hopper"'))
        assert [r["id"] for r in found.json()["Resources"]] == ["2"]
        assert (await client.get("/Users" + q('id eq "3"'))).json()["totalResults"] == 1
        assert (await client.get("/Users/1?attributes=userName")).status_code == 500
        assert (await client.get("/Users" + q('userName eq "nobody"'))).status_code == 500


async def test_objects_not_yet_cached_are_read_through(hr_sqlite: HrDatabase) -> None:
    """A user written to the database after the import is not in the cache: the fast path leaves
    the request to the handlers, which read it through (a false "not found" makes duplicates)."""
    async with scim_client(hr_sqlite) as client:
        hr_sqlite.execute(
            "INSERT INTO employees (employee_id, login, given_name, family_name, active) "
            "VALUES (500, 'new.hire', 'New', 'Hire', 1)"
        )
        by_id = await client.get("/Users/500")
        assert by_id.status_code == 200
        assert by_id.json()["userName"] == "new.hire"
        hr_sqlite.execute(
            "INSERT INTO employees (employee_id, login, given_name, family_name, active) "
            "VALUES (501, 'other.hire', 'Other', 'Hire', 1)"
        )
        by_name = await client.get("/Users" + q('userName eq "other.hire"'))
        assert [r["id"] for r in by_name.json()["Resources"]] == ["501"]


async def test_the_fast_path_still_needs_a_token(hr_sqlite: Any) -> None:
    async with scim_client(hr_sqlite) as client:
        for path in ("/Users/1", "/Users" + q('userName eq "ada.lovelace"')):
            response = await client.get(path, headers={"Authorization": f"Bearer {TOKEN}x"})
            assert response.status_code == 401
            assert response.headers["www-authenticate"] == 'Bearer realm="SCIM"'


@pytest.fixture
def ecma_sqlite(tmp_path: Path) -> HrDatabase:
    return ecma_database(tmp_path)


DN_REQUESTS = [
    "/Users/" + quote("CN=1,OBJECT=USER", safe=""),
    "/Users/CN=1,OBJECT=USER",
    "/Users/" + quote(quote("CN=1,OBJECT=USER", safe=""), safe=""),  # encoded twice, as Entra does
    "/Users/cn=1,object=user",
    "/Users/1",  # an anchor is not an id here
    "/Users/" + quote("CN=1,OBJECT=GROUP", safe=""),
    "/Groups/" + quote("CN=1,OBJECT=GROUP", safe=""),  # members are DNs too
    "/Users" + q('id eq "CN=2,OBJECT=USER"'),
    "/Users" + q('id eq "2"'),
    "/Users" + q('userName eq "adele.vance"'),
    "/Users" + q('displayName eq "Adele Vance"'),
]


@pytest.mark.parametrize("path", DN_REQUESTS)
async def test_dn_ids_answer_as_the_router(ecma_sqlite: HrDatabase, path: str) -> None:
    async with ecma_client(ecma_sqlite) as fast, ecma_client(ecma_sqlite, cached_reads=False) as routed:
        expected = as_sent(await routed.get(path))
        assert as_sent(await fast.get(path)) == expected
        assert as_sent(await fast.get(path)) == expected


@pytest.mark.parametrize(
    "raw",
    [
        b"filter=userName%20eq%20%22ada%22",
        b"filter=userName+eq+%22a%2Bb%22",
        b"FiLtEr=x",
        b"%66ilter=x",
        b"filter",
        b"filter=",
        b"filter=a=b",
        b"filter=x&",
        b"&filter=x",
        b"filter=x&filter=y",
        b"filter=%C3%A9%FF%ZZ",
        b'filter=userName eq "ad\xc3\xa9"',  # raw bytes past ASCII: read as Latin-1, as Starlette does
        b"filter=\xff",
        b"filters=x",
        b"",
        b"filter=%2520%2522",  # an escaped percent sign before 20 and 22
        b"filter=%%2020%22",
        b"filter=%2%220",
        b"filter=a%20%2b%20b%2F",
        b"filter=%20%22%",
    ],
)
def test_the_filter_parameter_is_read_as_starlette_reads_it(raw: bytes) -> None:
    params = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    expected = params[0][1] if len(params) == 1 and params[0][0].casefold() == "filter" else None
    assert only_filter(raw) == expected


#: One shape after another on the same app: what the fast path remembers of a shape
#: (:class:`~mapper.scim.routes.reads.KeyShapes`) never answers for a value the parse refuses.
SAME_SHAPES = [
    'userName eq "ada.lovelace"',
    'userName eq "grace.hopper"',
    'userName eq "nobody"',
    'userName eq "a\x00b"',  # a NUL: refused by the parse
    'userName eq "a\\u0000b"',  # the same, escaped
    'userName eq "' + "x" * 8190 + '"',  # past the filter's length limit, a user all the same
    'userName eq ""',
    'id eq "1"',
    'id eq "2"',
    'id eq "abc"',
    'displayName eq "Ada Lovelace"',
    'displayName eq "Grace Hopper"',
    'USERNAME EQ "alan.turing"',
    'userName eq "ada.lovelace"',
]


async def test_filter_shapes_seen_before_answer_as_the_router(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    fast, routed = clients
    created = await fast.post(  # in the fast app's cache
        "/Users", json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "x" * 8190}
    )
    assert created.status_code == 201
    for text in [*SAME_SHAPES, *SAME_SHAPES]:
        path = "/Users" + q(text)
        assert as_sent(await fast.get(path)) == as_sent(await routed.get(path)), text
