"""Writes and deprovisioning: a derived ``set``/``row`` rule needs something to run against, and an
object whose attributes are writable should say how to write them."""

from __future__ import annotations

from collections.abc import Iterator

from mapper.checks import codes
from mapper.checks.analysis import Analysis
from mapper.checks.spans import plural
from mapper.diagnostics import Diagnostic
from mapper.language.model import Deprovision, MappingFile, ObjectType


def check_deprovision(analysis: Analysis) -> Iterator[Diagnostic]:
    mapping = analysis.mapping
    for obj in mapping.objects:
        if obj.writes is None or obj.writes.table is None:
            for keyword, rule in (("disable", obj.disable), ("delete", obj.delete)):
                if rule is not None:
                    yield from _without_table(mapping.path, obj, keyword, rule)


def _without_table(file: str, obj: ObjectType, keyword: str, rule: Deprovision) -> Iterator[Diagnostic]:
    name = obj.name.value
    hint = f"add 'write table TABLE' to {name}, or write the statement in 'write {{ ... }}'"
    if rule.action == "set":
        where = rule.assignments[0].column.span if rule.assignments else rule.span
        yield codes.DEPROVISION_WITHOUT_TABLE.at(
            file, where, f"'{keyword} set' on {name}, which has no 'write table'", hint
        )
    elif rule.action == "row" and (obj.writes is None or obj.writes.delete is None):
        yield codes.DEPROVISION_WITHOUT_TABLE.at(
            file,
            rule.span,
            f"'{keyword} row' on {name}, which has neither 'write table' nor a delete statement",
            hint,
        )


def check_writable(analysis: Analysis) -> Iterator[Diagnostic]:
    mapping = analysis.mapping
    for obj in mapping.objects:
        if obj.writes is None:
            yield from _writable_without_write(mapping, obj)


def _writable_without_write(mapping: MappingFile, obj: ObjectType) -> Iterator[Diagnostic]:
    writable = [m for m in obj.attributes if m.direction != "import"]
    if writable:
        yield codes.WRITABLE_WITHOUT_WRITE.at(
            mapping.path,
            obj.name.span,
            f"{obj.name.value} maps {plural(len(writable), 'attribute')} for export but has no 'write'",
            "add 'write table TABLE', or map them import-only with '<-'",
        )
