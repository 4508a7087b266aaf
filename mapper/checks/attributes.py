"""The attribute map: every path resolves in the object's schemas, is mapped once, with a type
that agrees with SCIM; references name declared objects; required attributes are mapped."""

from __future__ import annotations

from collections.abc import Iterator

from mapper.checks import codes
from mapper.checks.analysis import Analysis, ObjectPaths
from mapper.checks.schemas import check_type_word
from mapper.checks.scimpaths import SCIM_TYPES, PathProblem, Resolved, problem_at
from mapper.checks.spans import did_you_mean
from mapper.diagnostics import Diagnostic
from mapper.language.model import AttributeMapping, Name
from mapper.scimschema import SchemaDef

_INTERCHANGEABLE = {"string", "reference"}

Seen = dict[tuple[object, ...], int]  # what is mapped -> the line that mapped it first


def check_attributes(analysis: Analysis) -> Iterator[Diagnostic]:
    objects = [o.name.value for o in analysis.mapping.objects]
    for paths in analysis.objects:
        if paths.schemas.core is not None:  # else MAP113 or MAP114 says why
            first: Seen = {}
            yield from _check_lines(analysis.file, paths, objects, first)
            yield from _check_multi(analysis.file, paths, objects, first)
            yield from _check_required(analysis.file, paths)


def _check_lines(file: str, paths: ObjectPaths, objects: list[str], first: Seen) -> Iterator[Diagnostic]:
    for m, resolved in paths.attributes:
        if m.type is not None:
            yield from check_type_word(file, m.type)
        if m.reference is not None:
            yield from _check_reference(file, m.reference, objects)
        if isinstance(resolved, PathProblem):
            yield problem_at(file, m.path, resolved)
            continue
        if resolved.attribute.name == "id" and resolved.sub is None:
            anchor = paths.obj.anchor.column.value if paths.obj.anchor else "the anchor"
            yield codes.ID_MAPPED.at(
                file,
                m.path.span,
                "'id' cannot be mapped: the SCIM id is the anchor",
                f"remove this line; the anchor column ({anchor}) is the id",
            )
            continue
        if resolved.read_only and m.direction != "import":
            yield codes.READ_ONLY_WRITTEN.at(
                file,
                m.path.span,
                f"'{resolved}' is read-only in SCIM but is mapped for export",
                f"map it import-only: {m.path.value} <- {m.column.value}",
            )
        if resolved.key in first:
            yield codes.DUPLICATE_PATH.at(
                file,
                m.path.span,
                f"'{resolved}' is mapped twice",
                f"the first mapping is at line {first[resolved.key]}; keep one",
            )
        first.setdefault(resolved.key, m.path.span.line)
        yield from _check_type(file, m, resolved)


def _check_reference(file: str, reference: Name, objects: list[str]) -> Iterator[Diagnostic]:
    if reference.value not in objects:
        yield codes.UNKNOWN_REFERENCE.at(
            file,
            reference.span,
            f"reference to unknown object type '{reference.value}'",
            did_you_mean(reference.value, objects, "objects"),
        )


def _check_type(file: str, m: AttributeMapping, resolved: Resolved) -> Iterator[Diagnostic]:
    if m.type is None or m.type.value not in SCIM_TYPES:
        return
    declared, expected = m.type.value, resolved.target.type
    if expected in SCIM_TYPES and declared != expected and not {declared, expected} <= _INTERCHANGEABLE:
        yield codes.TYPE_MISMATCH.at(
            file,
            m.type.span,
            f"'{resolved}' is {expected} in SCIM, not {declared}",
            f"write '{expected}' or leave the type out (the schema says {expected})",
        )


def _check_multi(file: str, paths: ObjectPaths, objects: list[str], first: Seen) -> Iterator[Diagnostic]:
    for multi, resolved in paths.multi:
        if multi.reference is not None:
            yield from _check_reference(file, multi.reference, objects)
        if multi.import_sql is None:
            yield codes.MISSING_IMPORT.at(
                file,
                multi.attribute.span,
                f"multi {multi.attribute.value} has no import query",
                'add import sql"""SELECT owner_anchor, value FROM ..."""',
            )
        if isinstance(resolved, PathProblem):
            yield problem_at(file, multi.attribute, resolved)
            continue
        if not resolved.multi_valued:
            yield codes.MULTI_NOT_MULTI_VALUED.at(
                file,
                multi.attribute.span,
                f"'{resolved.attribute.name}' is single-valued; 'multi' is for multi-valued attributes",
                f"map it in the attributes block: {multi.attribute.value} <-> COLUMN",
            )
            continue
        if resolved.attribute.type != "complex":
            name = resolved.attribute.name
            yield codes.SIMPLE_MULTI_SERVED_COMPLEX.at(
                file,
                multi.attribute.span,
                f"'{name}' is declared {resolved.attribute.type}; kept by a 'multi' block it is served "
                f'as complex: each value is {{"value": ...}}, in resources, /Schemas, filters and PATCH',
                f'clients read "{name}": [{{"value": "x"}}] and write that or "{name}": ["x"]',
            )
        key = (resolved.schema.urn, resolved.attribute.name.lower(), "multi")
        if key in first:
            yield codes.DUPLICATE_PATH.at(
                file,
                multi.attribute.span,
                f"'{resolved.attribute.name}' has two multi blocks",
                f"the first is at line {first[key]}; keep one",
            )
        first.setdefault(key, multi.attribute.span.line)


def _check_required(file: str, paths: ObjectPaths) -> Iterator[Diagnostic]:
    imported = paths.imported()
    multi = [r for _, r in paths.multi if isinstance(r, Resolved)]
    have = {(r.schema.urn, r.attribute.name) for r in imported + multi}
    schemas = paths.schemas
    used: list[tuple[str, SchemaDef]] = [("", schemas.core)] if schemas.core else []
    imported_urns = {r.schema.urn for r in imported}  # a set first: a file may declare many schemas
    used += [
        (f"{prefix}.", s)
        for prefix, s in schemas.prefixes.items()
        if s.urn in imported_urns and s != schemas.core and any(r.schema == s for r in imported)
    ]
    name = paths.obj.name
    for prefix, schema in used:
        for attribute in schema.attributes:
            if attribute.required and (schema.urn, attribute.name) not in have:
                yield codes.REQUIRED_UNMAPPED.at(
                    file,
                    name.span,
                    f"{name.value} does not map '{prefix}{attribute.name}', required by {schema.name}",
                    f"add {prefix}{attribute.name} <-> COLUMN to the attributes block",
                )
