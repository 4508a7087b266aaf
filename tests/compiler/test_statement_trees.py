"""Derived statements are built in place (``copy=False``) and rendering consumes them, so each
must be a tree of its own: sharing a node with another statement or with the parsed import would
let one render's rewrites leak into the next."""

from __future__ import annotations

import itertools

import pytest
import sqlglot
from sqlglot import exp

from mapper.compiler import derive
from mapper.compiler.dialects import render_noting
from mapper.compiler.projection import project

IMPORTS = [
    "SELECT p.id AS id, login, mail FROM people p WHERE active = 1 ORDER BY login",
    "SELECT DISTINCT id, login, mail FROM people",
    "SELECT id, login, mail FROM people UNION SELECT id, login, mail FROM old LIMIT 10",
]


def nodes(tree: exp.Expr) -> set[int]:
    return {id(node) for node in tree.walk()}


@pytest.mark.parametrize("sql", IMPORTS)
@pytest.mark.parametrize("write", ["postgres", "tsql", "oracle"])
def test_derived_reads_share_no_node(sql: str, write: str) -> None:
    query = sqlglot.parse_one(sql, read="sqlite")
    assert isinstance(query, exp.Query)
    projection, problems = project(query)
    assert not problems
    reads = derive.derive_reads(projection, "id", "login", False, write)
    changes = derive.select_watermark_changes(projection, "mail", "id", write)
    latest = derive.select_watermark_max(projection, "mail")
    trees = [
        reads.import_all,
        reads.import_first_page,
        reads.import_page,
        reads.by_anchor,
        reads.by_query,
        changes,
        latest,
    ]
    imported = nodes(projection.query)
    for tree in trees:
        assert not nodes(tree) & imported
    for a, b in itertools.combinations(trees, 2):
        assert not nodes(a) & nodes(b)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT a FROM t WHERE b = :one AND c IN (:two, :one) ORDER BY a LIMIT :limit",
        "UPDATE t SET a = :value WHERE id = :anchor",
        "SELECT ':literal' AS x FROM t",
        "SELECT a FROM t WHERE b = ?",
    ],
)
@pytest.mark.parametrize("write", ["sqlite", "postgres", "mysql", "tsql", "oracle"])
def test_rendering_notes_the_placeholders_find_all_finds(sql: str, write: str) -> None:
    tree = sqlglot.parse_one(sql, read="sqlite")
    expected = {p.name for p in tree.find_all(exp.Placeholder)}
    _, placeholders, opaque = render_noting(tree, write)
    assert (opaque, placeholders) == (False, expected)


def test_rendering_notes_an_opaque_command() -> None:
    tree = sqlglot.parse_one("VACUUM", read="postgres")
    assert isinstance(tree, exp.Command)
    assert render_noting(tree, "postgres")[2] is True
