"""Booleans for the targets that have no boolean type: SQL Server (``BIT``) and Oracle before 23
(``NUMBER(1)``). Flags there are 0/1 integers, and a condition is not a value, so a tree read from
a dialect with booleans is rewritten before it is rendered:

- where a condition is expected (WHERE, HAVING, ON, CASE WHEN, AND/OR, NOT), a bare flag becomes
  ``flag = 1`` and ``NOT flag`` becomes ``flag = 0`` (sqlglot would write ``NOT flag <> 0`` for
  SQL Server and leave ``NOT flag`` for Oracle, which refuses it); ``flag IS TRUE`` becomes
  ``flag = 1`` and ``flag IS NOT TRUE`` ``COALESCE(flag, 0) = 0``; a TRUE/FALSE condition
  becomes ``1 = 1``/``1 = 0``;
- where a value is expected (a SELECT item, a SET value, an INSERT value, a function argument),
  a condition becomes ``CASE WHEN c THEN 1 WHEN NOT (c) THEN 0 END`` (NULL stays NULL), and
  ``NOT flag`` becomes ``CASE WHEN flag = 1 THEN 0 WHEN flag = 0 THEN 1 END``.

The literals TRUE and FALSE themselves are written 1 and 0 by the generators.
"""

from __future__ import annotations

from sqlglot import exp

_CONDITION_PARENTS = (exp.Where, exp.Having, exp.Qualify)


def flags_as_numbers(tree: exp.Expr) -> exp.Expr:
    """``tree`` (changed in place) with every condition and flag as the numeric targets need:
    first conditions used as values become CASE expressions (outermost first), then every place
    that wants a condition gets one."""
    for node in list(tree.walk()):
        if _attached(node, tree) and _is_condition(node) and _expects_value(node):
            node.replace(_as_value(node))
    for node in list(tree.walk()):
        if _attached(node, tree) and _expects_condition(node):
            _as_condition(node)
    return tree


def _attached(node: exp.Expr, tree: exp.Expr) -> bool:
    """Whether ``node`` is still part of ``tree`` (an earlier rewrite may have replaced it)."""
    while node is not tree:
        if node.parent is None:
            return False
        node = node.parent
    return True


def _is_condition(node: exp.Expr) -> bool:
    if isinstance(node, exp.Paren):
        return _is_condition(node.this)
    return isinstance(node, (exp.Predicate, exp.Connector, exp.Not))


def _expects_condition(node: exp.Expr) -> bool:
    """Whether ``node`` stands where SQL wants a condition."""
    parent, key = node.parent, node.arg_key
    if parent is None:
        return False
    if isinstance(parent, exp.Paren):
        return _expects_condition(parent)
    if isinstance(parent, _CONDITION_PARENTS) or isinstance(parent, (exp.Connector, exp.Not)):
        return key == "this" or isinstance(parent, exp.Connector)
    if isinstance(parent, exp.Join):
        return key == "on"
    if isinstance(parent, exp.If):  # CASE WHEN cond, but not the value of CASE x WHEN v
        case = parent.parent
        return key == "this" and not (isinstance(case, exp.Case) and case.args.get("this"))
    return False


def _expects_value(node: exp.Expr) -> bool:
    """Whether a condition ``node`` stands where SQL wants a value."""
    parent = node.parent
    if parent is None or _expects_condition(node):
        return False
    if isinstance(parent, exp.Paren):
        return _expects_value(parent)
    if isinstance(parent, exp.Update) and node.arg_key == "expressions":
        return False  # an assignment ``col = value``, not a comparison
    if isinstance(parent, (exp.Connector, exp.Not)) or isinstance(node, exp.Paren):
        return False
    return not isinstance(parent, (exp.Where, exp.Having, exp.Join, exp.Qualify))


def _as_condition(node: exp.Expr) -> None:
    """Rewrite ``node``, which stands where a condition is expected, into one."""
    if isinstance(node, exp.Paren):
        return  # its content is visited on its own
    if isinstance(node, exp.Boolean):
        node.replace(exp.EQ(this=exp.Literal.number(1), expression=exp.Literal.number(1 if node.this else 0)))
    elif isinstance(node, exp.Not):
        inner = _unwrap(node.this)
        if isinstance(inner, exp.Is) and isinstance(inner.expression, exp.Boolean):
            # NOT (x IS TRUE) is true for NULL as well
            wanted = 0 if inner.expression.this else 1
            fallback = exp.Coalesce(this=inner.this.copy(), expressions=[exp.Literal.number(wanted)])
            node.replace(exp.EQ(this=fallback, expression=exp.Literal.number(wanted)))
        elif not _is_condition(inner) and not isinstance(inner, exp.Boolean):
            node.replace(_equals(inner, 0))
    elif isinstance(node, exp.Is) and isinstance(node.expression, exp.Boolean):
        node.replace(
            exp.EQ(this=node.this.copy(), expression=exp.Literal.number(1 if node.expression.this else 0))
        )
    elif not _is_condition(node) and not isinstance(node, exp.Null):
        node.replace(_equals(node, 1))


def _as_value(node: exp.Expr) -> exp.Expr:
    """A condition standing where a value is expected, as a 0/1 value (NULL when unknown)."""
    inner = _unwrap(node)
    if isinstance(inner, exp.Not) and not _is_condition(_unwrap(inner.this)):
        flag = _unwrap(inner.this)
        return exp.Case(
            ifs=[
                exp.If(
                    this=exp.EQ(this=flag.copy(), expression=exp.Literal.number(1)),
                    true=exp.Literal.number(0),
                ),
                exp.If(
                    this=exp.EQ(this=flag.copy(), expression=exp.Literal.number(0)),
                    true=exp.Literal.number(1),
                ),
            ]
        )
    condition = inner.copy()  # its own flags are rewritten by the condition pass
    negated = exp.Not(this=exp.Paren(this=condition.copy()))
    return exp.Case(
        ifs=[
            exp.If(this=condition, true=exp.Literal.number(1)),
            exp.If(this=negated, true=exp.Literal.number(0)),
        ]
    )


def _unwrap(node: exp.Expr) -> exp.Expr:
    while isinstance(node, exp.Paren):
        node = node.this
    return node


def _equals(value: exp.Expr, number: int) -> exp.EQ:
    """``value = number`` (on a copy of ``value``)."""
    return exp.EQ(this=value.copy(), expression=exp.Literal.number(number))
