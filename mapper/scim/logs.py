"""Log lines as JSON (``mapper serve --log-format json``): one object per line with ``time``
(UTC, ISO 8601), ``level``, ``logger`` and ``message``, plus ``exception`` (the formatted
traceback) when there is one. An audit line (logger ``mapper.audit``, already a JSON object) is
not quoted inside ``message``: its fields are the line's own, after ``level`` and ``logger``, so a
log pipeline can filter on ``status`` or ``client`` directly.

:class:`LinesAtOnce` writes an INFO line as the handler :func:`~mapper.scim.server.configure_logging`
installs would, without ``logging``'s record: the audit log's way on every write
(:mod:`mapper.scim.audit`). Any other set-up (a handler added, a filter, another formatter) goes
through ``logging`` as before."""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import sys
import time
import weakref
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

AUDIT_LOGGER = "mapper.audit"  # mapper.scim.audit's logger (not imported: it pulls in Starlette)
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
TEXT_FORMAT_PROCESS = "%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s"
_TEXT_FORMATS = (TEXT_FORMAT, TEXT_FORMAT_PROCESS)
#: ``MILLIS[n]`` is ``f"{n:03d}"``: the milliseconds of a line's time, ``int((t - int(t)) * 1000)``,
#: without formatting an int per line (0 to 999; 1000 too, should a product ever round up to it)
MILLIS = tuple(f"{milli:03d}" for milli in range(1001))
#: the most lines :class:`LinesAtOnce` holds for the end of an event loop's tick (a tick ends a
#: batch of writes, at most 64 on one database); more are written at once
MAX_HELD = 256


class StderrHandler(logging.StreamHandler):
    """Writes to ``sys.stderr`` as it is at each record, not as it was when configured (as
    logging's own last-resort handler does): a test that swapped stderr may have closed it."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


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


class _Stamp:
    """What ``Formatter.formatTime`` reads of a record: its creation time."""

    __slots__ = ("created", "msecs")

    def __init__(self, created: float) -> None:
        self.created = created
        self.msecs = int((created - int(created)) * 1000) + 0.0  # as LogRecord (gh-89047)


def _sole_handler(logger: logging.Logger) -> StderrHandler | None:
    """The one handler an INFO record of ``logger`` reaches, when it is a :class:`StderrHandler`
    with one of :func:`~mapper.scim.server.configure_logging`'s formatters and nothing on the way
    filters (what ``Logger.handle`` and ``callHandlers`` would apply); else None."""
    if logger.disabled or logger.filters:
        return None
    found: logging.Handler | None = None
    current: logging.Logger | None = logger
    while current is not None:
        for handler in current.handlers:
            if found is not None:
                return None
            found = handler
        if not current.propagate:
            break
        current = current.parent
    if type(found) is not StderrHandler or found.filters or found.level > logging.INFO:
        return None
    formatter = found.formatter
    if type(formatter) is JsonFormatter:
        return found
    if (
        type(formatter) is logging.Formatter
        and type(formatter._style) is logging.PercentStyle
        and formatter._style._fmt in _TEXT_FORMATS
        and formatter.datefmt is None
    ):
        return found
    return None


class LinesAtOnce:
    """Writes ``logger``'s INFO lines as the handler :func:`~mapper.scim.server.configure_logging`
    installs would, without ``logging``'s record: the same bytes to the same stream under the
    handler's lock, at about a third of the CPU (the audit log's way on every write,
    :mod:`mapper.scim.audit`). On an event loop the lines of one tick (a batch of writes answered
    together) are held and written in one call at the tick's end, in their order; any held when
    the process exits are written then (docs/decisions.md). Any other set-up (a handler added, a
    filter, another formatter, a disabled logger) is left to ``logging``: :meth:`write` then
    says so."""

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger
        #: the text time's second as the formatter writes it, made once a second:
        #: ((converter, format, second), text), replaced as a whole
        self._second: tuple[tuple[Any, str, int], str] = ((None, "", -1), "")
        #: lines made in the event loop's current tick, not yet written: (handler, text, message)
        self._pending: list[tuple[StderrHandler, str, str]] = []

    def write(self, message: str, fields: Mapping[str, Any], at: float) -> bool:
        """Write ``message`` (a JSON object's text, whose ``fields`` are given too, ``time``
        among them for the audit logger) made at ``at`` (``time.time()``); False when the
        set-up is not ``mapper serve``'s and the caller is to log it through ``logging``. The
        caller has checked that the logger is enabled for INFO."""
        logger = self.logger
        handler = _sole_handler(logger)
        if handler is None:
            return False
        formatter = handler.formatter
        if type(formatter) is JsonFormatter:
            audit = logger.name == AUDIT_LOGGER and "time" in fields
            line: dict[str, Any] = {
                "time": fields["time"] if audit else _iso_millis(at),
                "level": "INFO",
                "logger": logger.name,
            }
            if formatter.process:
                line["process"] = os.getpid()
            if audit:
                line.update(fields)
            else:
                line["message"] = message
            text = orjson.dumps(line, default=str).decode()
        else:
            assert formatter is not None
            # the format's own text, written out (its ``%`` of a dict was a sixth of the line's CPU)
            if formatter._style._fmt == TEXT_FORMAT:
                text = f"{self._asctime(formatter, at)} INFO {logger.name}: {message}"
            else:  # TEXT_FORMAT_PROCESS (os.getpid is a system call: only for this format)
                text = f"{self._asctime(formatter, at)} INFO [{os.getpid()}] {logger.name}: {message}"
        text += handler.terminator
        pending = self._pending
        if pending:
            if pending[0][0] is handler and len(pending) < MAX_HELD:  # written together at the tick's end
                pending.append((handler, text, message))
                return True
            self.flush()  # another handler since: what came before goes first
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop: at once
            self._write(handler, [text], message)
            return True
        self._pending = [(handler, text, message)]
        _waiting.add(self)
        loop.call_soon(self.flush)
        return True

    def flush(self) -> None:
        """Write the lines still held (at the end of the event loop's tick that made them, at
        exit for any the loop left), in their order, in one write."""
        pending, self._pending = self._pending, []
        _waiting.discard(self)
        if pending:
            handler, _text, message = pending[0]
            self._write(handler, [text for _handler, text, _message in pending], message)

    def _write(self, handler: StderrHandler, texts: list[str], message: str) -> None:
        with handler.lock:  # type: ignore[union-attr]
            try:
                stream = handler.stream
                stream.write(texts[0] if len(texts) == 1 else "".join(texts))
                stream.flush()
            except RecursionError:
                raise
            except Exception:
                logger = self.logger
                handler.handleError(logger.makeRecord(logger.name, logging.INFO, "", 0, message, (), None))

    def _asctime(self, formatter: logging.Formatter, at: float) -> str:
        """``formatter.formatTime`` of a record made at ``at``; where the converter is one of
        ``time``'s, only the whole second counts, and its text is made once a second."""
        converter = formatter.converter
        if converter is not time.localtime and converter is not time.gmtime:
            return formatter.formatTime(_Stamp(at))  # type: ignore[arg-type]  # it reads only the time
        second = int(at)
        key = (converter, formatter.default_time_format, second)
        made, text = self._second
        if made != key:
            text = time.strftime(formatter.default_time_format, converter(second))
            self._second = (key, text)
        msec_format = formatter.default_msec_format
        if msec_format == "%s,%03d":  # logging's own: the milliseconds' text looked up
            return f"{text},{MILLIS[int((at - second) * 1000)]}"
        if msec_format:
            return msec_format % (text, int((at - second) * 1000) + 0.0)
        return text


#: the writers holding lines (weakly: an app that is gone holds none), flushed at exit should
#: the event loop stop before the tick's end
_waiting: weakref.WeakSet[LinesAtOnce] = weakref.WeakSet()


@atexit.register
def _flush_all() -> None:
    for writer in list(_waiting):
        writer.flush()


def _iso_millis(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds")
