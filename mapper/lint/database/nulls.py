"""Text columns that keep "no value" as ``''`` (``mapper lint --db``), MAP319.

Real applications keep an empty text column ``NOT NULL DEFAULT ''`` (Moodle's ``mdl_user``:
``city``, ``country``, ``idnumber``; WordPress's ``wp_users``: ``user_url``, ``display_name``).
An attribute mapped to one without ``null ""`` is served as ``""`` where the column holds ``''``,
and clearing it (Entra's ``{"op": "Remove", "path": ...}``, a replace with null, a PUT without
it) writes NULL, which the column refuses: every such change fails, for every user. A warning,
at the column on the attribute line, for an attribute a client writes and may remove (not
``required``, not the query attribute) whose write-table column is ``NOT NULL DEFAULT ''`` text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from mapper.diagnostics import Diagnostic
from mapper.language.model import ObjectType
from mapper.lint.database.catalog import Table
from mapper.lint.database.codes import EMPTY_TEXT_DEFAULT
from mapper.plan import PlanObject

#: ``''``, as each database gives a column's DEFAULT back: SQLite and MariaDB ``''``, PostgreSQL
#: ``''::character varying`` (or ``::text``, ``::bpchar``), any of them in parentheses
_EMPTY = re.compile(r"^\(*\s*''\s*(::\s*[\w\s\"]+(\(\d+\))?)?\s*\)*$")


#: the SCIM types kept as text: a string, a URI (``profileUrl``), base64
_TEXTS = frozenset({"string", "reference", "binary"})


def empty_text_default(default: Any) -> bool:
    """Whether a column's DEFAULT (as the inspector gives it back) is the empty text ``''``."""
    return isinstance(default, str) and _EMPTY.match(default.strip()) is not None


def check_empty_defaults(
    file: str, obj: ObjectType, compiled: PlanObject, table: Table
) -> Iterator[Diagnostic]:
    """MAP319 for each written, removable string attribute of ``obj`` without ``null ""`` whose
    column in its write ``table`` is ``NOT NULL DEFAULT ''`` text."""
    from sqlalchemy import types

    query = (obj.query.value if obj.query is not None else "").lower()
    for mapping in obj.attributes:
        if mapping.direction == "import" or mapping.null_value is not None:
            continue
        if mapping.negated or mapping.value_map is not None or mapping.reference is not None:
            continue
        column_name = mapping.column.value.lower()
        attribute = next(
            (a for a in compiled.attributes if a.column.lower() == column_name and a.target_column), None
        )
        if attribute is None or attribute.type not in _TEXTS or attribute.required:
            continue
        if attribute.mutability == "readOnly" or attribute.path.lower() == query:
            continue
        assert attribute.target_column is not None
        column = table.columns.get(attribute.target_column.lower())
        if column is None or column.get("nullable", True) or not empty_text_default(column.get("default")):
            continue
        if not isinstance(column["type"], types.String):
            continue
        yield EMPTY_TEXT_DEFAULT.at(
            file,
            mapping.column.span,
            f"column '{column['name']}' of {table.name} is NOT NULL DEFAULT '': {attribute.path} is served "
            "as \"\" where it holds '', and clearing it (Entra's remove, a replace with null, a PUT "
            "without it) writes NULL, which the column refuses",
            hint=f"say that '' is no value: {mapping.path.value} <-> {mapping.column.spelling} null \"\"",
        )
