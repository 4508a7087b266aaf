"""``create set COLUMN = VALUE, ...``: the fixed values every row the gateway creates carries.

A real table has columns no SCIM attribute fills but every new row must hold (NOT NULL without a
default: Moodle's ``mdl_user.mnethostid``, ``confirmed``, ``auth``). The derived insert of ``write
table`` writes each one with its value, written into the SQL (a literal, a bare SQL word such as
``CURRENT_TIMESTAMP``, or ``sql\"\"\"...\"\"\"``, rendered in the target dialect), never a value a
client sends or binds. A revive (``recreate revive``: a create that meets a soft-deleted row) creates
the object again, so it writes them too, beside what clears the tombstone; a column the revive's own
``set`` writes keeps that value. The import need not select these columns (they are typically not
read, so no MAP240 here): ``lint --db`` proves the insert against the table (MAP302). A value that
names a column (``auth = manual``, an unquoted word) is refused (MAP243): an insert's values read
no row. Misuses the checks find (MAP190-MAP191) are in :mod:`mapper.checks.writes`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from mapper.compiler import codes
from mapper.compiler.context import Context
from mapper.compiler.deprovision import set_assignments
from mapper.compiler.projection import Projection
from mapper.language.model import ObjectType


@dataclass(frozen=True)
class Created:
    """The write table's columns a created row gets fixed values for, with their values."""

    pairs: tuple[tuple[exp.Identifier, exp.Expr], ...]

    def besides(self, columns: list[exp.Identifier]) -> list[tuple[exp.Identifier, exp.Expr]]:
        """Copies of the pairs for the columns not among ``columns`` (which a statement writes already)."""
        taken = {c.name.lower() for c in columns}
        return [(c.copy(), v.copy()) for c, v in self.pairs if c.name.lower() not in taken]


def compile_create(
    ctx: Context, obj: ObjectType, projection: Projection, table: exp.Table | None
) -> Created | None:
    """The object's ``create set``, or None when it has none, has no write table to insert into
    (MAP190, the checks'), or failed (reported)."""
    create = obj.create
    if create is None or table is None:
        return None
    what = f"{obj.name.value} create set"
    failed = False
    for assignment in create.assignments:
        output = projection.output(assignment.column.value)
        if output is not None and projection.target_column(output, table) is None:
            code = (
                codes.EXPRESSION_NOT_WRITABLE if output.column is None else codes.FOREIGN_COLUMN_NOT_WRITABLE
            )
            ctx.error(
                code,
                f"{what}: the import's '{output.name}' is not a column of the write table {table.name}",
                assignment.column.span,
                hint=f"set a column of {table.name} itself",
            )
            failed = True
    found = set_assignments(ctx, create.assignments, projection, table, what, unselected=False)
    if found is None or failed:
        return None
    for assignment, (_, value) in zip(create.assignments, found, strict=True):
        column = value.find(exp.Column)
        if column is None:
            continue
        span = assignment.expression.span if assignment.expression is not None else assignment.span
        word, name = column.sql(), assignment.column.value
        ctx.error(
            codes.CREATE_VALUE_READS_ROW,
            f"{what}: the value of {name} names the column {word}, and an insert's values read no row",
            span,
            hint=(
                f'write the value itself: a number, a string in quotes ({name} = "{word}"), '
                'true, false, null, CURRENT_TIMESTAMP or sql"""..."""'
                if assignment.sql is None
                else "write an expression of constants and SQL functions, such as CURRENT_TIMESTAMP"
            ),
        )
        failed = True
    return None if failed else Created(tuple(found))
