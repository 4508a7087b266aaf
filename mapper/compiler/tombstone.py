"""Soft delete: what marks a row as deleted, and the reads and writes that follow from it.

The tombstone predicate is written (``tombstone sql\"\"\"deleted_at IS NOT NULL\"\"\"``) or derived
from ``delete set``: each ``c = v`` gives ``c = v`` (``c IS NULL`` for ``null``, ``c IS NOT NULL``
for an SQL expression such as ``CURRENT_TIMESTAMP``), all of them ANDed. Its columns are the
write table's.

Every read hides tombstoned rows: the import gets ``AND <live>`` in its WHERE (so do the pages,
the look-ups and the watermark delta, which are derived from it), the membership import of a
reference to the object type keeps only live anchors, and a watermark delta also reads the rows
tombstoned since the last sync, to drop them. ``<live>`` is NULL-safe: for derived predicates
``(c IS NULL OR c <> v)``, for a written one ``CASE WHEN <predicate> THEN 1 ELSE 0 END = 0``.

A create whose query attribute names a tombstoned row follows ``recreate``: ``revive`` (the
default) clears the tombstone and updates the row with the new values, keeping its anchor;
``conflict`` answers 409. How a revive clears: ``recreate revive set c = v, ...``, else derived
from ``delete set``: ``true``/``false`` flip, ``1``/``0`` swap, an SQL expression becomes NULL,
and a column the update writes anyway (a mapped status) needs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from mapper.compiler import codes, sqltext
from mapper.compiler.context import Context
from mapper.compiler.create import Created
from mapper.compiler.deprovision import build_set, set_assignments, stamped
from mapper.compiler.derive import compared_as, placeholder
from mapper.compiler.projection import Projection, project
from mapper.compiler.stamp import Stamped
from mapper.compiler.statements import render_statement
from mapper.diagnostics import Span
from mapper.language.model import Assignment, ObjectType
from mapper.plan import PlanAttribute, PlanTombstone

#: A derived revive cannot clear this assignment (a string or other literal the update does not write).
UNCLEARABLE = None


@dataclass(frozen=True)
class Tombstone:
    """The predicate of a deleted row and of a live one, over the write table's columns."""

    dead: exp.Expr
    live: exp.Expr
    # derived from ``delete set``: per column, the value a revive writes (None: cannot tell)
    clears: tuple[tuple[exp.Identifier, exp.Expr | None], ...]
    span: Span


def declare(
    ctx: Context, obj: ObjectType, projection: Projection, table: exp.Table | None
) -> Tombstone | None:
    """The object's tombstone, or None when it has none (or it failed, reported)."""
    if table is None:
        return None
    if obj.tombstone is not None:
        block = obj.tombstone.sql
        what = f"{obj.name.value} tombstone"
        parsed = sqltext.parse(ctx, block, what)
        if parsed is None:
            return None
        if len(parsed) != 1 or isinstance(parsed[0], exp.Query | exp.DML | exp.Command):
            ctx.error(
                codes.SQL_SYNTAX,
                f"{what}: must be one condition over the write table's columns",
                block.span,
                hint='for example tombstone sql"""deleted_at IS NOT NULL"""',
            )
            return None
        dead = parsed[0]
        live: exp.Expr = exp.EQ(
            this=exp.Case(ifs=[exp.If(this=exp.Paren(this=dead.copy()), true=exp.Literal.number(1))]).else_(
                exp.Literal.number(0), copy=False
            ),
            expression=exp.Literal.number(0),
        )
        return Tombstone(dead, live, (), obj.tombstone.span)
    rule = obj.delete
    if rule is None or rule.action != "set" or not rule.assignments:
        return None
    assignments = set_assignments(_quiet(ctx), rule.assignments, projection, table, "")
    if assignments is None:
        return None  # reported when the delete rule itself compiles
    deads: list[exp.Expr] = []
    lives: list[exp.Expr] = []
    clears: list[tuple[exp.Identifier, exp.Expr | None]] = []
    for written, (column, value) in zip(rule.assignments, assignments, strict=True):
        ref = exp.Column(this=column.copy())
        if isinstance(value, exp.Null):
            deads.append(exp.Is(this=ref.copy(), expression=exp.Null()))
            lives.append(exp.Not(this=exp.Is(this=ref.copy(), expression=exp.Null())))
        elif written.expression is not None:
            deads.append(exp.Not(this=exp.Is(this=ref.copy(), expression=exp.Null())))
            lives.append(exp.Is(this=ref.copy(), expression=exp.Null()))
        else:
            deads.append(exp.EQ(this=ref.copy(), expression=value.copy()))
            lives.append(
                exp.Paren(
                    this=exp.Or(
                        this=exp.Is(this=ref.copy(), expression=exp.Null()),
                        expression=exp.NEQ(this=ref.copy(), expression=value.copy()),
                    )
                )
            )
        clears.append((column, _cleared(written)))
    dead = exp.and_(*deads) if len(deads) > 1 else deads[0]
    live = exp.or_(*lives) if len(lives) > 1 else lives[0]
    return Tombstone(dead, live, tuple(clears), rule.span)


def _quiet(ctx: Context) -> Context:
    """A context whose reports go nowhere: for a second look at what is reported elsewhere."""
    return Context(ctx.file, ctx.read, ctx.write, [])


def _cleared(assignment: Assignment) -> exp.Expr | None:
    """The value a derived revive writes to undo ``assignment`` (None: it cannot tell)."""
    if assignment.expression is not None:
        return exp.Null()
    value = assignment.value
    if isinstance(value, bool):
        return exp.convert(not value)
    if isinstance(value, int) and value in (0, 1):
        return exp.convert(1 - value)
    return UNCLEARABLE


def restrict(
    ctx: Context, obj: ObjectType, query: exp.Query, projection: Projection, table: exp.Table, where: exp.Expr
) -> exp.Query | None:
    """The import restricted to rows where ``where`` holds (its columns qualified by the write
    table's alias when the import joins or aliases it), or None after MAP241."""
    if not isinstance(query, exp.Select) or query.args.get("limit") or query.args.get("offset"):
        assert obj.import_sql is not None
        ctx.error(
            codes.TOMBSTONE_IMPORT_SHAPE,
            f"{obj.name.value}: the tombstone cannot filter this import (a set operation, LIMIT or OFFSET)",
            obj.import_sql.span,
            hint="make the import one SELECT, or filter deleted rows in the import yourself",
        )
        return None
    condition = _qualified(where, projection, table)
    return query.copy().where(condition, copy=False)


def _qualified(where: exp.Expr, projection: Projection, table: exp.Table) -> exp.Expr:
    condition = where.copy()
    found = next((t for t in projection.tables if t.name.lower() == table.name.lower()), None)
    if found is None or (len(projection.tables) < 2 and not found.alias):
        return condition  # a view over the table, or the table alone and unaliased
    alias = found.alias_or_name
    for column in condition.find_all(exp.Column):
        if not column.table:
            column.set("table", exp.to_identifier(alias))
    return condition


def dead_projection(
    ctx: Context,
    obj: ObjectType,
    query: exp.Query,
    projection: Projection,
    table: exp.Table,
    stone: Tombstone,
) -> Projection | None:
    """The import of tombstoned rows only (for the watermark delta's deletes)."""
    dead = restrict(_quiet(ctx), obj, query, projection, table, stone.dead)
    return None if dead is None else project(dead)[0]


def compile_policy(  # noqa: PLR0913 - the tombstone and everything a revive writes through
    ctx: Context,
    obj: ObjectType,
    stone: Tombstone,
    projection: Projection,
    table: exp.Table,
    anchor_column: exp.Identifier,
    query_attribute: PlanAttribute,
    updated: set[str],
    stamp: Stamped | None = None,
    created: Created | None = None,
) -> PlanTombstone | None:
    """The plan's soft-delete rules. ``updated``: the table columns (lowercase) the object's
    update writes, which a revive need not clear; ``stamp``: the column a revive stamps too;
    ``created``: the fixed values of ``create set``, which a revive writes again (it creates the
    object anew) unless it clears the same column."""
    recreate = obj.recreate
    policy = recreate.policy if recreate is not None else "revive"
    find = None
    if query_attribute.target_column is not None:
        column: exp.Expr = exp.Column(this=projection.identifier(query_attribute.target_column))
        value: exp.Expr = placeholder("value")
        if not compared_as(query_attribute.type, query_attribute.case_exact)[0]:
            column, value = exp.Lower(this=column), exp.Lower(this=value)
        select = (
            exp.select(exp.Column(this=anchor_column.copy()))
            .from_(table.copy())
            .where(exp.EQ(this=column, expression=value))
            .where(exp.Paren(this=stone.dead.copy()))
        )
        find = render_statement(ctx, select, stone.span, f"{obj.name.value} tombstone")
    if policy == "conflict":
        return PlanTombstone(policy="conflict", find=find)
    where = recreate.span if recreate is not None else stone.span
    if recreate is not None and recreate.assignments:
        clears = set_assignments(
            ctx, recreate.assignments, projection, table, f"{obj.name.value} recreate revive"
        )
        if clears is None:
            return None
    else:
        clears = []
        for column_id, cleared in stone.clears:
            if column_id.name.lower() in updated:
                continue
            if cleared is None:
                ctx.error(
                    codes.REVIVE_UNCLEARED,
                    f"{obj.name.value}: a revive cannot tell what to write to {column_id.name}",
                    where,
                    hint=f"add 'recreate revive set {column_id.name} = VALUE', or 'recreate conflict'",
                )
                return None
            clears.append((column_id, cleared))
        if obj.tombstone is not None:
            ctx.error(
                codes.REVIVE_UNCLEARED,
                f"{obj.name.value}: a revive cannot tell how to clear a written tombstone predicate",
                where,
                hint="add 'recreate revive set COLUMN = VALUE, ...', or 'recreate conflict'",
            )
            return None
    if created is not None:
        clears = [*clears, *created.besides([column for column, _ in clears])]
    revive = None
    if clears:
        revive = render_statement(
            ctx,
            build_set(table, stamped(clears, stamp), anchor_column),
            where,
            f"{obj.name.value} recreate revive",
        )
        if revive is None:
            return None
    return PlanTombstone(policy="revive", find=find, revive=revive)


def live_anchors(ctx: Context, other: ObjectType) -> exp.Select | None:
    """``SELECT anchor FROM table WHERE <live>`` for an object type with a tombstone (None
    otherwise): the anchors a membership import may keep. Problems are the other object's to
    report, so nothing is reported here."""
    quiet = _quiet(ctx)
    if other.import_sql is None or other.anchor is None or other.writes is None or other.writes.table is None:
        return None
    if other.tombstone is None and (other.delete is None or other.delete.action != "set"):
        return None
    query = sqltext.parse_query(quiet, other.import_sql, "")
    if query is None:
        return None
    projection, _ = project(query)
    try:
        table = projection.spelled(sqltext.table_name(other.writes.table, ctx.read))
    except Exception:  # reported when the other object compiles
        return None
    stone = declare(quiet, other, projection, table)
    output = projection.output(other.anchor.column.value)
    column = projection.target_column(output, table) if output is not None else None
    if stone is None or column is None or quiet.errors():
        return None
    anchor = exp.Column(this=projection.identifier(column))
    return exp.select(anchor).from_(table.copy()).where(stone.live.copy())
