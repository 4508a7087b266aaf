"""Sets up the target and runs the scenario: :func:`simulate_plan` serves a plan in-process (the
real app, lifespan included, through ``httpx.ASGITransport``: no port, no subprocess) and checks
its database; :func:`simulate_url` talks to a running gateway over HTTP(S) and learns what it
maps from ``/ResourceTypes`` and ``/Schemas``. :func:`run_from_args` is ``mapper simulate``."""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import anyio
import httpx

from mapper.errors import MapperError, MappingError
from mapper.plan import Plan
from mapper.simulate.dbcheck import DbCheck
from mapper.simulate.model import from_discovery, from_plan
from mapper.simulate.options import SimulateOptions, options_from_args
from mapper.simulate.report import Report, StepResult, render_json, render_text
from mapper.simulate.scenario import run_scenario

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
IN_PROCESS_ROOT = "http://simulate.invalid/scim/v2"


class UsageError(MapperError):
    """The simulation cannot start: a bad argument, a missing file, no token."""


@asynccontextmanager
async def in_process(plan: Plan, environ: Mapping[str, str]) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    """The app serving ``plan``, started (first import done), and a client of its SCIM root with a
    valid token; yields (client, the app's Gateway)."""
    from mapper.scim.app import build_app
    from mapper.scim.auth import parse_credentials
    from mapper.scim.settings import Settings

    token = secrets.token_urlsafe(24)
    settings = Settings(credentials=parse_credentials([f"simulate:{token}"]), environ=dict(environ))
    app = build_app(plan, settings)
    async with app.router.lifespan_context(app) as state:
        lifespan_state = dict(state or {})

        async def with_state(scope: Any, receive: Any, send: Any) -> None:
            scope["state"] = dict(lifespan_state)  # what a server does with the lifespan's state
            await app(scope, receive, send)

        transport = httpx.ASGITransport(app=with_state, raise_app_exceptions=False)
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(
            transport=transport, base_url=IN_PROCESS_ROOT, headers=headers
        ) as client:
            yield client, lifespan_state.get("gateway")


async def simulate_plan(
    plan: Plan, environ: Mapping[str, str] | None = None, *, modes: Sequence[str] = ("noflag", "flag")
) -> Report:
    """Serve ``plan`` in-process on the databases ``environ`` points at, and simulate against it,
    checking every step's effect in the database too."""
    env = dict(os.environ if environ is None else environ)
    report = Report()
    db = DbCheck(plan, env)
    try:
        async with in_process(plan, env) as (client, gateway):
            start = "start: the gateway imports the database"
            if gateway is None or not gateway.ready:
                error = getattr(gateway, "last_error", None) or "no gateway"
                report.add(StepResult(start, "FAIL", expected=f"a ready gateway, not: {error}"))
                return report
            report.add(StepResult(start, "PASS"))
            model = await db.sized(from_plan(plan))
            await run_scenario(client, model, modes=modes, db=db, report=report)
    finally:
        db.close()
    return report


async def discover(client: httpx.AsyncClient, report: Report) -> Any:
    """The target model from /ResourceTypes and /Schemas, or None (and a FAIL) when unreadable."""
    documents: dict[str, list[dict[str, Any]]] = {}
    for name in ("ResourceTypes", "Schemas"):
        try:
            response = await client.get(name, headers={"Accept": "application/scim+json"})
        except httpx.HTTPError as error:
            report.add(
                StepResult("discovery", "FAIL", request=f"GET /{name}", expected=f"a response ({error})")
            )
            return None
        body = response.json() if response.status_code == 200 else None
        resources = body.get("Resources") if isinstance(body, dict) else None
        if not isinstance(resources, list):
            excerpt = f"{response.status_code} {response.text[:300]}"
            expected = "200 with a ListResponse"
            report.add(
                StepResult("discovery", "FAIL", request=f"GET /{name}", response=excerpt, expected=expected)
            )
            return None
        documents[name] = [r for r in resources if isinstance(r, dict)]
    report.add(
        StepResult("discovery: read /ResourceTypes and /Schemas", "PASS", request="GET /ResourceTypes")
    )
    return from_discovery(documents["ResourceTypes"], documents["Schemas"])


async def simulate_url(
    url: str, token: str | None, *, modes: Sequence[str] = ("noflag", "flag"), timeout: float = 30.0
) -> Report:
    """Simulate against the gateway whose SCIM root is ``url`` (HTTP assertions only)."""
    report = Report()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=scim_root(url), headers=headers, timeout=timeout) as client:
        model = await discover(client, report)
        if model is not None:
            await run_scenario(client, model, modes=modes, report=report)
    return report


def scim_root(url: str) -> str:
    """The SCIM root of a tenant URL: without its query (``?aadOptscim062020``) and fragment."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def read_token(options: SimulateOptions, environ: Mapping[str, str]) -> str | None:
    """The bearer token: the first entry of the token file or variable, ``label:`` removed."""
    from mapper.scim.auth import TokenConfigError, load_credentials

    tokens: list[str] = []
    if not options.token_file:
        raw = environ.get(options.token_env, "")
        tokens = [item.strip() for item in raw.split(",") if item.strip()]
    try:
        credentials = load_credentials(tokens, options.token_file)
    except TokenConfigError as error:
        raise UsageError(str(error)) from error
    return credentials[0].token.decode() if credentials else None


def load_plan(options: SimulateOptions, environ: Mapping[str, str]) -> Plan:
    from mapper.pipeline import load
    from mapper.scim.server import bootstrap

    if not Path(options.target).is_file():
        raise UsageError(f"no such mapping file: {options.target}")
    try:
        plan = load(options.target, write=options.dialect)
    except MappingError as error:
        for diagnostic in error.diagnostics:
            print(diagnostic, file=sys.stderr)
        raise UsageError(f"{options.target} has errors; fix them first (mapper lint)") from error
    if options.create_schema:
        problem = bootstrap(plan, list(options.create_schema), environ)
        if problem:
            raise UsageError(problem.removeprefix("mapper serve: "))
    return plan


def simulate(options: SimulateOptions, environ: Mapping[str, str] | None = None) -> tuple[Report, int]:
    """Run the simulation ``options`` describe: (report, exit code). Raises UsageError."""
    env = dict(os.environ if environ is None else environ)
    if options.is_url:
        if options.create_schema or options.dialect:
            raise UsageError("--create-schema and --dialect need a MAPPING target, not a URL")
        token = read_token(options, env)
        if token is None:
            print(
                f"mapper simulate: warning: no token in ${options.token_env}; sending none", file=sys.stderr
            )
        report = anyio.run(
            lambda: simulate_url(options.target, token, modes=options.modes, timeout=options.timeout)
        )
    else:
        plan = load_plan(options, env)
        report = anyio.run(lambda: simulate_plan(plan, env, modes=options.modes))
    return report, EXIT_OK if report.ok else EXIT_FAILED


def run_from_args(args: argparse.Namespace) -> int:
    """``mapper simulate``: print the report; 0 when nothing failed, 1 on failures, 2 on usage errors."""
    options = options_from_args(args)
    try:
        report, code = simulate(options)
    except UsageError as error:
        print(f"mapper simulate: {error}", file=sys.stderr)
        return EXIT_USAGE
    sys.stdout.write(render_json(report) if options.format == "json" else render_text(report))
    return code
