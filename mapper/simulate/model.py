"""What the simulator knows about its target: per object type, its endpoint, its query attribute,
and which attributes it maps (so steps for an attribute the target does not map are skipped).

Attributes are named by *keys* independent of where they were learned: ``userName``,
``name.givenName``, ``emails.work`` (the work email's value), ``active``,
``enterprise:employeeNumber``, ``enterprise:manager``, ``members``... :func:`from_plan` reads them
from a compiled plan, :func:`from_discovery` from a server's ``/Schemas`` and ``/ResourceTypes``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from mapper.plan import CORE_GROUP, CORE_USER, ENTERPRISE_USER, Plan, PlanAttribute, PlanObject

#: The query attribute Entra matches on by default, for targets that do not say theirs.
DEFAULT_QUERY = {"User": "userName", "Group": "displayName"}
WRITABLE = ("readWrite", "writeOnly")


@dataclass(frozen=True)
class ObjectModel:
    """One object type of the target. ``writable``/``readable`` hold attribute keys;
    ``plan`` is the compiled object when the target is a mapping (database checks need it)."""

    name: str
    endpoint: str
    query: str  # the filter path of the query attribute (URN-qualified in a custom extension)
    query_key: str  # its key
    writable: frozenset[str]
    readable: frozenset[str]
    immutable: frozenset[str] = frozenset()  # set on create only (an anchor taken from an attribute)
    case_exact: frozenset[str] = frozenset()  # compared case-sensitively by filters
    plan: PlanObject | None = field(default=None, compare=False)
    #: keys a create must send (required, or the anchor's attribute) -> their SCIM type
    required: Mapping[str, str] = field(default_factory=dict, compare=False)
    #: keys whose column holds at most so many characters (VARCHAR(20) -> 20), when known
    lengths: Mapping[str, int] = field(default_factory=dict, compare=False)

    def maps(self, *keys: str) -> bool:
        """True when every key can be written (PATCHed) and read back."""
        return all(k in self.writable and k in self.readable for k in keys)

    def creates(self, key: str) -> bool:
        """True when a create can set the key."""
        return key in self.writable or key in self.immutable

    def missing(self, *keys: str) -> list[str]:
        return [k for k in keys if not self.maps(k)]

    def fit(self, value: str, *keys: str) -> str:
        """``value`` if every column of ``keys`` can hold it; else a value of its own (a digest of
        it, so still distinct from the others generated) as long as the narrowest one takes."""
        limit = min((self.lengths[k] for k in keys if k in self.lengths), default=None)
        if limit is None or len(value) <= limit:
            return value
        return ("s" + hashlib.blake2b(value.encode(), digest_size=20).hexdigest())[:limit]

    def with_lengths(self, by_column: Mapping[str, int]) -> ObjectModel:
        """This model knowing its columns' lengths (lower-cased table column -> characters)."""
        if self.plan is None:
            return self
        lengths: dict[str, int] = {}
        anchor = by_column.get(self.plan.anchor_column.lower())
        for attr in self.plan.attributes:
            key = _plan_key(attr)
            limits = [by_column.get((attr.target_column or "").lower())]
            if _is_anchor(self.plan, attr):  # ``anchor code from displayName``: the key column too
                limits.append(anchor)
            for limit in limits:
                if key is not None and limit is not None:
                    lengths[key] = min(limit, lengths.get(key, limit))
        return replace(self, lengths=lengths)


@dataclass(frozen=True)
class TargetModel:
    users: ObjectModel | None
    groups: ObjectModel | None


def attribute_key(schema_urn: str, attribute: str, sub: str | None, multi_valued: bool) -> str | None:
    """The key of a (schema, attribute, sub-attribute), or None for what no step uses."""
    if schema_urn == ENTERPRISE_USER:
        prefix = "enterprise:"
    elif schema_urn in (CORE_USER, CORE_GROUP):
        prefix = ""
    else:  # a custom extension: the URN-qualified name, as Entra writes it
        prefix = f"{schema_urn}:"
    if attribute.casefold() == "emails":
        return "emails.work" if sub in (None, "value") else None
    if attribute.casefold() == "manager":
        return prefix + "manager"
    if sub and not multi_valued:
        return f"{prefix}{attribute}.{sub}"
    return prefix + attribute


def _plan_key(attr: PlanAttribute) -> str | None:
    if attr.attribute.casefold() == "emails" and attr.filter and ("type", "work") not in attr.filter:
        return None
    return attribute_key(attr.schema_urn, attr.attribute, attr.sub_attribute, attr.multi_valued)


def _is_anchor(obj: PlanObject, attr: PlanAttribute) -> bool:
    anchor = obj.anchor_attribute if obj.anchor_generation == "attribute" else None
    return anchor is not None and anchor.casefold() == attr.path.casefold()


def _object_from_plan(obj: PlanObject) -> ObjectModel:
    writable: set[str] = set()
    readable: set[str] = set()
    immutable: set[str] = set()
    case_exact: set[str] = set()
    required: dict[str, str] = {}
    for attr in obj.attributes:
        key = _plan_key(attr)
        if key is None:
            continue
        if attr.case_exact:
            case_exact.add(key)
        if attr.direction != "import" and (attr.required or _is_anchor(obj, attr)):
            required[key] = attr.type
        if attr.direction != "import" and (attr.mutability == "immutable" or _is_anchor(obj, attr)):
            immutable.add(key)
        elif attr.direction != "import" and attr.mutability in WRITABLE:
            writable.add(key)
        if attr.direction != "export" and attr.mutability != "writeOnly" and not attr.sensitive:
            readable.add(key)
    for multi in obj.multi:
        key = multi.attribute
        if key.casefold() == "emails":  # as from discovery: the work email's value
            if "type" not in multi.sub_attributes:
                continue  # a child table without types cannot tell the work email
            key = "emails.work"
        readable.add(key)
        if multi.add is not None and multi.remove is not None:
            writable.add(key)
    query = next((a for a in obj.attributes if a.path.casefold() == obj.query_attribute.casefold()), None)
    query_key = (_plan_key(query) if query else None) or obj.query_attribute
    custom = query is not None and query.schema_urn not in (CORE_USER, CORE_GROUP, ENTERPRISE_USER)
    return ObjectModel(
        name=obj.name,
        endpoint=obj.endpoint,
        query=query_key if custom else obj.query_attribute,
        query_key=query_key,
        writable=frozenset(writable),
        readable=frozenset(readable),
        immutable=frozenset(immutable),
        case_exact=frozenset(case_exact),
        plan=obj,
        required=required,
    )


def from_plan(plan: Plan) -> TargetModel:
    by_name = {obj.name: obj for obj in plan.objects}
    users = by_name.get("User")
    groups = by_name.get("Group")
    return TargetModel(
        users=_object_from_plan(users) if users else None,
        groups=_object_from_plan(groups) if groups else None,
    )


Keys = tuple[set[str], set[str], set[str], set[str], dict[str, str]]


def _schema_keys(schema: dict[str, Any]) -> Keys:
    """(writable, readable, immutable, caseExact, required -> type) keys of one /Schemas document."""
    urn = str(schema.get("id", ""))
    writable: set[str] = set()
    readable: set[str] = set()
    immutable: set[str] = set()
    case_exact: set[str] = set()
    required: dict[str, str] = {}

    def note(key: str | None, attr: dict[str, Any]) -> None:
        if key is None:
            return
        if attr.get("caseExact"):
            case_exact.add(key)
        mutability = attr.get("mutability", "readWrite")
        if mutability == "immutable":
            immutable.add(key)
        elif mutability in WRITABLE:
            writable.add(key)
        if attr.get("required") and mutability in (*WRITABLE, "immutable"):
            required[key] = str(attr.get("type", "string"))
        if attr.get("returned", "default") != "never" and attr.get("mutability") != "writeOnly":
            readable.add(key)

    for attr in _dicts(schema.get("attributes")):
        name = str(attr.get("name", ""))
        multi = bool(attr.get("multiValued"))
        subs = list(_dicts(attr.get("subAttributes")))
        if not subs or multi:  # a multi-valued attribute (members, emails) is written as a whole
            note(attribute_key(urn, name, None, multi), attr)
            continue
        if name.casefold() == "manager":  # a reference: written through its value
            value = next((s for s in subs if str(s.get("name", "")).casefold() == "value"), attr)
            note(attribute_key(urn, name, None, multi), value)
            continue
        for sub in subs:
            note(attribute_key(urn, name, str(sub.get("name", "")), False), sub)
    return writable, readable, immutable, case_exact, required


def _dicts(value: Any) -> Iterable[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def from_discovery(resource_types: list[dict[str, Any]], schemas: list[dict[str, Any]]) -> TargetModel:
    """The target as a server describes itself. Only the ``User`` and ``Group`` resource types
    are simulated; their query attributes are Entra's defaults (``userName``, ``displayName``)."""
    keys = {str(s.get("id", "")): _schema_keys(s) for s in schemas}

    def model(name: str) -> ObjectModel | None:
        found = next((t for t in resource_types if str(t.get("name", "")) == name), None)
        if found is None:
            return None
        urns = [str(found.get("schema", ""))]
        urns += [str(e.get("schema", "")) for e in _dicts(found.get("schemaExtensions"))]
        writable: set[str] = set()
        readable: set[str] = set()
        immutable: set[str] = set()
        case_exact: set[str] = set()
        required: dict[str, str] = {}
        for urn in urns:
            w, r, i, c, q = keys.get(urn, (set(), set(), set(), set(), {}))
            writable |= w
            readable |= r
            immutable |= i
            case_exact |= c
            required |= q
        return ObjectModel(
            name=name,
            endpoint=str(found.get("endpoint") or f"/{name}s"),
            query=DEFAULT_QUERY[name],
            query_key=DEFAULT_QUERY[name],
            writable=frozenset(writable),
            readable=frozenset(readable),
            immutable=frozenset(immutable),
            case_exact=frozenset(case_exact),
            required=required,
        )

    return TargetModel(users=model("User"), groups=model("Group"))
