"""What the gateway is told at start-up: :class:`ServeOptions` (everything ``mapper serve`` accepts)
and :class:`Settings` (the part the HTTP app needs). Both are frozen; nothing here reads the
environment except :func:`options_from_args`, and nothing here opens a socket or a database."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the CLI imports this module to declare arguments: it must not pull in Starlette
    from mapper.scim.auth import Credential

DEFAULT_BASE_PATH = "/scim/v2"
DEFAULT_MAX_BODY_BYTES = 1024 * 1024  # 1 MiB: a group PUT with ~10,000 members still fits
DEFAULT_MAX_RESULTS = (
    1000  # the most resources one list response carries (ServiceProviderConfig filter.maxResults)
)
DEFAULT_MAX_FILTER_LENGTH = 8192  # characters of a filter (Entra's are under 200)
DEFAULT_MAX_FILTER_DEPTH = 64  # open parentheses/brackets plus and/or/not operators in one filter
DEFAULT_MAX_PATCH_OPERATIONS = 1000  # operations in one PATCH (members come as lists in one op)
DEFAULT_HEADER_TIMEOUT = 10.0  # seconds from a request's first byte to the end of its headers
DEFAULT_BODY_TIMEOUT = 30.0  # seconds to receive a whole request body (1 MiB at ~35 KB/s)
DEFAULT_KEEP_ALIVE_TIMEOUT = 5.0  # seconds an idle keep-alive connection stays open (uvicorn's)
DEFAULT_MAX_CONNECTIONS = 1000  # open connections (and requests in flight) before 503s (uvicorn's)
DEFAULT_MAX_HEADER_BYTES = 64 * 1024  # request line and headers of one request
DIALECTS = ("sqlite", "postgres", "mysql", "tsql", "oracle")
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
COHERENCE_MODES = ("auto", "notify", "changelog", "off")  # mapper.runtime.coherence.MODES


@dataclass(frozen=True)
class Settings:
    """What :func:`mapper.scim.app.build_app` needs besides the plan.

    ``credentials`` are the accepted bearer tokens with their client labels; the app refuses none
    of them at build time, but :func:`mapper.cli.serve` refuses to start with none unless
    ``insecure_no_auth``. ``environ``, the intervals and ``autosync`` are handed to the runtime's
    Gateway (``environ`` holds the database URLs)."""

    base_path: str = DEFAULT_BASE_PATH
    credentials: tuple[Credential, ...] = ()
    insecure_no_auth: bool = False
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_results: int = DEFAULT_MAX_RESULTS
    max_filter_length: int = DEFAULT_MAX_FILTER_LENGTH
    max_filter_depth: int = DEFAULT_MAX_FILTER_DEPTH
    max_patch_operations: int = DEFAULT_MAX_PATCH_OPERATIONS
    body_timeout: float = DEFAULT_BODY_TIMEOUT  # the front door answers 408 after it
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    delta_interval: float | None = None  # seconds between delta syncs; None: the runtime's default
    full_interval: float | None = None  # seconds between full imports; None: the runtime's default
    autosync: bool = True
    # bounded waits on the databases, seconds (mapper.runtime.database.Timeouts); None: its default
    connect_timeout: float | None = None
    statement_timeout: float | None = None
    sync_timeout: float | None = None
    pool_timeout: float | None = None
    strict: bool = False  # PATCH of an unmapped attribute: 400 invalidPath instead of ignored
    # other gateway processes' writes (mapper.runtime.coherence.MODES); `mapper serve` passes its
    # --coherence (default auto), an app built without it (tests, embedding) listens to nobody
    coherence: str = "off"

    def __post_init__(self) -> None:
        path = "/" + self.base_path.strip("/") if self.base_path.strip("/") else ""
        object.__setattr__(self, "base_path", path)


@dataclass(frozen=True)
class ServeOptions:
    """Everything ``mapper serve`` accepts. ``tokens`` are ``label:token`` or bare tokens as given
    on the command line or in ``MAPPER_TOKEN``; ``token_file`` holds one per line."""

    mapping: str
    host: str = "127.0.0.1"
    port: int = 8080
    base_path: str = DEFAULT_BASE_PATH
    tokens: tuple[str, ...] = ()
    token_file: str | None = None
    insecure_no_auth: bool = False
    certfile: str | None = None
    keyfile: str | None = None
    create_schema: tuple[str, ...] = ()
    seed: tuple[str, ...] = ()
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_results: int = DEFAULT_MAX_RESULTS
    max_filter_length: int = DEFAULT_MAX_FILTER_LENGTH
    max_filter_depth: int = DEFAULT_MAX_FILTER_DEPTH
    max_patch_operations: int = DEFAULT_MAX_PATCH_OPERATIONS
    header_timeout: float = DEFAULT_HEADER_TIMEOUT
    body_timeout: float = DEFAULT_BODY_TIMEOUT
    keep_alive_timeout: float = DEFAULT_KEEP_ALIVE_TIMEOUT
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES
    delta_interval: float | None = None  # seconds between delta syncs; None: the runtime's default
    full_interval: float | None = None  # seconds between full imports; None: the runtime's default
    log_level: str = "info"
    dialect: str | None = None  # overrides every source's dialect (as ``mapper compile --dialect``)
    strict: bool = False
    connect_timeout: float | None = None  # seconds; None: the runtime's default (Timeouts)
    statement_timeout: float | None = None
    sync_timeout: float | None = None
    pool_timeout: float | None = None
    coherence: str = "auto"  # mapper.runtime.coherence.MODES
    workers: int = 1  # uvicorn worker processes, each a gateway of its own


def _positive_int(text: str) -> int:
    """A limit given on the command line: a whole number of at least 1 (0 would refuse everything)."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _positive_float(text: str) -> float:
    """A timeout given on the command line: a number of seconds above 0."""
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0, not {text}")
    return value


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare ``mapper serve``'s arguments on ``parser`` (the CLI's ``serve`` sub-parser)."""
    parser.add_argument("mapping", help="the mapping file to serve")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="TCP port (default 8080)")
    parser.add_argument("--base-path", default=DEFAULT_BASE_PATH, help="SCIM root (default /scim/v2)")
    parser.add_argument(
        "--token-file",
        help="file of accepted bearer tokens, one per line, optionally 'label:token' "
        "(MAPPER_TOKEN holds the same, comma-separated)",
    )
    parser.add_argument(
        "--insecure-no-auth",
        action="store_true",
        help="serve without any bearer token (development only; logged loudly)",
    )
    parser.add_argument("--certfile", help="TLS certificate (PEM); serve HTTPS when given with --keyfile")
    parser.add_argument("--keyfile", help="TLS private key (PEM)")
    parser.add_argument(
        "--create-schema",
        action="append",
        default=[],
        metavar="SQL_FILE",
        help="SQLite only: run this DDL file first when the database is new (repeatable)",
    )
    parser.add_argument(
        "--seed",
        action="append",
        default=[],
        metavar="SQL_FILE",
        help="SQLite only: load this data file when the database is new (repeatable)",
    )
    parser.add_argument(
        "--max-body-bytes",
        type=int,
        default=DEFAULT_MAX_BODY_BYTES,
        help="largest accepted request body (default 1 MiB); larger bodies get 413",
    )
    parser.add_argument(
        "--max-results",
        type=int,
        default=DEFAULT_MAX_RESULTS,
        help="most resources in one list response (default 1000)",
    )
    parser.add_argument(
        "--max-filter-length",
        type=_positive_int,
        default=DEFAULT_MAX_FILTER_LENGTH,
        help=f"longest filter in characters (default {DEFAULT_MAX_FILTER_LENGTH}); longer ones get 400",
    )
    parser.add_argument(
        "--max-filter-depth",
        type=_positive_int,
        default=DEFAULT_MAX_FILTER_DEPTH,
        help="most levels in a filter: open parentheses or brackets plus and/or/not operators "
        f"(default {DEFAULT_MAX_FILTER_DEPTH})",
    )
    parser.add_argument(
        "--max-patch-operations",
        type=_positive_int,
        default=DEFAULT_MAX_PATCH_OPERATIONS,
        help=f"most operations in one PATCH (default {DEFAULT_MAX_PATCH_OPERATIONS}); more get 413",
    )
    parser.add_argument(
        "--header-timeout",
        type=_positive_float,
        default=DEFAULT_HEADER_TIMEOUT,
        help=f"seconds to receive a request's headers (default {DEFAULT_HEADER_TIMEOUT:g}); "
        "then the connection is closed",
    )
    parser.add_argument(
        "--body-timeout",
        type=_positive_float,
        default=DEFAULT_BODY_TIMEOUT,
        help=f"seconds to receive a request's body (default {DEFAULT_BODY_TIMEOUT:g}); then 408",
    )
    parser.add_argument(
        "--keep-alive-timeout",
        type=_positive_float,
        default=DEFAULT_KEEP_ALIVE_TIMEOUT,
        help=f"seconds an idle connection stays open (default {DEFAULT_KEEP_ALIVE_TIMEOUT:g})",
    )
    parser.add_argument(
        "--max-connections",
        type=_positive_int,
        default=DEFAULT_MAX_CONNECTIONS,
        help=f"open connections before new requests get 503 (default {DEFAULT_MAX_CONNECTIONS})",
    )
    parser.add_argument(
        "--max-header-bytes",
        type=_positive_int,
        default=DEFAULT_MAX_HEADER_BYTES,
        help="largest request line and headers (default 64 KiB); then the connection is closed",
    )
    parser.add_argument("--delta-interval", type=float, help="seconds between delta syncs")
    parser.add_argument("--full-interval", type=float, help="seconds between full imports")
    parser.add_argument("--connect-timeout", type=float, help="seconds to reach a database (default 10)")
    parser.add_argument(
        "--statement-timeout",
        type=float,
        help="seconds a request's database work or a write may take, queueing included, before "
        "it answers 503 (default 15; also the server's statement limit)",
    )
    parser.add_argument(
        "--sync-timeout", type=float, help="seconds one import (full or delta) may take (default 600)"
    )
    parser.add_argument(
        "--pool-timeout", type=float, help="seconds to wait for a pooled connection (default 10)"
    )
    parser.add_argument(
        "--coherence",
        choices=COHERENCE_MODES,
        default="auto",
        help="how several gateway processes on one database see each other's writes: notify "
        "(PostgreSQL LISTEN/NOTIFY), changelog (a polled mapper_changes table), off; auto "
        "(default): notify on PostgreSQL, changelog on SQLite and MariaDB/MySQL",
    )
    parser.add_argument(
        "--workers",
        type=_positive_int,
        default=1,
        help="worker processes sharing the port (default 1); each holds its own cache, kept "
        "coherent through --coherence",
    )
    parser.add_argument("--log-level", default="info", choices=LOG_LEVELS)
    parser.add_argument("--dialect", choices=DIALECTS, help="override every source's dialect")
    parser.add_argument(
        "--strict",
        action="store_true",
        help="answer a PATCH of an attribute the mapping does not map with 400 invalidPath "
        "instead of ignoring it (for onboarding a mapping; Entra ID expects it ignored)",
    )


def options_from_args(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> ServeOptions:
    """Build :class:`ServeOptions` from parsed arguments; tokens come from ``MAPPER_TOKEN``."""
    env = os.environ if environ is None else environ
    raw = env.get("MAPPER_TOKEN", "")
    tokens = tuple(item.strip() for item in raw.split(",") if item.strip())
    return ServeOptions(
        mapping=args.mapping,
        host=args.host,
        port=args.port,
        base_path=args.base_path,
        tokens=tokens,
        token_file=args.token_file,
        insecure_no_auth=args.insecure_no_auth,
        certfile=args.certfile,
        keyfile=args.keyfile,
        create_schema=tuple(args.create_schema),
        seed=tuple(args.seed),
        max_body_bytes=args.max_body_bytes,
        max_results=args.max_results,
        max_filter_length=args.max_filter_length,
        max_filter_depth=args.max_filter_depth,
        max_patch_operations=args.max_patch_operations,
        header_timeout=args.header_timeout,
        body_timeout=args.body_timeout,
        keep_alive_timeout=args.keep_alive_timeout,
        max_connections=args.max_connections,
        max_header_bytes=args.max_header_bytes,
        delta_interval=args.delta_interval,
        full_interval=args.full_interval,
        log_level=args.log_level,
        dialect=args.dialect,
        strict=args.strict,
        connect_timeout=args.connect_timeout,
        statement_timeout=args.statement_timeout,
        sync_timeout=args.sync_timeout,
        pool_timeout=args.pool_timeout,
        coherence=args.coherence,
        workers=args.workers,
    )
