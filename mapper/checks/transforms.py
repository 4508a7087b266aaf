"""Value transforms (``active <-> not locked``, ``map { ... } else ...``), the stored value of no
value (``null ""``) and soft delete (``delete set``, ``tombstone``, ``recreate``), checked without
a database.

``null ""`` is taken on a string attribute that may be absent (neither ``required`` nor the query
attribute) and has no other transform: ``""`` is the only stored value it names so far (a number
column's ``0``, Moodle's "no time", is not supported: it would change what ``pr`` and ``eq`` mean
for numbers, which the filters do not do yet).

A transform must fit the attribute's SCIM type; a value map must go both ways (no value twice on
either side, no null) and say what other stored values read as (``else``). A ``disable set`` or
``recreate revive set`` rule that writes a column an attribute maps must write a value the
attribute can read back (``delete set`` leaves a tombstone, which is never read), so a string
into a flag column is caught here. The column types themselves are known only to
``mapper lint --db``.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from mapper.checks import codes
from mapper.checks.analysis import Analysis, ObjectPaths
from mapper.checks.scimpaths import Resolved
from mapper.diagnostics import Diagnostic
from mapper.language.model import Assignment, AttributeMapping, Literal_, ObjectType, ValueMap

#: Which literals a SCIM type accepts.
_FITS = {
    "boolean": (bool,),
    "integer": (int,),
    "decimal": (int, float),
    "string": (str,),
    "reference": (str, int),
    "dateTime": (str,),
    "binary": (str,),
}


def check_transforms(analysis: Analysis) -> Iterator[Diagnostic]:
    for paths in analysis.objects:
        for mapping, resolved in paths.attributes:
            if mapping.negated or mapping.value_map is not None:
                kind = _type(mapping, resolved)
                yield from _transform(analysis.file, mapping, kind)
            if mapping.null_value is not None:
                yield from _null_value(analysis.file, paths, mapping, resolved)
        yield from _set_rules(analysis.file, paths)


def _type(mapping: AttributeMapping, resolved: object) -> str:
    if mapping.type is not None:
        return mapping.type.value
    if isinstance(resolved, Resolved):
        return resolved.target.type
    return "string"


def _literal_kind(value: Literal_) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "null" if value is None else "a string"


def _fits(value: Literal_, kind: str) -> bool:
    accepted = _FITS.get(kind, (str,))
    if isinstance(value, bool):
        return bool in accepted
    return isinstance(value, accepted)


def _transform(file: str, mapping: AttributeMapping, kind: str) -> Iterator[Diagnostic]:
    path = mapping.path.value
    if mapping.reference is not None:
        yield codes.TRANSFORM_TYPE.at(
            file, mapping.span, f"{path} is a reference: its values are ids, which a transform cannot change"
        )
        return
    if mapping.negated and mapping.value_map is not None:
        yield codes.TRANSFORM_TYPE.at(
            file, mapping.value_map.span, f"{path} has both 'not' and a value map", "keep one of them"
        )
    if mapping.negated and kind != "boolean":
        yield codes.TRANSFORM_TYPE.at(
            file,
            mapping.column.span,
            f"'not {mapping.column.value}' inverts a boolean, but {path} is a {kind}",
            "map a boolean attribute (active), or translate values with 'map { ... }'",
        )
    if mapping.value_map is not None:
        yield from _value_map(file, path, mapping.value_map, kind)


def _null_value(
    file: str, paths: ObjectPaths, mapping: AttributeMapping, resolved: object
) -> Iterator[Diagnostic]:
    """MAP192 for a ``null STORED`` that the runtime cannot honour."""
    null = mapping.null_value
    assert null is not None
    path = mapping.path.value
    if null.value != "":
        yield codes.NULL_VALUE.at(
            file,
            null.span,
            f"{path}: 'null' takes only \"\" (the empty text a NOT NULL DEFAULT '' column holds), "
            f"not {_literal_kind(null.value)}",
            'write null "" for a text column; a number column\'s 0 for no value is not supported',
        )
        return
    kind = _type(mapping, resolved)
    query = paths.obj.query
    if mapping.required or (isinstance(resolved, Resolved) and resolved.target.required):
        yield codes.NULL_VALUE.at(
            file, null.span, f'{path} is required: it always has a value, so null "" never applies', "drop it"
        )
    elif query is not None and query.value.lower() == path.lower():
        yield codes.NULL_VALUE.at(
            file,
            null.span,
            f'{path} is the query attribute: it always has a value, so null "" never applies',
            "drop it",
        )
    elif mapping.negated or mapping.value_map is not None or mapping.reference is not None:
        what = "a reference" if mapping.reference is not None else "a value transform"
        yield codes.NULL_VALUE.at(
            file, null.span, f'{path} has {what}: null "" applies to plain text only', "drop one of them"
        )
    elif kind not in ("string", "reference", "binary"):
        yield codes.NULL_VALUE.at(
            file,
            null.span,
            f'{path} is a {kind}: null "" applies to text attributes only',
            "map a string attribute, or drop it",
        )


def _value_map(file: str, path: str, value_map: ValueMap, kind: str) -> Iterator[Diagnostic]:
    scim_seen: dict[object, int] = {}
    stored_seen: dict[object, int] = {}
    for entry in value_map.entries:
        if entry.scim is None or entry.stored is None:
            yield codes.MAP_AMBIGUOUS.at(
                file,
                entry.span,
                f"the value map of {path} maps null",
                "a missing value is null on both sides already",
            )
            continue
        if not _fits(entry.scim, kind):
            yield codes.TRANSFORM_TYPE.at(
                file,
                entry.span,
                f"{path} is a {kind}, but its value map has {_literal_kind(entry.scim)} on the SCIM side",
                "write 'SCIM value: stored value' pairs, the SCIM value first",
            )
        for seen, value, side in ((scim_seen, entry.scim, "SCIM"), (stored_seen, entry.stored, "stored")):
            key = _key(value)
            if key in seen:
                yield codes.MAP_AMBIGUOUS.at(
                    file,
                    entry.span,
                    f"the value map of {path} has a {side} value twice (first at line {seen[key]})",
                    f"each {side} value may appear once, so that the map reads back",
                )
            seen[key] = entry.span.line
    if value_map.otherwise is None:
        yield codes.MAP_WITHOUT_ELSE.at(
            file,
            value_map.span,
            f"the value map of {path} does not say what other stored values read as",
            "end it with 'else DEFAULT' (a SCIM value) or 'else error' (left out, with a warning)",
        )
    elif value_map.otherwise == "value" and (value_map.default is None or not _fits(value_map.default, kind)):
        yield codes.TRANSFORM_TYPE.at(
            file,
            value_map.span,
            f"the 'else' value of {path} must be a {kind}",
            "or write 'else error' to leave the attribute out",
        )
    if kind == "boolean":
        missing = [w for w, v in (("true", True), ("false", False)) if _key(v) not in scim_seen]
        if missing:
            yield codes.MAP_INCOMPLETE.at(
                file,
                value_map.span,
                f"the value map of {path} has no {' or '.join(missing)}, so a client cannot write it",
                "map both true and false",
            )


def _key(value: Literal_) -> object:
    """Values that compare alike at run time (mapper.runtime.values.canonical) are alike here."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return format(Decimal(str(value)).normalize(), "f")
    return value


def _set_rules(file: str, paths: ObjectPaths) -> Iterator[Diagnostic]:
    obj = paths.obj
    by_column: dict[str, AttributeMapping] = {}
    for mapping, _ in paths.attributes:
        by_column.setdefault(mapping.column.value.lower(), mapping)
    # not ``delete set``: the row it leaves is a tombstone, never read through the map again
    assignments = list(obj.disable.assignments) if obj.disable is not None else []
    if obj.recreate is not None:
        assignments += obj.recreate.assignments
    if obj.create is not None:  # a column an attribute writes too is MAP191, said once
        writes = {m.column.value.lower() for m, _ in paths.attributes if m.direction != "import"}
        assignments += [a for a in obj.create.assignments if a.column.value.lower() not in writes]
    for assignment in assignments:
        found = by_column.get(assignment.column.value.lower())
        if found is not None and assignment.expression is None and assignment.value is not None:
            yield from _set_value(file, assignment, found, paths)
    yield from _delete_like_disable(file, obj)
    if (
        obj.recreate is not None
        and obj.tombstone is None
        and (obj.delete is None or obj.delete.action != "set")
    ):
        yield codes.RECREATE_WITHOUT_TOMBSTONE.at(
            file,
            obj.recreate.span,
            f"'recreate' on {obj.name.value}, whose deletes leave no row behind",
            'soft-delete with \'delete set COLUMN = VALUE\' or \'tombstone sql"""..."""\', or drop the line',
        )


def _set_value(
    file: str, assignment: Assignment, mapping: AttributeMapping, paths: ObjectPaths
) -> Iterator[Diagnostic]:
    column, value = assignment.column.value, assignment.value
    if mapping.value_map is not None:
        stored = {_key(e.stored) for e in mapping.value_map.entries}
        if _key(value) not in stored:
            yield codes.SET_VALUE_MISMATCH.at(
                file,
                assignment.span,
                f"{column} holds {mapping.path.value} through a value map that has no such stored value",
                "write one of the map's stored values, or add it to the map",
            )
        return
    resolved = dict(paths.attributes).get(mapping)
    kind = "boolean" if mapping.negated else _type(mapping, resolved)
    if kind == "boolean" and not (isinstance(value, bool) or value in (0, 1)):
        yield codes.SET_VALUE_MISMATCH.at(
            file,
            assignment.span,
            f"{column} holds the boolean {mapping.path.value}, but this rule writes {_literal_kind(value)}",
            f"write {column} = true or {column} = false",
        )
    elif kind in ("integer", "decimal") and not isinstance(value, int | float):
        yield codes.SET_VALUE_MISMATCH.at(
            file,
            assignment.span,
            f"{column} holds the {kind} {mapping.path.value}, but this rule writes {_literal_kind(value)}",
        )


def _delete_like_disable(file: str, obj: ObjectType) -> Iterator[Diagnostic]:
    if obj.tombstone is not None or obj.delete is None or obj.disable is None:
        return
    if obj.delete.action != "set" or obj.disable.action != "set":
        return

    def written(assignments: tuple[Assignment, ...]) -> set[tuple[str, object]]:
        return {
            (a.column.value.lower(), _key(a.value) if a.expression is None else a.expression.value)
            for a in assignments
        }

    if written(obj.delete.assignments) <= written(obj.disable.assignments):
        yield codes.DELETE_LIKE_DISABLE.at(
            file,
            obj.delete.span,
            f"{obj.name.value}: 'delete set' writes only what 'disable set' writes, so a disabled object "
            "would read as deleted",
            "mark deletes with a column of their own (delete set deleted_at = CURRENT_TIMESTAMP), "
            "or write 'delete row'",
        )
