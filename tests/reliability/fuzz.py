"""A seeded HTTP fuzzer of a running gateway (this module holds no tests).

:class:`SchemaModel` reads the gateway's own ``/Schemas`` and generates attribute names, values,
bodies, PATCH operations and filters from it; :data:`HOSTILE` adds what an attacker sends (huge
numbers, lone surrogates, NUL and control characters, deep nesting, very long strings, SQL
fragments, wrong JSON types). :func:`run_fuzz` drives ``workers`` concurrent clients, each with
its own ``random.Random(f"{seed}:{worker}")``, and returns a :class:`FuzzReport`: every answer
that breaks the gateway's promise, the status counts, and the creates and deletes acknowledged
(2xx received) per resource type, so the caller can check the database against them.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from tests.reliability.support import AUTH, CORE_GROUP, CORE_USER, PATCH_OP, SAMPLE_USERS, TOKEN, server_fault


def nested(depth: int) -> Any:
    value: Any = "x"
    for i in range(depth):
        value = [value] if i % 2 else {"a": value}
    return value


# Values an attacker or a broken client sends. Kept as JSON-able Python values; lone surrogates
# reach the wire as \ud800 escapes (json.dumps with ensure_ascii), which is how a client sends them.
HOSTILE_STRINGS = [
    "\ud800",
    "a\udfffb",
    "a\x00b",
    "\x00",
    "\x01\x02\x1f\x7f",
    "line\nbreak\ttab\r",
    "x" * 5000,
    "y" * 70_000,
    "' OR '1'='1",
    "'; DROP TABLE employees; --",
    '" or 1=1 --',
    "%",
    "_",
    "\\",
    "${jndi:ldap://127.0.0.1/a}",
    "🦄" * 100,
    "ß\u0301\u200b\u202e",
    "",
    " ",
    "18446744073709551616",
    "1" * 4301,
]
HOSTILE_NUMBERS: list[Any] = [2**64, 2**63, -(2**63) - 1, 10**30, 1e308, -0.0, 0.1]
HOSTILE: list[Any] = [
    *HOSTILE_STRINGS,
    *HOSTILE_NUMBERS,
    True,
    False,
    None,
    [],
    {},
    ["a", 1, None],
    {"value": {"value": "x"}},
    nested(60),
    nested(1200),
]
HOSTILE_IDS = [
    "18446744073709551616",
    "9223372036854775807",
    "9223372036854775808",
    "-1",
    "0",
    "1" * 4301,
    "abc",
    "1.0",
    "01",
    " 1",
    "%00",
    "%ED%A0%80",
    "%FF",
    "..",
    "%2F..%2F",
    "CN=1,OBJECT=USER",
    "CN=1%2COBJECT=USER",
    "' OR 1=1 --",
    "x" * 3000,
]
HOSTILE_INTS = [
    "9223372036854775808",
    "18446744073709551616",
    "-9223372036854775809",
    "1" * 4301,
    "-1",
    "0",
    "1e3",
    "0x10",
    "",
    " 5 ",
    "NaN",
    "٣",
]


def fit_query(params: dict[str, str]) -> dict[str, str]:
    """Query parameters a client can send: lone surrogates replaced (a URL carries UTF-8, which
    cannot hold them), and within the client's own URL limit of 64 KiB (longer values are the
    body-size tests' business)."""
    params = {k: v.encode("utf-8", "replace").decode("utf-8") for k, v in params.items()}
    while len(urlencode(params)) > 60_000:
        longest = max(params, key=lambda k: len(params[k]))
        params[longest] = params[longest][: len(params[longest]) // 2]
    return params


@dataclass(frozen=True)
class SchemaAttribute:
    name: str
    type: str
    multi_valued: bool
    mutability: str
    subs: tuple[SchemaAttribute, ...] = ()


@dataclass(frozen=True)
class SchemaModel:
    """The attributes of one resource type, as the gateway's ``/Schemas`` describes them."""

    core: str
    extensions: tuple[str, ...]
    attributes: dict[str, tuple[SchemaAttribute, ...]]  # by schema URN

    @classmethod
    def from_schemas(cls, schemas: dict[str, Any], core: str, extensions: tuple[str, ...]) -> SchemaModel:
        def attribute(raw: dict[str, Any]) -> SchemaAttribute:
            return SchemaAttribute(
                raw["name"],
                raw.get("type", "string"),
                bool(raw.get("multiValued")),
                raw.get("mutability", "readWrite"),
                tuple(attribute(s) for s in raw.get("subAttributes", ())),
            )

        by_urn = {r["id"]: tuple(attribute(a) for a in r["attributes"]) for r in schemas["Resources"]}
        present = tuple(e for e in extensions if e in by_urn)
        return cls(core, present, {u: by_urn[u] for u in (core, *present)})

    def paths(self) -> list[str]:
        """Every attribute path: ``name``, ``name.sub``, and extension ones URN-qualified."""
        out = []
        for urn, attributes in self.attributes.items():
            prefix = "" if urn == self.core else f"{urn}:"
            for a in attributes:
                out.append(prefix + a.name)
                out += [f"{prefix}{a.name}.{s.name}" for s in a.subs]
        return out


class Generator:
    """Requests generated from a :class:`SchemaModel` with one worker's random source."""

    def __init__(self, rng: random.Random, models: dict[str, SchemaModel], tag: str) -> None:
        self.rng = rng
        self.models = models
        self.tag = tag
        self.serial = 0

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def hostile(self) -> Any:
        return self.rng.choice(HOSTILE)

    def name(self, prefix: str = "fz") -> str:
        self.serial += 1
        return f"{prefix}.{self.tag}.{self.serial}"

    def scalar(self, attribute: SchemaAttribute) -> Any:
        if self.chance(0.08):
            return self.hostile()
        kind = attribute.type
        if kind == "boolean":
            return self.rng.choice([True, False, "True", "false", "maybe", 1])
        if kind == "dateTime":
            return self.rng.choice(["2026-01-31T12:00:00Z", "2026-13-45T99:00:00Z", "yesterday"])
        if kind in ("integer", "decimal"):
            return self.rng.choice([0, 7, -1, 2**64, "12", 1.5])
        if kind == "reference":
            return str(self.rng.randint(1, SAMPLE_USERS + 5))
        return self.rng.choice(["Ada", "Grace Hopper", "x@example.com", "+1 555 0100", "Ünïcødé", "work"])

    def value(self, attribute: SchemaAttribute) -> Any:
        if attribute.type == "complex":
            item = {s.name: self.scalar(s) for s in attribute.subs if self.chance(0.5)}
            if attribute.multi_valued:
                return [item] if not self.chance(0.1) else [item, dict(item)]
            return item
        if attribute.multi_valued:
            return [self.scalar(attribute)]
        return self.scalar(attribute)

    def resource(self, type_: str, required: str, references: list[str]) -> dict[str, Any]:
        model = self.models[type_]
        body: dict[str, Any] = {"schemas": [model.core]}
        for urn, attributes in model.attributes.items():
            target = body
            if urn != model.core:
                if not self.chance(0.5):
                    continue
                body["schemas"].append(urn)
                target = body[urn] = {}
            for a in attributes:
                if a.mutability == "readOnly" and not self.chance(0.05):
                    continue
                if self.chance(0.4):
                    target[a.name] = self.value(a)
        body[required] = self.name() if not self.chance(0.1) else self.hostile()
        if type_ == "Group" and references and self.chance(0.7):
            body["members"] = [{"value": self.rng.choice(references)} for _ in range(self.rng.randint(1, 3))]
        if self.chance(0.05):
            body["schemas"] = self.hostile()
        return body

    def path(self, type_: str) -> str:
        model = self.models[type_]
        if self.chance(0.1):
            return self.rng.choice(
                [
                    'emails[type eq "work"].value',
                    'emails[type eq "work"]',
                    'members[value eq "1"]',
                    "[",
                    "a..b",
                    "",
                ]
                + [s if isinstance(s, str) else "x" for s in HOSTILE_STRINGS[:8]]
            )
        return self.rng.choice(model.paths())

    def operation(self, type_: str, references: list[str]) -> dict[str, Any]:
        op = self.rng.choice(["add", "replace", "remove", "Replace", "Add"])
        operation: dict[str, Any] = {"op": op}
        if self.chance(0.85):
            operation["path"] = self.path(type_)
        if op.lower() != "remove" or self.chance(0.2):
            path = operation.get("path", "")
            if type_ == "Group" and path == "members" and references:
                operation["value"] = [{"value": self.rng.choice(references)}]
            elif "path" not in operation:
                attribute = self.rng.choice(self.models[type_].attributes[self.models[type_].core])
                operation["value"] = {attribute.name: self.value(attribute)}
            else:
                operation["value"] = self.hostile() if self.chance(0.4) else self.scalar_for(type_, path)
        if self.chance(0.03):
            operation = self.hostile()  # type: ignore[assignment]
        return operation

    def scalar_for(self, type_: str, path: str) -> Any:
        base = path.rpartition(":")[2].split("[")[0].split(".")
        for attributes in self.models[type_].attributes.values():
            for a in attributes:
                if a.name.casefold() == base[0].casefold():
                    if len(base) > 1:
                        sub = next((s for s in a.subs if s.name.casefold() == base[1].casefold()), None)
                        return self.scalar(sub) if sub else "v"
                    return self.value(a)
        return "v"

    def filter(self, type_: str) -> str:
        if self.chance(0.1):
            return self.rng.choice(
                [
                    'userName eq "\\ud800"',
                    'meta.created ge "\\ud800"',
                    'userName eq "a\\u0000b"',
                    'id eq "18446744073709551616"',
                    f'id eq "{"1" * 4301}"',
                    "id eq 18446744073709551616",
                    'displayName eq "a" or 1 eq 1',
                    'userName eq "\' OR 1=1 --"',
                    "not(" * 40 + "title pr" + ")" * 40,
                    "title pr and " * 50 + "title pr",
                    'emails[type eq "work" and value co "@"]',
                    "members[value eq 1]",
                    'userName sw ""',
                    "(((",
                    'title eq "unterminated',
                    "x" * 3000 + " pr",
                ]
            )
        path = self.path(type_)
        op = self.rng.choice(["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "pr", "EQ"])
        if op == "pr":
            text = f"{path} pr"
        else:
            value = self.hostile() if self.chance(0.3) else self.scalar_for(type_, path)
            text = f"{path} {op} {json.dumps(value) if not isinstance(value, list | dict) else '[]'}"
        if self.chance(0.3):
            text = f"({text}) {self.rng.choice(['and', 'or'])} not ({self.filter(type_)})"
        return text

    def params(self, type_: str) -> dict[str, str]:
        params: dict[str, str] = {}
        if self.chance(0.6):
            params["filter"] = self.filter(type_)
        for name in ("startIndex", "count"):
            if self.chance(0.3):
                params[name] = self.rng.choice([*HOSTILE_INTS, "1", "2", "10"])
        if self.chance(0.2):
            params["attributes"] = ",".join(self.path(type_) for _ in range(self.rng.randint(1, 3)))
        if self.chance(0.1):
            params["excludedAttributes"] = self.path(type_)
        if self.chance(0.15):
            params["sortBy"] = self.path(type_)
            params["sortOrder"] = self.rng.choice(["ascending", "descending", "sideways"])
        return params

    def id_or_hostile(self, ids: list[str]) -> str:
        if ids and not self.chance(0.15):
            return quote(self.rng.choice(ids), safe="")
        return self.rng.choice(HOSTILE_IDS)


def body_bytes(value: Any) -> bytes:
    """JSON as a client writes it: lone surrogates and control characters as escapes."""
    try:
        return json.dumps(value, ensure_ascii=True).encode()
    except RecursionError:  # nested(1200): written by hand, as a client would
        return b'{"a":' * 1200 + b'"x"' + b"}" * 1200


@dataclass
class FuzzReport:
    seed: str
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    faults: list[str] = field(default_factory=list)
    created: Counter[str] = field(default_factory=Counter)
    deleted: Counter[str] = field(default_factory=Counter)
    transport_errors: int = 0
    seconds: float = 0.0

    def count_5xx(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    def summary(self) -> str:
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(self.statuses.items()))
        return (
            f"seed {self.seed}: {self.requests} requests in {self.seconds:.1f} s; statuses {{{statuses}}}; "
            f"created {dict(self.created)}, deleted {dict(self.deleted)}; "
            f"{len(self.faults)} faults, {self.transport_errors} transport errors"
        )


ENTERPRISE_URN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


async def load_models(client: httpx.AsyncClient) -> dict[str, SchemaModel]:
    schemas = (await client.get("/Schemas")).json()
    return {
        "User": SchemaModel.from_schemas(schemas, CORE_USER, (ENTERPRISE_URN,)),
        "Group": SchemaModel.from_schemas(schemas, CORE_GROUP, ()),
    }


class Worker:
    """One client: its own random source, the ids it created, and the report it adds to."""

    ENDPOINT = {"User": "/Users", "Group": "/Groups"}
    REQUIRED = {"User": "userName", "Group": "displayName"}

    def __init__(self, client: httpx.AsyncClient, gen: Generator, report: FuzzReport) -> None:
        self.client = client
        self.gen = gen
        self.report = report
        self.ids: dict[str, list[str]] = {"User": [], "Group": []}
        self.sample = [str(i) for i in range(1, SAMPLE_USERS + 1)]

    async def send(self, method: str, url: str, **kwargs: Any) -> httpx.Response | None:
        if "params" in kwargs:
            kwargs["params"] = fit_query(kwargs["params"])
        if "json_body" in kwargs:
            kwargs["content"] = body_bytes(kwargs.pop("json_body"))
            kwargs.setdefault("headers", {})["Content-Type"] = "application/scim+json"
        try:
            response = await self.client.request(method, url, **kwargs)
        except httpx.TransportError as error:
            self.report.transport_errors += 1
            self.report.faults.append(f"{method} {url[:200]}: {type(error).__name__}")
            return None
        self.report.requests += 1
        self.report.statuses[response.status_code] += 1
        fault = server_fault(response)
        if fault:
            self.report.faults.append(f"{method} {url[:200]} -> {fault}: {response.text[:300]}")
        return response

    async def step(self) -> None:
        gen, rng = self.gen, self.gen.rng
        type_ = "User" if gen.chance(0.8) else "Group"
        endpoint = self.ENDPOINT[type_]
        mine = self.ids[type_]
        known = mine + (self.sample if type_ == "User" else [])
        kind = rng.choices(
            ["create", "get", "list", "patch", "put", "delete", "search", "garbage", "discovery"],
            weights=[20, 12, 15, 16, 8, 9, 5, 10, 5],
        )[0]
        if kind == "create":
            body = gen.resource(type_, self.REQUIRED[type_], self.ids["User"] or self.sample)
            response = await self.send("POST", endpoint, json_body=body)
            if response is not None and response.status_code == 201:
                self.report.created[type_] += 1
                mine.append(str(response.json()["id"]))
        elif kind == "get":
            await self.send("GET", f"{endpoint}/{gen.id_or_hostile(known)}", params=self._projection(type_))
        elif kind == "list":
            await self.send("GET", endpoint, params=gen.params(type_))
        elif kind == "patch":
            operations = [
                gen.operation(type_, self.ids["User"] or self.sample) for _ in range(rng.randint(1, 3))
            ]
            body: Any = {"schemas": [PATCH_OP], "Operations": operations}
            if gen.chance(0.05):
                body = gen.hostile()
            await self.send("PATCH", f"{endpoint}/{gen.id_or_hostile(known)}", json_body=body)
        elif kind == "put":
            body = gen.resource(type_, self.REQUIRED[type_], self.ids["User"] or self.sample)
            await self.send("PUT", f"{endpoint}/{gen.id_or_hostile(mine)}", json_body=body)
        elif kind == "delete":
            target = gen.id_or_hostile(mine)
            response = await self.send("DELETE", f"{endpoint}/{target}")
            if response is not None and response.status_code == 204:
                self.report.deleted[type_] += 1
                if target in mine:
                    mine.remove(target)
        elif kind == "search":
            body = {k: v for k, v in gen.params(type_).items()}
            if gen.chance(0.2):
                body["count"] = gen.hostile()
            await self.send("POST", f"{endpoint}/.search", json_body=body)
        elif kind == "garbage":
            await self.garbage(endpoint, known)
        else:
            path = rng.choice(
                ["/Schemas", "/ResourceTypes", "/ServiceProviderConfig", "/Schemas/x", "/Me", "/Bulk"]
            )
            await self.send("GET", path)

    def _projection(self, type_: str) -> dict[str, str]:
        return {"attributes": self.gen.path(type_)} if self.gen.chance(0.2) else {}

    async def garbage(self, endpoint: str, known: list[str]) -> None:
        gen, rng = self.gen, self.gen.rng
        choice = rng.randrange(8)
        target = f"{endpoint}/{gen.id_or_hostile(known)}"
        if choice == 0:  # not JSON, or JSON of the wrong shape
            content = rng.choice([b"{", b"null", b"[]", b'"x"', b"\xff\xfe", b"1e400", b"{" * 5000, b""])
            await self.send(rng.choice(["POST", "PUT", "PATCH"]), target if rng.random() < 0.7 else endpoint,
                            content=content, headers={"Content-Type": "application/scim+json"})  # fmt: skip
        elif choice == 1:  # a body over the limit
            await self.send(
                "POST",
                endpoint,
                content=b" " * (1024 * 1024 + 10),
                headers={"Content-Type": "application/json"},
            )
        elif choice == 2:  # a method the route lacks
            await self.send(rng.choice(["PUT", "DELETE", "PATCH"]), endpoint)
        elif choice == 3:  # unknown paths
            await self.send(
                "GET", rng.choice(["/Nothing", "/Users/1/x", "/%ED%A0%80", "/Users/.search", "/.search"])
            )
        elif choice == 4:  # no or a wrong token
            headers = rng.choice(
                [
                    {"Authorization": ""},
                    {"Authorization": "Bearer x"},
                    {"Authorization": "Basic Og=="},
                    {"Authorization": f"Bearer {TOKEN[:-1]}"},
                    {"Authorization": f"Bearer {TOKEN}x"},
                    {"Authorization": f"bearer  {TOKEN.upper()}"},
                ]
            )
            method = rng.choice(["GET", "POST", "DELETE", "PATCH"])
            response = await self.send(
                method, rng.choice([target, endpoint, "/Schemas", "/Nothing"]), headers=headers
            )
            if response is not None and response.status_code != 401:
                self.report.faults.append(
                    f"{method} {target[:100]} with a bad token -> {response.status_code}"
                )
        elif choice == 5:  # hostile JSON values at the top level of a create
            body = {"schemas": [CORE_USER], "userName": gen.hostile(), "title": gen.hostile()}
            response = await self.send("POST", "/Users", json_body=body)
            if response is not None and response.status_code == 201:
                self.report.created["User"] += 1
                self.ids["User"].append(str(response.json()["id"]))
        elif choice == 6:  # a root search
            await self.send(
                "POST",
                "/.search",
                json_body={"filter": gen.filter("User"), "count": rng.choice([1, -1, 2**64])},
            )
        else:  # headers of every kind
            headers = {"If-None-Match": "x" * 2000, "Accept": "text/plain", "If-Match": '"\\u0000"'}
            await self.send("GET", target, headers=headers)


async def run_fuzz(
    base: str, *, seed: str, requests: int, workers: int = 4, time_limit: float = 600.0
) -> tuple[FuzzReport, Callable[[], dict[str, list[str]]]]:
    """Send ``requests`` fuzzed requests to the gateway at ``base`` (its SCIM root) from
    ``workers`` concurrent clients; stop early (and say so in the report) after ``time_limit``."""
    report = FuzzReport(seed)
    started = time.monotonic()
    limits = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)
    async with httpx.AsyncClient(base_url=base, headers=AUTH, timeout=60, limits=limits) as client:
        models = await load_models(client)
        crew = [
            Worker(client, Generator(random.Random(f"{seed}:{w}"), models, f"{seed}-{w}"), report)
            for w in range(workers)
        ]
        share = [requests // workers + (1 if w < requests % workers else 0) for w in range(workers)]

        async def drive(worker: Worker, count: int) -> None:
            for _ in range(count):
                if time.monotonic() - started > time_limit:
                    report.faults.append(f"time limit of {time_limit} s reached")
                    return
                await worker.step()

        await asyncio.gather(*(drive(w, n) for w, n in zip(crew, share, strict=True)))
    report.seconds = time.monotonic() - started

    def ids() -> dict[str, list[str]]:
        return {t: [i for w in crew for i in w.ids[t]] for t in ("User", "Group")}

    return report, ids
