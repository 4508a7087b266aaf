"""Attribute map lines compiled to plan attributes: the SCIM path resolved, the column found in
the import projection, and the table column derived writes fill."""

from __future__ import annotations

from typing import Literal, cast, get_args

from sqlglot import exp

from mapper.compiler import codes
from mapper.compiler.context import Context
from mapper.compiler.hints import suggest
from mapper.compiler.paths import PathError, Resolver
from mapper.compiler.projection import Output, Projection
from mapper.language.model import AttributeMapping
from mapper.plan import PlanAttribute, PlanTransform, ScimType

Mutability = Literal["readWrite", "readOnly", "writeOnly", "immutable"]
SCIM_TYPES: tuple[str, ...] = get_args(ScimType)
MUTABILITIES: tuple[str, ...] = get_args(Mutability)


def scim_type(*candidates: str | None) -> ScimType:
    """The first candidate that is a SCIM type (the checks report the others), else ``string``."""
    for candidate in candidates:
        if candidate in SCIM_TYPES:
            return cast(ScimType, candidate)
    return "string"


def compile_attribute(
    ctx: Context, line: AttributeMapping, resolver: Resolver, projection: Projection, table: exp.Table | None
) -> PlanAttribute | None:
    """``line`` as a plan attribute. ``table`` is the ``write table``, when writes are derived."""
    try:
        resolved = resolver.resolve(line.path.value)
    except PathError as err:
        ctx.error(codes.UNMAPPABLE_PATH, str(err), line.path.span)
        _columns(ctx, line, projection, table, written=False)  # the column may be wrong too: say so
        return None
    written = line.direction != "import" and resolved.mutability != "readOnly"
    column, target = _columns(ctx, line, projection, table, written)
    if column is None:
        return None
    if written and column.lower() == "anchor":
        ctx.error(
            codes.PARAMETER_CLASH,
            "the column 'anchor' would be bound as :anchor, which is the anchor's own parameter",
            line.column.span,
            hint="give it another name in the import (SELECT ..., anchor AS anchor_value)",
        )
    declared = line.type.value if line.type is not None else None
    mutability = resolved.mutability if resolved.mutability in MUTABILITIES else "readWrite"
    if mutability == "readWrite" and line.direction != "both":
        # The arrow decides what clients may do: an import-only attribute (<-) is read-only to
        # them and an export-only one (->) is never returned, and /Schemas publishes exactly that.
        mutability = "readOnly" if line.direction == "import" else "writeOnly"
    return PlanAttribute(
        path=resolved.path,
        schema_urn=resolved.schema_urn,
        attribute=resolved.attribute,
        sub_attribute=resolved.sub_attribute,
        filter=resolved.filter,
        column=column,
        target_column=target,
        type=scim_type(declared, "boolean" if line.negated else None, resolved.type),
        multi_valued=resolved.multi_valued,
        direction=line.direction,
        mutability=cast(Mutability, mutability),
        required=line.required or resolved.required,
        unique=line.unique,
        case_exact=line.case_exact or resolved.case_exact,
        sensitive=line.sensitive,
        reference=line.reference.value if line.reference is not None else None,
        on_missing="reject" if line.on_missing and line.on_missing.value == "reject" else "drop",
        transform=transform(line),
        null_value=line.null_value.value
        if line.null_value is not None and line.null_value.value == ""
        else None,
    )


def transform(line: AttributeMapping) -> PlanTransform | None:
    """The value transform of ``line`` (``not COLUMN`` or ``map { ... }``), if any."""
    if line.negated:
        return PlanTransform(kind="not")
    value_map = line.value_map
    if value_map is None:
        return None
    return PlanTransform(
        kind="map",
        pairs=tuple((e.scim, e.stored) for e in value_map.entries),
        otherwise=value_map.otherwise or "error",
        default=value_map.default,
    )


def _columns(
    ctx: Context, line: AttributeMapping, projection: Projection, table: exp.Table | None, written: bool
) -> tuple[str | None, str | None]:
    """The projection column and the write-table column of ``line`` (reporting why not)."""
    name = line.column.value
    output = projection.output(name)
    if output is None:
        if line.direction == "export":  # write-only: a column of the write table, never read
            return name, name if table is not None else None
        ctx.error(
            codes.UNKNOWN_COLUMN,
            f"unknown column '{name}' in the import query",
            line.column.span,
            hint=suggest(name, projection.columns, "columns"),
        )
        return None, None
    if table is None:
        return output.name, None
    target = projection.target_column(output, table)
    if target is None and written:  # reported, but placed, so nothing else fails because of it
        _report_not_writable(ctx, line, projection, output, table)
    return output.name, target


def _transform_hint(line: AttributeMapping, output: Output) -> str | None:
    """For ``NOT col`` or a ``CASE`` over one column: the value transform that writes it both ways."""
    expression = output.expression
    while isinstance(expression, exp.Paren):
        expression = expression.this
    path = line.path.value
    if isinstance(expression, exp.Not) and isinstance(expression.this.unnest(), exp.Column):
        column = expression.this.unnest().name
        return (
            f"select the column itself (SELECT ..., {column}) and invert it in the attribute map: "
            f"'{path} <-> not {column}'"
        )
    if isinstance(expression, exp.Case):
        columns = {c.name for c in expression.find_all(exp.Column)}
        if len(columns) == 1:
            column = columns.pop()
            return (
                f"select the column itself (SELECT ..., {column}) and translate its values in the "
                f'attribute map: \'{path} <-> {column} map {{ true: "A", false: "T" }} else false\''
            )
    return None


def _report_not_writable(
    ctx: Context, line: AttributeMapping, projection: Projection, output: Output, table: exp.Table
) -> None:
    name = line.column.value
    written = f"'{name}' is written to {table.name} but"
    hint = f"map it import-only ('{line.path.value} <- {name}'), or write through explicit statements"
    if isinstance(projection.query, exp.SetOperation):
        kind = projection.query.key.upper()
        ctx.error(
            codes.EXPRESSION_NOT_WRITABLE,
            f"{written} the import is a {kind}, whose columns cannot be written",
            line.column.span,
            hint=hint,
        )
    elif output.column is None:
        ctx.error(
            codes.EXPRESSION_NOT_WRITABLE,
            f"{written} is the expression {output.expression.sql()} in the import",
            line.column.span,
            hint=_transform_hint(line, output) or hint,
        )
    else:
        ctx.error(
            codes.FOREIGN_COLUMN_NOT_WRITABLE,
            f"{written} the import reads it from another table",
            line.column.span,
            hint=hint,
        )
