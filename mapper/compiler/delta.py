"""How autosync finds changes: a watermark column of the import, a change table, or nothing.

For ``delta watermark C`` the plan's ``query`` is the import restricted to ``C > :since`` (oldest
first) and ``max_sequence`` holds ``SELECT MAX(C)`` over the import: the starting point after a
full import. For ``delta table T { sequence S anchor A type K }`` they are
``SELECT S, A, K FROM T WHERE S > :since ORDER BY S`` and ``SELECT MAX(S) FROM T``, and
``by_anchors`` is the import restricted to ``anchor IN (:anchor_1, ..., :anchor_K)`` (the changed
objects, read K at a time); omitted column names default to ``sequence``, the anchor column's
name, and ``change_type``.
"""

from __future__ import annotations

from sqlglot import exp
from sqlglot.errors import SqlglotError

from mapper.compiler import codes, derive, sqltext
from mapper.compiler.context import Context
from mapper.compiler.hints import suggest
from mapper.compiler.projection import Projection
from mapper.compiler.statements import render_statement
from mapper.language.model import DeltaTable, DeltaWatermark, Name, ObjectType
from mapper.plan import PlanDelta


def compile_delta(ctx: Context, obj: ObjectType, projection: Projection, anchor: str) -> PlanDelta | None:
    delta = obj.delta
    if isinstance(delta, DeltaWatermark):
        return _watermark(ctx, obj, delta, projection, anchor)
    if isinstance(delta, DeltaTable):
        return _table(ctx, obj, delta, projection, anchor)
    return PlanDelta(kind="none")


def _watermark(
    ctx: Context, obj: ObjectType, delta: DeltaWatermark, projection: Projection, anchor: str
) -> PlanDelta | None:
    output = projection.output(delta.column.value)
    if output is None:
        ctx.error(
            codes.WATERMARK_NOT_SELECTED,
            f"the watermark column '{delta.column.value}' is not selected by the {obj.name.value} import",
            delta.column.span,
            hint=suggest(delta.column.value, projection.columns, "columns"),
        )
        return None
    assert obj.import_sql is not None
    span, what = obj.import_sql.span, f"{obj.name.value} import"  # the import is what may not transpile
    changes = derive.select_watermark_changes(projection, output.name, anchor, ctx.write)
    query = render_statement(ctx, changes, span, what)
    latest = render_statement(ctx, derive.select_watermark_max(projection, output.name), span, what)
    if query is None or latest is None:
        return None
    return PlanDelta(kind="watermark", query=query, watermark_column=output.name, max_sequence=latest)


def _table(
    ctx: Context, obj: ObjectType, delta: DeltaTable, projection: Projection, anchor: str
) -> PlanDelta | None:
    try:
        table = sqltext.table_name(delta.table, ctx.read)
    except SqlglotError as err:
        ctx.error(codes.SQL_SYNTAX, f"'{delta.table.value}' is not a table name: {err}", delta.table.span)
        return None
    output = projection.output(anchor)
    sequence = _column(delta.sequence, "sequence")
    anchor_column = (
        _column(delta.anchor, anchor)
        if delta.anchor or output is None or output.column is None
        else projection.identifier(output.column)
    )
    change_type = _column(delta.change_type, "change_type")
    what = f"delta table {delta.table.value}"
    query = render_statement(
        ctx,
        derive.select_table_changes(table, sequence, anchor_column, change_type, ctx.write),
        delta.span,
        what,
    )
    latest = render_statement(ctx, derive.select_table_max(table, sequence), delta.span, what)
    assert obj.import_sql is not None
    changed = render_statement(
        ctx, derive.select_by_anchors(projection, anchor), obj.import_sql.span, f"{obj.name.value} import"
    )
    if query is None or latest is None or changed is None:
        return None
    return PlanDelta(
        kind="table",
        by_anchors=changed,
        query=query,
        sequence_column=sequence.name,
        anchor_column=anchor_column.name,
        change_type_column=change_type.name,
        max_sequence=latest,
    )


def _column(name: Name | None, default: str) -> exp.Identifier:
    """A change-table column: as written (quoted if written quoted), else ``default``."""
    if name is None:
        return exp.to_identifier(default)
    return exp.to_identifier(name.value, quoted=True if name.written is not None else None)
