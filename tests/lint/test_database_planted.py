"""``mapper lint --db`` proves every statement the plan can run: a typo planted in each kind of
statement is reported, with its code, at its place in the mapping file, on SQLite, PostgreSQL and
MariaDB. Two halves:

- typos planted in the *mapping* (the SQL of an import, an explicit write, a ``set`` clause, a
  ``multi`` statement, a procedure call), linted like a user would;
- typos planted in each *statement of the compiled plan* (look-ups, keyset pages, deltas, derived
  writes: the statements the mapping never spells out), proven one by one, each reported at the
  place the compiler's source map gives.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect

from mapper.compiler import compile
from mapper.compiler.context import Origin
from mapper.language.parser import parse
from mapper.lint.database.catalog import Catalog
from mapper.lint.database.prove import PROVABLE, prove, statements
from mapper.lint.lint import lint_text
from mapper.plan import Plan
from mapper.runtime.database import engine_url
from tests.support.databases import load_sql, reset_database

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
HR = EXAMPLES / "hr" / "hr.map"
PAYROLL = EXAMPLES / "payroll" / "payroll.map"

EXPLICIT_WRITES = '''write {
    insert sql"""INSERT INTO employees (login, given_name) VALUES (:login, :given_name)"""
    update sql"""UPDATE employees SET login = :login, family_name = :family_name
                  WHERE employee_id = :anchor"""
    delete sql"""DELETE FROM employees WHERE employee_id = :anchor"""
  }'''
HR_EXPLICIT = HR.read_text(encoding="utf-8").replace(
    "write table employees\n  disable set active = false\n", EXPLICIT_WRITES + "\n", 1
)
# An import the schema pass cannot follow (a derived table): only the database sees its columns.
HR_SUBQUERY = HR_EXPLICIT.replace("    FROM employees\n", "    FROM (SELECT * FROM employees) AS e\n", 1)


@dataclass(frozen=True)
class Plant:
    """A typo planted by replacing ``old`` with ``new`` in ``base``; the diagnostic ``code`` is
    expected where ``at`` first occurs in the planted text (its ``nth`` occurrence)."""

    kind: str
    base: str
    old: str
    new: str
    code: str
    at: str
    databases: tuple[str, ...] = ("sqlite", "postgres", "mariadb")
    nth: int = 1
    hint: str | None = None  # a did-you-mean the hint must hold
    # further places the same code is expected (at, nth): statements derived from the typo's line,
    # such as the reads a soft delete's tombstone filters
    also: tuple[tuple[str, int], ...] = ()


def _hr() -> str:
    return HR.read_text(encoding="utf-8")


PLANTS = [
    Plant(
        "import",
        _hr(),
        "title, street_address",
        "title, street_adress",
        "MAP302",
        "street_adress",
        hint="'street_address'",
    ),
    Plant("import-table", _hr(), "FROM groups", "FROM groupz", "MAP301", "groupz", hint="'groups'"),
    Plant(
        "import-derived",
        HR_SUBQUERY,
        "title, street_address",
        "title, street_adress AS street_address",
        "MAP302",
        "street_adress AS",
        hint="'street_address'",
    ),
    Plant(
        "insert",
        HR_EXPLICIT,
        "(login, given_name)",
        "(login, given_nme)",
        "MAP302",
        "given_nme",
        hint="'given_name'",
    ),
    Plant(
        "update",
        HR_EXPLICIT,
        "family_name = :family",
        "familyname = :family",
        "MAP302",
        "familyname",
        hint="'family_name'",
    ),
    Plant(
        "delete",
        HR_EXPLICIT,
        "FROM employees WHERE",
        "FROM employes WHERE",
        "MAP301",
        "employes",
        hint="'employees'",
    ),
    Plant(
        "disable-set", _hr(), "disable set active", "disable set activ", "MAP302", "activ =", hint="'active'"
    ),
    Plant(
        "delete-set",
        _hr(),
        "  delete row\n}\n\nobject Group",
        "  delete set lockd = true\n}\n\nobject Group",
        "MAP302",
        "lockd",
        # a delete set is a soft delete: the import and the membership import hide its tombstone
        also=(('sql"""\n    SELECT employee_id', 1), ('sql"""SELECT group_id, employee_id', 1)),
    ),
    Plant(
        "multi-import",
        _hr(),
        "SELECT group_id, employee_id FROM",
        "SELECT group_id, employe_id FROM",
        "MAP302",
        "employe_id",
    ),
    Plant(
        "multi-add",
        _hr(),
        "(group_id, employee_id) VALUES",
        "(group_id, employe_id) VALUES",
        "MAP302",
        "employe_id",
        hint="'employee_id'",
    ),
    Plant(
        "multi-remove",
        _hr(),
        "WHERE group_id = :anchor",
        "WHERE groupid = :anchor",
        "MAP302",
        "groupid",
        hint="'group_id'",
    ),
    Plant(
        "set-type",
        _hr(),
        "disable set active = false",
        'disable set active = "maybe"',
        "MAP305",
        "maybe",
        databases=("postgres", "mariadb"),  # SQLite stores any value in any column
    ),
]

PAYROLL_TEXT = PAYROLL.read_text(encoding="utf-8")
PLANTS += [
    Plant(
        "delta-table",
        PAYROLL_TEXT,
        "type change_type }",
        "type change_typ }",
        "MAP302",
        "change_typ",
        databases=("postgres", "mariadb"),
    ),
    Plant(
        "procedure-name",
        PAYROLL_TEXT,
        "insert call payroll_create_worker(",
        "insert call payroll_create_workr(",
        "MAP306",
        "payroll_create_workr",
        databases=("postgres", "mariadb"),
        hint="'payroll_create_worker'",
    ),
    Plant(
        "procedure-arity",
        PAYROLL_TEXT,
        ":cost_center, :grade, :active)\n    delete",
        ":cost_center, :grade)\n    delete",
        "MAP307",
        "call payroll_update_worker",
        databases=("postgres", "mariadb"),
    ),
    Plant(
        "multi-procedure",
        PAYROLL_TEXT,
        "remove call payroll_remove_member(",
        "remove call payroll_remove_membr(",
        "MAP306",
        "payroll_remove_membr",
        databases=("postgres", "mariadb"),
        hint="'payroll_remove_member'",
    ),
]

SCHEMAS = {
    ("hr", "sqlite"): ["hr/schema.sql"],
    ("hr", "postgres"): ["hr/schema.postgres.sql"],
    ("hr", "mariadb"): ["hr/schema.mysql.sql"],
    ("payroll", "postgres"): ["payroll/schema.postgres.sql"],
    ("payroll", "mariadb"): ["payroll/schema.mysql.sql"],
}
MARKS = {"postgres": [pytest.mark.postgres], "mariadb": [pytest.mark.mariadb], "sqlite": []}


def database(example: str, kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    files = [EXAMPLES / f for f in SCHEMAS[(example, kind)]]
    if kind == "sqlite":
        from mapper.runtime.database import bootstrap_sqlite

        url = f"sqlite:///{tmp_path / 'planted.db'}"
        bootstrap_sqlite(url, files)
        return url
    url: str = request.getfixturevalue(f"{kind}_url")
    reset_database(url)
    load_sql(url, files)
    return url


def position(text: str, marker: str, nth: int = 1) -> tuple[int, int]:
    index = -1
    for _ in range(nth):
        index = text.index(marker, index + 1)
    return text.count("\n", 0, index) + 1, index - text.rfind("\n", 0, index)


def _cases() -> Iterator[Any]:
    for plant in PLANTS:
        for kind in plant.databases:
            yield pytest.param(plant, kind, marks=MARKS[kind], id=f"{plant.kind}-{kind}")


@pytest.mark.parametrize(("plant", "kind"), list(_cases()))
def test_a_planted_typo_is_reported_at_its_place(
    plant: Plant, kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    assert plant.old in plant.base, plant.kind
    text = plant.base.replace(plant.old, plant.new, 1)
    example = "payroll" if plant.base is PAYROLL_TEXT else "hr"
    path = str(EXAMPLES / example / f"{example}.map")
    assert lint_text(plant.base, path).diagnostics == []
    assert [
        d for d in lint_text(plant.base, path, db=database(example, kind, request, tmp_path)).diagnostics
    ] == []
    # The compiler may see the typo too (MAP204); the live database's codes say it once.
    found = [
        d
        for d in lint_text(text, path, db=database(example, kind, request, tmp_path)).diagnostics
        if d.code.startswith("MAP3")
    ]
    places = [position(text, at, nth) for at, nth in ((plant.at, plant.nth), *plant.also)]
    expected = sorted((plant.code, line, col) for line, col in places)
    assert sorted((d.code, d.span.line, d.span.col) for d in found) == expected, [str(d) for d in found]
    if plant.hint:
        assert all(f"did you mean {plant.hint}?" in (d.hint or "") for d in found)


def test_sqlite_has_no_procedures(tmp_path: Path) -> None:
    """On SQLite, a procedure call is reported (MAP208) even when the mapping's own dialect has
    them: lint --db compiles the plan for the database it proves against."""
    url = f"sqlite:///{tmp_path / 'payroll.db'}"
    found = lint_text(PAYROLL_TEXT, str(PAYROLL), db=url).diagnostics
    assert {d.code for d in found} >= {"MAP208"}
    calls = [d for d in found if d.code == "MAP208"]
    assert all("compiled for the database's dialect (sqlite)" in d.message for d in calls)
    assert (calls[0].span.line, calls[0].span.col) == position(PAYROLL_TEXT, "call payroll_create_worker")


# -- every statement of the plan ------------------------------------------------------------------

#: The statement kinds the plan of hr.map holds; each must be proven.
HR_PATHS = {
    "import_all",
    "import_page",
    "import_first_page",
    "by_anchor",
    "by_query",
    "delta.query",
    "delta.max_sequence",
    "insert",
    "update",
    "delete",
    "disable.statement",
    "multi[0].load",
    "multi[0].load_for_anchor",
    "multi[0].load_for_anchors",
    "multi[0].add",
    "multi[0].remove",
}


#: The tables of hr.map, each before any whose name contains it.
TABLES = ("group_members", "employee_emails", "employee_phones", "employees", "groups")


def tamper(plan: Plan, obj: str, path: str, sql: str) -> Plan:
    """``plan`` with the statement at ``obj``/``path`` replaced by ``sql``."""
    data = plan.model_dump()
    node: Any = next(o for o in data["objects"] if o["name"] == obj)
    *parents, last = path.replace("[", ".").replace("]", "").split(".")
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    node[last]["sql"] = sql
    return Plan.model_validate(data)


@pytest.mark.parametrize(
    "kind",
    [
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ],
)
def test_every_statement_of_the_plan_is_proven(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = database("hr", kind, request, tmp_path)
    mapping, _ = parse(HR.read_text(encoding="utf-8"), str(HR))
    assert mapping is not None
    engine = create_engine(engine_url(url))
    try:
        dialect = PROVABLE[engine.dialect.name]
        origins: dict[str, Origin] = {}
        plan, _ = compile(mapping, write=dialect, origins=origins)
        assert plan is not None
        found = statements(plan)
        assert {f.path for f in found} >= HR_PATHS
        with engine.connect() as connection:
            catalog = Catalog(inspect(connection), connection)
            assert prove(mapping, plan, origins, engine, catalog) == []
            for item in found:
                table = next(t for t in TABLES if t in item.statement.sql)
                broken = item.statement.sql.replace(table, table + "_x")
                assert broken != item.statement.sql, item.path
                tampered = tamper(plan, item.obj, item.path, broken)
                diagnostics = prove(
                    mapping, tampered, {**origins, broken: origins[item.statement.sql]}, engine, catalog
                )
                assert [d.code for d in diagnostics] == ["MAP301"], (item.path, diagnostics)
                assert diagnostics[0].span == origins[item.statement.sql].span, item.path
    finally:
        engine.dispose()
