"""The life cycle, in the order the provisioning service goes through it, once per mode:
users (probe, match, create, re-read, update, disable), groups, then the hard deletes; and a
cleanup of whatever a failed step left behind.

:func:`run_scenario` runs it with any ``httpx.AsyncClient`` whose base URL is a SCIM root, and
checks the database too when given a :class:`~mapper.simulate.dbcheck.DbCheck`.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import httpx

from mapper.simulate import deletes, groups, users
from mapper.simulate.client import Exchange, ScimClient
from mapper.simulate.dbcheck import DbCheck
from mapper.simulate.model import TargetModel
from mapper.simulate.report import Report, StepResult
from mapper.simulate.steps import Context, Step, StepFailed, StepSkipped

STEPS: tuple[Step, ...] = (*users.STEPS, *groups.STEPS, *deletes.STEPS)


class Aborted(Exception):
    """The target stopped answering: the remaining steps cannot run."""


PASS_EXCERPT = 140


def main_exchange(exchanges: Sequence[Exchange]) -> Exchange | None:
    """The request that names a step: its first write, else its first request."""
    writes = [e for e in exchanges if e.method != "GET"]
    return writes[0] if writes else (exchanges[0] if exchanges else None)


async def run_step(ctx: Context, name: str, step: Step, report: Report) -> None:
    client = ctx.client
    start = len(client.exchanges)
    reads = ctx.db.reads if ctx.db is not None else 0
    try:
        await step[1](ctx)
    except StepSkipped as skip:
        report.add(StepResult(name, "SKIP", ctx.mode, expected=str(skip)))
    except StepFailed as failure:
        last = client.exchanges[-1] if len(client.exchanges) > start else None
        report.add(
            StepResult(
                name,
                "FAIL",
                ctx.mode,
                request=last.request_line() if last else None,
                response=last.response_line if last else None,
                expected=str(failure),
            )
        )
    except httpx.HTTPError as error:
        report.add(
            StepResult(name, "FAIL", ctx.mode, expected=f"a response, not {type(error).__name__}: {error}")
        )
        raise Aborted from error
    else:
        main = main_exchange(client.exchanges[start:])
        checked = ctx.db is not None and ctx.db.reads > reads
        request = main.request_line(PASS_EXCERPT) if main else None
        report.add(StepResult(name, "PASS", ctx.mode, request=request, database=checked))


async def cleanup(client: ScimClient, contexts: Sequence[Context], report: Report) -> None:
    """DELETE whatever the run created and did not delete (newest first): 204 or 404 each."""
    leftovers = [item for ctx in contexts for item in ctx.created]
    if not leftovers:
        return
    problems: list[str] = []
    for endpoint, id in reversed(leftovers):
        try:
            ex = await client.delete(f"{endpoint}/{id}")
        except httpx.HTTPError as error:
            problems.append(f"DELETE {endpoint}/{id}: {type(error).__name__}")
            continue
        if ex.status not in (204, 404):
            problems.append(f"DELETE {endpoint}/{id}: {ex.status}")
    shown = ", ".join(f"{e}/{i}" for e, i in leftovers)
    if problems:
        report.add(
            StepResult("cleanup", "FAIL", request=shown, expected="204 or 404: " + "; ".join(problems))
        )
    else:
        report.add(StepResult(f"cleanup: deleted what failed steps left ({shown})", "PASS"))


async def run_scenario(
    http: httpx.AsyncClient,
    model: TargetModel,
    *,
    modes: Sequence[str] = ("noflag", "flag"),
    db: DbCheck | None = None,
    report: Report | None = None,
    steps: Sequence[Step] = STEPS,
) -> Report:
    """Run every step in every mode against the SCIM root ``http`` points at."""
    report = report if report is not None else Report()
    client = ScimClient(http)
    tag = secrets.token_hex(3)
    contexts: list[Context] = []
    try:
        for mode in modes:
            ctx = Context(client=client, model=model, db=db, mode=mode, tag=tag)
            contexts.append(ctx)
            for step in steps:
                await run_step(ctx, step[0], step, report)
    except Aborted:
        pass
    finally:
        await cleanup(client, contexts, report)
    return report
