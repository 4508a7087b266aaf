"""Writes and deprovisioning: a derived ``set``/``row`` rule needs something to run against, an
object whose attributes are writable should say how to write them, a ``stamp`` needs derived
statements to stamp, a column nothing else writes, and a time to write, and ``create set`` a
derived insert to write its columns, which nothing else writes."""

from __future__ import annotations

import re
from collections.abc import Iterator

from mapper.checks import codes
from mapper.checks.analysis import Analysis, ObjectPaths
from mapper.checks.scimpaths import Resolved
from mapper.checks.spans import plural
from mapper.diagnostics import Diagnostic
from mapper.language.layout import literal
from mapper.language.model import Create, Deprovision, MappingFile, ObjectType, ProcedureCall, Stamp


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


#: SCIM types a time can be kept as: a dateTime, or the text of one (SQLite keeps times as text)
_TIME_TYPES = frozenset({"datetime", "string"})


def check_stamp(analysis: Analysis) -> Iterator[Diagnostic]:
    """``stamp COLUMN [= VALUE]``: the gateway adds the column to the statements it derives from
    ``write table``, so there must be one (MAP187); the column is the gateway's alone to write
    on each write, so nothing else may write it (MAP188); and what it writes is the time of the
    write, so neither a literal nor a column mapped as a number, a flag or bytes (MAP189)."""
    for paths in analysis.objects:
        obj = paths.obj
        if obj.stamp is not None:
            yield from _stamp_table(analysis.file, obj, obj.stamp)
            yield from _stamp_written(analysis.file, obj, obj.stamp)
            yield from _stamp_time(analysis.file, paths, obj.stamp)


def _stamp_table(file: str, obj: ObjectType, stamp: Stamp) -> Iterator[Diagnostic]:
    writes, name, column = obj.writes, obj.name.value, stamp.column.value
    if writes is not None and writes.table is not None:
        return
    if writes is None:
        message = f"'stamp {column}' on {name}, which has no 'write': nothing of it is written to stamp"
        hint = "add 'write table TABLE', or remove 'stamp'"
    else:
        calls = [s for s in (writes.insert, writes.update, writes.delete) if isinstance(s, ProcedureCall)]
        own = "stored procedures" if calls else "statements"
        message = (
            f"'stamp {column}' on {name}, whose writes are its own {own} ('write {{ ... }}'): "
            "the gateway cannot add the column to them"
        )
        hint = (
            f"set {column} in each of them ({column} = CURRENT_TIMESTAMP) or by a trigger, and remove "
            "'stamp'; or write 'write table TABLE' and let the gateway derive its statements"
        )
    yield codes.STAMP_WITHOUT_WRITE_TABLE.at(file, stamp.span, message, hint)


def _stamp_written(file: str, obj: ObjectType, stamp: Stamp) -> Iterator[Diagnostic]:
    column, name = stamp.column.value, obj.name.value
    same = column.lower()
    if obj.anchor is not None and obj.anchor.column.value.lower() == same:
        yield codes.STAMP_COLUMN_WRITTEN.at(
            file,
            stamp.column.span,
            f"{name} stamps its anchor '{column}': every write would change the row's key",
            f"stamp the table's last-modified column, not {column}",
        )
    for line in obj.attributes:
        if line.column.value.lower() == same and line.direction != "import":
            arrow = "<->" if line.direction == "both" else "->"
            yield codes.STAMP_COLUMN_WRITTEN.at(
                file,
                line.span,
                f"{line.path.value} {arrow} {line.column.value}: a client's value would be written to the "
                f"column {name} stamps with the time of each write",
                f"map it import-only ({line.path.value} <- {line.column.value}): the gateway sets it",
            )
    rules = (("disable set", obj.disable), ("delete set", obj.delete), ("recreate revive set", obj.recreate))
    for keyword, rule in rules:
        for assignment in rule.assignments if rule is not None else ():
            if assignment.column.value.lower() != same:
                continue
            if keyword == "delete set":
                why = "the row a delete leaves would not tell a deleted row from a stamped one"
                hint = f"let 'delete set' write a column of its own (deleted_at, a status), not {column}"
            else:
                why = f"'stamp' already sets {column} on every write, this one included"
                hint = f"remove {column} from '{keyword}'"
            yield codes.STAMP_COLUMN_WRITTEN.at(
                file, assignment.column.span, f"'{keyword}' writes the stamped column {column}: {why}", hint
            )


def _stamp_time(file: str, paths: ObjectPaths, stamp: Stamp) -> Iterator[Diagnostic]:
    column = stamp.column.value
    value = stamp.value
    if value is not None and value.expression is None:
        yield codes.STAMP_NOT_TIME.at(
            file,
            value.span,
            f"'stamp {column}' writes the literal {literal(value.value)}: every write would set the same "
            "value, so the column would not say when a row changed",
            f"write 'stamp {column}' (CURRENT_TIMESTAMP), or an SQL expression for the time: "
            f'stamp {column} = sql"""..."""',
        )
    for line, resolved in paths.attributes:
        if line.column.value.lower() != column.lower():
            continue
        kind = line.type.value if line.type is not None else _resolved_type(resolved)
        if kind is None or kind.lower() in _TIME_TYPES:
            continue
        yield codes.STAMP_NOT_TIME.at(
            file,
            (line.type or line.path).span,
            f"{line.path.value} reads the stamped column {line.column.value} as {kind}: a stamp writes the "
            "time of each write, not a number, a flag or bytes (a row version is no time)",
            f"stamp a timestamp column, and map it as dateTime ({line.path.value} <- {line.column.value} "
            "dateTime); a row version maintained by the database needs no stamp",
        )


def _resolved_type(resolved: object) -> str | None:
    return resolved.target.type if isinstance(resolved, Resolved) else None


def check_create(analysis: Analysis) -> Iterator[Diagnostic]:
    """``create set COLUMN = VALUE, ...``: the gateway adds the columns to the insert it derives from
    ``write table``, so there must be one (MAP190); each column gets a fixed value on every create,
    so nothing else may write it, nor may the value be what marks a row as deleted (MAP191)."""
    for obj in analysis.mapping.objects:
        if obj.create is not None:
            yield from _create_table(analysis.file, obj, obj.create)
            yield from _create_written(analysis.file, obj, obj.create)


def stored(value: str | int | float | bool | None) -> object:
    """A literal as a database stores it, for comparing two of one column: a boolean as 1 or 0
    (MariaDB's and SQLite's booleans are those integers, and PostgreSQL reads 1 and 0 as true and
    false), text that is a number as that number (a numeric column converts it; a text column
    holds a number as the same text), a number as its value (``1`` and ``1.0``), other text as is."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str) and _NUMBER.fullmatch(value):
        return float(value)
    return value


_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")


def _create_table(file: str, obj: ObjectType, create: Create) -> Iterator[Diagnostic]:
    writes, name = obj.writes, obj.name.value
    if writes is not None and writes.table is not None:
        return
    pairs = ", ".join(f"{a.column.value} = ..." for a in create.assignments)
    if writes is None:
        message = f"'create set' on {name}, which has no 'write': it creates no rows to set {pairs} in"
        hint = "add 'write table TABLE', or remove 'create set'"
    else:
        own = "a stored procedure" if isinstance(writes.insert, ProcedureCall) else "its own statement"
        message = (
            f"'create set' on {name}, whose insert is {own} ('write {{ ... }}'): the gateway cannot add "
            "the columns to it"
        )
        hint = (
            f"write the values in the insert itself ({pairs}), and remove 'create set'; or write "
            "'write table TABLE' and let the gateway derive its statements"
        )
    yield codes.CREATE_WITHOUT_WRITE_TABLE.at(file, create.span, message, hint)


def _create_written(file: str, obj: ObjectType, create: Create) -> Iterator[Diagnostic]:
    name = obj.name.value
    anchor = obj.anchor.column.value.lower() if obj.anchor is not None else None
    stamp = obj.stamp.column.value.lower() if obj.stamp is not None else None
    exported = {m.column.value.lower(): m for m in obj.attributes if m.direction != "import"}
    deleted = {
        a.column.value.lower(): a
        for a in (obj.delete.assignments if obj.delete is not None else ())
        if a.expression is None
    }
    seen: set[str] = set()
    for assignment in create.assignments:
        column = assignment.column.value
        same = column.lower()
        where = assignment.column.span
        if same in seen:
            yield codes.CREATE_COLUMN_WRITTEN.at(
                file, where, f"'create set' writes {column} twice", f"keep one value for {column}"
            )
        seen.add(same)
        line = exported.get(same)
        if same == anchor:
            how = (
                "the database generates"
                if obj.anchor and obj.anchor.generation == "database"
                else "the insert fills"
            )
            yield codes.CREATE_COLUMN_WRITTEN.at(
                file,
                where,
                f"'create set' writes {column}, {name}'s anchor, which {how}: every create would take "
                "the same key",
                f"remove {column} from 'create set'",
            )
        elif line is not None:
            arrow = "<->" if line.direction == "both" else "->"
            yield codes.CREATE_COLUMN_WRITTEN.at(
                file,
                where,
                f"'create set' writes {column}, which {line.path.value} {arrow} {line.column.value} "
                "writes from what the client sends",
                f"remove {column} from 'create set', or map the attribute import-only "
                f"({line.path.value} <- {line.column.value})",
            )
        elif same == stamp:
            yield codes.CREATE_COLUMN_WRITTEN.at(
                file,
                where,
                f"'create set' writes {column}, which 'stamp' sets to the time of every write",
                f"remove {column} from 'create set'",
            )
        marked = deleted.get(same)
        if (
            marked is not None
            and assignment.expression is None
            and stored(marked.value) == stored(assignment.value)
        ):
            given, marker = literal(assignment.value), literal(marked.value)
            as_stored = "" if given == marker else f" ({column} = {marker}: {given} is stored as {marker})"
            yield codes.CREATE_COLUMN_WRITTEN.at(
                file,
                assignment.span,
                f"'create set {column} = {given}' writes what 'delete set' marks a "
                f"deleted row with{as_stored}: every {name} it creates would read as deleted",
                f"write the value of a live row ({column} = ...), or remove {column} from 'create set'",
            )
