"""A recording SCIM client: every request and response of a step is kept as an :class:`Exchange`,
so the report can show what was sent and what came back."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx

SCIM_JSON = "application/scim+json"
EXCERPT = 300


def compact(value: Any, limit: int = EXCERPT) -> str:
    """One line of JSON, cut at ``limit`` characters."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass
class Exchange:
    """One request and its response. ``target`` is the path relative to the SCIM root, with the
    query string unencoded as a person would write it."""

    method: str
    target: str
    body: Any
    status: int
    headers: httpx.Headers
    text: str
    _json: Any = field(default=None, repr=False)
    _parsed: bool = field(default=False, repr=False)

    def json(self) -> Any:
        """The response body as JSON, or None when it is not JSON."""
        if not self._parsed:
            self._parsed = True
            try:
                self._json = json.loads(self.text) if self.text else None
            except ValueError:
                self._json = None
        return self._json

    def request_line(self, limit: int = EXCERPT) -> str:
        """The request on one line; a PATCH shows its ``Operations`` only (the envelope is fixed)."""
        line = f"{self.method} {self.target}"
        body = self.body
        if self.method == "PATCH" and isinstance(body, dict) and "Operations" in body:
            body = body["Operations"]
        return line if body is None else f"{line} {compact(body, limit)}"

    @property
    def response_line(self) -> str:
        body = self.json()
        excerpt = compact(body) if body is not None else self.text[:EXCERPT]
        return f"{self.status} {excerpt}".rstrip()


class ScimClient:
    """Sends SCIM requests relative to the root the ``http`` client's base URL points at."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.exchanges: list[Exchange] = []

    @property
    def last(self) -> Exchange | None:
        return self.exchanges[-1] if self.exchanges else None

    async def request(
        self, method: str, path: str, body: Any = None, params: dict[str, str] | None = None
    ) -> Exchange:
        shown = path + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")
        headers = {"Accept": SCIM_JSON}
        content = None
        if body is not None:
            headers["Content-Type"] = SCIM_JSON
            content = json.dumps(body).encode()
        # a relative path: httpx appends it to the base URL's path (the SCIM root)
        response = await self.http.request(method, path, params=params, content=content, headers=headers)
        exchange = Exchange(method, shown, body, response.status_code, response.headers, response.text)
        self.exchanges.append(exchange)
        return exchange

    async def get(self, path: str, params: dict[str, str] | None = None) -> Exchange:
        return await self.request("GET", path, params=params)

    async def post(self, path: str, body: Any) -> Exchange:
        return await self.request("POST", path, body)

    async def patch(self, path: str, *operations: dict[str, Any]) -> Exchange:
        body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": list(operations)}
        return await self.request("PATCH", path, body)

    async def delete(self, path: str) -> Exchange:
        return await self.request("DELETE", path)
