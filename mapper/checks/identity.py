"""How an object is identified: the anchor (the SCIM id) must be a single, non-boolean value, and
the query attribute (what look-ups match) must be a mapped, single-valued attribute."""

from __future__ import annotations

from collections.abc import Iterator

from mapper.checks import codes
from mapper.checks.analysis import Analysis, ObjectPaths
from mapper.checks.scimpaths import PathProblem, Resolved, problem_at
from mapper.checks.spans import did_you_mean
from mapper.diagnostics import Diagnostic
from mapper.language.model import Name


def check_anchor(analysis: Analysis) -> Iterator[Diagnostic]:
    for paths in analysis.objects:
        if paths.obj.anchor is not None and paths.schemas.core is not None:
            yield from _check_anchor(analysis.file, paths)


def check_query(analysis: Analysis) -> Iterator[Diagnostic]:
    for paths in analysis.objects:
        if paths.obj.query is not None and paths.schemas.core is not None:
            yield from _check_query(analysis.file, paths, paths.obj.query)


def _check_anchor(file: str, paths: ObjectPaths) -> Iterator[Diagnostic]:
    anchor = paths.obj.anchor
    assert anchor is not None
    column = anchor.column
    for m, resolved in paths.attributes:
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
    path = anchor.attribute
    if anchor.generation != "attribute" or path is None:
        return
    resolved = paths.resolve(path.value)
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
    elif not paths.is_mapped(resolved):
        yield codes.ANCHOR_UNMAPPED.at(
            file,
            path.span,
            f"the anchor comes from '{path.value}', which is not mapped",
            _mapped_hint(paths, path) or f"map it: {path.value} <-> {column.value}",
        )


def _check_query(file: str, paths: ObjectPaths, query: Name) -> Iterator[Diagnostic]:
    resolved = paths.resolve(query.value)
    if isinstance(resolved, PathProblem):
        yield problem_at(file, query, resolved)
    elif resolved.multi_valued:
        yield codes.QUERY_MULTI_VALUED.at(
            file,
            query.span,
            f"query attribute '{query.value}' is multi-valued",
            "look-ups need one value per object: use userName, displayName or externalId",
        )
    elif not paths.is_mapped(resolved):
        yield codes.QUERY_UNMAPPED.at(
            file,
            query.span,
            f"query attribute '{query.value}' is not mapped",
            _mapped_hint(paths, query) or f"map it in the attributes block: {query.value} <-> COLUMN",
        )


def _mapped_hint(paths: ObjectPaths, path: Name) -> str | None:
    single = [m.path.value for m, r in paths.attributes if isinstance(r, Resolved) and not r.multi_valued]
    return did_you_mean(path.value, single, "mapped")
