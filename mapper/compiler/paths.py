"""Resolving the SCIM paths of an attribute map against the standard schemas
(``mapper.scimschema``) and the mapping's custom schemas.

Accepted forms:
- ``userName``, ``name.givenName``: the object's core schema (or a common attribute:
  ``externalId``, ``meta.created``, ``meta.lastModified``).
- ``enterprise.department``: a short prefix (``mapper.scimschema.PREFIXES``); ``ALIAS.costCenter``:
  a custom schema declared with ``schema ALIAS "urn..."``.
- ``urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department``: a full URN, split at
  the last colon (URNs contain dots, as in "2.0").
- ``emails[type eq "work"].value``: a value filter (``eq`` joined by ``and``) fixing sub-attributes
  of the item.
- A complex attribute without a sub-attribute maps to its ``value`` (``enterprise.manager`` is
  ``manager.value``).

``id`` cannot be mapped: the anchor is the id. Common attributes belong to no schema URN; they
are given the object's core schema URN, as they sit at the top level of a resource.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from mapper.language.model import SchemaDecl
from mapper.language.schemas import custom_schema
from mapper.scimschema import COMMON, CORE_SCHEMA_OF, PREFIXES, STANDARD_SCHEMAS, AttributeDef, SchemaDef

_FILTER = re.compile(r'^\s*(\w+)\s+eq\s+"([^"]*)"\s*$', re.IGNORECASE)
_PATH = re.compile(r"^(?P<attr>[\w$]+)(?:\[(?P<filter>[^\]]*)\])?(?:\.(?P<sub>[\w$]+))?$")
_WRITABLE_COMMON = {"externalId"}


@dataclass(frozen=True)
class ResolvedPath:
    path: str  # canonical, without URN: ``emails[type eq "work"].value``
    schema_urn: str
    attribute: str
    sub_attribute: str | None
    filter: tuple[tuple[str, str], ...]
    type: str  # the SCIM type of the mapped value (never "complex")
    multi_valued: bool
    case_exact: bool
    mutability: str
    required: bool


class PathError(ValueError):
    """Raised by :func:`resolve` with a message saying why the path cannot be mapped."""


@dataclass(frozen=True)
class Resolver:
    """Resolves paths for one object type: ``core`` is its core schema; ``schemas`` every schema
    it may use, by URN; ``aliases`` the custom aliases and standard prefixes, to URNs."""

    core: SchemaDef
    schemas: dict[str, SchemaDef]
    aliases: dict[str, str]

    def resolve(self, text: str) -> ResolvedPath:
        schema, rest = self._split(text.strip())
        match = _PATH.match(rest)
        if not match:
            raise PathError(f"'{text}' is not a SCIM attribute path")
        attribute, filter_text, sub = match.group("attr"), match.group("filter"), match.group("sub")
        if schema is None:
            schema = self.core
            if attribute.lower() == "id":
                raise PathError("'id' cannot be mapped: the anchor is the id")
            if self.core.attribute(attribute) is None and COMMON.attribute(attribute) is not None:
                schema = COMMON
        found = schema.attribute(attribute)
        if found is None:
            raise PathError(f"'{attribute}' is not an attribute of {schema.urn or 'the common attributes'}")
        return self._place(
            schema, found, _filters(filter_text, found) if filter_text is not None else (), sub
        )

    def _split(self, text: str) -> tuple[SchemaDef | None, str]:
        if ":" in text:
            urn, _, rest = text.rpartition(":")
            schema = self.schemas.get(urn) or self.schemas.get(_case_insensitive(self.schemas, urn) or "")
            if schema is None:
                raise PathError(f"unknown schema URN '{urn}'")
            return schema, rest
        head, dot, rest = text.partition(".")
        alias = self.aliases.get(head)
        if dot and alias is not None:
            return self.schemas[alias], rest
        return None, text

    def _place(
        self, schema: SchemaDef, found: AttributeDef, filters: tuple[tuple[str, str], ...], sub: str | None
    ) -> ResolvedPath:
        sub_def = None
        if sub is not None:
            sub_def = found.sub(sub)
            if sub_def is None:
                raise PathError(f"'{found.name}' has no sub-attribute '{sub}'")
        elif found.type == "complex":
            sub_def = found.sub("value")
            if sub_def is None:
                raise PathError(f"'{found.name}' is complex: name one of its sub-attributes")
        value = sub_def or found
        urn = self.core.urn if schema is COMMON else schema.urn
        path = found.name
        if filters:
            path += "[" + " and ".join(f'{k} eq "{v}"' for k, v in filters) + "]"
        if sub_def is not None:
            path += "." + sub_def.name
        mutability = value.mutability if found.mutability == "readWrite" else found.mutability
        if schema is COMMON and found.name not in _WRITABLE_COMMON:
            mutability = "readOnly"
        return ResolvedPath(
            path=path,
            schema_urn=urn,
            attribute=found.name,
            sub_attribute=sub_def.name if sub_def is not None else None,
            filter=filters,
            type=value.type,
            multi_valued=found.multi_valued,
            case_exact=value.case_exact,
            mutability=mutability,
            required=found.required or value.required,
        )


def _filters(text: str, found: AttributeDef) -> tuple[tuple[str, str], ...]:
    if not found.multi_valued:
        raise PathError(f"'{found.name}' is not multi-valued: a value filter does not apply")
    pairs = []
    for part in re.split(r"\s+and\s+", text.strip(), flags=re.IGNORECASE):
        match = _FILTER.match(part)
        if not match:
            raise PathError(f"value filter '{text}': only 'sub eq \"value\"' joined by 'and' is allowed")
        sub = found.sub(match.group(1))
        if sub is None:
            raise PathError(f"'{found.name}' has no sub-attribute '{match.group(1)}'")
        pairs.append((sub.name, match.group(2)))
    return tuple(pairs)


def _case_insensitive(schemas: dict[str, SchemaDef], urn: str) -> str | None:
    lowered = urn.lower()
    return next((u for u in schemas if u.lower() == lowered), None)


@dataclass(frozen=True)
class SchemaTable:
    """Every schema a mapping's paths may name, built once per mapping (not once per object: a
    file may declare a schema per object type): the standard schemas and the custom ones by URN,
    the standard prefixes and custom aliases to URNs, and each custom schema by its alias (the
    first declared of two with one alias), as an object's core schema. Read-only."""

    schemas: dict[str, SchemaDef]
    aliases: dict[str, str]
    by_alias: dict[str, SchemaDef]

    @classmethod
    def of(cls, customs: Iterable[SchemaDecl]) -> SchemaTable:
        schemas = dict(STANDARD_SCHEMAS)
        aliases = dict(PREFIXES)
        by_alias: dict[str, SchemaDef] = {}
        for decl in customs:
            schema = custom_schema(decl)
            schemas[decl.urn.value] = schema
            aliases[decl.alias.value] = decl.urn.value
            by_alias.setdefault(decl.alias.value, schema)
        return cls(schemas=schemas, aliases=aliases, by_alias=by_alias)


def make_resolver(object_name: str, core: SchemaDef | None, table: SchemaTable) -> Resolver:
    """The resolver for ``object_name``: ``core`` overrides its core schema (a custom object type
    naming a custom schema); standard types use theirs. Resolvers share ``table``'s dicts."""
    if core is None:
        urn = CORE_SCHEMA_OF.get(object_name)
        bare = SchemaDef(urn="", name=object_name, description="", attributes=())
        core = table.schemas[urn] if urn else bare
    return Resolver(core=core, schemas=table.schemas, aliases=table.aliases)
