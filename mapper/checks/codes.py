"""The codes the checks report (MAP1xx semantics, MAP4xx style and security), as data.

Each is a :class:`~mapper.diagnostics.Code`: a stable code, a short kebab-case name, a severity and
a one-line summary. Checks build diagnostics from it (``UNKNOWN_DIALECT.at(file, span, message)``),
and the linter's registry (``mapper.lint.codes``) lists it for ``--explain`` and SARIF rules.
"""

from __future__ import annotations

from mapper.diagnostics import Code, Severity


def _e(code: str, name: str, summary: str) -> Code:
    return Code(code, name, Severity.ERROR, summary)


def _w(code: str, name: str, summary: str) -> Code:
    return Code(code, name, Severity.WARNING, summary)


# sources
UNKNOWN_DIALECT = _e("MAP101", "unknown-dialect", "a source names a dialect the compiler does not know")
MISSING_DIALECT = _e("MAP102", "missing-dialect", "a source has no dialect")
MISSING_URL = _e("MAP103", "missing-url", "a source has no url")
DUPLICATE_SOURCE = _e("MAP104", "duplicate-source", "two sources have the same name")
UNKNOWN_SOURCE = _e("MAP105", "unknown-source", "an object reads from a source that is not declared")
# objects and schemas
DUPLICATE_OBJECT = _e("MAP106", "duplicate-object", "two objects have the same name or endpoint")
DUPLICATE_SCHEMA = _e("MAP107", "duplicate-schema", "two schemas have the same alias or URN")
INVALID_SCHEMA_URN = _e("MAP108", "invalid-schema-urn", "a custom schema's URN does not start with 'urn:'")
DUPLICATE_SCHEMA_ATTRIBUTE = _e(
    "MAP109", "duplicate-schema-attribute", "a custom schema declares an attribute twice"
)
MISSING_ANCHOR = _e("MAP110", "missing-anchor", "an object has no anchor")
MISSING_QUERY = _e("MAP111", "missing-query", "an object has no query attribute")
MISSING_IMPORT = _e("MAP112", "missing-import", "an object or multi-valued block has no import query")
MISSING_OBJECT_SCHEMA = _e(
    "MAP113", "missing-object-schema", "a custom object type does not name its core schema"
)
UNKNOWN_SCHEMA = _e("MAP114", "unknown-schema", "an object names a schema alias that is not declared")
INVALID_ENDPOINT = _e("MAP115", "invalid-endpoint", "an endpoint does not start with '/'")
STANDARD_OBJECT_SCHEMA = _e(
    "MAP116", "standard-object-schema", "User or Group names a core schema; theirs are fixed by RFC 7643"
)
INVALID_CONNECTOR_NAME = _e(
    "MAP117", "invalid-connector-name", "a connector name cannot be a URL path segment or an ECMA host path"
)
DUPLICATE_CONNECTOR = _e(
    "MAP118", "duplicate-connector", "two mapping files served together have the same connector name"
)
# anchor and query attribute
ANCHOR_MULTI_VALUED = _e("MAP120", "anchor-multi-valued", "the anchor comes from a multi-valued attribute")
ANCHOR_BOOLEAN = _e("MAP121", "anchor-boolean", "the anchor comes from a boolean attribute")
ANCHOR_UNMAPPED = _e("MAP122", "anchor-unmapped", "'anchor ... from PATH' names a path that is not mapped")
QUERY_UNMAPPED = _e("MAP125", "query-unmapped", "the query attribute is not in the attribute map")
QUERY_MULTI_VALUED = _e("MAP126", "query-multi-valued", "the query attribute is multi-valued")
# DN
DN_NOT_LDAP = _e("MAP130", "dn-not-ldap", "the DN template is not an LDAP-style DN (RFC 4514)")
DN_WITHOUT_ANCHOR = _e("MAP131", "dn-without-anchor", "the DN template does not contain {anchor}")
DN_UNKNOWN_PLACEHOLDER = _e(
    "MAP132", "dn-unknown-placeholder", "a DN placeholder is neither {anchor} nor a mapped column"
)
DN_UNBALANCED_BRACE = _e("MAP133", "dn-unbalanced-brace", "a DN template has an unbalanced '{' or '}'")
INVALID_ID_SOURCE = _e(
    "MAP134",
    "invalid-id-source",
    "'id' is not 'dn' or 'anchor', or 'id dn' has no DN that leads back to the anchor",
)
# SCIM paths
UNKNOWN_PATH = _e("MAP140", "unknown-path", "a SCIM path names an attribute its schema does not have")
UNKNOWN_PREFIX = _e("MAP141", "unknown-prefix", "a SCIM path starts with an unknown schema prefix")
INVALID_VALUE_FILTER = _e(
    "MAP142", "invalid-value-filter", "a value filter is not 'attr eq \"literal\"' joined by 'and'"
)
ID_MAPPED = _e("MAP143", "id-mapped", "'id' is mapped; the anchor is the id")
COMPLEX_WITHOUT_SUB = _e(
    "MAP144", "complex-without-sub-attribute", "a complex attribute is mapped without a sub-attribute"
)
READ_ONLY_WRITTEN = _e("MAP145", "read-only-written", "a read-only attribute is mapped for export")
# attribute map
DUPLICATE_PATH = _e("MAP150", "duplicate-path", "two mappings target the same SCIM path")
UNKNOWN_TYPE = _e("MAP151", "unknown-type", "a type word is not a SCIM type")
TYPE_MISMATCH = _e("MAP152", "type-mismatch", "a declared type contradicts the SCIM schema")
REQUIRED_UNMAPPED = _e("MAP153", "required-unmapped", "a required SCIM attribute is not mapped")
UNKNOWN_REFERENCE = _e(
    "MAP154", "unknown-reference", "'reference T' names an object type that is not declared"
)
MULTI_NOT_MULTI_VALUED = _e(
    "MAP160", "multi-not-multi-valued", "a 'multi' block names a single-valued attribute"
)
SIMPLE_MULTI_SERVED_COMPLEX = _w(
    "MAP161",
    "simple-multi-served-complex",
    "a 'multi' block keeps a simple attribute; it is served as complex with a 'value' sub-attribute",
)
# writes
DEPROVISION_WITHOUT_TABLE = _e(
    "MAP170", "deprovision-without-table", "'disable set' or 'delete row' needs 'write table'"
)
# style and security warnings
# value transforms and soft delete
TRANSFORM_TYPE = _e(
    "MAP180", "transform-type", "a value transform does not fit the attribute's type (or its reference)"
)
MAP_WITHOUT_ELSE = _e(
    "MAP181", "map-without-else", "a value map does not say what other stored values read as"
)
MAP_AMBIGUOUS = _e(
    "MAP182", "map-ambiguous", "a value map repeats a value, or maps null, so it cannot go both ways"
)
MAP_INCOMPLETE = _w("MAP183", "map-incomplete", "a boolean attribute's value map lacks true or false")
SET_VALUE_MISMATCH = _e(
    "MAP184", "set-value-mismatch", "a 'set' rule writes a value its column's attribute map cannot hold"
)
DELETE_LIKE_DISABLE = _e(
    "MAP185",
    "delete-like-disable",
    "'delete set' writes what 'disable set' writes, so disabled rows read as deleted",
)
RECREATE_WITHOUT_TOMBSTONE = _w(
    "MAP186", "recreate-without-tombstone", "'recreate' on an object that has no soft delete"
)
# stamps
STAMP_WITHOUT_WRITE_TABLE = _e(
    "MAP187",
    "stamp-without-write-table",
    "'stamp' on an object whose writes are not derived from 'write table'",
)
STAMP_COLUMN_WRITTEN = _e(
    "MAP188",
    "stamp-column-written",
    "the stamped column is also written otherwise: an attribute, the anchor, a 'set' rule",
)
STAMP_NOT_TIME = _e(
    "MAP189", "stamp-not-time", "'stamp' writes a literal, or a column mapped as something other than a time"
)
# create set
CREATE_WITHOUT_WRITE_TABLE = _e(
    "MAP190",
    "create-without-write-table",
    "'create set' on an object whose inserts are not derived from 'write table'",
)
CREATE_COLUMN_WRITTEN = _e(
    "MAP191",
    "create-column-written",
    "a 'create set' column is also written otherwise (an attribute, the anchor, the stamp, twice), "
    "or gets what marks a deleted row",
)
# null ""
NULL_VALUE = _e(
    "MAP192",
    "null-value",
    "'null' names a stored value other than \"\", or is given to an attribute that is never absent, "
    "is no string, or has a value transform",
)
INLINE_PASSWORD = _w("MAP401", "inline-password", "a database URL in the file contains a password")
WRITABLE_WITHOUT_WRITE = _w(
    "MAP402", "writable-without-write", "attributes are mapped for export but the object has no 'write'"
)
PASSWORD_IMPORTED = _w(
    "MAP403", "password-imported", "the write-only 'password' attribute is mapped for import"
)
DIALECT_URL_MISMATCH = _w(
    "MAP404", "dialect-url-mismatch", "a URL's scheme does not match the source dialect"
)
UNUSED_SOURCE = _w("MAP405", "unused-source", "a source is declared but no object reads from it")
UNUSED_SCHEMA = _w("MAP406", "unused-schema", "a custom schema is declared but never used")

CODES: tuple[Code, ...] = (
    UNKNOWN_DIALECT,
    MISSING_DIALECT,
    MISSING_URL,
    DUPLICATE_SOURCE,
    UNKNOWN_SOURCE,
    DUPLICATE_OBJECT,
    DUPLICATE_SCHEMA,
    INVALID_SCHEMA_URN,
    DUPLICATE_SCHEMA_ATTRIBUTE,
    MISSING_ANCHOR,
    MISSING_QUERY,
    MISSING_IMPORT,
    MISSING_OBJECT_SCHEMA,
    UNKNOWN_SCHEMA,
    INVALID_ENDPOINT,
    STANDARD_OBJECT_SCHEMA,
    INVALID_CONNECTOR_NAME,
    DUPLICATE_CONNECTOR,
    ANCHOR_MULTI_VALUED,
    ANCHOR_BOOLEAN,
    ANCHOR_UNMAPPED,
    QUERY_UNMAPPED,
    QUERY_MULTI_VALUED,
    DN_NOT_LDAP,
    DN_WITHOUT_ANCHOR,
    DN_UNKNOWN_PLACEHOLDER,
    DN_UNBALANCED_BRACE,
    INVALID_ID_SOURCE,
    UNKNOWN_PATH,
    UNKNOWN_PREFIX,
    INVALID_VALUE_FILTER,
    ID_MAPPED,
    COMPLEX_WITHOUT_SUB,
    READ_ONLY_WRITTEN,
    DUPLICATE_PATH,
    UNKNOWN_TYPE,
    TYPE_MISMATCH,
    REQUIRED_UNMAPPED,
    UNKNOWN_REFERENCE,
    MULTI_NOT_MULTI_VALUED,
    SIMPLE_MULTI_SERVED_COMPLEX,
    DEPROVISION_WITHOUT_TABLE,
    TRANSFORM_TYPE,
    MAP_WITHOUT_ELSE,
    MAP_AMBIGUOUS,
    MAP_INCOMPLETE,
    SET_VALUE_MISMATCH,
    DELETE_LIKE_DISABLE,
    RECREATE_WITHOUT_TOMBSTONE,
    STAMP_WITHOUT_WRITE_TABLE,
    STAMP_COLUMN_WRITTEN,
    STAMP_NOT_TIME,
    CREATE_WITHOUT_WRITE_TABLE,
    CREATE_COLUMN_WRITTEN,
    NULL_VALUE,
    INLINE_PASSWORD,
    WRITABLE_WITHOUT_WRITE,
    PASSWORD_IMPORTED,
    DIALECT_URL_MISMATCH,
    UNUSED_SOURCE,
    UNUSED_SCHEMA,
)
