"""SQL Server and Oracle are compiled and checked, not run against a live server here; these tests
pin what the golden files (tests/fixtures/compiler/flags.*.sql) cannot say on their own: that
Oracle's renamed binds are ones its driver takes, and that the runtime binds each renamed
parameter from the value it was named after (on a real SQLite database)."""

from __future__ import annotations

import pytest
import sqlglot
from sqlalchemy import text
from sqlalchemy.dialects.oracle.base import RESERVED_WORDS, OracleDialect

from mapper.compiler.dialects import ORACLE_RESERVED, rename_binds, render
from mapper.compiler.listing import list_statements
from mapper.plan import Statement
from mapper.runtime.database import Database, bindable_as_number
from mapper.runtime.loading import driver_pages
from tests.support.compiling import FIXTURES, compile_file

FLAGS = FIXTURES / "flags.map"


def test_every_oracle_reserved_word_of_sqlalchemy_is_renamed() -> None:
    assert {w.lower() for w in RESERVED_WORDS} <= ORACLE_RESERVED


def test_oracle_binds_are_plain_names_that_bind_their_values() -> None:
    plan, diagnostics = compile_file(FLAGS, write="oracle")
    assert plan is not None and diagnostics == []
    renamed = {}
    for label, statement in list_statements(plan):
        compiled = text(statement.sql).compile(dialect=OracleDialect())
        assert not getattr(compiled, "escaped_bind_names", None), label  # what the runtime refuses
        assert not ({p.lower() for p in statement.params} & ORACLE_RESERVED), label
        renamed.update(statement.renamed)
    assert renamed == {"order_": "order", "level_": "level", "user_": "user", "comment_": "comment"}
    user = plan.object("User")
    assert user.update is not None
    values = [user.update.value_of(p) for p in user.update.params]
    assert values == ["login", "order", "level", "user", "comment", "admin", "anchor"]


def test_a_renamed_bind_never_takes_a_name_in_use() -> None:
    sql, renamed = rename_binds("UPDATE t SET a = :order, b = :order_ WHERE c = :ORDER", "oracle")
    # Oracle's bind names are case-insensitive: :ORDER may not become :order__ either
    assert sql == "UPDATE t SET a = :order__, b = :order_ WHERE c = :ORDER___"
    assert renamed == (("order__", "order"), ("ORDER___", "ORDER"))
    assert rename_binds("SELECT :order", "postgres") == ("SELECT :order", ())


@pytest.mark.parametrize(
    ("source", "tsql", "oracle"),
    [
        ("SELECT id FROM t WHERE NOT active", "active = 0", "active = 0"),
        ("SELECT id FROM t WHERE active", "active = 1", "active = 1"),
        ("SELECT id FROM t WHERE active IS TRUE", "active = 1", "active = 1"),
        ("SELECT id FROM t WHERE active IS NOT TRUE", "COALESCE(active, 0) = 0", "COALESCE(active, 0) = 0"),
        ("SELECT id FROM t WHERE TRUE", "1 = 1", "1 = 1"),
        (
            "UPDATE t SET locked = NOT :active WHERE id = :anchor",
            "locked = CASE WHEN :active = 1 THEN 0 WHEN :active = 0 THEN 1 END",
            "locked = CASE WHEN :active = 1 THEN 0 WHEN :active = 0 THEN 1 END",
        ),
        ("UPDATE t SET locked = TRUE WHERE id = :anchor", "SET locked = 1", "SET locked = 1"),
        (
            "SELECT a = b AS same FROM t",
            "CASE WHEN a = b THEN 1 WHEN NOT (a = b) THEN 0 END AS same",
            "CASE WHEN a = b THEN 1 WHEN NOT (a = b) THEN 0 END AS same",
        ),
    ],
)
def test_flags_and_conditions_without_a_boolean_type(source: str, tsql: str, oracle: str) -> None:
    tree = sqlglot.parse_one(source, read="postgres")
    assert tsql in render(tree, "tsql") and "<> 0" not in render(tree, "tsql")
    assert oracle in render(tree, "oracle")
    postgres = render(tree, "postgres")  # a target with booleans keeps them
    assert "CASE" not in postgres and "COALESCE" not in postgres and "1 = 1" not in postgres


def test_a_flag_is_bound_as_a_number_for_oracle() -> None:
    assert [bindable_as_number(v) for v in (True, False, None, 3, "x")] == [1, 0, None, 3, "x"]


@pytest.mark.anyio
async def test_the_runtime_binds_a_renamed_parameter_from_its_value(tmp_path) -> None:
    statement = Statement(
        sql="SELECT :order_ + 1, :login", params=("order_", "login"), renamed=(("order_", "order"),)
    )
    (tmp_path / "t.db").touch()  # the runtime opens only an existing SQLite file
    database = Database("t", f"sqlite:///{tmp_path / 't.db'}")
    try:

        def read(tx):  # the three ways the runtime binds: the driver cursor, SQLAlchemy, pages
            values = {"order": 41, "login": "ada"}
            pages = [row for page in driver_pages(tx, statement, values, 10) for row in page]
            return tx.first(statement, values), tuple(tx.execute(statement, values).one()), pages

        first, through_sqlalchemy, pages = await database.run(read)
    finally:
        database.dispose()
    assert first == through_sqlalchemy == (42, "ada") and pages == [(42, "ada")]
    assert '"renamed"' not in Statement(sql="SELECT 1").model_dump_json()
