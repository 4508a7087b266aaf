"""The ``mapper`` command line: a thin layer over the library.

Each subcommand is a ``register`` function that adds its parser and sets ``run``; ``COMMANDS``
lists them. ``lint``, ``compile``, ``serve`` and ``simulate`` read a mapping through the one load
pipeline, ``mapper.pipeline``. Exit codes: ``EXIT_OK`` (0) clean, ``EXIT_ERRORS`` (1) problems
found, ``EXIT_USAGE`` (2) bad usage or an I/O failure; ``serve`` adds its own (``EXIT_LISTEN``,
``EXIT_DATABASE``...), all listed in docs/gateway.md.

One module per kind of command: :mod:`~mapper.cli.mappings` (lint, compile, fmt,
coherence-ddl), :mod:`~mapper.cli.serving` (serve), :mod:`~mapper.cli.tools` (init, simulate,
lsp), and :mod:`~mapper.cli.common` for the exit codes and what they share. The gateway's modules
(Starlette, uvicorn, database drivers) are imported only by the commands that need them, so
``mapper lint`` runs with no driver and no server.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from mapper.cli.common import (
    EXIT_DATABASE,
    EXIT_ERRORS,
    EXIT_INTERRUPTED,
    EXIT_LISTEN,
    EXIT_OK,
    EXIT_STARTUP,
    EXIT_USAGE,
    Register,
    fail,
)
from mapper.cli.mappings import register_coherence_ddl, register_compile, register_fmt, register_lint
from mapper.cli.serving import register_serve, serve
from mapper.cli.tools import register_init, register_lsp, register_simulate
from mapper.errors import MapperError
from mapper.lint.render import tool_version

__all__ = [
    "COMMANDS",
    "EXIT_DATABASE",
    "EXIT_ERRORS",
    "EXIT_INTERRUPTED",
    "EXIT_LISTEN",
    "EXIT_OK",
    "EXIT_STARTUP",
    "EXIT_USAGE",
    "build_parser",
    "main",
    "serve",
]

COMMANDS: tuple[Register, ...] = (
    register_lint,
    register_compile,
    register_fmt,
    register_init,
    register_serve,
    register_simulate,
    register_lsp,
    register_coherence_ddl,
)


def build_parser(commands: Sequence[Register] = COMMANDS) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mapper",
        description="A SCIM 2.0 provisioning gateway for SQL databases, driven by a mapping file.",
    )
    parser.add_argument("-V", "--version", action="version", version=f"%(prog)s {tool_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for register in commands:
        register(subparsers)
    return parser


# 128 + SIGPIPE: what a shell reports for a tool that a closed pipe stopped (``mapper ... | head``)
EXIT_BROKEN_PIPE = 141


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args)
        sys.stdout.flush()  # here, not at interpreter exit, where a closed pipe is a traceback
    except MapperError as exc:
        return fail(str(exc))
    except BrokenPipeError:
        # The reader stopped early (``| head``): nothing is wrong, and nothing more can be printed.
        # Point stdout at /dev/null so the interpreter's final flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EXIT_BROKEN_PIPE
    return code
