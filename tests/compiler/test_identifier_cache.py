"""The writers keep the text of the plain identifiers they rendered: it must stay each dialect's
own text, and identifiers that carry more than a name are rendered afresh each time."""

from __future__ import annotations

import sqlglot

from mapper.compiler.dialects import render

SQL = 'SELECT a, "Mixed", ":y" FROM groups WHERE "order" = 1'


def test_each_writer_keeps_its_own_quoting() -> None:
    tree = sqlglot.parse_one(SQL, read="postgres")
    expected = {
        "mysql": "SELECT a, `Mixed`, `\\:y` FROM `groups` WHERE `order` = 1",
        "postgres": 'SELECT a, "Mixed", "\\:y" FROM groups WHERE "order" = 1',
        "tsql": "SELECT a, [Mixed], [\\:y] FROM groups WHERE [order] = 1",
    }
    for _ in range(2):  # the second round reads what the first one kept
        for write, sql in expected.items():
            assert render(tree, write) == sql


def test_a_temporary_table_name_is_not_taken_for_a_plain_one() -> None:
    assert render(sqlglot.parse_one("SELECT a FROM t", read="tsql"), "tsql") == "SELECT a FROM t"
    temporary = sqlglot.parse_one("SELECT a FROM #t", read="tsql")
    for _ in range(2):
        assert render(temporary, "tsql") == "SELECT a FROM #t"
