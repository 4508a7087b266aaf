"""Database URLs: the driver each scheme gets, a URL without its password (for logs and messages),
and a source's URL from its environment variable or default."""

from __future__ import annotations

import os
from collections.abc import Mapping

from sqlalchemy import make_url
from sqlalchemy.engine import URL

from mapper.plan import PlanSource
from mapper.runtime.errors import SourceUrlError

#: URL schemes people write, and the SQLAlchemy driver we use for each.
DRIVERS = {
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
    "sqlite": "sqlite",
}


def engine_url(url: str) -> URL:
    """The SQLAlchemy URL for ``url``, with our driver chosen when the URL names none."""
    parsed = make_url(url)
    if "+" not in parsed.drivername and parsed.drivername in DRIVERS:
        parsed = parsed.set(drivername=DRIVERS[parsed.drivername])
    return parsed


def redact(url: str | URL) -> str:
    """The URL without its password, for logs and messages."""
    try:
        return engine_url(str(url)).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a URL we cannot parse is shown as nothing at all
        return "<unparseable url>"


def resolve_url(source: PlanSource, environ: Mapping[str, str] = os.environ) -> str:
    """The source's URL: its environment variable when set, else its default."""
    if source.url_env and environ.get(source.url_env):
        return environ[source.url_env]
    if source.url_default:
        return source.url_default
    raise SourceUrlError(source.name, source.url_env)
