"""Every failure is a SCIM error body: bad requests, authentication, unknown routes and methods,
oversized bodies, an unavailable database, and a bug (the last-resort 500)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from mapper.runtime.errors import DatabaseUnavailableError
from tests.support.scim import ERROR, TOKEN, new_user, scim_client

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client(hr_sqlite: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with scim_client(hr_sqlite, max_body_bytes=4096) as c:
        yield c


def assert_error(response: httpx.Response, status: int, scim_type: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/scim+json"
    body = response.json()
    assert body["schemas"] == [ERROR]
    assert body["status"] == str(status)
    assert body["detail"]
    assert body.get("scimType") == scim_type
    return body


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "non-token",
        "Bearer",
        "Bearer wrong-token",
        f"Basic {TOKEN}",
        f"Bearer {TOKEN}x",
        f"Bearer {TOKEN[:-1]}",
    ],
)
async def test_401_without_a_valid_bearer_token(client: httpx.AsyncClient, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    client.headers.pop("Authorization")
    response = await client.get("/Users", headers=headers)
    assert_error(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert TOKEN not in response.text


async def test_401_also_on_unknown_routes_and_writes(client: httpx.AsyncClient) -> None:
    client.headers.pop("Authorization")
    assert_error(await client.get("/Nothing"), 401)
    assert_error(await client.post("/Users", json=new_user("x")), 401)
    assert_error(await client.get("/ServiceProviderConfig"), 401)


async def test_bearer_scheme_is_case_insensitive(client: httpx.AsyncClient) -> None:
    response = await client.get("/Users/1", headers={"Authorization": f"bearer {TOKEN}"})
    assert response.status_code == 200


async def test_health_needs_no_token_and_reveals_no_data(client: httpx.AsyncClient) -> None:
    client.headers.pop("Authorization")
    live = await client.get("http://scim.test/healthz")
    assert live.status_code == 200 and live.json() == {"status": "ok"}
    ready = await client.get("http://scim.test/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["ready"] is True
    assert body["objects"] == {"User": 20, "Group": 4}
    assert body["lastSync"]
    assert "lovelace" not in ready.text.lower()


async def test_unknown_route_is_a_scim_404(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/Printers"), 404)
    assert_error(await client.get("http://scim.test/elsewhere"), 404)


async def test_wrong_method_is_a_scim_405(client: httpx.AsyncClient) -> None:
    response = await client.delete("/Users")
    assert_error(response, 405)
    assert "GET" in response.headers["allow"]
    assert_error(await client.post("/Users/1", json={}), 405)
    assert_error(await client.put("/ServiceProviderConfig", json={}), 405)


async def test_invalid_json_is_400_invalid_syntax(client: httpx.AsyncClient) -> None:
    bad = await client.post(
        "/Users", content=b'{ "acve": tre, }', headers={"Content-Type": "application/scim+json"}
    )
    assert_error(bad, 400, "invalidSyntax")
    assert_error(await client.post("/Users", content=b"[1, 2]"), 400, "invalidSyntax")
    assert_error(await client.post("/Users", content=b""), 400, "invalidSyntax")
    assert_error(await client.patch("/Users/1", content=b"nope"), 400, "invalidSyntax")


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/scim+json; charset=utf-8", "text/plain", None]
)
async def test_json_bodies_are_read_whatever_the_content_type(
    client: httpx.AsyncClient, content_type: str | None
) -> None:
    import orjson

    headers = {"Content-Type": content_type} if content_type else {}
    name = f"ct.{(content_type or 'none').split(';')[0].replace('/', '.')}"
    response = await client.post("/Users", content=orjson.dumps(new_user(name)), headers=headers)
    assert response.status_code == 201, response.text
    assert response.headers["content-type"] == "application/scim+json"


async def test_accept_header_is_honoured_loosely(client: httpx.AsyncClient) -> None:
    for accept in ("application/json", "application/scim+json", "*/*", "text/html"):
        response = await client.get("/Users/1", headers={"Accept": accept})
        assert response.status_code == 200


async def test_413_when_content_length_is_too_large(client: httpx.AsyncClient) -> None:
    big = new_user("big", title="x" * 5000)
    assert_error(await client.post("/Users", json=big), 413)
    assert_error(await client.put("/Users/1", json=big), 413)


async def test_413_when_a_streamed_body_grows_too_large(client: httpx.AsyncClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"userName": "streamed", "title": "'
        for _ in range(10):
            yield b"x" * 1000
        yield b'"}'

    async def stream() -> AsyncIterator[bytes]:
        for chunk in chunks():
            yield chunk

    response = await client.post("/Users", content=stream())
    assert "content-length" not in response.request.headers
    assert_error(response, 413)


async def test_503_with_retry_after_when_the_database_is_down(tmp_path: Any) -> None:
    class Down:  # nothing listens on port 1: connection refused, an outage (a missing SQLite file
        dialect = "postgres"  # would be a configuration error, which fails the start)
        url = "postgresql://nobody@127.0.0.1:1/none"

    async with scim_client(Down()) as client:
        response = await client.get("/Users")
        assert_error(response, 503)
        assert int(response.headers["retry-after"]) > 0
        assert_error(await client.get("/Users/1"), 503)
        assert "connection refused" in response.json()["detail"]
        ready = await client.get("http://scim.test/readyz")
        assert ready.status_code == 503 and ready.json()["ready"] is False
        reason = ready.json()["reason"]
        assert reason.startswith("waiting for the first import: database hr: connection refused")
        assert (await client.get("http://scim.test/healthz")).status_code == 200


async def test_database_failure_during_a_request_is_503(client: httpx.AsyncClient) -> None:
    store = client.state["gateway"].stores["User"]  # type: ignore[attr-defined]

    async def unavailable(*args: Any, **kwargs: Any) -> None:
        raise DatabaseUnavailableError("hr", retry_after=7)

    store.create = unavailable
    response = await client.post("/Users", json=new_user("later"))
    assert_error(response, 503)
    assert response.headers["retry-after"] == "7"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/Users/1?attributes=userName"),  # the handlers (a query string: not the fast path)
        ("cached", "/Users/1"),  # the cached-read fast path in front of the router
        ("cached_by_query", '/Users?filter=userName eq "ada.lovelace"'),
    ],
)
async def test_a_bug_is_a_scim_500_and_is_logged(
    hr_sqlite: Any, caplog: pytest.LogCaptureFixture, method: str, path: str
) -> None:
    async with scim_client(hr_sqlite, raise_app_exceptions=False) as client:
        store = client.state["gateway"].stores["User"]  # type: ignore[attr-defined]

        def broken(*args: Any, **kwargs: Any) -> None:
            raise RuntimeError("a bug")

        async def broken_async(*args: Any, **kwargs: Any) -> None:
            broken()

        setattr(store, method, broken_async if method == "get" else broken)
        with caplog.at_level("ERROR", logger="mapper.scim"):
            response = await client.get(path)
        body = assert_error(response, 500)
        assert "a bug" not in body["detail"]
        assert any("RuntimeError" in (r.exc_text or "") or r.exc_info for r in caplog.records)


async def test_insecure_mode_warns_at_start_and_needs_no_token(
    hr_sqlite: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING", logger="mapper.scim"):
        async with scim_client(hr_sqlite, credentials=(), insecure_no_auth=True) as client:
            client.headers.pop("Authorization")
            assert (await client.get("/Users/1")).status_code == 200
    assert "AUTHENTICATION IS DISABLED" in caplog.text


async def test_no_credentials_and_not_insecure_rejects_everything(hr_sqlite: Any) -> None:
    async with scim_client(hr_sqlite, credentials=()) as client:
        assert_error(await client.get("/Users/1"), 401)


async def test_me_and_bulk_are_501(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/Me"), 501)
    assert_error(await client.post("/Bulk", json={}), 501)
    assert_error(await client.post("/bulk", json={}), 501)
