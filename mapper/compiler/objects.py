"""One object type compiled: the import analysed, attributes placed, and every statement derived
or checked. Problems are reported to the context; the object is ``None`` when any was an error."""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp
from sqlglot.errors import SqlglotError

from mapper.compiler import codes, derive, sqltext, tombstone
from mapper.compiler.attributes import compile_attribute
from mapper.compiler.context import Context
from mapper.compiler.create import check_visible, compile_create
from mapper.compiler.delta import compile_delta
from mapper.compiler.hints import suggest
from mapper.compiler.multi import compile_multi
from mapper.compiler.paths import PathError, Resolver
from mapper.compiler.projection import Output, Projection, project
from mapper.compiler.stamp import compile_stamp
from mapper.compiler.statements import render_statement
from mapper.compiler.writes import compile_writes
from mapper.diagnostics import Span
from mapper.dn import split_template
from mapper.language.model import Name, ObjectType
from mapper.plan import PlanAttribute, PlanDelta, PlanDn, PlanObject, PlanReferring, PlanUnique

DEFAULT_QUERY = {"User": "userName", "Group": "displayName"}
DEFAULT_ENDPOINT = {"User": "/Users", "Group": "/Groups"}


@dataclass(frozen=True)
class Anchor:
    output: Output
    attribute: str | None  # the canonical SCIM path for ``from PATH``


def compile_object(
    ctx: Context, obj: ObjectType, resolver: Resolver, others: tuple[ObjectType, ...] = ()
) -> PlanObject | None:
    """``obj`` compiled; ``others`` are the mapping's object types (a membership import hides
    the tombstoned objects of the type it references)."""
    before = ctx.errors()
    what = f"{obj.name.value} import"
    if obj.anchor is None or obj.import_sql is None:
        missing = "an anchor" if obj.anchor is None else "an import query"
        ctx.error(codes.INCOMPLETE_OBJECT, f"object {obj.name.value} has no {missing}", obj.name.span)
        return None
    query = sqltext.parse_query(ctx, obj.import_sql, what)
    if query is None:
        return None
    quoted = _quoted_columns(obj)
    projection, problems = project(query, quoted)
    for problem in problems:
        span = sqltext.locate_node(obj.import_sql, problem.item)
        ctx.error(codes.UNNAMED_OUTPUT, f"{what}: {problem.reason}", span, hint="name every output column")
    if any(problem.fatal for problem in problems):
        return None
    table = _write_table(ctx, obj, projection)
    unfiltered = projection
    stone = tombstone.declare(ctx, obj, projection, table)
    if stone is not None and table is not None:
        live = tombstone.restrict(ctx, obj, query, projection, table, stone.live)
        if live is None:
            return None
        projection = project(live, quoted)[0]
    attributes = [compile_attribute(ctx, line, resolver, projection, table) for line in obj.attributes]
    anchor = _anchor(ctx, obj, projection, resolver)
    query_attribute = _query_attribute(ctx, obj, resolver, [a for a in attributes if a])
    if _updates(obj):  # every written column must be read, unique or not: MAP219 says so
        _report_unkept(ctx, obj, attributes, projection, query_attribute)
    else:
        _report_unchecked_unique(ctx, obj, attributes, projection, query_attribute)
    if query_attribute is not None and projection.output(query_attribute.column) is None:
        ctx.error(
            codes.QUERY_NOT_SELECTED,
            f"the query attribute '{query_attribute.path}' of {obj.name.value} is mapped to "
            f"'{query_attribute.column}', which the import does not select",
            obj.query.span if obj.query else obj.name.span,
            hint=f"select {query_attribute.column} in the import (SELECT ..., {query_attribute.column}), "
            "or query by an attribute it reads",
        )
        query_attribute = None
    dn = _dn(ctx, obj, projection)
    # Without an anchor, the first output column stands in so that the rest is still checked.
    key = anchor.output if anchor is not None else next(iter(projection.outputs), None)
    if key is None:
        return None
    placed = tuple(a for a in attributes if a is not None)
    looked_up = query_attribute.column if query_attribute is not None else key.name
    case_exact, instant = (
        derive.compared_as(query_attribute.type, query_attribute.case_exact)
        if query_attribute is not None
        else (True, False)
    )
    reads = derive.derive_reads(projection, key.name, looked_up, case_exact, ctx.write, instant)
    span = obj.import_sql.span
    import_all = render_statement(ctx, reads.import_all, span, what)
    import_first_page = render_statement(ctx, reads.import_first_page, span, what)
    import_page = render_statement(ctx, reads.import_page, span, what)
    by_anchor = render_statement(ctx, reads.by_anchor, span, what)
    by_query = render_statement(ctx, reads.by_query, span, what)
    locked = reads.by_anchor_locked
    by_anchor_locked = render_statement(ctx, locked, span, what) if locked is not None else None
    by_unique = _unique_lookups(ctx, placed, query_attribute, projection, span, what)
    by_reference = _reference_lookups(ctx, placed, projection, span, what)
    delta = compile_delta(ctx, obj, projection, key.name)
    stamp = compile_stamp(ctx, obj, projection, table)
    created = compile_create(ctx, obj, projection, table)
    check_visible(ctx, obj, projection, table)
    writes = (
        compile_writes(ctx, obj, projection, table, placed, key, stamp, created)
        if anchor is not None
        else None
    )
    multi = tuple(compile_multi(ctx, m, resolver, _alive(ctx, m.reference, others)) for m in obj.multi)
    soft = None
    if stone is not None and table is not None and anchor is not None and query_attribute is not None:
        delta = _with_tombstoned(ctx, obj, delta, query, unfiltered, table, stone, key.name)
        anchor_column = projection.target_column(anchor.output, table)
        if anchor_column is not None:
            soft = tombstone.compile_policy(
                ctx,
                obj,
                stone,
                projection,
                table,
                projection.identifier(anchor_column),
                query_attribute,
                _updated_columns(placed),
                stamp,
                created,
            )
    if ctx.errors() == before and anchor is not None and dn is not None and delta is not None:
        _report_unused(ctx, obj, projection, anchor.output, placed, dn, delta, stone)
    if (
        ctx.errors() > before
        or anchor is None
        or query_attribute is None
        or dn is None
        or delta is None
        or writes is None
        or import_all is None
        or import_first_page is None
        or import_page is None
        or by_anchor is None
        or by_query is None
    ):
        return None
    return PlanObject(
        name=obj.name.value,
        endpoint=obj.endpoint.value
        if obj.endpoint
        else DEFAULT_ENDPOINT.get(obj.name.value, f"/{obj.name.value}s"),
        schema_urn=resolver.core.urn,
        extension_urns=_extensions(resolver.core.urn, placed, multi),
        source=obj.source.value,
        anchor_column=anchor.output.name,
        anchor_generation=obj.anchor.generation,
        anchor_attribute=anchor.attribute,
        query_attribute=query_attribute.path,
        dn=dn,
        id_source="dn" if obj.id_source is not None and obj.id_source.value == "dn" else "anchor",
        columns=projection.columns,
        attributes=placed,
        multi=tuple(m for m in multi if m is not None),
        import_all=import_all,
        import_page=import_page,
        import_first_page=import_first_page,
        by_anchor=by_anchor,
        by_anchor_locked=by_anchor_locked,
        by_query=by_query,
        by_unique=by_unique,
        by_reference=by_reference,
        delta=delta,
        insert=writes.insert,
        insert_columns=writes.insert_columns,
        update=writes.update,
        delete=writes.delete,
        disable=writes.disable,
        deprovision_delete=writes.deprovision_delete,
        tombstone=soft,
    )


def _alive(ctx: Context, reference: Name | None, others: tuple[ObjectType, ...]) -> exp.Select | None:
    """The live anchors of the object type a multi references, when it has a tombstone."""
    target = next((o for o in others if reference is not None and o.name.value == reference.value), None)
    return tombstone.live_anchors(ctx, target) if target is not None else None


def _with_tombstoned(  # noqa: PLR0913 - the delta and what its deletes are read from
    ctx: Context,
    obj: ObjectType,
    delta: PlanDelta | None,
    query: exp.Query,
    unfiltered: Projection,
    table: exp.Table,
    stone: tombstone.Tombstone,
    anchor: str,
) -> PlanDelta | None:
    """A watermark delta that also reads the rows tombstoned since ``:since``."""
    if delta is None or delta.kind != "watermark" or delta.watermark_column is None:
        return delta
    dead = tombstone.dead_projection(ctx, obj, query, unfiltered, table, stone)
    if dead is None:
        return delta
    assert obj.import_sql is not None
    changes = derive.select_watermark_changes(dead, delta.watermark_column, anchor, ctx.write)
    statement = render_statement(ctx, changes, stone.span, f"{obj.name.value} tombstone")
    return delta.model_copy(update={"tombstoned": statement}) if statement is not None else None


def _updated_columns(attributes: tuple[PlanAttribute, ...]) -> set[str]:
    """The write-table columns (lowercase) a derived update writes."""
    return {
        a.target_column.lower()
        for a in attributes
        if a.target_column is not None
        and a.direction != "import"
        and a.mutability not in ("readOnly", "immutable")
    }


def _quoted_columns(obj: ObjectType) -> frozenset[str]:
    """The column names ``obj`` writes as quoted identifiers: attribute columns and the columns of
    its ``set`` rules, its ``create set`` and its ``stamp`` (those the import does not select are still
    written as quoted)."""
    names = [line.column for line in obj.attributes]
    for rule in (obj.disable, obj.delete, obj.recreate, obj.create):
        names += [a.column for a in (rule.assignments if rule is not None else ())]
    if obj.stamp is not None:
        names.append(obj.stamp.column)
    return frozenset(name.value for name in names if name.written is not None)


def _write_table(ctx: Context, obj: ObjectType, projection: Projection) -> exp.Table | None:
    if obj.writes is None or obj.writes.table is None:
        return None
    try:
        return projection.spelled(sqltext.table_name(obj.writes.table, ctx.read))
    except SqlglotError as err:
        ctx.error(
            codes.SQL_SYNTAX, f"'{obj.writes.table.value}' is not a table name: {err}", obj.writes.table.span
        )
        return None


def _anchor(ctx: Context, obj: ObjectType, projection: Projection, resolver: Resolver) -> Anchor | None:
    assert obj.anchor is not None
    name = obj.anchor.column
    output = projection.output(name.value)
    if output is None:
        ctx.error(
            codes.ANCHOR_NOT_SELECTED,
            f"the anchor column '{name.value}' is not selected by the {obj.name.value} import",
            name.span,
            hint=suggest(name.value, projection.columns, "columns"),
        )
        return None
    attribute = None
    if obj.anchor.generation == "attribute" and obj.anchor.attribute is not None:
        try:
            attribute = resolver.resolve(obj.anchor.attribute.value).path
        except PathError as err:
            ctx.error(codes.UNMAPPABLE_PATH, str(err), obj.anchor.attribute.span)
            return None
    return Anchor(output, attribute)


def _query_attribute(
    ctx: Context, obj: ObjectType, resolver: Resolver, attributes: list[PlanAttribute]
) -> PlanAttribute | None:
    text = obj.query.value if obj.query else DEFAULT_QUERY.get(obj.name.value)
    span: Span = obj.query.span if obj.query else obj.name.span
    if text is None:
        ctx.error(codes.INCOMPLETE_OBJECT, f"object {obj.name.value} has no query attribute", span)
        return None
    try:
        resolved = resolver.resolve(text)
    except PathError as err:
        ctx.error(codes.UNMAPPABLE_PATH, str(err), span)
        return None
    for attribute in attributes:
        if attribute.schema_urn == resolved.schema_urn and attribute.path.lower() == resolved.path.lower():
            return attribute
    ctx.error(
        codes.QUERY_NOT_MAPPED,
        f"the query attribute '{text}' of {obj.name.value} is not in its attribute map",
        span,
        hint=suggest(text, [a.path for a in attributes], "mapped paths"),
    )
    return None


def _report_unchecked_unique(
    ctx: Context,
    obj: ObjectType,
    attributes: list[PlanAttribute | None],
    projection: Projection,
    query_attribute: PlanAttribute | None,
) -> None:
    """MAP218 for each unique attribute (other than the query attribute, MAP217's) whose column
    the import does not select (an export-only line): a write's uniqueness check compares what
    the import reads (``by_unique``), so nothing would check it, while /Schemas publishes it as
    unique. A warning: writes still run, and a UNIQUE constraint in the database still holds."""
    for line, attribute in zip(obj.attributes, attributes, strict=True):
        if attribute is None or attribute is query_attribute or not attribute.unique:
            continue
        if projection.output(attribute.column) is not None:
            continue
        ctx.error(
            codes.UNIQUE_NOT_SELECTED,
            f"{attribute.path} is unique, but the import does not select '{attribute.column}', so no "
            "write checks that its value is free",
            line.column.span,
            hint=f"select {attribute.column} in the import (SELECT ..., {attribute.column}), "
            "or drop 'unique'",
        )


def _report_unused(  # noqa: PLR0913 - everything that reads an import column
    ctx: Context,
    obj: ObjectType,
    projection: Projection,
    anchor: Output,
    attributes: tuple[PlanAttribute, ...],
    dn: PlanDn,
    delta: PlanDelta,
    stone: tombstone.Tombstone | None,
) -> None:
    """MAP245 for each import column nothing reads: no attribute, the anchor, the DN (its column
    or a template's placeholder) or the delta's watermark. A column a ``set`` rule, ``stamp`` or
    the tombstone names is read too: MAP240 asks for it to be selected, so that lint checks it.
    Every cached record holds its value
    (a password hash read by ``SELECT *``-style imports sits in memory), and since a version
    hashes the whole row, another application's change to it (a last-login time) moves the ETag
    and sends the object through every delta. A warning: the gateway serves it correctly."""
    read = {anchor.name.lower(), *(a.column.lower() for a in attributes)}
    if dn.column is not None:
        read.add(dn.column.lower())
    if dn.template is not None:
        read.update(part[0].lower() for part in split_template(dn.template) if isinstance(part, tuple))
    if delta.watermark_column is not None:
        read.add(delta.watermark_column.lower())
    rules = (obj.disable, obj.delete, obj.recreate, obj.create)
    read.update(a.column.value.lower() for rule in rules if rule is not None for a in rule.assignments)
    if obj.stamp is not None:
        read.add(obj.stamp.column.value.lower())
    if stone is not None:
        read.update(c.name.lower() for c in stone.dead.find_all(exp.Column))
    for output in projection.outputs:
        if output.name.lower() in read:
            continue
        ctx.warn(
            codes.UNUSED_COLUMN,
            f"the {obj.name.value} import selects '{output.name}', which no attribute, anchor, DN or "
            "watermark reads: every cached record holds it, and a change to it moves the ETag",
            sqltext.locate_node(obj.import_sql, output.expression) if obj.import_sql else obj.name.span,
            hint=f"leave {output.name} out of the SELECT, or map it in attributes {{ ... }}",
        )


def _updates(obj: ObjectType) -> bool:
    """Whether the object has an update (derived from ``write table``, or explicit)."""
    return obj.writes is not None and (obj.writes.table is not None or obj.writes.update is not None)


def _report_unkept(
    ctx: Context,
    obj: ObjectType,
    attributes: list[PlanAttribute | None],
    projection: Projection,
    query_attribute: PlanAttribute | None,
) -> None:
    """MAP219 for each written attribute whose column the import does not select, when the
    object has an update: a PUT or PATCH writes every written column (an unchanged one with the
    value it holds, which the gateway knows only from the import), so one that does not give
    that attribute wrote NULL there. A PATCH of nickName erased the password hash of
    ``password -> secret``. Selecting the column costs nothing to clients: an export-only or
    write-only attribute is never returned, only kept. It stands in for MAP218 (a unique
    attribute's column must be read for its check too); the query attribute's is MAP217."""
    for line, attribute in zip(obj.attributes, attributes, strict=True):
        if attribute is None or attribute is query_attribute:
            continue
        if attribute.direction == "import" or attribute.mutability == "readOnly":
            continue
        if projection.output(attribute.column) is not None:
            continue
        ctx.error(
            codes.UNKEPT_NOT_SELECTED,
            f"{attribute.path} is written to '{attribute.column}', which the import does not select: "
            f"every PUT or PATCH that does not give {attribute.path} would write NULL there",
            line.column.span,
            hint=f"select {attribute.column} in the import (SELECT ..., {attribute.column}); an "
            "export-only attribute is kept for writes, never returned",
        )


def _unique_lookups(  # noqa: PLR0913 - the attributes, and what a statement is rendered with
    ctx: Context,
    attributes: tuple[PlanAttribute, ...],
    query_attribute: PlanAttribute | None,
    projection: Projection,
    span: Span,
    what: str,
) -> tuple[PlanUnique, ...]:
    """The database look-up of each unique attribute besides the query attribute (which has
    ``by_query``) that the import projection holds: a write checks in its transaction that no
    other object holds the value it takes."""
    found = []
    for attribute in attributes:
        held = projection.output(attribute.column) is not None
        if not attribute.unique or attribute is query_attribute or not held:
            continue
        exact, instant = derive.compared_as(attribute.type, attribute.case_exact)
        select = derive.by_value(projection, attribute.column, exact, ctx.write, instant)
        lookup = render_statement(ctx, select, span, what)
        if lookup is not None:
            found.append(PlanUnique(attribute=attribute.path, lookup=lookup))
    return tuple(found)


def _reference_lookups(
    ctx: Context, attributes: tuple[PlanAttribute, ...], projection: Projection, span: Span, what: str
) -> tuple[PlanReferring, ...]:
    """The database look-up of the objects naming one referenced object, for each single-valued
    reference attribute the import projection holds (:class:`~mapper.plan.PlanReferring`)."""
    found = []
    for attribute in attributes:
        if attribute.reference is None or projection.output(attribute.column) is None:
            continue
        select = derive.by_value(projection, attribute.column, True, ctx.write)
        lookup = render_statement(ctx, select, span, what)
        if lookup is not None:
            reference = attribute.reference
            found.append(PlanReferring(attribute=attribute.path, reference=reference, lookup=lookup))
    return tuple(found)


def _dn(ctx: Context, obj: ObjectType, projection: Projection) -> PlanDn | None:
    if obj.dn is None or obj.dn.kind == "anchor":
        return PlanDn(kind="anchor")
    if obj.dn.value is None:
        return PlanDn(kind="anchor")
    if obj.dn.kind == "template":
        return PlanDn(kind="template", template=obj.dn.value.value)
    output = projection.output(obj.dn.value.value)
    if output is None:
        ctx.error(
            codes.UNKNOWN_COLUMN,
            f"the dn column '{obj.dn.value.value}' is not selected by the {obj.name.value} import",
            obj.dn.value.span,
            hint=suggest(obj.dn.value.value, projection.columns, "columns"),
        )
        return None
    return PlanDn(kind="column", column=output.name)


def _extensions(core: str, attributes: tuple[PlanAttribute, ...], multi: tuple) -> tuple[str, ...]:
    urns = [a.schema_urn for a in attributes] + [m.schema_urn for m in multi if m is not None]
    return tuple(dict.fromkeys(u for u in urns if u != core))
