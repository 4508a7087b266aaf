"""Log lines as JSON (``mapper serve --log-format json``): one object per line with ``time``
(UTC, ISO 8601), ``level``, ``logger`` and ``message``, plus ``exception`` (the formatted
traceback) when there is one. An audit line (logger ``mapper.audit``, already a JSON object) is
not quoted inside ``message``: its fields are the line's own, after ``level`` and ``logger``, so a
log pipeline can filter on ``status`` or ``client`` directly."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import orjson

AUDIT_LOGGER = "mapper.audit"  # mapper.scim.audit's logger (not imported: it pulls in Starlette)


class JsonFormatter(logging.Formatter):
    """``process``: each line has the process id too (``--workers``)."""

    def __init__(self, process: bool = False) -> None:
        super().__init__()
        self.process = process

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
        }
        if self.process:
            line["process"] = record.process
        audit = _object(message) if record.name == AUDIT_LOGGER else None
        if audit is not None:
            line.update(audit)
        else:
            line["message"] = message
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def _object(text: str) -> dict[str, Any] | None:
    if not text.startswith("{"):
        return None
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None
