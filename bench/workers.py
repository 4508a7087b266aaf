"""The gateway as an app factory, for uvicorn's ``--workers N`` (``mapper serve`` runs one worker
and has no such option). Each worker builds the app as ``mapper serve`` does and imports its own
cache. Configured by environment: ``BENCH_MAPPING``, ``BENCH_DIALECT`` (optional), ``MAPPER_TOKEN``
and the mapping's database URL variables.

    uvicorn --factory bench.workers:create --workers 2 --loop uvloop --http httptools ...
"""

from __future__ import annotations

import os

from starlette.applications import Starlette


def create() -> Starlette:
    from mapper.pipeline import load
    from mapper.scim.app import build_app
    from mapper.scim.auth import load_credentials
    from mapper.scim.settings import Settings

    plan = load(os.environ["BENCH_MAPPING"], write=os.environ.get("BENCH_DIALECT") or None)
    tokens = [t.strip() for t in os.environ.get("MAPPER_TOKEN", "").split(",") if t.strip()]
    return build_app(plan, Settings(credentials=load_credentials(tokens), environ=dict(os.environ)))
