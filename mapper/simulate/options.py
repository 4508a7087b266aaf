"""``mapper simulate``'s command-line arguments and their validation.

Nothing here opens a socket or a database: :func:`add_simulate_arguments` declares the arguments,
:func:`options_from_args` turns them into a frozen :class:`SimulateOptions`, and
:func:`mapper.simulate.runner.run` does the work.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from mapper.plan import DIALECTS

MODES = ("flag", "noflag", "both")
FORMATS = ("text", "json")
DEFAULT_TOKEN_ENV = "MAPPER_TOKEN"  # noqa: S105 - the name of a variable, not a secret


@dataclass(frozen=True)
class SimulateOptions:
    """``target`` is a mapping file, or the SCIM root URL of a running gateway."""

    target: str
    mode: str = "both"
    format: str = "text"
    token_env: str = DEFAULT_TOKEN_ENV
    token_file: str | None = None
    create_schema: tuple[str, ...] = ()
    dialect: str | None = None
    timeout: float = 30.0

    @property
    def is_url(self) -> bool:
        return self.target.lower().startswith(("http://", "https://"))

    @property
    def modes(self) -> tuple[str, ...]:
        """The modes to run, in order: without Entra's ``aadOptscim062020`` flag, then with it."""
        return ("noflag", "flag") if self.mode == "both" else (self.mode,)


def add_simulate_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare ``mapper simulate``'s arguments on ``parser``."""
    parser.add_argument(
        "target",
        metavar="MAPPING|URL",
        help="a mapping file (the gateway is started in-process on its database), "
        "or the SCIM root URL of a running gateway (https://host/scim/v2)",
    )
    parser.add_argument(
        "--mode",
        choices=MODES,
        default="both",
        help="request shapes: Entra with the aadOptscim062020 flag, without it, or both (default)",
    )
    parser.add_argument("--format", choices=FORMATS, default="text", help="report format (default text)")
    parser.add_argument(
        "--token-env",
        default=DEFAULT_TOKEN_ENV,
        metavar="VAR",
        help="URL targets: the environment variable holding the bearer token (default MAPPER_TOKEN; "
        "a 'label:token' entry, as the gateway reads it, is accepted)",
    )
    parser.add_argument("--token-file", metavar="FILE", help="URL targets: read the bearer token from FILE")
    parser.add_argument(
        "--create-schema",
        action="append",
        default=[],
        metavar="SQL_FILE",
        help="MAPPING targets, SQLite only: create the database from this DDL file when it does not "
        "exist yet (repeatable), as mapper serve does",
    )
    parser.add_argument(
        "--dialect", choices=DIALECTS, help="MAPPING targets: override every source's dialect"
    )
    parser.add_argument(
        "--timeout", type=float, default=30.0, help="seconds to wait for each response (default 30)"
    )


def options_from_args(args: argparse.Namespace) -> SimulateOptions:
    return SimulateOptions(
        target=args.target,
        mode=args.mode,
        format=args.format,
        token_env=args.token_env,
        token_file=args.token_file,
        create_schema=tuple(args.create_schema),
        dialect=args.dialect,
        timeout=args.timeout,
    )
