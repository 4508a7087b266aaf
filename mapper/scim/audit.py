"""The audit log: one JSON line per write request (POST, PUT, PATCH, DELETE) on the logger
``mapper.audit``, with the time, the client's label, the method, the object type, the anchor, the
outcome (HTTP status) and the duration in milliseconds. It never holds attribute values nor tokens:
the record has no field that could carry one. A write that left out references to objects that
do not exist (``on missing drop``) adds ``dropped``: the attribute path and id of each (ids are
identifiers, not values). A write refused for want of a valid token is logged
too (client and type null), so failed attempts show up next to the writes.

:class:`AuditLog` writes the line when the front door (:mod:`mapper.scim.front`) sends a write's
answer; reads pay a single set look-up there. Handlers name what they touched with :func:`note`.
Under ``mapper serve``'s own logging set-up the line is written without ``logging``'s record
(:class:`mapper.scim.logs.LinesAtOnce`: the same bytes, a third of the CPU).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import dataclass, field

import orjson
from starlette.types import Scope

from mapper.scim.auth import CLIENT_KEY
from mapper.scim.logs import MILLIS, LinesAtOnce

AUDIT_LOGGER = "mapper.audit"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
RECORD_KEY = "mapper.audit"


@dataclass
class AuditRecord:
    """What one write touched, made by the handler's first :func:`note`."""

    object_type: str | None = None
    anchor: str | None = None
    dropped: list[tuple[str, str]] = field(default_factory=list)  # (path, id) of left-out references


def note_dropped(scope: Scope, path: str, id: str) -> None:
    """Tell the audit log that the current request left out a reference to ``id`` at ``path``."""
    _record(scope).dropped.append((path, id))


def note(scope: Scope, object_type: str, anchor: str | None = None) -> None:
    """Tell the audit log which object type and anchor the current request writes."""
    record = _record(scope)
    record.object_type = object_type
    if anchor is not None:
        record.anchor = anchor


def _record(scope: Scope) -> AuditRecord:
    record: AuditRecord | None = scope.get(RECORD_KEY)
    if record is None:
        record = scope[RECORD_KEY] = AuditRecord()
    return record


def audit_line(
    *, time: str, client: str | None, method: str, record: AuditRecord, status: int, duration_ms: float
) -> dict[str, object]:
    """The fields of one write's JSON line, in the line's order."""
    line: dict[str, object] = {
        "time": time,
        "client": client,
        "method": method,
        "type": record.object_type,
        "anchor": record.anchor,
        "status": status,
        "ms": round(duration_ms, 1),
    }
    if record.dropped:
        line["dropped"] = [{"path": path, "id": id} for path, id in record.dropped]
    return line


class AuditTrail:
    """The last ``size`` audit lines, newest last, for the status page: a bounded ring buffer
    (the log is where the history is kept)."""

    def __init__(self, size: int = 50) -> None:
        self.lines: deque[bytes] = deque(maxlen=size)

    def append(self, line: bytes) -> None:
        self.lines.append(line)

    def recent(self) -> list[dict[str, object]]:
        """The lines kept, newest first, as dicts."""
        return [orjson.loads(line) for line in reversed(self.lines)]


class AuditLog:
    """Writes an audit line for each write request, whatever its outcome; keeps the last ones in
    ``trail`` when given."""

    def __init__(self, logger: logging.Logger | None = None, trail: AuditTrail | None = None) -> None:
        self.logger = logger or logging.getLogger(AUDIT_LOGGER)
        self.trail = trail
        self.at_once = LinesAtOnce(self.logger)
        self._second: tuple[int, str] = (-1, "")  # the line's time to the second, made once a second

    def write(self, scope: Scope, status: int, seconds: float) -> None:
        """The line of the write request ``scope``, answered with ``status`` after ``seconds``: one
        a handler noted, or one refused a token."""
        record: AuditRecord | None = scope.get(RECORD_KEY)
        if record is None or record.object_type is None:
            if status != 401:  # a rejected token is audited too
                return
            record = record or AuditRecord()
        logged = self.logger.isEnabledFor(logging.INFO)
        if logged or self.trail is not None:
            at = time.time()
            fields = audit_line(
                time=self._time(at),
                client=scope.get(CLIENT_KEY),
                method=scope["method"],
                record=record,
                status=status,
                duration_ms=seconds * 1000,
            )
            line = orjson.dumps(fields)
            if self.trail is not None:
                self.trail.append(line)
            if logged:
                message = line.decode()
                if not self.at_once.write(message, fields, at):  # another set-up: through logging
                    self.logger.info(message)

    def _time(self, at: float) -> str:
        """The instant ``at`` (``time.time()``) in UTC as ``datetime.isoformat(timespec=
        "milliseconds")`` writes it (``2026-12-06T19:20:51.821+00:00``), the second's text made
        once a second."""
        second = int(at)
        made, text = self._second
        if made != second:
            text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = (second, text)
        return f"{text}.{MILLIS[int((at - second) * 1000)]}+00:00"
