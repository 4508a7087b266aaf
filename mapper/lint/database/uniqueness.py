"""The query attribute's column against the database's unique keys (``mapper lint --db``), MAP320.

The gateway finds an object by its query attribute (Entra's ``userName eq "..."`` before every
create) and refuses a second one (409), but only the database keeps it unique against other
writers: a legacy table, or a column unique only by convention, may hold one value in several
rows. The gateway then serves each of them (a filter answers all, and Entra reports the
conflict), and warns at import; lint says so before: a warning, at the query attribute's column
on its attribute line, when the column its ``write table`` writes is in no primary key, unique
constraint or unique index (alone or with other columns: a login unique within a realm, whose
import picks the realm). An object without ``write table`` is not checked: which table an import
reads a value from is the query's to say; nor is one whose ``write table`` is a view (its rows
keep the keys of the tables under it, which lint does not follow).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from mapper.diagnostics import Diagnostic
from mapper.language.model import ObjectType
from mapper.lint.database.catalog import Catalog
from mapper.lint.database.codes import QUERY_NOT_UNIQUE
from mapper.plan import PlanObject


def check_query_unique(
    file: str, obj: ObjectType, compiled: PlanObject, table_name: str, catalog: Catalog
) -> Iterator[Diagnostic]:
    """MAP320 when the column the query attribute of ``obj`` is written to in ``table_name`` is in
    none of the table's unique keys."""
    query = compiled.query_attribute.lower()
    attribute = next((a for a in compiled.attributes if a.path.lower() == query and a.target_column), None)
    if attribute is None or attribute.target_column is None:
        return
    keys = catalog.unique_keys(table_name)
    if keys is None:
        return
    column = attribute.target_column.lower()
    word = re.compile(rf"\b{re.escape(column)}\b")
    if any(part == column or word.search(part) for key in keys for part in key):
        return
    line = next(
        (m for m in obj.attributes if m.path.value.lower() == query and m.direction != "import"), None
    )
    if line is None:
        return
    keyed = attribute.target_column
    if not attribute.case_exact and catalog.dialect == "postgresql":
        keyed = f"LOWER({keyed})"  # the gateway compares it folded: 'Ada' and 'ada' are one value
    elif not attribute.case_exact and catalog.dialect == "sqlite":
        keyed = f"{keyed} COLLATE NOCASE"
    yield QUERY_NOT_UNIQUE.at(
        file,
        line.column.span,
        f"column '{attribute.target_column}' of {table_name} is in no primary key, unique constraint or "
        f"unique index: the database may hold one {compiled.query_attribute} in several rows, which "
        "the gateway then serves alike (a filter answers all of them, and Entra reports a conflict)",
        hint="make the database keep it unique: "
        f"CREATE UNIQUE INDEX {table_name.rpartition('.')[2]}_{attribute.target_column}_unique "
        f"ON {table_name} ({keyed})",
    )
