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

An import that reads only some rows of its table (Redmine's ``WHERE type = 'User'``: users, groups
and built-in rows share ``users``) must be given a create that is among them. A condition
``column = 'text'`` of its WHERE over the write table that no ``create set``, attribute, anchor or
stamp writes, or that ``create set`` gives another value, makes every create answer 400, the new
row being invisible to the import: MAP244, a warning, as the column's DEFAULT or a collation that
ignores case may make the row visible after all. A number or flag (``retired = 0``) is most often
the DEFAULT, and is not looked at.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from mapper.compiler import codes, sqltext
from mapper.compiler.context import Context
from mapper.compiler.deprovision import set_assignments
from mapper.compiler.projection import Projection, same_table
from mapper.language.layout import literal as layout_literal
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


def check_visible(ctx: Context, obj: ObjectType, projection: Projection, table: exp.Table | None) -> None:
    """MAP244: each ``column = constant`` the import's WHERE requires of a write-table column is
    what a created row holds: ``create set`` writes that very value, or an attribute, the anchor
    or the stamp writes the column (the client's value may be the one)."""
    query = projection.query
    block = obj.import_sql
    if table is None or block is None or obj.writes is None or obj.writes.table is None:
        return
    if not isinstance(query, exp.Select):
        return
    where = query.args.get("where")
    if where is None:
        return
    written = {c.lower() for c in _written(obj, projection, table)}
    given = {a.column.value.lower(): a for a in (obj.create.assignments if obj.create else ())}
    for condition in where.this.flatten() if isinstance(where.this, exp.And) else (where.this,):
        found = _required(condition, projection, table)
        if found is None:
            continue
        column, constant = found
        name = column.name
        wanted = constant.sql(dialect=ctx.read)
        assignment = given.get(name.lower())
        span = sqltext.locate_node(block, condition)
        if assignment is not None:
            if assignment.expression is not None or _same_value(assignment.value, constant):
                continue
            ctx.warn(
                codes.CREATE_OUTSIDE_IMPORT,
                f"{obj.name.value} create set {name} = {layout_literal(assignment.value)}, but the import "
                f"reads only the rows whose {name} = {wanted}: every create is refused (400), the new row "
                "being invisible to the import (unless the column's collation ignores case)",
                assignment.span,
                hint=f"write the value the import selects: create set {name} = {_mapping_literal(constant)}",
            )
        elif name.lower() not in written:
            ctx.warn(
                codes.CREATE_OUTSIDE_IMPORT,
                f"{obj.name.value}: the import reads only the rows whose {name} = {wanted}, and a create "
                f"does not write {name}: unless its DEFAULT is {wanted}, every create is refused (400), "
                "the new row being invisible to the import",
                span,
                hint=f"give new rows the value: create set {name} = {_mapping_literal(constant)}",
            )


def _written(obj: ObjectType, projection: Projection, table: exp.Table) -> list[str]:
    """The write table's columns a create writes besides ``create set``: attributes mapped for
    export, the anchor, the stamp."""
    out: list[str] = []
    for mapping in obj.attributes:
        if mapping.direction == "import":
            continue
        output = projection.output(mapping.column.value)
        column = projection.target_column(output, table) if output is not None else mapping.column.value
        out.append(column or mapping.column.value)
    if obj.anchor is not None:
        output = projection.output(obj.anchor.column.value)
        out.append((projection.target_column(output, table) if output else None) or obj.anchor.column.value)
    if obj.stamp is not None:
        out.append(obj.stamp.column.value)
    return out


def _required(
    condition: exp.Expr, projection: Projection, table: exp.Table
) -> tuple[exp.Column, exp.Literal] | None:
    """``(column, constant)`` when ``condition`` is ``column = constant`` over the write table."""
    if isinstance(condition, exp.Paren):
        condition = condition.unnest()
    if not isinstance(condition, exp.EQ):
        return None
    left, right = condition.this, condition.expression
    if isinstance(left, exp.Literal) and isinstance(right, exp.Column):
        left, right = right, left
    # text only: a number or flag (``WHERE retired = 0``) is most often what the column's DEFAULT
    # gives a new row, and a kind of row is named (``'User'``)
    if not (isinstance(left, exp.Column) and isinstance(right, exp.Literal) and right.is_string):
        return None
    qualifier = left.table
    tables = projection.tables
    if not qualifier:
        return (left, right) if len(tables) == 1 and same_table(tables[0], table) else None
    for t in tables:
        if qualifier.lower() in (t.alias_or_name.lower(), t.name.lower()) and same_table(t, table):
            return left, right
    return None


def _same_value(value: object, constant: exp.Literal) -> bool:
    if constant.is_string:
        return isinstance(value, str) and value == constant.this
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return False
    try:
        return float(value) == float(constant.this)
    except ValueError:
        return False


def _mapping_literal(constant: exp.Literal) -> str:
    if constant.is_string:
        return '"' + constant.this.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return constant.this
