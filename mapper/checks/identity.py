"""How an object is identified: the anchor (the SCIM id) must be a single, non-boolean value, and
the query attribute (what look-ups match) must be a mapped, single-valued attribute."""

from __future__ import annotations

from collections.abc import Iterator

from mapper.checks import codes
from mapper.checks.scimpaths import PathProblem, Resolved, mapped, problem_at, resolve, schemas_of
from mapper.checks.spans import did_you_mean
from mapper.diagnostics import Diagnostic
from mapper.language.model import MappingFile, Name, ObjectType


def check_anchor(mapping: MappingFile) -> Iterator[Diagnostic]:
    for obj in mapping.objects:
        if obj.anchor is not None and schemas_of(mapping, obj).core is not None:
            yield from _check_anchor(mapping, obj)


def check_query(mapping: MappingFile) -> Iterator[Diagnostic]:
    for obj in mapping.objects:
        if obj.query is not None and schemas_of(mapping, obj).core is not None:
            yield from _check_query(mapping, obj, obj.query)


def _check_anchor(mapping: MappingFile, obj: ObjectType) -> Iterator[Diagnostic]:
    assert obj.anchor is not None
    file, column = mapping.path, obj.anchor.column
    for m, resolved in mapped(mapping, obj):
        if m.column.value.lower() != column.value.lower() or not isinstance(resolved, Resolved):
            continue
        if resolved.multi_valued:
            yield codes.ANCHOR_MULTI_VALUED.at(
                file,
                column.span,
                f"anchor column '{column.value}' is mapped to the multi-valued '{resolved}'",
                "the anchor must hold one stable value per object: use the table's key column",
            )
        elif resolved.target.type == "boolean" or (m.type is not None and m.type.value == "boolean"):
            yield codes.ANCHOR_BOOLEAN.at(
                file,
                column.span,
                f"anchor column '{column.value}' is mapped to the boolean '{resolved}'",
                "a boolean cannot tell objects apart: use the table's key column",
            )
    path = obj.anchor.attribute
    if obj.anchor.generation != "attribute" or path is None:
        return
    resolved = resolve(path.value, schemas_of(mapping, obj))
    if isinstance(resolved, PathProblem):
        yield problem_at(file, path, resolved)
    elif resolved.multi_valued:
        yield codes.ANCHOR_MULTI_VALUED.at(
            file,
            path.span,
            f"the anchor cannot come from the multi-valued '{resolved}'",
            "take it from a single-valued attribute such as userName or externalId",
        )
    elif resolved.target.type == "boolean":
        yield codes.ANCHOR_BOOLEAN.at(
            file,
            path.span,
            f"the anchor cannot come from the boolean '{resolved}'",
            "take it from a single-valued attribute such as userName or externalId",
        )
    elif not _is_mapped(mapping, obj, resolved):
        yield codes.ANCHOR_UNMAPPED.at(
            file,
            path.span,
            f"the anchor comes from '{path.value}', which is not mapped",
            _mapped_hint(mapping, obj, path) or f"map it: {path.value} <-> {obj.anchor.column.value}",
        )


def _check_query(mapping: MappingFile, obj: ObjectType, query: Name) -> Iterator[Diagnostic]:
    resolved = resolve(query.value, schemas_of(mapping, obj))
    if isinstance(resolved, PathProblem):
        yield problem_at(mapping.path, query, resolved)
    elif resolved.multi_valued:
        yield codes.QUERY_MULTI_VALUED.at(
            mapping.path,
            query.span,
            f"query attribute '{query.value}' is multi-valued",
            "look-ups need one value per object: use userName, displayName or externalId",
        )
    elif not _is_mapped(mapping, obj, resolved):
        yield codes.QUERY_UNMAPPED.at(
            mapping.path,
            query.span,
            f"query attribute '{query.value}' is not mapped",
            _mapped_hint(mapping, obj, query) or f"map it in the attributes block: {query.value} <-> COLUMN",
        )


def _is_mapped(mapping: MappingFile, obj: ObjectType, resolved: Resolved) -> bool:
    return any(isinstance(r, Resolved) and r.key == resolved.key for _, r in mapped(mapping, obj))


def _mapped_hint(mapping: MappingFile, obj: ObjectType, path: Name) -> str | None:
    single = [m.path.value for m, r in mapped(mapping, obj) if isinstance(r, Resolved) and not r.multi_valued]
    return did_you_mean(path.value, single, "mapped")
