"""The codes of the live database checks (``mapper lint --db``), MAP3xx, as data."""

from __future__ import annotations

from mapper.diagnostics import Code, Severity

_E = Severity.ERROR

UNKNOWN_TABLE = Code("MAP301", "unknown-table", _E, "a table the mapping uses is not in the database")
UNKNOWN_DB_COLUMN = Code(
    "MAP302",
    "unknown-db-column",
    _E,
    "a column an import query, a change table or a statement of the plan names is not in its table",
)
NOT_NULL_UNFILLED = Code(
    "MAP303",
    "not-null-unfilled",
    _E,
    "a NOT NULL column without a default is not filled by any exported attribute",
)
STATEMENT_REJECTED = Code(
    "MAP304", "statement-rejected", _E, "the database refuses to prepare a statement the plan can run"
)
TYPE_MISMATCH = Code(
    "MAP305", "type-mismatch", _E, "a statement puts a value of the wrong type into a column"
)
UNKNOWN_PROCEDURE = Code(
    "MAP306", "unknown-procedure", _E, "a called stored procedure is not in the database"
)
PROCEDURE_ARITY = Code(
    "MAP307",
    "procedure-arity",
    _E,
    "a stored procedure is called with a number of arguments it does not take",
)
TRANSFORM_COLUMN = Code(
    "MAP309",
    "transform-column-type",
    _E,
    "a value transform stores values its column cannot hold",
)
STRING_INTO_TYPED_COLUMN = Code(
    "MAP311",
    "string-into-typed-column",
    Severity.WARNING,
    "a string attribute is written to a numeric or date column",
)
BINARY_COLUMN = Code(
    "MAP312",
    "binary-column",
    _E,
    "an attribute is mapped to a column that holds bytes (bytea, BLOB, VARBINARY, BINARY)",
)
STRUCTURED_COLUMN = Code(
    "MAP313",
    "structured-column",
    _E,
    "an attribute is mapped to a column of arrays or JSON documents (PostgreSQL ARRAY, json, jsonb, hstore)",
)
ANCHOR_COLUMN = Code(
    "MAP314",
    "anchor-column",
    _E,
    "the anchor's column cannot give SCIM ids: it holds bytes, or its generated value is not read back",
)
GENERATED_WRITTEN = Code(
    "MAP315",
    "generated-column-written",
    _E,
    "an attribute is written to a column the database generates (GENERATED ALWAYS AS ...)",
)
STAMP_COLUMN_TYPE = Code(
    "MAP316",
    "stamp-column-type",
    _E,
    "the stamped column holds no time: numbers, flags, bytes, or whole days",
)
ANCHOR_NARROWER = Code(
    "MAP317",
    "anchor-narrower",
    Severity.WARNING,
    "the anchor column an attribute fills (anchor ... from PATH) is narrower than its own column",
)
DATETIME_INTO_NUMBERS = Code(
    "MAP318",
    "datetime-into-numbers",
    _E,
    "a dateTime attribute is written to a column of numbers, which the gateway only reads (epoch seconds)",
)
EMPTY_TEXT_DEFAULT = Code(
    "MAP319",
    "empty-text-default",
    Severity.WARNING,
    "an attribute a client may remove is written to a NOT NULL DEFAULT '' text column without null \"\"",
)
UNPROVEN = Code(
    "MAP308",
    "unproven-statements",
    Severity.WARNING,
    "the statements of the plan could not be proven against this kind of database",
)
DELETE_REFERENCED = Code(
    "MAP310",
    "delete-referenced",
    Severity.WARNING,
    "a hard delete the database refuses while rows of another table point at the object",
)

CODES = (
    UNKNOWN_TABLE,
    UNKNOWN_DB_COLUMN,
    NOT_NULL_UNFILLED,
    STATEMENT_REJECTED,
    TYPE_MISMATCH,
    UNKNOWN_PROCEDURE,
    PROCEDURE_ARITY,
    UNPROVEN,
    TRANSFORM_COLUMN,
    DELETE_REFERENCED,
    STRING_INTO_TYPED_COLUMN,
    BINARY_COLUMN,
    STRUCTURED_COLUMN,
    ANCHOR_COLUMN,
    GENERATED_WRITTEN,
    STAMP_COLUMN_TYPE,
    ANCHOR_NARROWER,
    DATETIME_INTO_NUMBERS,
    EMPTY_TEXT_DEFAULT,
)
