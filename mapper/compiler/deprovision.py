"""What ``active=false`` (``disable``) and DELETE (``delete``) do: ``set c = v, ...`` runs
``UPDATE T SET c = v ... WHERE anchor = :anchor``; ``row`` runs the object's delete statement;
``ignore`` does nothing. By default disable is ``ignore`` and delete is ``row`` (``ignore`` for
an object with no delete statement).

``set`` updates the ``write table`` (the checks' MAP170 asks for one); a column named like an
import output column writes that output's table column. A value is a literal or an SQL
expression (``deleted_at = CURRENT_TIMESTAMP``, ``stamp = sql\"\"\"now()\"\"\"``), parsed in the
source's dialect and rendered in the target's like every other statement. A column the import
does not select is a warning (MAP240): only ``lint --db`` can tell whether the table has it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import sqlglot
from sqlglot import exp

from mapper.compiler import codes, sqltext
from mapper.compiler.context import Context
from mapper.compiler.derive import anchor_equals
from mapper.compiler.hints import listed, meant
from mapper.compiler.projection import Projection
from mapper.compiler.statements import render_statement
from mapper.diagnostics import Span
from mapper.language.model import Assignment, Deprovision
from mapper.plan import PlanDeprovision, Statement

if TYPE_CHECKING:
    from mapper.compiler.stamp import Stamped


def compile_deprovision(  # noqa: PLR0913 - the rule and everything it may run against
    ctx: Context,
    rule: Deprovision | None,
    default: str,
    delete: Statement | None,
    declared: bool,
    projection: Projection,
    table: exp.Table | None,
    anchor_column: exp.Identifier | None,
    stamp: Stamped | None,
    what: str,
    span: Span,
) -> PlanDeprovision | None:
    """The plan rule for ``rule`` (``default`` when absent). ``delete`` is the object's delete
    statement; ``declared`` says whether the mapping declares one (so a missing one failed). A
    ``set`` rule also sets the ``stamp`` column, unless it sets that column itself."""
    action = rule.action if rule is not None else default
    if rule is None and action == "row" and delete is None:
        action = "ignore"
    if action == "ignore":
        return PlanDeprovision(action="ignore")
    where = rule.span if rule is not None else span
    if action == "row":
        if delete is None and declared:
            return None  # the delete statement itself failed, and said why
        if delete is None:
            ctx.error(
                codes.DEPROVISION_WITHOUT_STATEMENT,
                f"{what} row: the object has no delete statement to run",
                where,
                hint="add 'write table T' or a delete statement to the write block",
            )
            return None
        return PlanDeprovision(action="row", statement=delete)
    assert rule is not None
    if table is None or anchor_column is None:
        ctx.error(
            codes.DEPROVISION_WITHOUT_STATEMENT,
            f"{what} set: there is no 'write table' to update",
            where,
            hint="add 'write table T', or map the column and let the update statement write it",
        )
        return None
    assignments = set_assignments(ctx, rule.assignments, projection, table, f"{what} set")
    if assignments is None:
        return None
    update = render_statement(ctx, build_set(table, stamped(assignments, stamp), anchor_column), where, what)
    return PlanDeprovision(action="set", statement=update) if update else None


def set_assignments(  # noqa: PLR0913 - the assignments, where they write, and how to report
    ctx: Context,
    assignments: tuple[Assignment, ...],
    projection: Projection,
    table: exp.Table,
    what: str,
    unselected: bool = True,
) -> list[tuple[exp.Identifier, exp.Expr]] | None:
    """``(table column, value)`` for each assignment, or None after reporting a value that does
    not parse. Columns the import does not select are reported as MAP240 warnings (``unselected``)."""
    out: list[tuple[exp.Identifier, exp.Expr]] = []
    failed = False
    for assignment in assignments:
        name = assignment.column.value
        output = projection.output(name)
        if unselected and output is None and not _selected_column(projection, name):
            ctx.error(
                codes.SET_COLUMN_NOT_SELECTED,
                f"{what}: the import does not select '{name}', so its existence is not checked here",
                assignment.column.span,
                hint=_unselected_hint(name, projection.columns),
            )
        value = set_value(ctx, assignment, what)
        if value is None:
            failed = True
            continue
        out.append((table_column(projection, table, name), value))
    return None if failed else out


def _selected_column(projection: Projection, name: str) -> bool:
    """Whether some output reads the table column ``name`` (under another output name)."""
    return any(o.column is not None and o.column.lower() == name.lower() for o in projection.outputs)


def set_value(ctx: Context, assignment: Assignment, what: str) -> exp.Expr | None:
    """The value of an assignment as SQL: the literal, or the expression parsed in the read dialect."""
    if assignment.expression is None:
        return exp.convert(assignment.value)
    column = assignment.column.value
    span = assignment.expression.span
    try:
        with sqltext.quiet_sqlglot():
            parsed = sqlglot.parse_one(assignment.expression.value, read=ctx.read)
    except Exception as err:  # ParseError, TokenError, or sqlglot's own bug: reported, never raised
        ctx.error(codes.SQL_SYNTAX, f"{what}: the value of {column} does not parse: {err}", span)
        return None
    if not isinstance(parsed, exp.Expr) or isinstance(parsed, exp.Query | exp.DML | exp.Command):
        ctx.error(
            codes.SQL_SYNTAX,
            f"{what}: the value of {column} must be one SQL expression",
            span,
            hint='write a value such as CURRENT_TIMESTAMP, \'T\' or sql"""now()"""',
        )
        return None
    if parsed.find(exp.Placeholder) is not None:
        ctx.error(
            codes.UNKNOWN_PARAMETER,
            f"{what}: the value of {column} binds a parameter, which a 'set' rule has none of",
            span,
            hint="write the value itself",
        )
        return None
    return parsed


def stamped(
    assignments: list[tuple[exp.Identifier, exp.Expr]], stamp: Stamped | None
) -> list[tuple[exp.Identifier, exp.Expr]]:
    """``assignments`` and the stamp's, unless they set the stamped column themselves."""
    if stamp is None or any(stamp.sets(column) for column, _ in assignments):
        return assignments
    return [*assignments, stamp.pair()]


def table_column(projection: Projection, table: exp.Table, name: str) -> exp.Identifier:
    output = projection.output(name)
    column = projection.target_column(output, table) if output is not None else None
    return projection.identifier(column or name)


def build_set(
    table: exp.Table, assignments: list[tuple[exp.Identifier, exp.Expr]], anchor_column: exp.Identifier
) -> exp.Update:
    """``UPDATE table SET c = value ... WHERE anchor = :anchor``. The values come from the
    compiled mapping (never from a request): literals are written as SQL literals."""
    sets = [exp.EQ(this=exp.Column(this=c.copy()), expression=v.copy()) for c, v in assignments]
    return exp.Update(this=table.copy(), expressions=sets, where=exp.Where(this=anchor_equals(anchor_column)))


def _unselected_hint(name: str, columns: Sequence[str]) -> str:
    """A column the import does not select: perhaps a misspelling of one it does (and the
    columns, capped), else what to do; the whole list of a wide table teaches nothing."""
    close = meant(name, columns)
    if close is not None:
        return f"did you mean '{close}'? ({listed(columns, 'columns')})"
    return f"select {name} in the import, or run 'mapper lint --db' to check it against the table"
