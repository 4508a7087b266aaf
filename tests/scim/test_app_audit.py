"""The audit log: one JSON line per write, naming the client by label, never a token or a value."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.scim import TOKEN, new_user, patch_body, scim_client

pytestmark = pytest.mark.anyio


def audit_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "mapper.audit"]


async def test_one_line_per_write(hr_sqlite: Any, caplog: pytest.LogCaptureFixture) -> None:
    async with scim_client(hr_sqlite) as client:
        with caplog.at_level("INFO", logger="mapper.audit"):
            created = (
                await client.post("/Users", json=new_user("audited.user", title="Secret Title"))
            ).json()
            await client.patch(
                f"/Users/{created['id']}", json=patch_body({"op": "replace", "path": "title", "value": "v"})
            )
            await client.put("/Users/2", json=new_user("grace.hopper"))
            await client.post("/Users", json=new_user("ada.lovelace"))  # 409
            await client.delete("/Users/999999")  # 404
            await client.delete(f"/Users/{created['id']}")
            await client.get("/Users/1")  # reads are not audited (this one is the cached-read fast path)
            await client.get('/Users?filter=userName eq "ada.lovelace"')  # nor is a filtered read
            await client.post("/Users/.search", json={"filter": "title pr"})  # nor are searches
    lines = audit_lines(caplog)
    assert [(line["method"], line["type"], line["anchor"], line["status"]) for line in lines] == [
        ("POST", "User", created["id"], 201),
        ("PATCH", "User", created["id"], 200),
        ("PUT", "User", "2", 200),
        ("POST", "User", None, 409),
        ("DELETE", "User", None, 404),
        ("DELETE", "User", created["id"], 204),
    ]
    for line in lines:
        assert line["client"] == "tests"
        assert set(line) == {"time", "client", "method", "type", "anchor", "status", "ms"}
        assert line["ms"] >= 0
    text = caplog.text
    assert TOKEN not in text
    assert "Secret Title" not in text and "audited.user@example.com" not in text


async def test_a_write_with_a_bad_token_is_audited(hr_sqlite: Any, caplog: pytest.LogCaptureFixture) -> None:
    async with scim_client(hr_sqlite) as client:
        with caplog.at_level("INFO", logger="mapper.audit"):
            await client.delete("/Users/1", headers={"Authorization": "Bearer guess"})
            await client.get("/Users/1", headers={"Authorization": "Bearer guess"})  # reads are not
    (line,) = audit_lines(caplog)
    assert (line["client"], line["method"], line["type"], line["status"]) == (None, "DELETE", None, 401)
    assert "guess" not in caplog.text
