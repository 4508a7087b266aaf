"""Scaffold test databases: each schema under tests/scaffold/schemas/ (and the HR example) loaded
into a fresh SQLite file, or into the session's scratch PostgreSQL or MariaDB database
(:func:`load_schema`, for a test parametrised over :data:`KINDS` and :data:`FOLDERS`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from mapper.runtime.database import bootstrap_sqlite, redact
from mapper.scaffold import without_password
from tests.support.databases import load_sql, reset_database

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "tests" / "scaffold" / "schemas"
GOLDEN = ROOT / "tests" / "fixtures" / "scaffold"  # the scaffolds' golden files
FOLDERS = {"hr": ROOT / "examples" / "hr"} | {p.name: p for p in sorted(SCHEMAS.iterdir()) if p.is_dir()}
#: schemas whose scaffold has a FILL IN that lint refuses until it is filled (not in FOLDERS)
FILL_IN = {p.name: p for p in sorted((ROOT / "tests" / "scaffold" / "fill_in").iterdir()) if p.is_dir()}
FILES = {"sqlite": "schema.sql", "postgres": "schema.postgres.sql", "mariadb": "schema.mysql.sql"}
DIALECTS = {"sqlite": "sqlite", "postgres": "postgres", "mariadb": "mysql"}

KINDS = [
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("mariadb", marks=pytest.mark.mariadb),
]


@dataclass(frozen=True)
class Loaded:
    """A database with one schema in it: its URL, the plan dialect, and the database's name as
    it appears in the scaffold (the source name and its variable are made from it)."""

    schema: str
    kind: str
    url: str
    dialect: str
    name: str


def load_schema(schema: str, kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Loaded:
    """``schema`` (a key of :data:`FOLDERS` or :data:`FILL_IN`) loaded into a database of
    ``kind``: a new SQLite file in ``tmp_path``, or the ``postgres_url``/``mariadb_url`` fixture's
    database, emptied first."""
    folder = (FOLDERS | FILL_IN)[schema]
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / f'{schema}.db'}"
        bootstrap_sqlite(url, [folder / FILES[kind]])
        return Loaded(schema, kind, url, "sqlite", schema)
    url = request.getfixturevalue(f"{kind}_url")
    reset_database(url)
    load_sql(url, [folder / FILES[kind]])
    return Loaded(schema, kind, url, DIALECTS[kind], url.rsplit("/", 1)[1])


def stable(text: str, db: Loaded) -> str:
    """The scaffold without what changes from run to run: the URL (a temporary file, a scratch
    database) and the scratch database's name, which names the source and its variable."""
    for shown in (redact(db.url), without_password(db.url)):
        text = text.replace(shown, "URL")
    # the name as a word of its own (``HR_DATABASE_URL`` too): a bare replace of ``hr`` made
    # "through" "tscratchough" in the HR example's scaffold
    text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(db.name.upper())}(?![A-Za-z0-9])", "SCRATCH", text)
    return re.sub(rf"(?<![A-Za-z0-9]){re.escape(db.name)}(?![A-Za-z0-9])", "scratch", text)
