"""Writes and deprovisioning: a derived ``disable set``/``delete row`` needs a table to write to,
and an object whose attributes are writable should say how to write them."""

from __future__ import annotations

from collections.abc import Iterator

from mapper.checks import codes
from mapper.checks.spans import plural
from mapper.diagnostics import Diagnostic
from mapper.language.model import MappingFile, ObjectType


def check_deprovision(mapping: MappingFile) -> Iterator[Diagnostic]:
    for obj in mapping.objects:
        table = obj.writes.table if obj.writes else None
        if table is not None:
            continue
        hint = f"add 'write table TABLE' to {obj.name.value}, or write the statement in 'write {{ ... }}'"
        disable = obj.disable
        if disable is not None and disable.action == "set":
            where = disable.assignments[0].column.span if disable.assignments else disable.span
            yield codes.DEPROVISION_WITHOUT_TABLE.at(
                mapping.path, where, f"'disable set' on {obj.name.value}, which has no 'write table'", hint
            )
        delete = obj.delete
        explicit = obj.writes.delete if obj.writes else None
        if delete is not None and delete.action == "row" and explicit is None:
            yield codes.DEPROVISION_WITHOUT_TABLE.at(
                mapping.path,
                delete.span,
                f"'delete row' on {obj.name.value}, which has neither 'write table' nor a delete statement",
                hint,
            )


def check_writable(mapping: MappingFile) -> Iterator[Diagnostic]:
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
