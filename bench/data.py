"""Scratch databases for the bench: the HR example's schema filled with N generated users.

Every user has seven string attributes (userName, givenName, familyName, displayName, title,
department, employeeNumber), ``active`` and the two timestamps; the other columns are NULL, and the
child tables of emails and phone numbers are empty.
``employee_id`` runs from 1 to N and ``login`` is ``user%07d`` of it, so the wrk scripts can pick
random existing users without a list.

SQLite databases are files in a temporary directory, filled with ``executemany`` in one transaction.
PostgreSQL uses a scratch database created here (``mapper_bench_<pid>``: its own name per bench
process, so two runs at once never drop each other's data), filled with ``COPY``, and dropped by
:meth:`BenchDatabase.drop`.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HR_DIR = ROOT / "examples" / "hr"
HR_MAP = HR_DIR / "hr.map"

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
PG_SERVER = "postgresql://postgres@127.0.0.1:5432"

COLUMNS = (
    "employee_id",
    "login",
    "given_name",
    "family_name",
    "display_name",
    "title",
    "department",
    "employee_number",
    "active",
    "created_at",
    "updated_at",
)
TITLES = ("Engineer", "Senior Engineer", "Analyst", "Accountant", "Designer", "Manager", "Nurse", "Clerk")
DEPARTMENTS = ("Engineering", "Finance", "Sales", "Operations", "Legal", "Research", "Support")
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)


def login(i: int) -> str:
    return f"user{i:07d}"


def stamp(i: int) -> str:
    """User ``i``'s timestamps, ten seconds apart, in the schemas' text format (ISO 8601, ms, Z):
    spread out as in a real table, so a watermark delta sees only the rows that really changed."""
    day, second = divmod(10 * i, 86_400)
    hour, second = divmod(second, 3600)
    minute, second = divmod(second, 60)
    return f"{_day(day)}T{hour:02d}:{minute:02d}:{second:02d}.000Z"


@functools.lru_cache(maxsize=1024)
def _day(day: int) -> str:
    return (EPOCH + timedelta(days=day)).strftime("%Y-%m-%d")


def user_row(i: int) -> tuple:
    given, family = f"Given{i}", f"Family{i}"
    created = stamp(i)
    return (
        i,
        login(i),
        given,
        family,
        f"{given} {family}",
        TITLES[i % len(TITLES)],
        DEPARTMENTS[i % len(DEPARTMENTS)],
        f"E{i:08d}",
        True,
        created,
        created,
    )


def user_rows(n: int) -> Iterator[tuple]:
    return (user_row(i) for i in range(1, n + 1))


def schema_file(dialect: str) -> Path:
    """The HR example's DDL: ``schema.sql`` for SQLite, ``schema.<dialect>.sql`` otherwise."""
    path = HR_DIR / ("schema.sql" if dialect == "sqlite" else f"schema.{dialect}.sql")
    if not path.exists():
        raise FileNotFoundError(f"no HR schema for {dialect}: {path}")
    return path


@dataclass
class BenchDatabase:
    """One scratch database holding ``users`` generated users."""

    dialect: str  # "sqlite" or "postgres"
    url: str  # the SQLAlchemy URL the gateway is given (HR_DATABASE_URL)
    users: int

    @property
    def path(self) -> Path | None:
        """The SQLite file."""
        return Path(self.url.removeprefix("sqlite:///")) if self.dialect == "sqlite" else None

    @property
    def driver_url(self) -> str:
        """The URL for psycopg/sqlite3 directly (without SQLAlchemy's driver suffix)."""
        return self.url.replace("postgresql+psycopg://", "postgresql://")

    def drop(self) -> None:
        if self.dialect == "sqlite" and self.path is not None:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(str(self.path) + suffix).unlink(missing_ok=True)
        elif self.dialect == "postgres":
            drop_postgres(self.url.rpartition("/")[2])


def create(dialect: str, users: int, workdir: Path) -> BenchDatabase:
    if dialect == "sqlite":
        return create_sqlite(users, workdir / f"hr-{users}.db")
    if dialect == "postgres":
        return create_postgres(users)
    raise ValueError(f"unsupported bench database {dialect!r}")


def create_sqlite(users: int, path: Path) -> BenchDatabase:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.executescript(schema_file("sqlite").read_text())
        con.execute("BEGIN")
        placeholders = ", ".join("?" for _ in COLUMNS)
        con.executemany(
            f"INSERT INTO employees ({', '.join(COLUMNS)}) VALUES ({placeholders})", user_rows(users)
        )
        con.execute("COMMIT")
        con.execute("ANALYZE")
    finally:
        con.close()
    return BenchDatabase("sqlite", f"sqlite:///{path}", users)


def pg_bench_name() -> str:
    """This process's scratch database: a fixed name would let two bench runs at once (or a run
    and ``bench.filters``) drop or refill each other's database under them."""
    return f"mapper_bench_{os.getpid()}"


def drop_postgres(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as con:
        con.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def create_postgres(users: int) -> BenchDatabase:
    import psycopg

    name = pg_bench_name()
    url = f"{PG_SERVER}/{name}"
    drop_postgres(name)  # left by an earlier process of the same pid that was killed
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name}")
    with psycopg.connect(url) as con:
        con.execute(schema_file("postgres").read_text())  # no parameters: sent as one simple query
        with con.cursor() as cur, cur.copy(f"COPY employees ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in user_rows(users):
                copy.write_row(row)
        # explicit ids bypassed the anchor's sequence: move it past them so POSTs get fresh ids
        con.execute(
            "SELECT setval(pg_get_serial_sequence('employees', 'employee_id'), %s)",
            (max(users, 1),),
        )
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("VACUUM ANALYZE employees")
    return BenchDatabase("postgres", url.replace("postgresql://", "postgresql+psycopg://"), users)


def twin(db: BenchDatabase, suffix: str, workdir: Path) -> BenchDatabase:
    """A copy of ``db`` (the same rows, on the same server or disk), for a writer whose writes the
    gateway under test must not see: the raw commit loop, or another tree in an A/B. Their
    writes to the gateway's own rows would leave its cached versions stale, and a PATCH of a
    stale row is read again and retried (``mapper.scim.routes.resources``), which doubles its
    cost: a bench artefact, not the gateway's speed (see docs/performance.md, "PostgreSQL's
    PATCH: why it varied"). On PostgreSQL nobody may be connected to ``db`` meanwhile."""
    if db.dialect == "sqlite":
        assert db.path is not None
        path = workdir / f"{db.path.stem}-{suffix}.db"
        for ending in ("", "-wal", "-shm", "-journal"):
            Path(str(path) + ending).unlink(missing_ok=True)
        source, copy = sqlite3.connect(db.path), sqlite3.connect(path)
        try:
            source.backup(copy)
        finally:
            source.close()
            copy.close()
        return BenchDatabase("sqlite", f"sqlite:///{path}", db.users)
    import psycopg

    source = db.url.rpartition("/")[2]
    name = f"{source}_{suffix}"
    drop_postgres(name)
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as con:
        for attempt in range(10):
            try:
                con.execute(f"CREATE DATABASE {name} TEMPLATE {source}")
                break
            except psycopg.errors.ObjectInUse:  # an autovacuum worker on the source: wait for it
                if attempt == 9:
                    raise
                time.sleep(1)
    return BenchDatabase("postgres", db.url.rpartition("/")[0] + f"/{name}", db.users)


def touch_users(db: BenchDatabase, count: int, tag: str = "Changed") -> list[int]:
    """Change the title of ``count`` users spread over the table; the schema's triggers move their
    ``updated_at``, which is what a watermark delta sync looks for. Returns their ids."""
    step = max(db.users // count, 1)
    ids = [1 + k * step for k in range(count)]
    if db.dialect == "sqlite":
        con = sqlite3.connect(db.path, isolation_level=None)
        try:
            con.execute("BEGIN")
            con.executemany(
                "UPDATE employees SET title = ? WHERE employee_id = ?",
                [(f"{tag} {i}", i) for i in ids],
            )
            con.execute("COMMIT")
        finally:
            con.close()
    else:
        import psycopg

        with psycopg.connect(db.driver_url) as con, con.cursor() as cur:
            cur.executemany(
                "UPDATE employees SET title = %s WHERE employee_id = %s",
                [(f"{tag} {i}", i) for i in ids],
            )
    return ids
