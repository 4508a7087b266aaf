"""Prints the URL of a fresh database for `.ci/conformance` on a server, loaded with the HR
example's schema for that server: `conformance_database.py postgres|mariadb NAME`.

The database NAME is dropped first if it exists (it is the conformance run's own, never the
tests' scratch databases). The servers are the test suite's: MAPPER_TEST_POSTGRES_URL and
MAPPER_TEST_MARIADB_URL (tests/support/databases.py)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.exc import DBAPIError  # noqa: E402

from mapper.runtime.database import engine_url  # noqa: E402
from tests.support.databases import HR, MARIADB_ADMIN, POSTGRES_ADMIN, load_sql  # noqa: E402

SERVERS = {
    "postgres": (POSTGRES_ADMIN, HR / "schema.postgres.sql"),
    "mariadb": (MARIADB_ADMIN, HR / "schema.mysql.sql"),
}


def fresh(kind: str, name: str) -> str:
    admin, schema = SERVERS[kind]
    engine = create_engine(
        engine_url(admin), isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )
    quoted = engine.dialect.identifier_preparer.quote(name)
    try:
        with engine.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {quoted}"))
            connection.execute(text(f"CREATE DATABASE {quoted}"))
    finally:
        engine.dispose()
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    load_sql(url, [schema])
    return url


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in SERVERS or not sys.argv[2].isidentifier():
        sys.exit("usage: conformance_database.py postgres|mariadb NAME")
    try:
        print(fresh(sys.argv[1], sys.argv[2]))
    except DBAPIError as error:  # the server is not there, or refuses: one line, no traceback
        admin = make_url(SERVERS[sys.argv[1]][0]).render_as_string(hide_password=True)
        sys.exit(f"conformance: no fresh {sys.argv[1]} database at {admin}: {error.orig}")
