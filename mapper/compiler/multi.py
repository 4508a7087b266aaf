"""Multi-valued attributes kept in a child table (``multi members reference User { ... }``).

The import's first output column is the owner's anchor and its second the value; further columns
named ``type``, ``display`` or ``primary`` fill those sub-attributes. ``load`` returns every item
ordered by owner and value; ``load_for_anchor`` one owner's. ``add``/``remove`` bind ``:anchor``
and ``:value``, and ``:type``/``:display``/``:primary`` when the import has those columns.
"""

from __future__ import annotations

from sqlglot import exp

from mapper.compiler import codes, sqltext
from mapper.compiler.context import Context
from mapper.compiler.derive import placeholder, restrictable
from mapper.compiler.dialects import order_ascending
from mapper.compiler.paths import PathError, Resolver
from mapper.compiler.projection import project
from mapper.compiler.statements import explicit, render_statement
from mapper.language.model import MultiValued
from mapper.plan import PlanMulti

OPTIONAL = ("type", "display", "primary")


def compile_multi(ctx: Context, multi: MultiValued, resolver: Resolver) -> PlanMulti | None:
    before = ctx.errors()
    what = f"multi {multi.attribute.value}"
    try:
        resolved = resolver.resolve(multi.attribute.value)
    except PathError as err:
        ctx.error(codes.UNMAPPABLE_PATH, f"{what}: {err}", multi.attribute.span)
        resolved = None
    if multi.import_sql is None:
        ctx.error(codes.INCOMPLETE_OBJECT, f"{what}: no import query", multi.span)
        return None
    block = multi.import_sql
    query = sqltext.parse_query(ctx, block, f"{what} import")
    if query is None:
        return None
    projection, problems = project(query)
    for problem in problems:
        ctx.error(
            codes.UNNAMED_OUTPUT, f"{what} import: {problem.reason}", sqltext.locate_node(block, problem.item)
        )
    if any(problem.fatal for problem in problems):
        return None
    if len(projection.outputs) < 2 and not problems:
        ctx.error(
            codes.IMPORT_NOT_SELECT,
            f"{what} import: needs the owner's anchor and the value as its first two columns",
            block.span,
        )
    if ctx.errors() > before or resolved is None:
        return None
    owner, value = projection.outputs[0].name, projection.outputs[1].name
    b = restrictable(projection)
    load = b.query.copy().order_by(
        order_ascending(b.ref(owner), ctx.write), order_ascending(b.ref(value), ctx.write), copy=False
    )
    for_anchor = b.query.where(exp.EQ(this=b.ref(owner), expression=placeholder("anchor")), copy=False)
    for_anchor = for_anchor.order_by(order_ascending(b.ref(value), ctx.write), copy=False)
    known = {"anchor", "value"} | {c.lower() for c in projection.columns[2:] if c.lower() in OPTIONAL}
    load_stmt = render_statement(ctx, load, block.span, f"{what} import")
    for_anchor_stmt = render_statement(ctx, for_anchor, block.span, f"{what} import")
    add = explicit(ctx, multi.add, known, f"{what} add") if multi.add else None
    remove = explicit(ctx, multi.remove, known, f"{what} remove") if multi.remove else None
    if ctx.errors() > before or load_stmt is None or for_anchor_stmt is None:
        return None
    return PlanMulti(
        attribute=resolved.attribute,
        schema_urn=resolved.schema_urn,
        reference=multi.reference.value if multi.reference else None,
        on_missing="reject" if multi.on_missing and multi.on_missing.value == "reject" else "drop",
        columns=projection.columns,
        load=load_stmt,
        load_for_anchor=for_anchor_stmt,
        add=add,
        remove=remove,
    )
