"""``mapper serve``'s options: one settings model fed by flags, ``MAPPER_<OPTION>`` variables and
defaults, in that order of precedence; a bad value names the flag or variable it came from."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from mapper.cli import EXIT_USAGE
from mapper.scim.settings import (
    Settings,
    SettingsError,
    add_serve_arguments,
    env_name,
    options,
    settings_from_args,
    unknown_variables,
)

ROOT = Path(__file__).resolve().parents[2]


def parse(*argv: str, environ: dict[str, str] | None = None) -> Settings:
    parser = argparse.ArgumentParser()
    add_serve_arguments(parser)
    return settings_from_args(parser.parse_args(list(argv)), environ or {})


def test_every_flag_has_a_variable_and_every_option_a_flag_or_a_variable() -> None:
    parser = argparse.ArgumentParser()
    add_serve_arguments(parser)
    flags = {a.dest for a in parser._actions if a.option_strings and a.dest != "help"}
    names = set(options())
    assert flags <= names
    # the positional, and tokens (never on a command line)
    assert names - flags == {"mapping", "tokens", "metrics_tokens"}
    assert env_name("log_level") == "MAPPER_LOG_LEVEL" and env_name("tokens") == "MAPPER_TOKEN"
    assert env_name("mapping") == "MAPPER_MAPPING"


def test_a_flag_wins_over_its_variable_and_a_variable_over_the_default() -> None:
    environ = {"MAPPER_PORT": "9100", "MAPPER_LOG_LEVEL": "DEBUG", "MAPPER_HOST": "0.0.0.0"}
    settings = parse("hr.map", "--port=9200", environ=environ)
    assert settings.port == 9200  # flag
    assert settings.log_level == "debug" and settings.host == "0.0.0.0"  # variables
    assert settings.max_results == 1000  # default
    assert settings.environ == environ  # the database URLs are read from the same mapping


def test_every_kind_of_option_reads_from_the_environment() -> None:
    environ = {
        "MAPPER_MAPPING": "from-env.map",
        "MAPPER_TOKEN": "entra:a, okta:b ,",
        "MAPPER_INSECURE_NO_AUTH": "true",
        "MAPPER_STRICT": "0",
        "MAPPER_CREATE_SCHEMA": "a.sql,b.sql",
        "MAPPER_STATEMENT_TIMEOUT": "2.5",
        "MAPPER_DIALECT": "postgres",
        "MAPPER_LOG_FORMAT": "json",
        "MAPPER_BASE_PATH": "scim/",
        "MAPPER_DELTA_INTERVAL": "",  # empty: unset
    }
    settings = parse(environ=environ)
    assert settings.mapping == ("from-env.map",)
    assert settings.tokens == ("entra:a", "okta:b")
    assert settings.insecure_no_auth is True and settings.strict is False
    assert settings.create_schema == ("a.sql", "b.sql")
    assert settings.statement_timeout == 2.5 and settings.delta_interval is None
    assert (settings.dialect, settings.log_format, settings.base_path) == ("postgres", "json", "/scim")
    assert parse("other.map", environ=environ).mapping == ("other.map",)


@pytest.mark.parametrize(
    ("argv", "environ", "expected"),
    [
        ((), {"MAPPER_PORT": "http"}, "MAPPER_PORT: input should be a valid integer"),
        ((), {"MAPPER_PORT": "70000"}, "MAPPER_PORT: input should be less than or equal to 65535"),
        (("--port=x",), {"MAPPER_PORT": "9000"}, "--port: input should be a valid integer"),
        ((), {"MAPPER_LOG_LEVEL": "loud"}, "MAPPER_LOG_LEVEL: input should be 'critical', 'error'"),
        ((), {"MAPPER_STRICT": "maybe"}, "MAPPER_STRICT: input should be a valid boolean"),
        (("--body-timeout=0",), {}, "--body-timeout: input should be greater than 0"),
        (("--dialect=db2",), {}, "--dialect: input should be 'sqlite', 'postgres'"),
    ],
)
def test_a_bad_value_names_its_flag_or_variable(
    argv: tuple[str, ...], environ: dict[str, str], expected: str
) -> None:
    with pytest.raises(SettingsError) as raised:
        parse("hr.map", *argv, environ=environ)
    assert str(raised.value).startswith(expected)


def test_every_bad_value_is_reported_at_once() -> None:
    with pytest.raises(SettingsError) as raised:
        parse("hr.map", "--max-results=0", environ={"MAPPER_PORT": "x", "MAPPER_TOKEN": "secret-token"})
    message = str(raised.value)
    assert message.startswith("MAPPER_PORT: ") and "; --max-results: " in message
    assert "secret-token" not in message


def test_a_misspelt_variable_is_named_with_a_suggestion() -> None:
    environ = {"MAPPER_PROT": "1", "MAPPER_PORT": "2", "MAPPER_TEST_POSTGRES_URL": "x", "PATH": "/"}
    found = unknown_variables(environ)
    assert found == [("MAPPER_PROT", "; did you mean MAPPER_PORT?")]


def test_an_invalid_variable_exits_2_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mapper", "serve", str(ROOT / "examples" / "hr" / "hr.map")],
        env={"PATH": "/usr/bin:/bin", "MAPPER_PORT": "eighty", "MAPPER_TOKEN": "t"},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == EXIT_USAGE
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "mapper serve: MAPPER_PORT: input should be a valid integer, unable to parse string "
        "as an integer (got 'eighty')"
    ]
