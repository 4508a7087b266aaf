"""The codes of the diagnostics the compiler reports (MAP2xx), as data.

Each code is stable (never renumbered) and documented in docs/diagnostics-sql.md with a failing
example and its fix. They are :class:`mapper.diagnostics.Code` values, like the checks' codes, so
the linter's registry lists them the same way.

MAP290 and MAP291 are problems the checks (MAP1xx) report first with more detail; the compiler
reports them only so that ``compile`` on an unchecked model never fails silently.
"""

from __future__ import annotations

from mapper.diagnostics import Code, Severity


def _e(code: str, name: str, summary: str) -> Code:
    return Code(code, name, Severity.ERROR, summary)


SQL_SYNTAX = _e("MAP201", "sql-syntax", "an SQL block does not parse in its source's dialect")
IMPORT_NOT_SELECT = _e("MAP202", "import-not-select", "an import block is not exactly one SELECT")
ANCHOR_NOT_SELECTED = _e(
    "MAP203", "anchor-not-selected", "the anchor column is not an output column of the import"
)
UNKNOWN_COLUMN = _e("MAP204", "unknown-column", "a mapped column is not an output column of the import")
WATERMARK_NOT_SELECTED = _e(
    "MAP205", "watermark-not-selected", "the delta watermark column is not an output column of the import"
)
UNKNOWN_PARAMETER = _e(
    "MAP206", "unknown-parameter", "a write statement uses a :parameter that nothing binds"
)
UNTRANSPILABLE = _e("MAP207", "untranspilable", "SQL cannot be written in the target dialect")
SQLITE_PROCEDURE = _e("MAP208", "sqlite-procedure", "a stored procedure call on SQLite, which has none")
EXPRESSION_NOT_WRITABLE = _e(
    "MAP209",
    "expression-not-writable",
    "a written attribute's projection item is an expression, not a column",
)
FOREIGN_COLUMN_NOT_WRITABLE = _e(
    "MAP210",
    "foreign-column-not-writable",
    "a written attribute's column belongs to another table than the write table",
)
UNNAMED_OUTPUT = _e(
    "MAP211", "unnamed-output", "an import projection has SELECT *, an unnamed expression or a duplicate name"
)
WRITE_NOT_ONE_STATEMENT = _e(
    "MAP212", "write-not-one-statement", "a write block holds several statements, none, or a query"
)
DEPROVISION_WITHOUT_STATEMENT = _e(
    "MAP213",
    "deprovision-without-statement",
    "a deprovisioning rule has no statement or table to run against",
)
UNNAMED_PARAMETER = _e("MAP214", "unnamed-parameter", "a write statement uses a positional parameter (?, %s)")
QUERY_NOT_MAPPED = _e("MAP215", "query-not-mapped", "the query attribute is not in the attribute map")
PARAMETER_CLASH = _e(
    "MAP216", "parameter-clash", "a written column is named 'anchor', which is the anchor's parameter"
)
QUERY_NOT_SELECTED = _e(
    "MAP217", "query-not-selected", "the query attribute's column is not an output column of the import"
)
UNIQUE_NOT_SELECTED = Code(
    "MAP218",
    "unique-not-selected",
    Severity.WARNING,
    "a unique attribute's column is not an output column of the import, so no write checks it",
)
UNKEPT_NOT_SELECTED = _e(
    "MAP219",
    "unkept-not-selected",
    "a written column the import does not select: every update that does not give it writes NULL",
)
UNBOUND_PARAMETER = _e(
    "MAP230",
    "unbound-parameter",
    "a statement uses a :parameter that exists, but that this statement is never given",
)
MULTI_EXTRA_COLUMN = _e(
    "MAP231", "multi-extra-column", "a multi import column after the value fills no sub-attribute"
)
SET_COLUMN_NOT_SELECTED = Code(
    "MAP240",
    "set-column-not-selected",
    Severity.WARNING,
    "a 'set' rule writes a column the import does not select, so only lint --db can check it",
)
TOMBSTONE_IMPORT_SHAPE = _e(
    "MAP241", "tombstone-import-shape", "a tombstone cannot filter an import that is not one plain SELECT"
)
REVIVE_UNCLEARED = _e(
    "MAP242",
    "revive-uncleared",
    "a revive cannot tell how to clear the tombstone",
)
CREATE_VALUE_READS_ROW = _e(
    "MAP243",
    "create-value-reads-row",
    "a 'create set' value names a column (an unquoted word), which an insert's values cannot read",
)
CREATE_OUTSIDE_IMPORT = Code(
    "MAP244",
    "create-outside-import",
    Severity.WARNING,
    "the import reads only rows with a column equal to a value, and a create does not write it",
)
UNUSED_COLUMN = Code(
    "MAP245",
    "unused-column",
    Severity.WARNING,
    "the import selects a column that no attribute, anchor, DN or watermark reads: every cached "
    "record holds its value, and its changes move the object's ETag",
)
UNMAPPABLE_PATH = _e("MAP290", "unmappable-path", "the compiler cannot place a SCIM path (see MAP14x)")
INCOMPLETE_OBJECT = _e(
    "MAP291", "incomplete-object", "an object lacks a source, dialect, anchor or import (see MAP10x-MAP11x)"
)

CODES: tuple[Code, ...] = (
    SQL_SYNTAX,
    IMPORT_NOT_SELECT,
    ANCHOR_NOT_SELECTED,
    UNKNOWN_COLUMN,
    WATERMARK_NOT_SELECTED,
    UNKNOWN_PARAMETER,
    UNTRANSPILABLE,
    SQLITE_PROCEDURE,
    EXPRESSION_NOT_WRITABLE,
    FOREIGN_COLUMN_NOT_WRITABLE,
    UNNAMED_OUTPUT,
    WRITE_NOT_ONE_STATEMENT,
    DEPROVISION_WITHOUT_STATEMENT,
    UNNAMED_PARAMETER,
    QUERY_NOT_MAPPED,
    PARAMETER_CLASH,
    QUERY_NOT_SELECTED,
    UNIQUE_NOT_SELECTED,
    UNKEPT_NOT_SELECTED,
    UNBOUND_PARAMETER,
    MULTI_EXTRA_COLUMN,
    SET_COLUMN_NOT_SELECTED,
    TOMBSTONE_IMPORT_SHAPE,
    REVIVE_UNCLEARED,
    CREATE_VALUE_READS_ROW,
    CREATE_OUTSIDE_IMPORT,
    UNUSED_COLUMN,
    UNMAPPABLE_PATH,
    INCOMPLETE_OBJECT,
)
