"""The write statements derived from ``write table T`` and the deprovisioning rules.

``INSERT INTO T (cols) VALUES (:params)`` binds every written attribute (direction ``both`` or
``export``, not read-only, with a target column), plus the anchor column as ``:anchor`` when the
anchor comes from an attribute or is a UUID (unless a written attribute already fills that
column). ``UPDATE`` sets the same columns but the anchor's; ``DELETE`` and the deprovisioning
``UPDATE`` match ``anchor = :anchor``.

The plan also keeps the insert's (column, parameter) pairs for the attributes
(``PlanObject.insert_columns``): a create leaves out the columns whose attribute it does not give,
so the database's DEFAULT applies (see ``mapper.runtime.inserts``). Explicit statements keep none.

When the database generates the anchor, the insert hands it back: ``RETURNING anchor``
(PostgreSQL, SQLite >= 3.35), ``OUTPUT INSERTED.anchor INTO`` a table variable read back in the
same batch (SQL Server, which refuses a bare OUTPUT on a table with triggers), the driver's lastrowid
(MySQL/MariaDB). Oracle can only return into an out-bind (``RETURNING x INTO :out``), which
SQLAlchemy ``text()`` cannot read back portably, so Oracle inserts are looked up afterwards by
the query attribute (``returning="query"``, as for stored procedures).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from mapper.compiler import codes
from mapper.compiler.context import Context
from mapper.compiler.create import Created
from mapper.compiler.deprovision import compile_deprovision
from mapper.compiler.derive import anchor_equals, placeholder
from mapper.compiler.dialects import output_into, read_back_output
from mapper.compiler.projection import Output, Projection
from mapper.compiler.sqltext import copy_tree
from mapper.compiler.stamp import Stamped
from mapper.compiler.statements import Returning, explicit, render_statement
from mapper.language.model import ObjectType
from mapper.language.model import Writes as WritesNode
from mapper.plan import PlanAttribute, PlanDeprovision, Statement


@dataclass(frozen=True)
class Binding:
    """A table column a derived write fills, and the parameter it takes its value from."""

    column: exp.Identifier
    param: str


def build_insert(
    table: exp.Table, bindings: list[Binding], stamp: Stamped | None = None, created: Created | None = None
) -> exp.Insert:
    columns = [copy_tree(b.column) for b in bindings]
    values: list[exp.Expr] = [placeholder(b.param) for b in bindings]
    for column, value in created.besides(columns) if created is not None else ():
        columns.append(column)
        values.append(value)
    if stamp is not None and not any(stamp.sets(b.column) for b in bindings):
        column, value = stamp.pair()
        columns.append(column)
        values.append(value)
    row = exp.Tuple(expressions=values)
    schema = exp.Schema(this=copy_tree(table), expressions=columns)
    return exp.Insert(this=schema, expression=exp.Values(expressions=[row]))


def add_returning(
    insert_: exp.Insert, anchor_column: exp.Identifier, write: str
) -> tuple[exp.Insert, Returning]:
    """``insert_`` made to hand back a generated anchor in ``write``, and how it does; ``insert_``
    is the caller's own fresh tree, and may be edited in place."""
    if write in ("postgres", "sqlite"):
        insert_.set("returning", exp.Returning(expressions=[exp.Column(this=copy_tree(anchor_column))]))
        return insert_, "returning"
    if write == "tsql":  # OUTPUT ... INTO @inserted: see dialects.read_back_output
        return output_into(insert_, anchor_column), "returning"
    if write == "mysql":
        return insert_, "lastrowid"
    return insert_, "query"


def build_update(
    table: exp.Table, bindings: list[Binding], anchor_column: exp.Identifier, stamp: Stamped | None = None
) -> exp.Update | None:
    if not bindings:
        return None
    sets = [
        exp.EQ(this=exp.Column(this=copy_tree(b.column)), expression=placeholder(b.param)) for b in bindings
    ]
    if stamp is not None and not any(stamp.sets(b.column) for b in bindings):
        column, value = stamp.pair()
        sets.append(exp.EQ(this=exp.Column(this=column), expression=value))
    where = exp.Where(this=anchor_equals(anchor_column))
    return exp.Update(this=copy_tree(table), expressions=sets, where=where)


def build_delete(table: exp.Table, anchor_column: exp.Identifier) -> exp.Delete:
    return exp.Delete(this=copy_tree(table), where=exp.Where(this=anchor_equals(anchor_column)))


@dataclass(frozen=True)
class Writes:
    """Everything an object writes: its statements and deprovisioning rules."""

    insert: Statement | None
    update: Statement | None
    delete: Statement | None
    disable: PlanDeprovision
    deprovision_delete: PlanDeprovision
    #: (table column, parameter) of each attribute a derived insert writes (none when explicit)
    insert_columns: tuple[tuple[str, str], ...] = ()


def compile_writes(
    ctx: Context,
    obj: ObjectType,
    projection: Projection,
    table: exp.Table | None,
    attributes: tuple[PlanAttribute, ...],
    anchor: Output,
    stamp: Stamped | None = None,
    created: Created | None = None,
) -> Writes | None:
    """The object's insert, update and delete (derived from ``write table`` or explicit) and its
    deprovisioning rules, or ``None`` after reporting why not. ``stamp``: the column every derived
    statement that writes the row sets to the time of the write (:mod:`mapper.compiler.stamp`);
    ``created``: the fixed values the derived insert writes (:mod:`mapper.compiler.create`)."""
    before = ctx.errors()
    assert obj.anchor is not None
    anchor_column = _anchor_column(ctx, obj, projection, table, anchor)
    insert_ = update_ = delete_ = None
    insert_columns: tuple[tuple[str, str], ...] = ()
    if obj.writes is not None and table is not None and anchor_column is not None:
        insert_, update_, delete_ = _derived(
            ctx, obj, table, projection, attributes, anchor_column, stamp, created
        )
        if insert_ is not None:
            insert_columns = tuple((b.column.name, b.param) for b in _bindings(attributes, projection))
    elif obj.writes is not None:
        insert_, update_, delete_ = _explicit(ctx, obj, obj.writes, attributes)
    name = obj.name.value
    declared = obj.writes is not None and (obj.writes.table is not None or obj.writes.delete is not None)
    common = (declared, projection, table, anchor_column, stamp)
    disable = compile_deprovision(ctx, obj.disable, "ignore", delete_, *common, f"{name} disable", obj.span)
    removal = compile_deprovision(ctx, obj.delete, "row", delete_, *common, f"{name} delete", obj.span)
    if ctx.errors() > before or disable is None or removal is None:
        return None
    if (
        removal.action == "row"
        and obj.writes is not None
        and obj.writes.table is not None
        and not obj.writes.delete
    ):
        removal = removal.model_copy(update={"ends_items": True})
    return Writes(insert_, update_, delete_, disable, removal, insert_columns)


def _anchor_column(
    ctx: Context, obj: ObjectType, projection: Projection, table: exp.Table | None, anchor: Output
) -> exp.Identifier | None:
    """The table column holding the anchor (reported when derived writes need it and it is none)."""
    assert obj.anchor is not None
    if table is None:
        return anchor.column_identifier
    column = projection.target_column(anchor, table)
    if column is None:
        code = codes.EXPRESSION_NOT_WRITABLE if anchor.column is None else codes.FOREIGN_COLUMN_NOT_WRITABLE
        ctx.error(
            code,
            f"the anchor '{anchor.name}' is not a column of the write table {table.name}",
            obj.anchor.column.span,
            hint="select the write table's key column itself as the anchor",
        )
        return None
    return projection.identifier(column)


def _derived(
    ctx: Context,
    obj: ObjectType,
    table: exp.Table,
    projection: Projection,
    attributes: tuple[PlanAttribute, ...],
    anchor_column: exp.Identifier,
    stamp: Stamped | None,
    created: Created | None = None,
) -> tuple[Statement | None, Statement | None, Statement | None]:
    assert obj.anchor is not None and obj.writes is not None
    span, name = obj.writes.span, obj.name.value
    bindings = _bindings(attributes, projection)
    inserted = list(bindings)
    generation = obj.anchor.generation
    anchor_name = anchor_column.name.lower()
    if generation != "database" and anchor_name not in {b.column.name.lower() for b in bindings}:
        inserted.append(Binding(anchor_column, "anchor"))
    insert_stmt = None
    if inserted:
        new = build_insert(table, inserted, stamp, created)
        returning: Returning = None
        if generation == "database":
            new, returning = add_returning(new, anchor_column, ctx.write)
        insert_stmt = render_statement(ctx, new, span, f"{name} insert", returning)
        if insert_stmt is not None and generation == "database" and ctx.write == "tsql":
            batch = read_back_output(insert_stmt.sql, table, anchor_column)
            ctx.record(batch, span, f"{name} insert")
            insert_stmt = insert_stmt.model_copy(update={"sql": batch})
    immutable = {a.column for a in attributes if a.mutability == "immutable"}
    changed = [b for b in bindings if b.column.name.lower() != anchor_name and b.param not in immutable]
    changes = build_update(table, changed, anchor_column, stamp)
    update_stmt = render_statement(ctx, changes, span, f"{name} update") if changes is not None else None
    delete_stmt = render_statement(ctx, build_delete(table, anchor_column), span, f"{name} delete")
    return insert_stmt, update_stmt, delete_stmt


def _bindings(attributes: tuple[PlanAttribute, ...], projection: Projection) -> list[Binding]:
    """The columns derived writes fill: one per table column, first mapping wins."""
    found: dict[str, Binding] = {}
    for a in attributes:
        if a.direction == "import" or a.mutability == "readOnly" or a.target_column is None:
            continue
        found.setdefault(a.target_column.lower(), Binding(projection.identifier(a.target_column), a.column))
    return list(found.values())


def _explicit(
    ctx: Context, obj: ObjectType, writes: WritesNode, attributes: tuple[PlanAttribute, ...]
) -> tuple[Statement | None, Statement | None, Statement | None]:
    """The explicit statements, each checked against what the store binds for it (MAP230 for a
    parameter the object has but the statement is never given, so never a NULL at run time):

    - insert: every written attribute (``<->``/``->``, not readOnly), and ``anchor`` unless the
      database generates it (there is none yet);
    - update: every attribute's column (unchanged ones keep their current value) and ``anchor``;
    - delete: ``anchor`` only.
    """
    assert obj.anchor is not None
    every = {a.column for a in attributes} | {"anchor"}
    written = {a.column for a in attributes if a.direction != "import" and a.mutability != "readOnly"}
    name = obj.name.value
    generated = "generated" if obj.anchor.generation == "database" else "known"
    new = written if generated == "generated" else written | {"anchor"}
    insert_stmt = (
        explicit(ctx, writes.insert, new, f"{name} insert", generated, every) if writes.insert else None
    )
    update_stmt = explicit(ctx, writes.update, every, f"{name} update") if writes.update else None
    delete_stmt = (
        explicit(ctx, writes.delete, {"anchor"}, f"{name} delete", None, every) if writes.delete else None
    )
    return insert_stmt, update_stmt, delete_stmt
