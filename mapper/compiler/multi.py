"""Multi-valued attributes kept in a child table (``multi members reference User { ... }``).

The import's first output column is the owner's anchor and its second the value; each further
column fills the sub-attribute ``type``, ``display`` or ``primary`` that it is named after (the
name itself, or one holding it: ``email_type``, ``is_primary``), each at most once; any other
column is MAP231. ``load`` returns every item ordered by owner and value; ``load_for_anchor`` one
owner's; ``load_for_anchors`` those of up to ``derive.ANCHORS_PER_READ`` owners (a delta's rows).
``add``/``remove`` bind ``:anchor`` and ``:value``, and ``:type``/``:display``/``:primary`` for
the sub-attributes the import has; a sub-attribute it lacks is MAP230 (it would be bound as NULL).

A hard delete ends the rows of its object's multis and those naming it before its row goes
(:func:`ending`): from a ``remove`` that is a plain ``DELETE`` whose conditions are ANDed, the
statement that removes every row of one owner keeps its ``col = :anchor`` and drops the
conditions on the other parameters (``remove_for_anchor``); that of every row naming one
referenced object keeps ``col = :value`` (``remove_for_value``). Any other ``remove`` (an
``UPDATE``, a procedure, an ``OR``) derives neither: the gateway then runs it once per row.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from mapper.compiler import codes, sqltext
from mapper.compiler.context import Context
from mapper.compiler.derive import anchor_in, placeholder, restrictable
from mapper.compiler.dialects import order_ascending
from mapper.compiler.paths import PathError, Resolver
from mapper.compiler.projection import project
from mapper.compiler.statements import explicit, render_statement
from mapper.language.model import MultiValued, ProcedureCall, SqlBlock
from mapper.plan import PlanMulti, Statement

OPTIONAL = ("type", "display", "primary")


def compile_multi(
    ctx: Context, multi: MultiValued, resolver: Resolver, alive: exp.Select | None = None
) -> PlanMulti | None:
    """``multi`` compiled; ``alive`` selects the referenced type's live anchors when it has a
    tombstone: items naming a deleted object are not imported."""
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
    if alive is not None:
        b.query.where(exp.In(this=b.ref(value), query=exp.Subquery(this=alive)), copy=False)
    load = sqltext.copy_tree(b.query).order_by(
        order_ascending(b.ref(owner), ctx.write), order_ascending(b.ref(value), ctx.write), copy=False
    )
    # several owners' items at once (a delta's rows): unordered, the runtime groups them by owner
    for_anchors = sqltext.copy_tree(b.query).where(anchor_in(b.ref(owner)), copy=False)
    held = sqltext.copy_tree(b.query).where(
        exp.EQ(this=b.ref(value), expression=placeholder("value")), copy=False
    )
    for_anchor = b.query.where(exp.EQ(this=b.ref(owner), expression=placeholder("anchor")), copy=False)
    for_anchor = for_anchor.order_by(order_ascending(b.ref(value), ctx.write), copy=False)
    subs = sub_attributes(projection.columns[2:])
    for output, sub in zip(projection.outputs[2:], subs, strict=True):
        if sub is None:
            ctx.error(
                codes.MULTI_EXTRA_COLUMN,
                f"{what} import: column '{output.name}' fills none of {', '.join(OPTIONAL)}",
                sqltext.locate_node(block, output.expression),
                hint="name the column after the sub-attribute it holds (AS type, AS display, AS is_primary)"
                " or leave it out",
            )
    known = {"anchor", "value", *(s for s in subs if s is not None)}
    load_stmt = render_statement(ctx, load, block.span, f"{what} import")
    for_anchor_stmt = render_statement(ctx, for_anchor, block.span, f"{what} import")
    for_anchors_stmt = render_statement(ctx, for_anchors, block.span, f"{what} import")
    add = explicit(ctx, multi.add, known, f"{what} add", None, OPTIONAL) if multi.add else None
    remove = explicit(ctx, multi.remove, known, f"{what} remove", None, OPTIONAL) if multi.remove else None
    reference = multi.reference is not None
    ends = ending(ctx, multi.remove, reference, what) if remove is not None else (None, None)
    # the owners holding one referenced object: a soft delete of it ends them (alive: it has a
    # tombstone), and so does a hard delete where the remove derives no statement of its own
    for_value_stmt = None
    if alive is not None or (reference and remove is not None and ends[1] is None):
        for_value_stmt = render_statement(ctx, held, block.span, f"{what} import")
    if ctx.errors() > before or load_stmt is None or for_anchor_stmt is None or for_anchors_stmt is None:
        return None
    return PlanMulti(
        attribute=resolved.attribute,
        schema_urn=resolved.schema_urn,
        reference=multi.reference.value if multi.reference else None,
        on_missing="reject" if multi.on_missing and multi.on_missing.value == "reject" else "drop",
        columns=projection.columns,
        sub_attributes=tuple(s or "" for s in subs),
        load=load_stmt,
        load_for_anchor=for_anchor_stmt,
        load_for_anchors=for_anchors_stmt,
        load_for_value=for_value_stmt,
        add=add,
        remove=remove,
        remove_for_anchor=ends[0],
        remove_for_value=ends[1],
    )


def ending(
    ctx: Context, remove: SqlBlock | ProcedureCall | None, reference: bool, what: str
) -> tuple[Statement | None, Statement | None]:
    """The statements that remove every row of one owner (``:anchor``) and, for a ``reference``
    multi, every row naming one object (``:value``), derived from ``remove`` (compiled: it
    parses) when it is a plain ``DELETE`` (module docstring); None for each it does not give."""
    if not isinstance(remove, SqlBlock):
        return None, None
    with sqltext.quiet_sqlglot():
        try:
            parsed = sqlglot.parse(remove.text, read=ctx.read)
        except sqlglot.errors.SqlglotError:
            return None, None
    if len(parsed) != 1 or not isinstance(parsed[0], exp.Delete):
        return None, None
    tree = parsed[0]
    found: list[Statement | None] = []
    for param in ("anchor", "value") if reference else ("anchor",):
        narrowed = narrowed_delete(tree, param)
        found.append(
            None if narrowed is None else render_statement(ctx, narrowed, remove.span, f"{what} remove")
        )
    return found[0], (found[1] if reference else None)


def narrowed_delete(tree: exp.Delete, param: str) -> exp.Delete | None:
    """``tree`` (a ``DELETE``) keeping, of its ANDed conditions, those that bind no parameter and
    the one ``column = :param``, dropping those that bind only others (None: it has no such
    condition, or one binds ``param`` with another or in any other form, or the statement is
    more than one table's ``DELETE ... WHERE``)."""
    if any(tree.args.get(k) for k in ("using", "returning", "order", "limit", "tables", "with_", "with")):
        return None
    if not isinstance(tree.this, exp.Table) or tree.args.get("where") is None:
        return None
    condition = tree.args["where"].this
    conjuncts = list(condition.flatten()) if isinstance(condition, exp.And) else [condition]
    kept, matched = [], 0
    for conjunct in conjuncts:
        bound = {p.name for p in conjunct.find_all(exp.Placeholder)}
        if not bound:
            kept.append(conjunct)
        elif bound == {param} and _equals_param(conjunct, param):
            kept.append(conjunct)
            matched += 1
        elif param in bound:
            return None
    if matched != 1:
        return None
    narrowed = sqltext.copy_tree(tree)
    narrowed.set("where", exp.Where(this=exp.and_(*(sqltext.copy_tree(c) for c in kept), copy=False)))
    return narrowed


def _equals_param(node: exp.Expr, param: str) -> bool:
    """Whether ``node`` is ``column = :param`` (either way round)."""
    if not isinstance(node, exp.EQ):
        return False
    sides = (node.this, node.expression)
    return any(
        isinstance(a, exp.Column) and isinstance(b, exp.Placeholder) and b.name == param
        for a, b in (sides, sides[::-1])
    )


def sub_attributes(columns: tuple[str, ...]) -> tuple[str | None, ...]:
    """The sub-attribute each extra import column fills (None: none): the one it is named, else
    the first one its name holds that no column has taken yet."""
    taken: set[str] = {c.lower() for c in columns if c.lower() in OPTIONAL}
    out: list[str | None] = []
    for column in columns:
        name = column.lower()
        if name in OPTIONAL:
            out.append(name)
            continue
        found = next((o for o in OPTIONAL if o in name and o not in taken), None)
        if found is not None:
            taken.add(found)
        out.append(found)
    return tuple(out)
