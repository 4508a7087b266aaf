"""The whole mapping compiled: sources, custom schemas, then each object type against its
source's dialects. Also ``load``, which runs the full pipeline on a file."""

from __future__ import annotations

import builtins
import importlib
from pathlib import Path

from mapper.compiler import codes
from mapper.compiler.attributes import scim_type
from mapper.compiler.context import Context
from mapper.compiler.dialects import DIALECTS, normalize
from mapper.compiler.objects import compile_object
from mapper.compiler.paths import custom_schema, make_resolver
from mapper.diagnostics import Diagnostic, Severity, has_errors
from mapper.errors import MapperError, MappingError
from mapper.language.model import EnvUrl, LiteralUrl, MappingFile, ObjectType, SchemaDecl, Source
from mapper.plan import Dialect as PlanDialect
from mapper.plan import Plan, PlanObject, PlanSchema, PlanSchemaAttribute, PlanSource

#: Problems the checks report first and better; ``load`` drops the compiler's copy of one when a
#: check already reported an error on the same lines.
CHECKED_FIRST = {
    codes.UNMAPPABLE_PATH.code,
    codes.INCOMPLETE_OBJECT.code,
    codes.DEPROVISION_WITHOUT_STATEMENT.code,
    codes.QUERY_NOT_MAPPED.code,
}


class UnknownDialectError(MapperError, ValueError):
    """``write=`` names no dialect the compiler targets."""


def compile(mapping: MappingFile, write: str | None = None) -> tuple[Plan | None, list[Diagnostic]]:
    """Compile ``mapping``; ``write`` overrides every source's dialect (the SQL in the file is
    still read in its source's dialect). Never raises for a problem in the mapping."""
    target = normalize(write) if write is not None else None
    if write is not None and target is None:
        raise UnknownDialectError(f"unknown dialect '{write}' (dialects: {', '.join(DIALECTS)})")
    diagnostics: list[Diagnostic] = []
    dialects = {src.name.value: _dialect(mapping.path, src, diagnostics) for src in mapping.sources}
    objects = []
    for obj in mapping.objects:
        compiled = _compile_object(mapping, obj, dialects, target, diagnostics)
        if compiled is not None:
            objects.append(compiled)
    if has_errors(diagnostics):
        return None, diagnostics
    plan = Plan(
        mapping=mapping.path,
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
    dialects: dict[str, PlanDialect | None],
    target: PlanDialect | None,
    diagnostics: list[Diagnostic],
) -> PlanObject | None:
    read = dialects.get(obj.source.value)
    if obj.source.value not in dialects:
        message = f"object {obj.name.value} reads from the undeclared source {obj.source.value}"
        diagnostics.append(codes.INCOMPLETE_OBJECT.at(mapping.path, obj.source.span, message))
        return None
    if read is None:
        return None
    ctx = Context(mapping.path, read, target or read, diagnostics)
    core = None
    if obj.schema_alias is not None:
        decl = next((d for d in mapping.schemas if d.alias.value == obj.schema_alias.value), None)
        if decl is None:
            message = f"object {obj.name.value} names the undeclared schema {obj.schema_alias.value}"
            ctx.error(codes.INCOMPLETE_OBJECT, message, obj.schema_alias.span)
            return None
        core = custom_schema(decl)
    return compile_object(ctx, obj, make_resolver(obj.name.value, core, mapping.schemas))


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


def load(path: str, write: str | None = None) -> Plan:
    """Parse, check and compile the mapping file at ``path``; raise ``MappingError`` carrying
    every diagnostic when any is an error. ``OSError`` propagates when the file cannot be read."""
    from mapper.language.parser import parse

    text = Path(path).read_text(encoding="utf-8")
    mapping, diagnostics = parse(text, path)
    if mapping is None:
        raise MappingError(diagnostics)
    checked = _check(mapping)
    diagnostics += checked
    plan, compiled = compile(mapping, write)
    diagnostics += [d for d in compiled if not _reported(d, checked)]
    if plan is None or has_errors(diagnostics):
        raise MappingError(diagnostics)
    return plan


def _reported(diagnostic: Diagnostic, checked: builtins.list[Diagnostic]) -> bool:
    """Whether ``diagnostic`` repeats a check's error on the same lines."""
    if diagnostic.code not in CHECKED_FIRST:
        return False
    first, last = diagnostic.span.line, diagnostic.span.end_line
    return any(
        c.severity is Severity.ERROR and c.span.line <= last and first <= c.span.end_line for c in checked
    )


def _check(mapping: MappingFile) -> builtins.list[Diagnostic]:
    """``mapper.checks.check(mapping)`` when the checks provide it, else nothing."""
    try:
        module = importlib.import_module("mapper.checks")
    except ImportError:
        return []
    check = getattr(module, "check", None)
    return list(check(mapping)) if callable(check) else []
