"""Attribute types against the live column types (``mapper lint --db``), MAP311 to MAP313.

A SCIM attribute whose type is ``string`` (costCenter, employeeNumber, a custom attribute declared
``string``) written to a numeric or date column passes every other check: the statements prepare,
and a number the client happens to send is stored. Then the first value that is not a number
(Entra sends ``"CC-300"`` as readily as ``"300"``) is refused at run time, for every user that
has one. A warning, since the values in use may all be numbers; the fix is in the mapping or the
schema, before the first refusal.

A ``binary`` attribute (a photo, a certificate) is base64 text in SCIM, and the gateway keeps it as
that text: mapped to a column of bytes (PostgreSQL ``bytea``, MySQL ``BLOB``/``VARBINARY``), a write
stores the bytes of the base64 text, not the bytes it encodes, and bytes another application
stored read back as mangled text. Silent corruption both ways, so an error (MAP312).

An attribute is one value: text, a number, a date, a flag. PostgreSQL's driver returns an array
(``text[]``) as a list and a ``json``/``jsonb``/``hstore`` value as a dict, which the gateway served
as Python's text of it (``"['a', 'b']"``, ``"{'k': 1}"``); and since a write states the whole
object, every later write of that object (a PATCH of any attribute) wrote that text back and was
refused by the column: an object nobody could change any more. An error (MAP313).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mapper.diagnostics import Diagnostic
from mapper.language.model import ObjectType
from mapper.lint.database.catalog import Table
from mapper.lint.database.codes import BINARY_COLUMN, STRING_INTO_TYPED_COLUMN, STRUCTURED_COLUMN
from mapper.lint.database.transforms import type_name
from mapper.plan import PlanObject
from mapper.scimschema import STANDARD_SCHEMAS


def check_column_types(
    file: str, obj: ObjectType, compiled: PlanObject, table: Table
) -> Iterator[Diagnostic]:
    """MAP311 for each written string attribute of ``obj`` (without a transform or a reference)
    whose column in its write ``table`` holds numbers or dates."""
    for mapping in obj.attributes:
        if mapping.direction == "import" or mapping.negated or mapping.value_map is not None:
            continue
        if mapping.reference is not None:  # an id the gateway turns into the referenced anchor
            continue
        column_name = mapping.column.value.lower()
        attribute = next(
            (a for a in compiled.attributes if a.column.lower() == column_name and a.target_column), None
        )
        if attribute is None or attribute.type != "string" or attribute.reference is not None:
            continue
        assert attribute.target_column is not None
        column = table.columns.get(attribute.target_column.lower())
        holds = _holds(column["type"]) if column is not None else None
        if column is None or holds is None:
            continue
        yield STRING_INTO_TYPED_COLUMN.at(
            file,
            mapping.column.span,
            f"{attribute.path} is a string, and column '{column['name']}' of {table.name} holds "
            f"{holds} ({type_name(column['type'])}): a value that is not {_article(holds)} is refused "
            "when written",
            hint=_hint(attribute.schema_urn, attribute.attribute, holds),
        )


def check_binary_columns(
    file: str, obj: ObjectType, compiled: PlanObject, table: Table
) -> Iterator[Diagnostic]:
    """MAP312 for each attribute of ``obj`` typed ``binary`` whose column in its write ``table``
    (the column it writes, or for an import-only attribute the column of that name) holds bytes."""
    from sqlalchemy import types

    for mapping in obj.attributes:
        column_name = mapping.column.value.lower()
        attribute = next((a for a in compiled.attributes if a.column.lower() == column_name), None)
        if attribute is None or attribute.type != "binary":
            continue
        column = table.columns.get((attribute.target_column or mapping.column.value).lower())
        if column is None or not isinstance(column["type"], types._Binary):
            continue
        yield BINARY_COLUMN.at(
            file,
            mapping.column.span,
            f"{attribute.path} is binary, and column '{column['name']}' of {table.name} holds bytes "
            f"({type_name(column['type'])}): the gateway stores a binary attribute as its base64 text, "
            "so a write would store the text's bytes, and bytes stored otherwise would read back mangled",
            hint="keep the value as base64 text in a text column (VARCHAR, TEXT), or leave the column out "
            "of the mapping",
        )


def check_structured_columns(
    file: str, obj: ObjectType, compiled: PlanObject, table: Table
) -> Iterator[Diagnostic]:
    """MAP313 for each attribute of ``obj`` whose column in its write ``table`` (the column it
    writes, or for an import-only attribute the column of that name) holds PostgreSQL arrays or
    JSON documents, which its driver returns as lists and dicts."""
    for mapping in obj.attributes:
        column_name = mapping.column.value.lower()
        attribute = next((a for a in compiled.attributes if a.column.lower() == column_name), None)
        if attribute is None:
            continue
        column = table.columns.get((attribute.target_column or mapping.column.value).lower())
        if column is None or not _structured(column["type"]):
            continue
        yield STRUCTURED_COLUMN.at(
            file,
            mapping.column.span,
            f"{attribute.path} is mapped to column '{column['name']}' of {table.name}, which holds "
            f"{type_name(column['type'])} values: an attribute holds one text, number, date or flag, "
            "so the gateway would serve Python's text of the value and refuse every write of the object",
            hint="select one text value from it under another name in the import query "
            "(tags[1] AS first_tag, extra->>'key' AS extra_key) and map that import-only (<-), "
            "or leave the column out of the mapping",
        )


def _structured(kind: Any) -> bool:
    """Whether a column of type ``kind`` holds values PostgreSQL's driver returns as lists or
    dicts (MySQL's JSON is text to pymysql, SQLite's too)."""
    from sqlalchemy import types
    from sqlalchemy.dialects import postgresql

    return isinstance(kind, types.ARRAY | postgresql.JSON | postgresql.HSTORE)


def _holds(kind: Any) -> str | None:
    """``numbers`` or ``dates`` for a column of such a type, else None."""
    from sqlalchemy import types

    if isinstance(kind, types.Boolean):
        return None  # flags: `active`-like attributes are typed boolean, MAP309 covers `not`
    if isinstance(kind, types.Integer | types.Numeric | types.Float):
        return "numbers"
    if isinstance(kind, types.Date | types.DateTime | types.Time):
        return "dates"
    return None


def _article(holds: str) -> str:
    return "a number" if holds == "numbers" else "a date"


def _hint(urn: str, attribute: str, holds: str) -> str:
    if urn in STANDARD_SCHEMAS:  # its type is the RFC's: declaring another is MAP152
        return f"{attribute} is a string in its SCIM schema: map a text column, or import it only (<-)"
    typed = "integer or decimal" if holds == "numbers" else "dateTime"
    return f"declare {attribute} {typed} in its schema block, or map a text column"
