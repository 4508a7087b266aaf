"""What every command of the ``mapper`` command line shares: the exit codes (all of them, those of
``serve`` too, are listed in docs/gateway.md and docs/diagnostics.md), the register hook, and
the two ways a command complains on stderr."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

from mapper.diagnostics import Diagnostic
from mapper.lint import render

EXIT_OK = 0
EXIT_ERRORS = 1
EXIT_USAGE = 2
EXIT_STARTUP = 3  # uvicorn's own STARTUP_FAILURE: the app's start failed otherwise (see the log)
EXIT_LISTEN = 4  # serve: the port cannot be listened on (in use, not this host's address)
EXIT_DATABASE = 5  # serve: a database refuses the configuration, or the import query its schema
EXIT_INTERRUPTED = 130  # serve: stopped by Ctrl-C (SIGINT), after a clean shutdown

Subparsers = Any  # argparse's _SubParsersAction, which is private
#: a command: adds its parser to the subparsers and sets ``run`` (``args -> exit code``)
Register = Callable[[Subparsers], None]


def fail(message: str) -> int:
    """``message`` on stderr; the usage exit code."""
    print(f"mapper: {message}", file=sys.stderr)
    return EXIT_USAGE


def report(diagnostics: Sequence[Diagnostic], sources: dict[str, str]) -> None:
    """Diagnostics on stderr in text form, for commands whose stdout is their product."""
    if diagnostics:
        sys.stderr.write(render(diagnostics, "text", sources))
