"""The values a column's CHECK constraints allow, read from the live schema for MAP309.

A status column is often plain text guarded by ``CHECK (status IN ('A', 'S'))`` rather than an
ENUM type; a value map that stores ``'D'`` there is lint-clean by type and length and fails its
first write. Only the shapes that name a closed list of values for one column are understood:

    status IN ('A', 'S')                         -- SQLite, MariaDB
    status = 'A' OR status = 'S'
    (status)::text = ANY (ARRAY['A', 'S'])        -- PostgreSQL's rendering of an IN list
    ... OR status IS NULL                        -- NULL is allowed, the list still applies

Any other constraint (ranges, functions, several columns) allows what it allows: it is not
checked, so a value is never reported on a guess.
"""

from __future__ import annotations

from typing import Any

import sqlglot
from sqlglot import exp

from mapper.plan import dialect_of


def allowed_values(constraints: list[dict[str, Any]], dialect: str) -> dict[str, frozenset[Any]]:
    """Lower-cased column name → the literal values its CHECK constraints allow, for each column
    that one constraint limits to a closed list. ``constraints`` is SQLAlchemy's
    ``get_check_constraints``; ``dialect`` its dialect name."""
    read = dialect_of(dialect)
    found: dict[str, frozenset[Any]] = {}
    for constraint in constraints:
        text = constraint.get("sqltext")
        if not isinstance(text, str) or read is None:
            continue
        try:
            tree = sqlglot.parse_one(text, read=read)
        except sqlglot.errors.SqlglotError:
            continue
        if not isinstance(tree, exp.Expression):
            continue
        limited = _limits(tree)
        if limited is None:
            continue
        column, values = limited
        if column is not None:
            found[column] = found[column] & values if column in found else values
    return found


def _limits(node: exp.Expression) -> tuple[str | None, frozenset[Any]] | None:
    """(column, values) when ``node`` limits one column to a closed list; ``(None, {})`` for a
    branch that only admits NULL; None when it is anything else."""
    node = _bare(node)
    if isinstance(node, exp.Or):
        left, right = _limits(node.this), _limits(node.expression)
        if left is None or right is None:
            return None
        if left[0] is not None and right[0] is not None and left[0] != right[0]:
            return None
        return (left[0] or right[0], left[1] | right[1])
    if isinstance(node, exp.Is) and isinstance(node.expression, exp.Null):
        return (None, frozenset()) if _column(node.this) is not None else None
    if isinstance(node, exp.In) and not node.args.get("query"):
        return _listed(_column(node.this), node.expressions)
    if isinstance(node, exp.EQ):
        for side, other in ((node.this, node.expression), (node.expression, node.this)):
            column = _column(side)
            if column is None:
                continue
            other = _bare(other)
            if isinstance(other, exp.Any):
                array = _bare(other.this)
                if isinstance(array, exp.Array):
                    return _listed(column, array.expressions)
                return None
            return _listed(column, [other])
    return None


def _listed(column: str | None, items: list[exp.Expression]) -> tuple[str | None, frozenset[Any]] | None:
    if column is None:
        return None
    values = [_literal(item) for item in items]
    if any(value is _NOT_LITERAL for value in values):
        return None
    return (column, frozenset(values))


_NOT_LITERAL = object()


def _literal(node: exp.Expression) -> Any:
    node = _bare(node)
    if isinstance(node, exp.Literal):
        if node.is_string:
            return node.this
        try:
            return int(node.this)
        except ValueError:
            return float(node.this)
    if isinstance(node, exp.Boolean):
        return bool(node.this)
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal) and not node.this.is_string:
        value = _literal(node.this)
        return -value if value is not _NOT_LITERAL else value
    return _NOT_LITERAL


def _column(node: exp.Expression) -> str | None:
    node = _bare(node)
    return node.name.lower() if isinstance(node, exp.Column) else None


def _bare(node: exp.Expression) -> exp.Expression:
    """Without the parentheses and casts PostgreSQL wraps around stored constraints."""
    while isinstance(node, exp.Paren | exp.Cast):
        node = node.this
    return node


def admits(values: frozenset[Any], stored: Any) -> bool:
    """Whether a value map's stored value is among a CHECK list's ``values``; a flag stored in a
    numeric column compares as 0/1, and a number stored as text compares as text."""
    if isinstance(stored, bool):
        return stored in values or int(stored) in values or str(stored).lower() in values
    if isinstance(stored, int | float):
        return stored in values or str(stored) in values
    return stored in values
