"""``--log-format json``: every log line is one JSON object; an audit line's fields are its own."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator

import pytest

from mapper.scim.logs import JsonFormatter, LinesAtOnce
from mapper.scim.server import configure_logging


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


@pytest.fixture
def configured() -> Iterator[Callable[..., list[str]]]:
    """``configure_logging`` as ``mapper serve`` calls it, then one line per format through it;
    the root logger and ``logging``'s switches are put back afterwards."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, logging.getLogger("mapper.audit").level)
    switches = ("_srcfile", "logThreads", "logMultiprocessing", "logProcesses")
    flags = {name: getattr(logging, name) for name in switches}

    def lines(format: str, *, process: bool) -> list[str]:
        configure_logging("info", format, process=process)
        stream = io.StringIO()
        with contextlib.redirect_stderr(stream):  # the handler writes to sys.stderr as it is now
            logging.getLogger("mapper.test").warning("hello")
        return stream.getvalue().splitlines()

    try:
        yield lines
    finally:
        root.handlers[:], _, audit = saved
        root.setLevel(saved[1])
        logging.getLogger("mapper.audit").setLevel(audit)
        for name, value in flags.items():
            setattr(logging, name, value)


def test_with_workers_each_line_names_its_process(configured: Callable[..., list[str]]) -> None:
    """``--workers``: the lines of several processes interleave, so each names its process id,
    in both formats (logging is told not to collect what no format shows: not this)."""
    (text,) = configured("text", process=True)
    assert f"[{os.getpid()}] mapper.test: hello" in text
    (line,) = configured("json", process=True)
    assert json.loads(line)["process"] == os.getpid()
    (single,) = configured("text", process=False)
    assert single.endswith(" WARNING mapper.test: hello") and str(os.getpid()) not in single


def _audit_through(handler_filter: bool, monkeypatch: pytest.MonkeyPatch, at: float = 1765049451.8219) -> str:
    """One audit line (with a dropped reference) as ``mapper serve``'s set-up writes it to stderr,
    at a fixed time: the audit log's own way, or through ``logging`` (a handler's filter
    that lets everything through makes it take that way)."""
    from mapper.scim.audit import RECORD_KEY, AuditLog, AuditRecord
    from mapper.scim.auth import CLIENT_KEY

    monkeypatch.setattr(time, "time", lambda: at)  # logging's records read it too
    (handler,) = logging.getLogger().handlers
    passes = logging.Filter()
    if handler_filter:
        handler.addFilter(passes)
    record = AuditRecord("User", "12345", [("manager.value", "77")])
    stream = io.StringIO()
    try:
        with contextlib.redirect_stderr(stream):
            AuditLog().write({"method": "PATCH", RECORD_KEY: record, CLIENT_KEY: "entra"}, 200, 0.00345)
    finally:
        handler.removeFilter(passes)
    return stream.getvalue()


@pytest.mark.parametrize("format", ["text", "json"])
@pytest.mark.parametrize("process", [False, True])
def test_an_audit_line_written_at_once_is_the_line_logging_writes(
    configured: Callable[..., list[str]], monkeypatch: pytest.MonkeyPatch, format: str, process: bool
) -> None:
    """Under ``mapper serve``'s set-up an audit line skips ``logging``'s record, formatter and
    handler calls (a third of their CPU); the bytes on stderr are the same, in both formats."""
    configured(format, process=process)
    at_once = _audit_through(False, monkeypatch)
    assert at_once == _audit_through(True, monkeypatch)
    assert at_once.count("\n") == 1 and '"dropped":[{"path":"manager.value","id":"77"}]' in at_once
    if format == "text":
        assert at_once.startswith(time.strftime("%Y-%m-%d %H:%M:%S,821 INFO ", time.localtime(1765049451)))
    assert "2025-12-06T19:30:51.821+00:00" in at_once


@pytest.mark.parametrize("format", ["text", "json"])
@pytest.mark.parametrize("process", [False, True])
@pytest.mark.parametrize(
    "at", [1765049451.0, 1765049451.0004, 1765049451.5, 1765049451.9995, 1765049451.9999999, 1700000000.123]
)
def test_an_audit_line_s_time_is_logging_s_at_every_millisecond_edge(
    configured: Callable[..., list[str]],
    monkeypatch: pytest.MonkeyPatch,
    format: str,
    process: bool,
    at: float,
) -> None:
    """The line's two times (the text format's ``asctime`` and the audit's own ``time``), whose
    milliseconds the audit log looks up rather than formats, are the texts ``logging`` makes, at
    a second's first and last millisecond and between."""
    configured(format, process=process)
    at_once = _audit_through(False, monkeypatch, at)
    assert at_once == _audit_through(True, monkeypatch, at)
    milli = f"{int((at - int(at)) * 1000):03d}"
    assert f'"time":"{time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(at)))}.{milli}+00:00"' in at_once
    if format == "text":
        assert at_once.startswith(
            f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(int(at)))},{milli} INFO "
        )


def test_an_audit_line_takes_logging_s_way_under_any_other_set_up(
    configured: Callable[..., list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Anything else a record would meet (another handler, a filter, another formatter, a
    disabled logger) is ``logging``'s to apply: the line goes through it."""
    configured("text", process=False)
    (handler,) = logging.getLogger().handlers
    audit = logging.getLogger("mapper.audit")
    at_once = LinesAtOnce(audit)
    with contextlib.redirect_stderr(io.StringIO()):
        assert at_once.write("{}", {}, 0.0) is True
    extra = logging.NullHandler()
    audit.addHandler(extra)
    try:
        assert at_once.write("{}", {}, 0.0) is False
    finally:
        audit.removeHandler(extra)
    audit.addFilter(logging.Filter("nothing"))
    try:
        assert at_once.write("{}", {}, 0.0) is False
    finally:
        audit.filters.clear()
    formatter = handler.formatter
    handler.setFormatter(logging.Formatter("%(message)s"))
    try:
        assert at_once.write("{}", {}, 0.0) is False
    finally:
        handler.setFormatter(formatter)
    audit.disabled = True
    try:
        assert at_once.write("{}", {}, 0.0) is False
    finally:
        audit.disabled = False


class _Writes(io.StringIO):
    """A stream that keeps each ``write`` apart."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return super().write(text)


def test_the_audit_lines_of_one_event_loop_tick_are_written_together_in_order(
    configured: Callable[..., list[str]],
) -> None:
    """On the event loop the lines a tick made (a batch of writes answered together) go to
    stderr in one write at the tick's end, in their order: one system call, not one per line."""
    import asyncio

    configured("json", process=False)
    at_once = LinesAtOnce(logging.getLogger("mapper.audit"))
    stream = _Writes()

    async def tick() -> list[str]:
        for i in range(3):
            assert at_once.write("{}", {"time": "t", "n": i}, 0.0) is True
        held = list(stream.writes)  # nothing yet: the tick has not ended
        await asyncio.sleep(0)
        return held

    with contextlib.redirect_stderr(stream):
        assert asyncio.run(tick()) == []
    (written,) = stream.writes
    assert [json.loads(line)["n"] for line in written.splitlines()] == [0, 1, 2]


def test_audit_lines_held_when_the_event_loop_stops_are_written_at_exit(tmp_path: object) -> None:
    """Lines made in the loop's last tick, whose end never came, are not lost: they are written
    when the process exits."""
    import subprocess

    program = (
        "import asyncio, logging\n"
        "from mapper.scim.logs import LinesAtOnce\n"
        "from mapper.scim.server import configure_logging\n"
        "configure_logging('warning')\n"
        "at_once = LinesAtOnce(logging.getLogger('mapper.audit'))\n"
        "loop = asyncio.new_event_loop()\n"
        "def last():\n"
        "    at_once.write('{\"n\":1}', {}, 0.0)\n"
        "    loop.stop()\n"
        "loop.call_soon(last)\n"
        "loop.run_forever()\n"
        "loop.close()\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    assert done.stderr.endswith(' INFO mapper.audit: {"n":1}\n')
