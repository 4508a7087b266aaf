"""``GET /status``: one HTML page for an operator, rendered on the server (no JavaScript, no build
step), behind a token (:class:`~mapper.scim.routes.operator.OperatorGuard`: Bearer, or the token as
a Basic password so a browser asks for it).

For each connector: readiness and its object counts, the last full and delta syncs with the last
error, each database (its URL with the password hidden, its pool), the last write outcomes from the
audit trail, and the compiled SQL of every statement in the plan. Every value is HTML-escaped where
it is written (:func:`html.escape`), and the page forbids scripts, frames and outside resources
(``Content-Security-Policy``). One CSS sheet makes it readable on a phone (one column, tables that
scroll sideways) and on a wall screen (columns side by side, larger type); the page reloads itself
every 30 seconds (``<meta http-equiv="refresh">``).

Several worker processes: the page is the answering worker's view (its pid is shown).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from mapper.plan import Plan, PlanNode, Statement
from mapper.runtime.database import redact
from mapper.scim.audit import AuditTrail
from mapper.scim.metrics import Metrics, SyncRun
from mapper.scim.routes.operator import OperatorGuard

if TYPE_CHECKING:
    from mapper.runtime.gateway import Gateway

REFRESH_SECONDS = 30
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

STYLE = """
:root { color-scheme: light dark; --line: #8884; --ok: #1a7f37; --bad: #cf222e; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, sans-serif; }
header, main { padding: 0.75rem 1rem; }
header { border-bottom: 1px solid var(--line); display: flex; flex-wrap: wrap; gap: 0.25rem 1.5rem;
         align-items: baseline; }
h1 { font-size: 1.3rem; margin: 0; }
h2 { font-size: 1.15rem; margin: 1.25rem 0 0.5rem; }
h3 { font-size: 1rem; margin: 1rem 0 0.4rem; }
.muted { opacity: 0.7; }
.connector { border: 1px solid var(--line); border-radius: 8px; padding: 0.25rem 1rem 1rem;
             margin-bottom: 1rem; }
.grid { display: grid; grid-template-columns: minmax(0, 1fr); gap: 0 1.5rem; }
.grid > * { min-width: 0; }
code { overflow-wrap: anywhere; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.3rem 0.5rem; border-bottom: 1px solid var(--line);
         vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.ready { color: var(--ok); font-weight: 600; } .unready, .error { color: var(--bad); font-weight: 600; }
.figures { display: flex; flex-wrap: wrap; gap: 0.5rem 1.25rem; margin: 0.5rem 0; }
.figure { min-width: 7rem; } .figure b { display: block; font-size: 1.6rem; }
h4 { font: 600 0.85rem ui-monospace, monospace; margin: 0.7rem 0 0.2rem; }
pre { margin: 0; padding: 0.5rem; border: 1px solid var(--line); border-radius: 6px;
      font-size: 0.85rem; white-space: pre-wrap; overflow-wrap: anywhere; }
td.url { min-width: 14rem; }
details summary { cursor: pointer; }
@media (min-width: 1100px) { .grid { grid-template-columns: repeat(2, minmax(0, 1fr)); } }
@media (min-width: 1800px) {
  body { font-size: 19px; } .grid { grid-template-columns: repeat(3, minmax(0, 1fr)); }
}
"""


@dataclass(frozen=True)
class Connector:
    """What the page shows of one connector: its name, plan, SCIM root and audit trail. Its
    gateway is the request's (``request.state.gateway``) until a gateway serves several."""

    name: str
    plan: Plan
    base_path: str
    trail: AuditTrail
    metrics: Metrics


class StatusPage:
    """The page of ``connectors``; ``gateways`` finds a connector's gateway by name (a hub's);
    without it, the one connector's is the request's (``request.state.gateway``)."""

    def __init__(
        self,
        connectors: Sequence[Connector],
        guard: OperatorGuard,
        gateways: Callable[[str], Gateway | None] | None = None,
    ) -> None:
        self.connectors = tuple(connectors)
        self.guard = guard
        self.gateways = gateways

    async def serve(self, request: Request) -> Response:
        if self.guard.client(request) is None:
            return self.guard.challenge(request)
        sections = []
        for connector in self.connectors:
            if self.gateways is not None:
                gateway = self.gateways(connector.name)
            else:
                gateway = getattr(request.state, "gateway", None)
            sections.append(connector_section(connector, gateway))
        return HTMLResponse(page(sections), headers=HEADERS)


def page(sections: list[str]) -> str:
    now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return (
        "<!doctype html>\n<html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f'<meta http-equiv=refresh content="{REFRESH_SECONDS}">'
        "<title>scim-sql-mapper status</title>"
        f"<style>{STYLE}</style></head><body>"
        "<header><h1>scim-sql-mapper</h1>"
        f'<span class=muted>as of <time id=generated datetime="{now}">{now}</time></span>'
        f"<span class=muted>process {os.getpid()}</span></header>"
        f"<main>{''.join(sections)}</main></body></html>\n"
    )


def connector_section(connector: Connector, gateway: Gateway | None) -> str:
    name = escape(connector.name)
    if gateway is None:
        return (
            f'<section class=connector id="connector-{name}"><h2>{name}</h2>'
            "<p class=unready>starting</p></section>"
        )
    health = gateway.health()
    ready = bool(health["ready"])
    state = '<span class=ready data-ready="true">ready</span>'
    if not ready:
        state = '<span class=unready data-ready="false">not ready</span>'
    counts = "".join(
        f'<div class=figure><b data-count="{escape(obj)}">{count}</b>{escape(obj)}</div>'
        for obj, count in health["objects"].items()
    )
    return (
        f'<section class=connector id="connector-{name}" data-connector="{name}">'
        f"<h2>{name} {state}</h2>"
        f"<p class=muted>SCIM root <code>{escape(connector.base_path)}</code>, "
        f"mapping <code>{escape(connector.plan.mapping)}</code>, "
        f"up {_duration(health.get('uptimeSeconds', 0))}</p>"
        f"<div class=figures>{counts}</div>"
        "<div class=grid>"
        f"<div>{_syncs(health)}{_runs(connector.metrics)}</div>"
        f"<div>{_databases(gateway)}</div>"
        f"<div>{_writes(connector.trail)}</div>"
        "</div>"
        f"{_statements(connector.plan)}"
        "</section>"
    )


def _syncs(health: dict[str, Any]) -> str:
    phase = health.get("phase")
    if phase and health.get("waiting"):
        phase = f"{phase}: {health['waiting']}"
    coherence = health.get("coherence") or {}
    channels = "; ".join(
        f"{source}: " + ", ".join(f"{key} {value}" for key, value in sorted(state.items()))
        for source, state in sorted(coherence.items())
        if isinstance(state, dict)
    )
    rows = [
        ("Phase", phase, "phase"),
        ("Last sync (full or delta)", health.get("lastSync"), "last-sync"),
        ("Last full sync", health.get("lastFullSync"), "last-full-sync"),
        ("Last error", health.get("lastError"), "last-error"),
        ("Last error at", health.get("lastErrorAt"), "last-error-at"),
        ("Coherence", channels or "off", "coherence"),
    ]
    cells = "".join(
        f"<tr><th>{label}</th><td id={key}{' class=error' if key == 'last-error' and value else ''}>"
        f"{escape(str(value)) if value else '—'}</td></tr>"
        for label, value, key in rows
    )
    autosync = "on" if health.get("autosync") else "off"
    return (
        f"<h3>Syncs</h3><div class=scroll><table>{cells}"
        f"<tr><th>Autosync</th><td>{autosync}</td></tr></table></div>"
    )


def _runs(metrics: Metrics) -> str:
    """Each object type's last import of each kind, and its last failed one."""
    if not metrics.last_runs:
        return ""
    rows = []
    for (object_type, kind), run in sorted(metrics.last_runs.items()):
        failed = metrics.last_failures.get((object_type, kind))
        outcome = _outcome(run)
        rows.append(
            f'<tr data-sync="{escape(object_type)}/{escape(kind)}"><td>{escape(object_type)}</td>'
            f"<td>{escape(kind)}</td><td>{_stamp(run.ended)}</td><td class=n>{run.seconds:.2f}</td>"
            f"<td>{outcome}</td><td>{_stamp(failed.ended) if failed else '—'}</td></tr>"
        )
    return (
        "<div class=scroll><table id=runs><tr><th>type</th><th>kind</th><th>last run</th><th>s</th>"
        f"<th>outcome</th><th>last failure</th></tr>{''.join(rows)}</table></div>"
    )


def _outcome(run: SyncRun) -> str:
    stats = run.stats
    if stats is None:
        return "<span class=error>failed</span>"
    return f"+{stats.added} ~{stats.changed} −{stats.removed}"


def _stamp(unix: float) -> str:
    return datetime.fromtimestamp(unix, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _databases(gateway: Gateway) -> str:
    rows = []
    for name, database in gateway.databases.items():
        pool = database.engine.pool
        in_use = _call(pool, "checkedout")
        size = _call(pool, "size")
        reachable = name not in gateway.unreachable
        rows.append(
            f"<tr><td>{escape(name)}</td><td>{escape(database.dialect)}</td>"
            f'<td class=url data-source="{escape(name)}"><code>{escape(redact(database.url))}</code></td>'
            f"<td class=n>{in_use}/{size}</td>"
            f"<td>{'yes' if reachable else '<span class=error>no</span>'}</td></tr>"
        )
    return (
        "<h3>Databases</h3><div class=scroll><table><tr><th>source</th><th>dialect</th><th>URL</th>"
        f"<th>pool in use</th><th>reachable</th></tr>{''.join(rows)}</table></div>"
    )


def _writes(trail: AuditTrail) -> str:
    recent = trail.recent()
    if not recent:
        return "<h3>Last writes</h3><p class=muted id=no-writes>none since start</p>"
    rows = []
    for line in recent:
        status = int(str(line.get("status", 0)))
        dropped = line.get("dropped")
        note = f" ({len(dropped)} dropped)" if isinstance(dropped, list) else ""
        rows.append(
            f"<tr><td>{escape(str(line.get('time', '')))}</td><td>{escape(str(line.get('client')))}</td>"
            f"<td>{escape(str(line.get('method')))}</td><td>{escape(str(line.get('type')))}</td>"
            f"<td>{escape(str(line.get('anchor') or ''))}</td>"
            f"<td class=n{' error' if status >= 400 else ''}>{status}{note}</td>"
            f"<td class=n>{escape(str(line.get('ms')))}</td></tr>"
        )
    return (
        f"<h3>Last writes <span class=muted>({len(recent)}, newest first)</span></h3>"
        "<div class=scroll><table id=writes><tr><th>time</th><th>client</th><th>method</th>"
        f"<th>type</th><th>anchor</th><th>status</th><th>ms</th></tr>{''.join(rows)}</table></div>"
    )


def _statements(plan: Plan) -> str:
    parts = []
    for obj in plan.objects:
        listed = "".join(
            f"<h4>{escape(label)}</h4><pre>{escape(statement.sql)}</pre>"
            for label, statement in statements(obj)
        )
        parts.append(
            f'<details class=sql data-object="{escape(obj.name)}"><summary>{escape(obj.name)}: '
            f"the compiled SQL of each operation (source {escape(obj.source)})</summary>{listed}</details>"
        )
    return "<h3>Compiled SQL</h3>" + "".join(parts)


def statements(node: PlanNode, prefix: str = "") -> Iterator[tuple[str, Statement]]:
    """Every statement in ``node`` with its dotted field name (``insert``, ``members.add``...)."""
    for field in type(node).model_fields:
        value = getattr(node, field)
        label = f"{prefix}{field}"
        if isinstance(value, Statement):
            yield label, value
        elif isinstance(value, PlanNode):
            yield from statements(value, f"{label}.")
        elif isinstance(value, tuple):
            for index, item in enumerate(value):
                if isinstance(item, PlanNode):
                    name = getattr(item, "attribute", None) or str(index)
                    yield from statements(item, f"{prefix}{name}.")


def _call(pool: Any, method: str) -> Any:
    found = getattr(pool, method, None)
    return found() if callable(found) else "?"


def _duration(seconds: int) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s"
