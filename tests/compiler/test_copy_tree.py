"""``sqltext.copy_tree`` against sqlglot's own copy: the same tree, node for node, in every slot."""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp

from mapper.compiler.sqltext import copy_tree

SQL = [
    "SELECT p.id AS id, lower(login) AS folded FROM people AS p WHERE a = 1 OR b = 2 ORDER BY login DESC",
    "SELECT id, MAX(login) AS login, 'x:y' AS folded FROM people /* why */ GROUP BY id HAVING COUNT(*) > 1",
    'WITH t AS (SELECT 1 AS a) SELECT CAST(a AS TEXT), "Quoted"."Col" FROM t UNION SELECT 2, 3 LIMIT 10',
    "SELECT a FROM x WHERE b IN (1, 2, 3) AND c BETWEEN :lo AND :hi AND d IS NOT NULL",
    "UPDATE people SET login = :login, mail = NULL WHERE id = :anchor",
    "SELECT DATE_TRUNC('month', created) AS m, CASE WHEN x THEN 1 ELSE 0 END AS flag FROM events",
]


def positionless(tree: exp.Expr) -> exp.Expr:
    """``tree`` edited in place without token positions: what the compiler did before ``copy_tree``."""
    for node in tree.walk():
        if node._meta:
            kept = {k: v for k, v in node._meta.items() if k not in {"line", "col", "start", "end"}}
            node._meta = kept or None
    return tree


def same(original: exp.Expr, copied: exp.Expr, parent: exp.Expr | None) -> None:
    assert copied is not original
    assert type(copied) is type(original)
    assert copied.parent is parent
    if parent is not None:
        assert (copied.arg_key, copied.index) == (original.arg_key, original.index)
    else:
        assert copied.arg_key is None and copied.index is None
    assert copied.comments == original.comments
    assert copied.comments is None or copied.comments is not original.comments
    assert copied._meta == original._meta
    assert copied._hash == original._hash
    assert (copied._type is None) == (original._type is None)
    assert list(copied.args) == list(original.args)
    for key, value in original.args.items():
        other = copied.args[key]
        if isinstance(value, exp.Expr):
            same(value, other, copied)
        elif type(value) is list:
            assert type(other) is list and len(other) == len(value) and other is not value
            for item, copied_item in zip(value, other, strict=True):
                if isinstance(item, exp.Expr):
                    same(item, copied_item, copied)
                else:
                    assert copied_item == item
        else:
            assert other == value


@pytest.mark.parametrize("sql", SQL)
@pytest.mark.parametrize("read", ["sqlite", "postgres", "tsql"])
def test_copy_tree_is_sqlglots_copy(sql: str, read: str) -> None:
    tree = sqlglot.parse_one(sql, read=read)
    hash(tree.find(exp.Column))  # a cached hash, kept on leaves only
    same(tree.copy(), copy_tree(tree), None)
    same(positionless(tree.copy()), copy_tree(tree, positions=False), None)
    assert copy_tree(tree).sql(read) == tree.sql(read)


def test_a_copy_of_a_subtree_has_no_parent() -> None:
    where = sqlglot.parse_one("SELECT a FROM x WHERE b = 1").args["where"]
    copied = copy_tree(where)
    assert copied.parent is None and copied.arg_key is None and copied.this.parent is copied
