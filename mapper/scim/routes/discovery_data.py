"""The discovery documents of RFC 7643 §5-7 built from a plan: ServiceProviderConfig, one
ResourceType per object type, and one Schema per schema URN, publishing exactly the attributes the
mapping maps, with their real type, mutability, uniqueness and returnability.

Pure data: no HTTP here. ``base_url`` is the absolute SCIM root (``https://host/scim/v2``) used in
``meta.location``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mapper import links, scimschema
from mapper.plan import Plan, PlanAttribute, PlanMulti, PlanObject, PlanSchema
from mapper.scimschema import AttributeDef

SCHEMA_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"
RESOURCE_TYPE_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SPC_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
DOCUMENTATION_URI = links.doc("gateway.md")

#: Attributes every resource has; RFC 7643 §3.1 keeps them out of the schema definitions.
_COMMON_NAMES = frozenset(a.name.casefold() for a in scimschema.COMMON.attributes) | {"schemas"}


def service_provider_config(base_url: str, max_results: int) -> dict[str, Any]:
    """What this gateway supports (RFC 7643 §5)."""
    return {
        "schemas": [SPC_SCHEMA],
        "documentationUri": DOCUMENTATION_URI,
        "patch": {"supported": True},
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": max_results},
        "changePassword": {"supported": False},
        "sort": {"supported": True},
        "etag": {"supported": True},
        "authenticationSchemes": [
            {
                "type": "oauthbearertoken",
                "name": "OAuth Bearer Token",
                "description": "Authentication with a bearer token (RFC 6750) configured on the gateway",
                "specUri": "https://www.rfc-editor.org/rfc/rfc6750",
                "documentationUri": DOCUMENTATION_URI,
                "primary": True,
            }
        ],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": f"{base_url}/ServiceProviderConfig",
        },
    }


def resource_type(obj: PlanObject, base_url: str) -> dict[str, Any]:
    """The ResourceType of one object type (RFC 7643 §6)."""
    standard = scimschema.STANDARD_SCHEMAS.get(obj.schema_urn)
    return {
        "schemas": [RESOURCE_TYPE_SCHEMA],
        "id": obj.name,
        "name": obj.name,
        "endpoint": obj.endpoint,
        "description": standard.description if standard else obj.name,
        "schema": obj.schema_urn,
        "schemaExtensions": [{"schema": urn, "required": False} for urn in obj.extension_urns],
        "meta": {"resourceType": "ResourceType", "location": f"{base_url}/ResourceTypes/{obj.name}"},
    }


def resource_types(plan: Plan, base_url: str) -> list[dict[str, Any]]:
    return [resource_type(obj, base_url) for obj in plan.objects]


def schemas(plan: Plan, base_url: str) -> list[dict[str, Any]]:
    """One Schema per schema URN the plan's object types use, in plan order."""
    urns: dict[str, list[PlanObject]] = {}
    for obj in plan.objects:
        for urn in (obj.schema_urn, *obj.extension_urns):
            urns.setdefault(urn, []).append(obj)
    custom = {s.urn: s for s in plan.schemas}
    return [_schema(urn, objs, custom.get(urn), base_url) for urn, objs in urns.items()]


def _schema(urn: str, objs: list[PlanObject], custom: PlanSchema | None, base_url: str) -> dict[str, Any]:
    standard = scimschema.STANDARD_SCHEMAS.get(urn)
    name = standard.name if standard else (custom.alias if custom else urn.rsplit(":", 1)[-1])
    attributes: dict[str, dict[str, Any]] = {}
    for obj in objs:
        for attr_name, bound in _group(a for a in obj.attributes if a.schema_urn == urn).items():
            attributes.setdefault(attr_name.casefold(), _attribute(obj, urn, bound, custom))
        for multi in obj.multi:
            if multi.schema_urn == urn:
                attributes.setdefault(multi.attribute.casefold(), _multi_attribute(urn, multi, custom))
    return {
        "schemas": [SCHEMA_SCHEMA],
        "id": urn,
        "name": name,
        "description": standard.description if standard else name,
        "attributes": list(attributes.values()),
        "meta": {"resourceType": "Schema", "location": f"{base_url}/Schemas/{urn}"},
    }


def _group(bound: Iterable[PlanAttribute]) -> dict[str, list[PlanAttribute]]:
    """Mapped attributes by top-level attribute name, common attributes left out."""
    groups: dict[str, list[PlanAttribute]] = {}
    for attr in bound:
        if attr.attribute.casefold() not in _COMMON_NAMES:
            groups.setdefault(attr.attribute, []).append(attr)
    return groups


def _definition(urn: str, name: str, custom: PlanSchema | None) -> AttributeDef | None:
    standard = scimschema.STANDARD_SCHEMAS.get(urn)
    if standard is not None:
        return standard.attribute(name)
    if custom is not None:
        for a in custom.attributes:
            if a.name.casefold() == name.casefold():
                return AttributeDef(name=a.name, type=a.type, multi_valued=a.multi_valued)
    return None


def _mutability(obj: PlanObject, attr: PlanAttribute) -> str:
    if (
        obj.anchor_generation == "attribute"
        and obj.anchor_attribute
        and obj.anchor_attribute.casefold() == attr.path.casefold()
    ):
        return "immutable"
    if attr.mutability != "readWrite":
        return attr.mutability
    return {"import": "readOnly", "export": "writeOnly"}.get(attr.direction, "readWrite")


def _leaf(
    obj: PlanObject, attr: PlanAttribute, name: str, definition: AttributeDef | None, multi_valued: bool
) -> dict[str, Any]:
    mutability = _mutability(obj, attr)
    unique = attr.unique or attr.path.casefold() == obj.query_attribute.casefold()
    body: dict[str, Any] = {
        "name": name,
        "type": attr.type,
        "multiValued": multi_valued,
        "description": definition.description if definition else "",
        "required": attr.required,
        "caseExact": attr.case_exact,
        "mutability": mutability,
        "returned": "never" if attr.sensitive or mutability == "writeOnly" else "default",
        "uniqueness": "server" if unique else "none",
    }
    if attr.type == "reference" or attr.reference:
        body["referenceTypes"] = [attr.reference] if attr.reference else ["external"]
    if definition is not None and definition.canonical_values:
        body["canonicalValues"] = list(definition.canonical_values)
    return body


def _attribute(
    obj: PlanObject, urn: str, bound: list[PlanAttribute], custom: PlanSchema | None
) -> dict[str, Any]:
    first = bound[0]
    definition = _definition(urn, first.attribute, custom)
    name = definition.name if definition else first.attribute
    multi_valued = first.multi_valued or bool(definition and definition.multi_valued)
    is_complex = any(a.sub_attribute for a in bound) or bool(definition and definition.type == "complex")
    if not is_complex:
        return _leaf(obj, first, name, definition, multi_valued)
    subs: dict[str, dict[str, Any]] = {}
    fixed: dict[str, list[str]] = {}  # sub-attributes fixed by value filters: type eq "work"
    for attr in bound:
        sub_name = attr.sub_attribute or "value"
        sub_def = definition.sub(sub_name) if definition else None
        subs.setdefault(
            sub_name.casefold(), _leaf(obj, attr, sub_def.name if sub_def else sub_name, sub_def, False)
        )
        for key, value in attr.filter:
            fixed.setdefault(key, [])
            if value not in fixed[key]:
                fixed[key].append(value)
    for key, values in fixed.items():
        if key.casefold() not in subs:
            sub_def = definition.sub(key) if definition else None
            subs[key.casefold()] = {
                "name": sub_def.name if sub_def else key,
                "type": "string",
                "multiValued": False,
                "description": sub_def.description if sub_def else "",
                "required": False,
                "caseExact": False,
                "canonicalValues": values,
                "mutability": "readWrite",
                "returned": "default",
                "uniqueness": "none",
            }
    mutabilities = {s["mutability"] for s in subs.values()}
    return {
        "name": name,
        "type": "complex",
        "multiValued": multi_valued,
        "description": definition.description if definition else "",
        "required": False,
        "mutability": mutabilities.pop() if len(mutabilities) == 1 else "readWrite",
        "returned": "default",
        "uniqueness": "none",
        "subAttributes": list(subs.values()),
    }


def _multi_attribute(urn: str, multi: PlanMulti, custom: PlanSchema | None) -> dict[str, Any]:
    """A child-table attribute: for references (group members) the value is writable and display,
    $ref and type are filled in; otherwise (emails) the value and each kept sub-attribute are.
    A custom schema's simple attribute (``tags string multi``) is served so too, its ``value``
    as caseExact as declared (:func:`mapper.scim.attributes.served_as_complex`)."""
    definition = _definition(urn, multi.attribute, None)
    attributes = custom.attributes if custom is not None else ()
    declared = next((a for a in attributes if a.name.casefold() == multi.attribute.casefold()), None)
    value_exact = declared is None or declared.type == "complex" or declared.case_exact

    def exact(name: str) -> bool:
        """As the name resolver compares it: a core sub-attribute as RFC 7643 defines it
        (``emails.value``, ``members.value`` and ``$ref`` are not caseExact), else as declared."""
        known = definition.sub(name) if definition is not None else None
        if known is not None:
            return known.case_exact
        return name == "$ref" or (name == "value" and value_exact)

    writable = multi.add is not None or multi.remove is not None
    reference_types = [multi.reference] if multi.reference else ["external"]

    def sub(name: str, type_: str, mutability: str, **extra: Any) -> dict[str, Any]:
        return {
            "name": name,
            "type": type_,
            "multiValued": False,
            "description": "",
            "required": False,
            "caseExact": exact(name),
            "mutability": mutability,
            "returned": "default",
            "uniqueness": "none",
            **extra,
        }

    if multi.reference:  # members: the gateway fills in $ref, display and type
        subs = [
            sub("value", "string", "immutable" if writable else "readOnly"),
            sub("$ref", "reference", "readOnly", referenceTypes=reference_types),
            sub("display", "string", "readOnly"),
            sub("type", "string", "readOnly", canonicalValues=reference_types),
        ]
    else:  # emails, phone numbers...: the value and the sub-attributes the child table keeps
        kept = "readWrite" if writable else "readOnly"
        subs = [sub("value", "string", kept)]
        for name in multi.sub_attributes:
            subs.append(sub(name, "boolean" if name == "primary" else "string", kept))
    return {
        "name": definition.name if definition else multi.attribute,
        "type": "complex",
        "multiValued": True,
        "description": definition.description if definition else "",
        "required": False,
        "mutability": "readWrite" if writable else "readOnly",
        "returned": "default",
        "uniqueness": "none",
        "subAttributes": subs,
    }
