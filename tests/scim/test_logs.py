"""``--log-format json``: every log line is one JSON object; an audit line's fields are its own."""

from __future__ import annotations

import io
import json
import logging
import sys

from mapper.scim.logs import JsonFormatter


def formatted(logger: str, message: str, *args: object, exc_info: bool = False) -> dict[str, object]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger(logger)
    log.addHandler(handler)
    log.propagate = False
    try:
        if exc_info:
            try:
                raise ValueError("boom")
            except ValueError:
                log.error(message, *args, exc_info=True)
        else:
            log.warning(message, *args)
    finally:
        log.removeHandler(handler)
        log.propagate = True
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1  # one line per record, even with a traceback
    parsed = json.loads(lines[0])
    assert isinstance(parsed, dict)
    return parsed


def test_a_line_is_one_json_object_with_time_level_logger_and_message() -> None:
    line = formatted("mapper.test", "sync of %s failed: %s", "User", 'a "quoted"\nvalue')
    assert line["level"] == "WARNING" and line["logger"] == "mapper.test"
    assert line["message"] == 'sync of User failed: a "quoted"\nvalue'
    assert str(line["time"]).endswith("+00:00")


def test_a_traceback_stays_inside_the_line() -> None:
    line = formatted("mapper.test", "failed", exc_info=True)
    assert "ValueError: boom" in str(line["exception"]) and line["message"] == "failed"


def test_an_audit_line_is_not_quoted_inside_message() -> None:
    audit = '{"time":"t","client":"entra","method":"PATCH","type":"User","anchor":"7","status":200,"ms":1.8}'
    line = formatted("mapper.audit", audit)
    assert line["client"] == "entra" and line["status"] == 200 and "message" not in line
    assert line["logger"] == "mapper.audit"
    not_json = formatted("mapper.audit", "{not json")
    assert not_json["message"] == "{not json"


def test_json_output_survives_what_json_cannot_hold() -> None:
    line = formatted("mapper.test", "%s", sys.version_info)
    assert "major" in str(line["message"])
