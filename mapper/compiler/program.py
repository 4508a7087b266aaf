"""The whole mapping compiled: sources, custom schemas, then each object type against its
source's dialects. The checks are not the compiler's business: ``mapper.pipeline`` runs parse,
check and compile in that order."""

from __future__ import annotations

from mapper.compiler import codes
from mapper.compiler.attributes import scim_type
from mapper.compiler.context import Context, Origin
from mapper.compiler.dialects import normalize
from mapper.compiler.objects import compile_object
from mapper.compiler.paths import SchemaTable, make_resolver
from mapper.diagnostics import Diagnostic, has_errors
from mapper.errors import MapperError
from mapper.language.model import EnvUrl, LiteralUrl, MappingFile, ObjectType, SchemaDecl, Source
from mapper.plan import DIALECTS, Plan, PlanObject, PlanSchema, PlanSchemaAttribute, PlanSource
from mapper.plan import Dialect as PlanDialect


class UnknownDialectError(MapperError, ValueError):
    """``write=`` names no dialect the compiler targets."""


def compile(
    mapping: MappingFile, write: str | None = None, *, origins: dict[str, Origin] | None = None
) -> tuple[Plan | None, list[Diagnostic]]:
    """Compile ``mapping``; ``write`` overrides every source's dialect (the SQL in the file is
    still read in its source's dialect). Never raises for a problem in the mapping. ``origins``,
    when given, receives the source map: each statement's SQL -> where in the file it came from."""
    target = normalize(write) if write is not None else None
    if write is not None and target is None:
        raise UnknownDialectError(f"unknown dialect '{write}' (dialects: {', '.join(DIALECTS)})")
    diagnostics: list[Diagnostic] = []
    dialects = {src.name.value: _dialect(mapping.path, src, diagnostics) for src in mapping.sources}
    table = SchemaTable.of(mapping.schemas)
    objects = []
    for obj in mapping.objects:
        compiled = _compile_object(mapping, obj, table, dialects, target, diagnostics, origins)
        if compiled is not None:
            objects.append(compiled)
    if has_errors(diagnostics):
        return None, diagnostics
    plan = Plan(
        mapping=mapping.path,
        connector=None if mapping.connector is None else mapping.connector.name.value,
        sources=tuple(
            _source(src, target or dialects[src.name.value] or "sqlite") for src in mapping.sources
        ),
        schemas=tuple(_schema(decl) for decl in mapping.schemas),
        objects=tuple(objects),
    )
    return plan, diagnostics


def _dialect(file: str, src: Source, diagnostics: list[Diagnostic]) -> PlanDialect | None:
    read = normalize(src.dialect.value) if src.dialect is not None else None
    if read is None:
        written = f"'{src.dialect.value}'" if src.dialect is not None else "no dialect"
        diagnostics.append(
            codes.INCOMPLETE_OBJECT.at(
                file,
                (src.dialect or src.name).span,
                f"source {src.name.value} has {written} the compiler targets",
            )
        )
    return read


def _compile_object(
    mapping: MappingFile,
    obj: ObjectType,
    table: SchemaTable,
    dialects: dict[str, PlanDialect | None],
    target: PlanDialect | None,
    diagnostics: list[Diagnostic],
    origins: dict[str, Origin] | None = None,
) -> PlanObject | None:
    read = dialects.get(obj.source.value)
    if obj.source.value not in dialects:
        message = f"object {obj.name.value} reads from the undeclared source {obj.source.value}"
        diagnostics.append(codes.INCOMPLETE_OBJECT.at(mapping.path, obj.source.span, message))
        return None
    if read is None:
        return None
    ctx = Context(mapping.path, read, target or read, diagnostics, {} if origins is None else origins)
    core = None
    if obj.schema_alias is not None:
        core = table.by_alias.get(obj.schema_alias.value)
        if core is None:
            message = f"object {obj.name.value} names the undeclared schema {obj.schema_alias.value}"
            ctx.error(codes.INCOMPLETE_OBJECT, message, obj.schema_alias.span)
            return None
    return compile_object(ctx, obj, make_resolver(obj.name.value, core, table), mapping.objects)


def _source(src: Source, dialect: PlanDialect) -> PlanSource:
    url_env = url_default = None
    if isinstance(src.url, EnvUrl):
        url_env, url_default = src.url.var, src.url.default
    elif isinstance(src.url, LiteralUrl):
        url_default = src.url.value
    return PlanSource(name=src.name.value, dialect=dialect, url_env=url_env, url_default=url_default)


def _schema(decl: SchemaDecl) -> PlanSchema:
    attributes = tuple(
        PlanSchemaAttribute(
            name=a.name.value,
            type=scim_type(a.type.value),
            multi_valued=a.multi_valued,
            required=a.required,
            case_exact=a.case_exact,
        )
        for a in decl.attributes
    )
    return PlanSchema(urn=decl.urn.value, alias=decl.alias.value, attributes=attributes)
