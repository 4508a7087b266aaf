"""SCIM PATCH (RFC 7644 §3.5.2) applied to a resource dict.

``apply_patch(resource, operations, resolver)`` returns a new dict and never mutates its input. It
runs in two steps. First every operation is resolved, here: its ``op`` and ``path`` checked, the
path's attribute (and sub-attribute) found, and its value made what the attribute stores
(canonical sub-attribute names, coerced by :mod:`mapper.scim.patchvalues`), giving a list of
changes. Then the changes are applied in order to a copy of the resource
(:mod:`mapper.scim.patchtargets`: value filters, the items of multi-valued attributes,
mutability). The first failing operation raises a :class:`~mapper.scim.errors.ScimError` naming its
index, so a PATCH is all or nothing; an operation that does not resolve is reported before one
that resolves but cannot be applied to this resource.

Per the RFC: ``add``, ``replace`` and ``remove`` with or without ``path``; paths with value
filters and sub-attributes; URN-qualified paths; ``readOnly`` attributes (and ``immutable`` ones
that already have a value) give ``mutability``; an unknown ``op`` gives ``invalidSyntax``; a
missing ``value`` on add/replace gives ``invalidValue``; ``remove`` without a path gives
``noTarget``; a value filter on a single-valued attribute, or on a multi-valued one whose values
are not objects (``schemas``, a custom ``string multi``), gives ``invalidPath``.

Choices and leniencies (each is something Microsoft Entra ID or its test collection sends):

- ``op`` in any case (``"Replace"``, ``"Add"``); an empty ``path`` counts as no path.
- A path-less ``value`` object may hold dotted keys (``"name.givenName"``), URN-qualified keys
  (``"urn:...:enterprise:2.0:User:employeeNumber"``, split at the last colon), or an extension
  URN whose value is an object of that extension's attributes; ``"schemas"`` in it is ignored.
- Boolean attributes take ``"True"``/``"False"`` in any case; integer and decimal attributes
  take numeric strings; string attributes take numbers (as their text). Anything else that does
  not fit the attribute's type is ``invalidValue``.
- A single-valued complex attribute (``manager``) takes an object, a one-element list of objects
  (``[{"$ref": ..., "value": "7"}]``), or a bare string meaning ``{"value": ...}``. A
  multi-valued complex attribute (``members``) takes a list, one object, or bare strings, each
  meaning ``{"value": ...}``. Sub-attributes given as null are dropped (RFC 7643 §2.5: null is
  unassigned). An explicit null ``value`` on add/replace unassigns the attribute.
- add/replace of a complex attribute merge the given sub-attributes into the existing value
  (RFC 7644 §3.5.2.3: sub-attributes not given are left unchanged); so does a replace through a
  value filter (``emails[type eq "work"]``) into each matching value.
- add/replace through a value filter that matches nothing creates the value when the filter is
  ``eq`` terms joined by ``and`` (Entra's ``emails[type eq "work"].value`` on a user without a
  work email becomes ``{"type": "work", "value": ...}``); any other filter gives ``noTarget``
  as RFC 7644 §3.5.2.3 requires.
- add to a multi-valued attribute skips values already present (same ``value``, and same
  ``type`` when both have one), merging their other sub-attributes (RFC 7644 §3.5.2.1: "no
  changes SHOULD be made"). A value added or replaced with ``primary: true`` clears ``primary``
  on the others (RFC 7643 §2.4).
- remove with a ``value`` list on a multi-valued attribute (Entra's
  ``{"op": "Remove", "path": "members", "value": [{"value": "7"}]}``) removes the listed values
  only, never all of them; an empty list removes nothing.
- remove of something that is not there (an absent attribute, a non-member, a value filter
  matching nothing) succeeds and changes nothing. RFC 7644 §3.5.2.2 asks for ``noTarget`` only
  when ``path`` is missing, and Entra expects removing a non-member to succeed.
- remove of a ``required`` attribute gives ``invalidValue``.
- Writing a ``readOnly`` attribute with the value it already has is a harmless no-op.
- Attributes the resolver does not know are written as given (single-valued, as sent); what
  the mapping does not map is the store's to ignore.
"""

from __future__ import annotations

from typing import Any

from mapper.scim import names
from mapper.scim.attributes import Attribute, AttributeResolver
from mapper.scim.errors import ScimError, invalid_path, invalid_syntax, invalid_value, no_target
from mapper.scim.matching import validate_value
from mapper.scim.patchtargets import MISSING, Change, DropExtension, Patcher
from mapper.scim.patchvalues import coerce_value, kind_of
from mapper.scim.paths import AttributePath, parse_path

OPS = ("add", "replace", "remove")


def apply_patch(resource: dict[str, Any], operations: Any, resolver: AttributeResolver) -> dict[str, Any]:
    """Apply PATCH ``Operations`` to a copy of ``resource`` and return it (all or nothing).

    The operations are resolved up to the first that does not resolve; the changes resolved are
    applied; then that operation's error is raised. So the error is always the first failing
    operation's in order, as when each was applied as soon as it was read."""
    if not isinstance(operations, list) or not operations:
        raise invalid_syntax("'Operations' must be a non-empty list of operations")
    changes: list[Change | DropExtension] = []
    unresolved: ScimError | None = None
    resolution = _Resolution(resolver, changes)
    for index, operation in enumerate(operations):
        try:
            resolution.resolve(index, operation)
        except ScimError as exc:
            unresolved = _located(exc, index)
            break
    patcher = Patcher(dict(resource), resolver)
    for change in changes:
        try:
            patcher.apply(change)
        except ScimError as exc:
            _located(exc, change.index)
            raise
    if unresolved is not None:
        raise unresolved
    return patcher.resource


def _located(error: ScimError, index: int) -> ScimError:
    error.detail = f"Operations[{index}]: {error.detail}"
    error.args = (error.detail,)
    return error


def _value(op: str, operation: dict[str, Any]) -> Any:
    value = operation.get("value", MISSING)
    if op != "remove" and value is MISSING:
        raise invalid_value(f"'{op}' needs a 'value'")
    return value


class _Resolution:
    """Resolves the operations of a PATCH into the changes they make, appended to ``changes`` as
    they are resolved (so that those before an error are still applied first)."""

    def __init__(self, resolver: AttributeResolver, changes: list[Change | DropExtension]) -> None:
        self.resolver = resolver
        self.changes = changes
        self.index = 0  # of the operation being resolved

    def resolve(self, index: int, operation: Any) -> None:
        self.index = index
        if not isinstance(operation, dict):
            raise invalid_syntax("an operation must be an object with 'op', 'path' and 'value'")
        op = operation.get("op")
        if not isinstance(op, str) or op.lower() not in OPS:
            raise invalid_syntax("unknown op: expected 'add', 'replace' or 'remove'")
        op = op.lower()
        path = operation.get("path")
        if isinstance(path, AttributePath):  # parsed at the edge (mapper.scim.names.operations)
            self.at_path(op, path, _value(op, operation))
            return
        if path is not None and not isinstance(path, str):
            raise invalid_path(f"'path' must be a string, not {type(path).__name__}")
        value = _value(op, operation)
        if path is None or not path.strip():
            if op == "remove":
                raise no_target("'remove' needs a 'path'")
            self.of_object(op, value, None)
            return
        self.at_path(op, parse_path(path), value)

    def of_object(self, op: str, value: Any, urn: str | None) -> None:
        """add/replace without a path: each key of ``value`` is a path of its own."""
        if isinstance(value, list) and all(isinstance(v, dict) for v in value):
            for each in value:
                self.of_object(op, each, urn)
            return
        if not isinstance(value, dict):
            raise invalid_value(f"'{op}' without a path needs an object of attributes as its value")
        names.distinct_keys(value, urn or "")
        for key, item in value.items():
            if not isinstance(key, str):
                raise invalid_value("attribute names must be strings")
            if urn is None and key.casefold() == "schemas":
                continue
            schema = self.resolver.schema_urn(key) if urn is None else None
            if schema is not None:
                if not isinstance(item, dict):
                    raise invalid_value(f"'{key}' must be an object of that schema's attributes")
                self.of_object(op, item, schema)
                continue
            path = parse_path(key)
            if urn is not None:
                path = AttributePath(urn, path.attribute, path.value_filter, path.sub_attribute)
            self.at_path(op, path, item)

    def at_path(self, op: str, path: AttributePath, value: Any) -> None:
        if path.urn and path.value_filter is None and path.sub_attribute is None:
            schema = self.resolver.schema_urn(f"{path.urn}:{path.attribute}")
            if schema is not None:  # the path is a whole extension
                if op in ("remove", "replace"):
                    self.changes.append(DropExtension(self.index, schema))
                if op != "remove":
                    self.of_object(op, value, schema)
                return
        info = self.resolver.resolve(path.urn, path.attribute)
        if path.sub_attribute and info.known and not info.complex:
            raise invalid_path(f"'{info.name}' has no sub-attributes")
        if path.value_filter is not None and info.known and not info.multi_valued:
            raise invalid_path(
                f"'{info.name}' is single-valued; a value filter needs a multi-valued attribute"
            )
        if path.value_filter is not None and info.known and not info.complex:
            raise invalid_path(
                f"the values of '{info.name}' are not objects; a value filter needs objects to select"
            )
        if path.value_filter is not None and info.known:  # as GET's filter is: before any item
            validate_value(path.value_filter, self.resolver, info)
        if value is None and op != "remove":
            op, value = "remove", MISSING  # null unassigns (RFC 7643 §2.5)
        if op == "remove" and path.sub_attribute is None and path.value_filter is None and info.required:
            raise invalid_value(f"'{info.name}' is required and cannot be removed")
        sub = self.resolver.resolve(info.urn, info.name, path.sub_attribute) if path.sub_attribute else None
        if op == "remove":
            new = MISSING  # a remove of the attribute itself may list the items it removes
            if sub is None and path.value_filter is None and value is not MISSING and value is not None:
                if info.multi_valued:
                    values = value if isinstance(value, list) else [value]
                    new = [names.complex_value(info, v, self.resolver) for v in values]
        elif sub is not None:
            new = coerce_value(value, sub)
        elif path.value_filter is not None:
            new = self.one_item(info, value)
        else:
            new = self.normalised(info, value)
        self.changes.append(Change(self.index, op, info, new, sub, path.value_filter))

    def one_item(self, info: Attribute, value: Any) -> dict[str, Any]:
        """The one item a value filter path writes into each value it selects."""
        new = self.normalised(info, value)
        if not info.known:  # an unknown attribute with a value filter is multi-valued complex
            new = [
                v if isinstance(v, dict) else {"value": v} for v in (new if isinstance(new, list) else [new])
            ]
        if len(new) != 1:
            raise invalid_value(f"a value filter path takes one value of '{info.name}', not {len(new)}")
        item: dict[str, Any] = new[0]
        return item

    def normalised(self, info: Attribute, value: Any) -> Any:
        """``value`` in the shape ``info`` stores: a list for multi-valued attributes, a dict of
        canonical sub-attributes for complex ones, a coerced scalar otherwise."""
        if not info.known:
            return value
        if info.multi_valued:
            values = value if isinstance(value, list) else [value]
            if info.complex:
                return [self.complex(info, v) for v in values if v is not None]
            return [coerce_value(v, info) for v in values if v is not None]
        if info.complex:
            if isinstance(value, list):
                if len(value) != 1:
                    raise invalid_value(f"'{info.name}' is single-valued; got a list of {len(value)} values")
                value = value[0]
            return self.complex(info, value)
        return coerce_value(value, info)

    def complex(self, info: Attribute, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            if (
                isinstance(value, str | int | float)
                and not isinstance(value, bool)
                and "value" in info.sub_attributes
            ):
                value = {"value": value}
            else:
                raise invalid_value(f"'{info.name}' takes an object of sub-attributes, not {kind_of(value)}")
        out: dict[str, Any] = {}
        seen: dict[str, str] = {}  # canonical name: the key that gave it, nulls too
        for key, sub_value in value.items():
            sub = self.resolver.resolve(info.urn, info.name, key)
            name = sub.sub or key
            if seen.setdefault(name, key) != key:
                raise names.ambiguous(seen[name], key, info.name)
            if sub_value is not None:
                out[name] = coerce_value(sub_value, sub) if sub.known else sub_value
        return out
