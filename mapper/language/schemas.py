"""A mapping's ``schema ALIAS "urn" { ... }`` declarations as schema definitions, shaped like the
standard ones in :mod:`mapper.scimschema`: the checks and the compiler resolve paths against both."""

from __future__ import annotations

from mapper.language.model import SchemaDecl
from mapper.scimschema import AttributeDef, SchemaDef


def custom_schema(decl: SchemaDecl) -> SchemaDef:
    """A custom schema declaration as a schema definition."""
    attributes = tuple(
        AttributeDef(
            name=a.name.value,
            type=a.type.value,  # an unknown type word is reported once, where it is written
            multi_valued=a.multi_valued,
            required=a.required,
            case_exact=a.case_exact,
        )
        for a in decl.attributes
    )
    return SchemaDef(urn=decl.urn.value, name=decl.alias.value, description="", attributes=attributes)
