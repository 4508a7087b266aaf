"""Value transforms against the live column types (``mapper lint --db``), MAP309.

The static checks (``mapper/checks/transforms.py``) know the SCIM side of a transform; only the
database knows the column's. ``active <-> not locked`` needs a column that holds a flag (boolean,
bit or integer); a value map's stored values must fit the column: text in a text column no longer
than its declared length (and among an ENUM's values, or a CHECK constraint's list), numbers and
flags in a numeric or boolean column. A transform checked only at run time would fail the first
write, or read back values that no longer match the map.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mapper.diagnostics import Diagnostic
from mapper.language.model import AttributeMapping, ObjectType
from mapper.lint.database.catalog import Table
from mapper.lint.database.checks import admits
from mapper.lint.database.codes import TRANSFORM_COLUMN


def check_transforms(file: str, obj: ObjectType, table: Table) -> Iterator[Diagnostic]:
    """MAP309 for each transformed attribute of ``obj`` whose column in its write ``table`` cannot
    hold what the transform stores."""
    for mapping in obj.attributes:
        if not (mapping.negated or mapping.value_map is not None) or mapping.direction == "import":
            continue
        column = table.columns.get(mapping.column.value.lower())
        if column is None:  # not a column of the write table: other checks say so
            continue
        yield from _check(file, mapping, column, table.name, table.allowed.get(mapping.column.value.lower()))


def _check(
    file: str, mapping: AttributeMapping, column: dict[str, Any], table: str, allowed: frozenset[Any] | None
) -> Iterator[Diagnostic]:
    kind = column["type"]
    described = f"column '{column['name']}' of {table} is {type_name(kind)}"
    if mapping.negated:
        if not _holds_flag(kind):
            yield TRANSFORM_COLUMN.at(
                file,
                mapping.column.span,
                f"'not {mapping.column.value}' needs a boolean, bit or integer column; {described}",
                hint="map the values the column stores instead: map { true: ..., false: ... } else ...",
            )
        return
    assert mapping.value_map is not None
    for entry in mapping.value_map.entries:
        problem = _misfit(entry.stored, kind)
        if problem is None and allowed is not None and not admits(allowed, entry.stored):
            listed = ", ".join(sorted(repr(value) for value in allowed))
            problem = f"{_shown(entry.stored)} is not among the values its CHECK constraint allows ({listed})"
        if problem is not None:
            yield TRANSFORM_COLUMN.at(
                file,
                entry.span,
                f"the mapped value {problem}; {described}",
                hint="store values of the column's type, or map another column",
            )


def _misfit(value: Any, kind: Any) -> str | None:
    """Why the stored ``value`` does not fit a column of type ``kind``, or None."""
    from sqlalchemy import types

    if isinstance(value, str):
        if isinstance(kind, types.Enum) and kind.enums and value not in kind.enums:
            return f"'{value}' is not one of the column's ENUM values ({_listed(kind.enums)})"
        if isinstance(kind, types.String):
            length = getattr(kind, "length", None)
            if length is not None and len(value) > length:
                return f"'{value}' is longer than the column's {length} characters"
            return None
        if _holds_number(kind) and not _number(value):
            return f"'{value}' is text, not a number"
        return None
    if isinstance(value, bool | int | float):
        if _holds_number(kind) or _holds_flag(kind):
            return None
        return f"{str(value).lower() if isinstance(value, bool) else value} is a number, not text"
    return None


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return f"'{value}'" if isinstance(value, str) else str(value)


def _holds_flag(kind: Any) -> bool:
    from sqlalchemy import types

    if isinstance(kind, types.Boolean | types.Integer):
        return True
    if isinstance(kind, types.Numeric):  # NUMBER(1), DECIMAL(1, 0)
        return not getattr(kind, "scale", None)
    return "BIT" in type(kind).__name__.upper()


def _holds_number(kind: Any) -> bool:
    from sqlalchemy import types

    return isinstance(kind, types.Integer | types.Numeric | types.Boolean | types.Float)


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _listed(values: list[str], most: int = 10) -> str:
    shown = ", ".join(repr(v) for v in values[:most])
    return shown + (f" and {len(values) - most} more" if len(values) > most else "")


def type_name(kind: Any) -> str:
    """The column type as its database names it. An enum is named for itself (PostgreSQL's
    ``CREATE TYPE status AS ENUM``: ``ENUM status``; MariaDB's ``ENUM('A', 'S')``): SQLAlchemy
    renders either as the ``VARCHAR`` of its longest value, a type the column does not have."""
    from sqlalchemy import types

    if isinstance(kind, types.Enum):
        return f"ENUM {kind.name}" if kind.name else f"ENUM({_listed(list(kind.enums))})"
    try:
        return str(kind)
    except Exception:  # noqa: BLE001 - a type without a compiled name
        return type(kind).__name__
