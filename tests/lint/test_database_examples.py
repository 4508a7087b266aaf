"""Every lint-clean example stays clean under ``mapper lint --db`` on each database it has a
schema for, and proving its statements changes nothing: every table's rows are the same before
and after (count and checksum)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, select, table, text

from mapper.lint.lint import lint_text
from mapper.runtime.database import bootstrap_sqlite, engine_url
from tests.support.databases import load_sql, reset_database

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

#: (mapping, database, schema and data files under examples/)
CASES = [
    ("hr/hr.map", "sqlite", ["hr/schema.sql", "hr/sample-data.sql"]),
    ("hr/hr.map", "postgres", ["hr/schema.postgres.sql", "hr/sample-data.sql"]),
    ("hr/hr.map", "mariadb", ["hr/schema.mysql.sql", "hr/sample-data.sql"]),
    ("ecma/ecma.map", "sqlite", ["ecma/schema.sql", "ecma/sample-data.sql"]),
    ("ecma/ecma.map", "mariadb", ["ecma/schema.mysql.sql", "ecma/sample-data.sql"]),
    ("ecma/ecma-procedures.map", "mariadb", ["ecma/schema.mysql.sql", "ecma/sample-data.sql"]),
    ("payroll/payroll.map", "postgres", ["payroll/schema.postgres.sql"]),
    ("payroll/payroll.map", "mariadb", ["payroll/schema.mysql.sql"]),
]
MARKS = {"postgres": [pytest.mark.postgres], "mariadb": [pytest.mark.mariadb], "sqlite": []}


def snapshot(url: str) -> dict[str, tuple[int, str]]:
    """Each table's row count and a checksum of its rows."""
    engine = create_engine(engine_url(url))
    try:
        with engine.connect() as connection:
            out = {}
            for name in inspect(connection).get_table_names():
                rows = sorted(
                    repr(tuple(r)) for r in connection.execute(select(text("*")).select_from(table(name)))
                )
                out[name] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
            return out
    finally:
        engine.dispose()


def example_database(kind: str, files: list[Path], request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'example.db'}"
        bootstrap_sqlite(url, files)
        return url
    url: str = request.getfixturevalue(f"{kind}_url")
    reset_database(url)
    load_sql(url, files)
    return url


@pytest.mark.parametrize(
    ("mapping", "kind", "files"),
    [pytest.param(m, k, f, marks=MARKS[k], id=f"{Path(m).stem}-{k}") for m, k, f in CASES],
)
def test_clean_examples_stay_clean_and_unchanged(
    mapping: str, kind: str, files: list[str], request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    path = EXAMPLES / mapping
    url = example_database(kind, [EXAMPLES / f for f in files], request, tmp_path)
    before = snapshot(url)
    assert lint_text(path.read_text(encoding="utf-8"), str(path)).diagnostics == []
    result = lint_text(path.read_text(encoding="utf-8"), str(path), db=url)
    assert [str(d) for d in result.diagnostics] == []
    assert snapshot(url) == before
    assert any(rows for rows, _ in before.values()) or "payroll" in mapping
