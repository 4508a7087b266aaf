"""Attribute resolution: what the SCIM front end knows about an attribute path.

Given an object type's plan and the RFC 7643 schemas of :mod:`mapper.scimschema`, a
:class:`Resolver` answers, for ``(schema urn or None, attribute, sub-attribute or None)``, the
canonical names, type, caseExact, multi-valuedness, mutability and returnability. Names are
matched case-insensitively (clients send ``name.FamilyName``). An unqualified name is looked up
in the common attributes (``id``, ``externalId``, ``meta``), then the core schema, then each
extension, so Entra ID's bare ``manager`` finds the enterprise extension's ``manager``.

Unknown attributes are not an error here: :meth:`Resolver.resolve` answers a single-valued,
case-insensitive, readWrite string with ``known=False`` and the name as given (not remembered: a
client could send any number of names), and callers decide
(filters simply find no value; PATCH writes them into the dict and the store ignores what the
mapping does not map). Where a resolved attribute lives in a resource dict: core and common
attributes at the top level, extension attributes under their schema URN (:func:`container_key`).

Request bodies, PATCH paths, filters, sortBy and attributes= take these canonical names once, at
the edge (:mod:`mapper.scim.names`); past it, keys are exact. This resolver is the one place
names are matched case-insensitively, and what it remembers the schemas bound.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from mapper import scimschema
from mapper.plan import PlanAttribute, PlanMulti, PlanObject, PlanSchema
from mapper.scimschema import AttributeDef, SchemaDef


@dataclass(frozen=True)
class Attribute:
    """What is known about one attribute or sub-attribute.

    ``urn`` is the schema the attribute belongs to (``""`` for the common attributes ``id``,
    ``externalId``, ``meta``, ``schemas``); ``name``/``sub`` are canonical. The type, caseExact,
    multi-valuedness, mutability and returnability describe the addressed level: for
    ``emails.value`` the sub-attribute ``value`` (single-valued string), for ``emails`` the
    multi-valued complex attribute. ``sub_attributes`` lists the canonical sub-attribute names of
    a complex attribute. ``mapped`` says whether the object's plan binds it to a column.
    ``container`` is the top-level key of a resource that holds it: its schema URN for an
    extension attribute, None for core and common ones (:func:`container_key`); ``complex``
    says whether its type is complex. Both are plain fields, read in every PATCH operation.
    """

    urn: str
    name: str
    sub: str | None = None
    type: str = "string"
    multi_valued: bool = False
    case_exact: bool = False
    mutability: str = "readWrite"
    returned: str = "default"
    required: bool = False
    known: bool = True
    mapped: bool = False
    sub_attributes: tuple[str, ...] = ()
    container: str | None = None
    complex: bool = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "complex", self.type == "complex")

    @property
    def path(self) -> str:
        """``name`` or ``name.sub`` without the schema URN."""
        return f"{self.name}.{self.sub}" if self.sub else self.name


class AttributeResolver(Protocol):
    """The protocol filters, PATCH and projection need; :class:`Resolver` implements it."""

    core_urn: str

    def resolve(self, urn: str | None, attribute: str, sub: str | None = None) -> Attribute: ...

    def schema_urn(self, text: str) -> str | None: ...

    #: PATCH paths made canonical for this type, by their text (:mod:`mapper.scim.names` fills it,
    #: at most :data:`MAX_PATHS`): remembered with the type, so they go when it goes
    paths: dict[str, Any]
    #: what each key of a POST/PUT body becomes, by spelling and level (:func:`mapper.scim.names.
    #: resource` fills it, known attributes only, at most :data:`MAX_RESOLVED`)
    names: dict[tuple[Any, ...], Any]

    def __hash__(self) -> int: ...  # the parsed filters and selections are remembered per resolver


def container_key(resolver: AttributeResolver, attribute: Attribute) -> str | None:
    """The top-level key holding ``attribute``'s extension object, or None for core/common ones."""
    return attribute.container


#: The most resolutions a resolver remembers. Only known attributes are remembered, which the
#: schemas bound already (a few hundred spellings: with and without URN); this is the backstop.
MAX_RESOLVED = 4096
#: The most PATCH paths a resolver remembers made canonical (``Resolver.paths``); provisioning
#: sends a few dozen.
MAX_PATHS = 1024

_SCHEMAS_ATTRIBUTE = AttributeDef(
    name="schemas",
    type="reference",
    multi_valued=True,
    mutability="readOnly",
    returned="always",
    case_exact=True,
)


class Resolver:
    """Resolves attribute paths for one object type.

    Build it with :meth:`for_object` from a :class:`~mapper.plan.PlanObject` (plus the plan's
    custom schemas), or with :meth:`for_type` for a standard type without a plan (tests, tools).
    """

    def __init__(
        self,
        core_urn: str,
        extension_urns: Iterable[str] = (),
        attributes: Iterable[PlanAttribute] = (),
        custom_schemas: Iterable[PlanSchema] = (),
        multis: Iterable[PlanMulti] = (),
    ) -> None:
        self.core_urn = core_urn
        self._plan_attributes = tuple(attributes)
        multis = tuple(multis)
        custom = {s.urn: _schema_from_plan(s, multis) for s in custom_schemas}
        known = {**scimschema.STANDARD_SCHEMAS, **custom}
        extensions = list(dict.fromkeys(extension_urns))
        # the standard extensions of a standard type are always addressable
        for name, urn in scimschema.CORE_SCHEMA_OF.items():
            if urn == core_urn:
                extensions += [u for u in scimschema.EXTENSIONS_OF[name] if u not in extensions]
        urns = [core_urn, *extensions]
        # search order for unqualified names: common attributes, core schema, extensions
        self._order: list[SchemaDef] = [scimschema.COMMON]
        for urn in urns:
            self._order.append(known.get(urn) or SchemaDef(urn=urn, name=urn, description="", attributes=()))
        self._by_urn = {s.urn.casefold(): s for s in self._order}
        #: known attributes resolved, each under its case-folded key and under its canonical
        #: spelling (what most clients send, found as sent); at most MAX_RESOLVED keys
        self._resolved: dict[tuple[str | None, str, str | None], Attribute] = {}
        self.paths: dict[str, Any] = {}
        self.names: dict[tuple[Any, ...], Any] = {}

    @classmethod
    def for_object(cls, obj: PlanObject, schemas: Iterable[PlanSchema] = ()) -> Resolver:
        return cls(obj.schema_urn, obj.extension_urns, obj.attributes, schemas, obj.multi)

    @classmethod
    def for_type(cls, name: str) -> Resolver:
        """A resolver for a standard type (``"User"``, ``"Group"``) from the RFC schemas alone."""
        return cls(scimschema.CORE_SCHEMA_OF[name])

    @property
    def extension_urns(self) -> tuple[str, ...]:
        return tuple(s.urn for s in self._order[2:])

    def schema_urn(self, text: str) -> str | None:
        """The canonical spelling of a schema URN this type uses, or None."""
        schema = self._by_urn.get(text.casefold())
        return schema.urn if schema and schema.urn else None

    def resolve(self, urn: str | None, attribute: str, sub: str | None = None) -> Attribute:
        """What is known of ``[urn:]attribute[.sub]``. Known attributes are remembered (their
        number is fixed by the schemas and the mapping); unknown ones are resolved afresh each
        time and never kept, since their names are the client's to choose."""
        resolved = self._resolved
        found = resolved.get((urn, attribute, sub))
        if found is not None:
            return found
        key = (urn.casefold() if urn else None, attribute.casefold(), sub.casefold() if sub else None)
        found = resolved.get(key)
        if found is None:
            found = self._resolve(urn, attribute, sub)
            if found.known and len(resolved) < MAX_RESOLVED:
                resolved[key] = found
        if (
            found.known
            and attribute == found.name
            and sub == found.sub
            and urn in (None, found.urn)
            and len(resolved) < MAX_RESOLVED
        ):
            resolved[urn, attribute, sub] = found  # one spelling per path: the schemas bound it
        return found

    @property
    def cached(self) -> int:
        """How many spellings are remembered (at most :data:`MAX_RESOLVED`): each known
        attribute's case-folded one, and its canonical one where that differs."""
        return len(self._resolved)

    def _resolve(self, urn: str | None, attribute: str, sub: str | None) -> Attribute:
        schema, definition = self._find(urn, attribute)
        schema_urn = schema.urn if schema else (urn or self.core_urn)
        if definition is None:
            definition = self._from_plan(schema_urn, attribute)
        if definition is None:
            return Attribute(schema_urn, attribute, sub, known=False, container=self._container(schema_urn))
        if sub is None:
            return self._attribute(schema_urn, definition, None, definition)
        sub_def = definition.sub(sub)
        if sub_def is None:
            return Attribute(
                schema_urn, definition.name, sub, known=False, container=self._container(schema_urn)
            )
        return self._attribute(schema_urn, definition, sub_def.name, sub_def)

    def _find(self, urn: str | None, attribute: str) -> tuple[SchemaDef | None, AttributeDef | None]:
        if urn:
            schema = self._by_urn.get(urn.casefold())
            if schema is None:
                return None, None
            found = schema.attribute(attribute) or scimschema.COMMON.attribute(attribute)
            return schema, found
        if attribute.casefold() == "schemas":
            return scimschema.COMMON, _SCHEMAS_ATTRIBUTE
        for schema in self._order:
            found = schema.attribute(attribute)
            if found is not None:
                return schema, found
        # a mapped attribute the schemas do not define (custom object types)
        for planned in self._plan_attributes:
            if planned.attribute.casefold() == attribute.casefold():
                return self._by_urn.get(planned.schema_urn.casefold()), None
        return None, None

    def _from_plan(self, urn: str, attribute: str) -> AttributeDef | None:
        """An attribute defined only by the plan's attribute bindings."""
        planned = [
            p
            for p in self._plan_attributes
            if p.attribute.casefold() == attribute.casefold() and p.schema_urn.casefold() == urn.casefold()
        ]
        if not planned:
            return None
        subs = tuple(
            AttributeDef(name=p.sub_attribute, type=p.type, case_exact=p.case_exact, mutability=p.mutability)
            for p in planned
            if p.sub_attribute
        )
        first = planned[0]
        if subs:
            return AttributeDef(
                name=first.attribute, type="complex", multi_valued=first.multi_valued, sub_attributes=subs
            )
        return AttributeDef(
            name=first.attribute,
            type=first.type,
            multi_valued=first.multi_valued,
            case_exact=first.case_exact,
            mutability=first.mutability,
            required=first.required,
        )

    def _attribute(
        self, urn: str, parent: AttributeDef, sub: str | None, definition: AttributeDef
    ) -> Attribute:
        planned = self._planned(urn, parent.name, sub)
        mutability = definition.mutability
        if parent.mutability == "readOnly":
            mutability = "readOnly"
        case_exact = definition.case_exact
        if planned is not None:
            case_exact = planned.case_exact or case_exact
            if planned.mutability != "readWrite":
                mutability = planned.mutability
        return Attribute(
            urn=urn,
            name=parent.name,
            sub=sub,
            type=definition.type,
            multi_valued=definition.multi_valued,
            case_exact=case_exact,
            mutability=mutability,
            returned=definition.returned,
            required=definition.required,
            mapped=planned is not None,
            sub_attributes=tuple(s.name for s in definition.sub_attributes),
            container=self._container(urn),
        )

    def _container(self, urn: str) -> str | None:
        return None if not urn or urn.casefold() == self.core_urn.casefold() else urn

    def _planned(self, urn: str, attribute: str, sub: str | None) -> PlanAttribute | None:
        for p in self._plan_attributes:
            if (
                p.attribute.casefold() == attribute.casefold()
                and (p.sub_attribute or "").casefold() == (sub or "").casefold()
                and (not urn or p.schema_urn.casefold() == urn.casefold())
            ):
                return p
        return None


def _schema_from_plan(schema: PlanSchema, multis: tuple[PlanMulti, ...] = ()) -> SchemaDef:
    kept = {m.attribute.casefold(): m for m in multis if m.schema_urn.casefold() == schema.urn.casefold()}
    attributes = []
    for a in schema.attributes:
        definition = AttributeDef(
            name=a.name,
            type=a.type,
            multi_valued=a.multi_valued,
            required=a.required,
            case_exact=a.case_exact,
        )
        multi = kept.get(a.name.casefold())
        if multi is not None and a.type != "complex":
            definition = served_as_complex(definition, multi)
        attributes.append(definition)
    return SchemaDef(urn=schema.urn, name=schema.alias, description="", attributes=tuple(attributes))


def served_as_complex(definition: AttributeDef, multi: PlanMulti) -> AttributeDef:
    """A simple attribute kept in a child table by a ``multi`` block (``tags string multi``) as it
    is served: multi-valued complex, each item ``{"value": ...}`` with the sub-attributes the child
    table keeps, as rendered and as /Schemas describes it (lint says so: MAP161). ``value`` keeps
    the declared caseExact."""
    mutability = "readWrite" if multi.add is not None or multi.remove is not None else "readOnly"
    subs = [
        AttributeDef(name="value", type="string", case_exact=definition.case_exact, mutability=mutability)
    ]
    subs += [
        AttributeDef(name=n, type="boolean" if n == "primary" else "string", mutability=mutability)
        for n in multi.sub_attributes
    ]
    return replace(
        definition,
        type="complex",
        multi_valued=True,
        case_exact=False,
        mutability=mutability,
        sub_attributes=tuple(subs),
    )
