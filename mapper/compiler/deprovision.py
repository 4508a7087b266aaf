"""What ``active=false`` (``disable``) and DELETE (``delete``) do: ``set c = v, ...`` runs
``UPDATE T SET c = v ... WHERE anchor = :anchor``; ``row`` runs the object's delete statement;
``ignore`` does nothing. By default disable is ``ignore`` and delete is ``row`` (``ignore`` for
an object with no delete statement).

``set`` updates the ``write table`` (the checks' MAP170 asks for one); a column named like an
import output column writes that output's table column.
"""

from __future__ import annotations

from sqlglot import exp

from mapper.compiler import codes
from mapper.compiler.context import Context
from mapper.compiler.derive import anchor_equals
from mapper.compiler.projection import Projection
from mapper.compiler.statements import render_statement
from mapper.language.model import Deprovision, Span
from mapper.plan import PlanDeprovision, Statement

Value = str | int | float | bool | None


def compile_deprovision(  # noqa: PLR0913 - the rule and everything it may run against
    ctx: Context,
    rule: Deprovision | None,
    default: str,
    delete: Statement | None,
    declared: bool,
    projection: Projection,
    table: exp.Table | None,
    anchor_column: exp.Identifier | None,
    what: str,
    span: Span,
) -> PlanDeprovision | None:
    """The plan rule for ``rule`` (``default`` when absent). ``delete`` is the object's delete
    statement; ``declared`` says whether the mapping declares one (so a missing one failed)."""
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
    assignments = [(_table_column(projection, table, a.column.value), a.value) for a in rule.assignments]
    update = render_statement(ctx, build_set_constants(table, assignments, anchor_column), where, what)
    return PlanDeprovision(action="set", statement=update) if update else None


def _table_column(projection: Projection, table: exp.Table, name: str) -> exp.Identifier:
    output = projection.output(name)
    column = projection.target_column(output, table) if output is not None else None
    return projection.identifier(column or name)


def build_set_constants(
    table: exp.Table, assignments: list[tuple[exp.Identifier, Value]], anchor_column: exp.Identifier
) -> exp.Update:
    """``UPDATE table SET c = literal ... WHERE anchor = :anchor``. The literals come from the
    compiled mapping (never from a request), so they are written as SQL literals."""
    sets = [exp.EQ(this=exp.Column(this=c), expression=exp.convert(v)) for c, v in assignments]
    return exp.Update(this=table.copy(), expressions=sets, where=exp.Where(this=anchor_equals(anchor_column)))
