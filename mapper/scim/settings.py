"""What the gateway is told at start-up: one frozen model, :class:`Settings`.

Every ``mapper serve`` option is a field of it. Its value comes from the command line, else from
the environment (``MAPPER_<OPTION>``: ``--log-level`` is ``MAPPER_LOG_LEVEL``), else from the
field's default: :func:`settings_from_args` merges them in that order and the model validates the
result, so a flag and its variable are checked by the same rules and a bad value gets the same
message naming where it came from. :func:`add_serve_arguments` declares the flags from the same
fields; adding an option is adding a field. A few fields are not options (``credentials``,
``environ``, ``autosync``): :func:`mapper.cli.serve` and in-process users fill them.

Nothing here reads the environment except :func:`settings_from_args` (handed a mapping), opens a
socket or a database, or imports Starlette (the CLI imports this module to declare its arguments).
"""

from __future__ import annotations

import argparse
import difflib
import os
from collections.abc import Mapping
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.config import JsonDict
from pydantic.fields import FieldInfo

from mapper.errors import MapperError
from mapper.plan import DIALECTS, Dialect
from mapper.scim.tokens import Credential

DEFAULT_BASE_PATH = "/scim/v2"
DEFAULT_MAX_BODY_BYTES = 1024 * 1024  # 1 MiB: a group PUT with ~10,000 members still fits
DEFAULT_MAX_RESULTS = 1000  # the most resources one list response carries (filter.maxResults)
DEFAULT_MAX_FILTER_LENGTH = 8192  # characters of a filter (Entra's are under 200)
DEFAULT_MAX_FILTER_DEPTH = 64  # open parentheses/brackets plus and/or/not operators in one filter
DEFAULT_FILTER_BUDGET = 2.0  # seconds a filter the database cannot answer may scan the cache
DEFAULT_MAX_PATCH_OPERATIONS = 1000  # operations in one PATCH (members come as lists in one op)
DEFAULT_HEADER_TIMEOUT = 10.0  # seconds from a request's first byte to the end of its headers
DEFAULT_BODY_TIMEOUT = 30.0  # seconds to receive a whole request body (1 MiB at ~35 KB/s)
DEFAULT_KEEP_ALIVE_TIMEOUT = 5.0  # seconds an idle keep-alive connection stays open (uvicorn's)
DEFAULT_MAX_CONNECTIONS = 1000  # open connections (and requests in flight) before 503s (uvicorn's)
DEFAULT_MAX_HEADER_BYTES = 64 * 1024  # request line and headers of one request
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
LOG_FORMATS = ("text", "json")
COHERENCE_MODES = ("auto", "notify", "changelog", "off")  # mapper.runtime.coherence.MODES
ENV_PREFIX = "MAPPER_"

LogLevel = Literal["critical", "error", "warning", "info", "debug"]
LogFormat = Literal["text", "json"]
CoherenceMode = Literal["auto", "notify", "changelog", "off"]


class SettingsError(MapperError):
    """Options that cannot be used: each problem on its own line, naming the flag or variable."""


def option(
    default: Any,
    help: str,
    *,
    metavar: str | None = None,
    shown: str | None = None,
    env: str | None = None,
    flag: bool = True,
    serve: str | None = None,
    **constraints: Any,
) -> Any:
    """A field that is a ``mapper serve`` option. ``help`` is its help text without the default;
    ``shown`` is the default as the help shows it (when the field's is None: the runtime's own);
    ``env`` replaces the variable's name; ``flag=False`` makes it an environment-only option;
    ``serve`` is ``mapper serve``'s default where it differs from an app built in-process."""
    extra: JsonDict = {
        "option": True,
        "metavar": metavar,
        "shown": shown or serve,
        "env": env,
        "flag": flag,
        "serve": serve,
    }
    return Field(default, description=help, json_schema_extra=extra, **constraints)


class Settings(BaseModel):
    """Every ``mapper serve`` option, and what the app needs besides the plan.

    ``credentials`` are the accepted bearer tokens with their client labels (from ``tokens`` and
    ``token_file``, loaded by :func:`mapper.cli.serve`); the app refuses none of them at build
    time, but ``serve`` refuses to start with none unless ``insecure_no_auth``. ``environ`` holds
    the sources' database URLs; it and the intervals go to the runtime's Gateway."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mapping: tuple[str, ...] = option(
        (),
        "the mapping files to serve, or directories of *.map files (comma-separated in the variable)",
        metavar="MAPPING",
        env="MAPPER_MAPPING",
        flag=False,
    )
    host: str = option("127.0.0.1", "interface to listen on", min_length=1)
    port: int = option(8080, "TCP port (0: one the OS picks, logged)", ge=0, le=65535)
    base_path: str = option(DEFAULT_BASE_PATH, "SCIM root")
    tokens: tuple[str, ...] = option(
        (),
        "accepted bearer tokens, comma-separated, each optionally 'label:token'",
        env="MAPPER_TOKEN",
        flag=False,
        shown="none",
    )
    token_file: str | None = option(
        None, "file of accepted bearer tokens, one per line, optionally 'label:token'", metavar="FILE"
    )
    metrics_tokens: tuple[str, ...] = option(
        (),
        "tokens that open /metrics and nothing else, comma-separated, each optionally 'label:token'",
        env="MAPPER_METRICS_TOKEN",
        flag=False,
        shown="none",
    )
    metrics_token_file: str | None = option(
        None, "file of tokens that open /metrics and nothing else, one per line", metavar="FILE"
    )
    insecure_no_auth: bool = option(False, "serve without any bearer token (development only; logged loudly)")
    certfile: str | None = option(None, "TLS certificate (PEM); serve HTTPS when given with --keyfile")
    keyfile: str | None = option(None, "TLS private key (PEM)")
    create_schema: tuple[str, ...] = option(
        (),
        "SQLite only: run this DDL file first when the database is new (repeatable; "
        "comma-separated in the variable)",
        metavar="SQL_FILE",
    )
    seed: tuple[str, ...] = option(
        (), "SQLite only: load this data file when the database is new (repeatable)", metavar="SQL_FILE"
    )
    max_body_bytes: int = option(
        DEFAULT_MAX_BODY_BYTES, "largest accepted request body; larger get 413", ge=1
    )
    max_results: int = option(DEFAULT_MAX_RESULTS, "most resources in one list response", ge=1)
    max_filter_length: int = option(
        DEFAULT_MAX_FILTER_LENGTH, "longest filter in characters; longer ones get 400", ge=1
    )
    max_filter_depth: int = option(
        DEFAULT_MAX_FILTER_DEPTH,
        "most levels in a filter: open parentheses or brackets plus and/or/not operators",
        ge=1,
    )
    filter_budget: float = option(
        DEFAULT_FILTER_BUDGET,
        "seconds a filter the database cannot answer may spend scanning the cache; then 400 tooMany",
        gt=0,
    )
    max_patch_operations: int = option(
        DEFAULT_MAX_PATCH_OPERATIONS, "most operations in one PATCH; more get 413", ge=1
    )
    header_timeout: float = option(
        DEFAULT_HEADER_TIMEOUT, "seconds to receive a request's headers; then the connection is closed", gt=0
    )
    body_timeout: float = option(DEFAULT_BODY_TIMEOUT, "seconds to receive a request's body; then 408", gt=0)
    keep_alive_timeout: float = option(
        DEFAULT_KEEP_ALIVE_TIMEOUT, "seconds an idle connection stays open", gt=0
    )
    max_connections: int = option(
        DEFAULT_MAX_CONNECTIONS, "open connections before new requests get 503", ge=1
    )
    max_header_bytes: int = option(
        DEFAULT_MAX_HEADER_BYTES, "largest request line and headers; then the connection is closed", ge=1
    )
    delta_interval: float | None = option(None, "seconds between delta syncs", shown="30", gt=0)
    full_interval: float | None = option(None, "seconds between full imports", shown="1800", gt=0)
    connect_timeout: float | None = option(None, "seconds to reach a database", shown="10", gt=0)
    statement_timeout: float | None = option(
        None,
        "seconds a request's database work or a write may take, queueing included, before it "
        "answers 503 (also the server's statement limit)",
        shown="15",
        gt=0,
    )
    lock_timeout: float | None = option(
        None,
        "seconds a write waits for a row another transaction holds locked before that write "
        "alone answers 503 (PostgreSQL lock_timeout, MariaDB/MySQL innodb_lock_wait_timeout)",
        shown="2",
        gt=0,
    )
    sync_timeout: float | None = option(
        None, "seconds one import (full or delta) may take", shown="600", gt=0
    )
    pool_timeout: float | None = option(None, "seconds to wait for a pooled connection", shown="10", gt=0)
    coherence: CoherenceMode = option(
        "off",
        "how several gateway processes on one database see each other's writes: notify "
        "(PostgreSQL LISTEN/NOTIFY), changelog (a polled mapper_changes table), off; auto: notify "
        "on PostgreSQL, changelog on SQLite and MariaDB/MySQL. An app built in-process (tests, "
        "embedding) listens to nobody unless told",
        serve="auto",
    )
    workers: int = option(
        1,
        "worker processes sharing the port; each holds its own cache, kept coherent through --coherence",
        ge=1,
    )
    log_level: LogLevel = option("info", "how much to log")
    log_format: LogFormat = option("text", "log lines as text, or as one JSON object each")
    dialect: Dialect | None = option(None, "override every source's dialect (" + ", ".join(DIALECTS) + ")")
    strict: bool = option(
        False,
        "answer a PATCH of an attribute the mapping does not map with 400 invalidPath instead of "
        "ignoring it (for onboarding a mapping; Entra ID expects it ignored)",
    )

    # not options: filled by the CLI (credentials, environ, connector) or by in-process users
    credentials: tuple[Credential, ...] = ()
    metrics_credentials: tuple[Credential, ...] = ()  # open /metrics only (scim/routes/operator.py)
    connector: str | None = None  # the connector's name when one gateway serves several
    environ: Mapping[str, str] = Field(default_factory=lambda: dict(os.environ))
    autosync: bool = True
    #: after each full import, take the cache out of the cyclic collector's view, and after each
    #: delta import what the writes added since (process-wide, so set by ``mapper serve``, whose
    #: process is the gateway's alone; see :func:`mapper.scim.app.freeze_cache` and
    #: :func:`~mapper.scim.app.freeze_written`)
    freeze_cache: bool = False

    @field_validator("base_path")
    @classmethod
    def _rooted(cls, value: str) -> str:
        return "/" + value.strip("/") if value.strip("/") else ""

    @field_validator("mapping", "tokens", "metrics_tokens", "create_schema", "seed", mode="before")
    @classmethod
    def _listed(cls, value: Any) -> Any:
        """A variable holds a list as comma-separated items (``MAPPER_TOKEN=entra:a,okta:b``)."""
        if isinstance(value, str):
            return tuple(item.strip() for item in value.split(",") if item.strip())
        return value

    @field_validator("log_level", "log_format", "dialect", "coherence", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value


def options() -> dict[str, FieldInfo]:
    """The fields that are ``mapper serve`` options, in declaration order."""
    return {
        name: info
        for name, info in Settings.model_fields.items()
        if isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get("option")
    }


def _extra(info: FieldInfo) -> dict[str, Any]:
    assert isinstance(info.json_schema_extra, dict)
    return info.json_schema_extra


def env_name(name: str) -> str:
    """The environment variable of option ``name``: ``MAPPER_`` and the name in capitals."""
    return _extra(Settings.model_fields[name]).get("env") or ENV_PREFIX + name.upper()


def flag_name(name: str) -> str:
    return "--" + name.replace("_", "-")


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare ``mapper serve``'s arguments on ``parser`` (the CLI's ``serve`` sub-parser), one per
    option field. Every flag's default is "not given" (the namespace lacks it), so that
    :func:`settings_from_args` can tell a flag from a variable from a default; values are
    validated by the model, not by argparse."""
    parser.add_argument(
        "mapping",
        nargs="*",
        default=argparse.SUPPRESS,
        metavar="MAPPING",
        help="the mapping file to serve (or MAPPER_MAPPING); several files, or a directory of "
        "*.map files, serve each as a connector of its own at /{name}/scim/v2",
    )
    for name, info in options().items():
        extra = _extra(info)
        if not extra["flag"]:
            continue
        default = extra["shown"] or _shown(info.default)
        help = f"{info.description} (default: {default}; env {env_name(name)})"
        kwargs: dict[str, Any] = {"dest": name, "default": argparse.SUPPRESS, "help": help}
        if info.annotation is bool:
            kwargs["action"] = "store_true"
        elif info.annotation == tuple[str, ...]:
            kwargs.update(action="append", metavar=extra["metavar"] or name.upper())
        else:
            kwargs["metavar"] = extra["metavar"] or _metavar(name, info.annotation)
        parser.add_argument(flag_name(name), **kwargs)


def _metavar(name: str, annotation: Any) -> str:
    choices = get_args(annotation) if get_origin(annotation) is Literal else ()
    if choices:
        return "{" + ",".join(choices) + "}"
    if annotation is int and name != "port":
        return "N"
    if annotation in (float, float | None):
        return "SECONDS"
    if annotation == Dialect | None:
        return "DIALECT"
    return name.upper()


def _shown(default: Any) -> str:
    if default is None or default == ():
        return "none"
    if isinstance(default, bool):
        return "on" if default else "off"
    if isinstance(default, float):
        return f"{default:g}"
    return str(default)


def settings_from_args(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> Settings:
    """The settings from parsed arguments and ``environ`` (``os.environ`` when None): a flag wins
    over its variable, a variable over the default. An empty variable counts as unset. Raises
    :class:`SettingsError` listing every bad value with the flag or variable it came from (a
    token's value is never repeated)."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for name, info in options().items():
        serve_default = _extra(info).get("serve")
        if serve_default is not None:
            values[name] = serve_default
        raw = env.get(env_name(name), "")
        if raw.strip():
            values[name], origin[name] = raw.strip(), env_name(name)
        if name in vars(args):
            values[name], origin[name] = (
                vars(args)[name],
                ("MAPPING" if name == "mapping" else flag_name(name)),
            )
    problems: list[str] = []
    try:
        settings = Settings.model_validate({**values, "environ": dict(env)})
    except ValidationError as error:
        settings = None
        for item in error.errors():
            name = str(item["loc"][0]) if item["loc"] else ""
            given = values.get(name)
            shown = (
                f" (got {given!r})"
                if isinstance(given, str) and name not in ("tokens", "metrics_tokens")
                else ""
            )
            problems.append(f"{origin.get(name, name)}: {_message(item)}{shown}")
    if problems or settings is None:
        raise SettingsError("; ".join(problems))
    return settings


#: ``MAPPER_`` variables that are not serve options but are read elsewhere (tests, the bench)
OTHER_VARIABLES = (
    "MAPPER_TEST_",
    "MAPPER_FUZZ_",
    "MAPPER_KILL_",
    "MAPPER_MEMORY_",
    "MAPPER_STAGING_",
    "MAPPER_BENCH",
    "MAPPER_TOKEN_",  # MAPPER_TOKEN_<CONNECTOR>: mapper.scim.connectors
)


def unknown_variables(env: Mapping[str, str]) -> list[tuple[str, str]]:
    """``MAPPER_`` variables that name no option, each with a "did you mean" hint (or ""): the
    CLI warns of them, since a misspelt variable would otherwise be silently ignored."""
    known = [env_name(name) for name in options()]
    unknown = []
    for variable in sorted(env):
        if not variable.startswith(ENV_PREFIX) or variable in known or variable.startswith(OTHER_VARIABLES):
            continue
        close = difflib.get_close_matches(variable, known, n=1)
        unknown.append((variable, f"; did you mean {close[0]}?" if close else ""))
    return unknown


def _message(item: Any) -> str:
    """pydantic's message for one error, starting lower-case to follow the flag's name."""
    message = str(item["msg"])
    return message[0].lower() + message[1:] if message else "invalid value"
