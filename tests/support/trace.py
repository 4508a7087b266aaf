"""Following a request through the code: which ``mapper/`` files it crosses, and how often it
comes back to one (issue #12: "following a PATCH request through the code crosses each file at
most twice").

:class:`FileTrace` profiles every thread (the event loop's and the worker threads it starts) while
it is :meth:`FileTrace.on`, and keeps each ``mapper/`` function in the order of its first call:
the order in which a reader following the request meets the code. Consecutive functions of one
file are one *stop*; :meth:`FileTrace.visits` counts the stops per file, so a file the reader
leaves and comes back to counts twice, and a loop calling the same helpers again adds nothing.
"""

from __future__ import annotations

import sys
import threading
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Any

PACKAGE = Path(__file__).resolve().parents[2] / "mapper"


class FileTrace:
    """Records the first call of every ``mapper/`` function while on (see the module docstring).
    Use it as a context manager around the client's lifespan, and :meth:`on` around the request."""

    def __init__(self) -> None:
        self.active = False
        self.seen: set[tuple[str, str]] = set()
        self.order: list[tuple[str, str]] = []  # (file relative to mapper/, function), first call first
        self._prefix = str(PACKAGE) + "/"

    def _profile(self, frame: FrameType, event: str, arg: Any) -> None:
        if event != "call" or not self.active:
            return
        path = frame.f_code.co_filename
        if not path.startswith(self._prefix):
            return
        key = (path[len(self._prefix) :], frame.f_code.co_qualname)
        if key not in self.seen:
            self.seen.add(key)
            self.order.append(key)

    def __enter__(self) -> FileTrace:
        threading.setprofile(self._profile)  # worker threads started from now on
        sys.setprofile(self._profile)
        return self

    def __exit__(self, *exc: object) -> None:
        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type]

    def on(self) -> _Switch:
        return _Switch(self)

    def stops(self) -> list[str]:
        """The files in the order the request meets them, consecutive repeats merged."""
        out: list[str] = []
        for file, _ in self.order:
            if not out or out[-1] != file:
                out.append(file)
        return out

    def visits(self) -> Counter[str]:
        """How many separate stops the request makes in each file."""
        return Counter(self.stops())

    def summary(self) -> str:
        stops = self.stops()
        returns = len(stops) - len(set(stops))
        lines = [
            f"{len(stops)} stops ({returns} back in a file already visited), {len(self.order)} functions"
        ]
        lines += [f"  {count}  {file}" for file, count in self.visits().most_common()]
        return "\n".join(lines)


class _Switch:
    def __init__(self, trace: FileTrace) -> None:
        self.trace = trace

    def __enter__(self) -> None:
        self.trace.active = True

    def __exit__(self, *exc: object) -> None:
        self.trace.active = False
