"""The baseline server: a bare Starlette app returning fixed JSON bodies, run by uvicorn with the
gateway's settings. ``BENCH_BODIES`` names a JSON file ``{"resource": {...}, "list": {...}}``
holding a real user resource and a real filtered list response captured from the gateway, so both
servers send bodies of the same size. Requests with a ``filter`` query get the list body."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

_bodies = orjson.loads(Path(os.environ["BENCH_BODIES"]).read_bytes()) if "BENCH_BODIES" in os.environ else {}
RESOURCE = orjson.dumps(_bodies.get("resource", {"id": "1"}))
LIST = orjson.dumps(_bodies.get("list", {"totalResults": 0, "Resources": []}))
MEDIA = "application/scim+json"


async def users(request: Request) -> Response:
    body = LIST if "filter" in request.query_params else RESOURCE
    return Response(body, media_type=MEDIA)


async def readyz(request: Request) -> Response:
    return Response(b'{"status":"ready"}', media_type="application/json")


app = Starlette(
    routes=[
        Route("/readyz", readyz),
        Route("/{path:path}", users, methods=["GET"]),
    ]
)
