"""SCIM PATCH (RFC 7644 §3.5.2) applied to a resource dict.

``apply_patch(resource, operations, resolver)`` returns a new dict and never mutates its input:
the operations run on a copy (made as they touch values), and the first failing operation raises a
:class:`~mapper.scim.errors.ScimError`, so a PATCH is all or nothing.

Per the RFC: ``add``, ``replace`` and ``remove`` with or without ``path``; paths with value
filters and sub-attributes; URN-qualified paths; ``readOnly`` attributes (and ``immutable`` ones
that already have a value) give ``mutability``; an unknown ``op`` gives ``invalidSyntax``; a
missing ``value`` on add/replace gives ``invalidValue``; ``remove`` without a path gives
``noTarget``; a value filter on a single-valued attribute gives ``invalidPath``.

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
from mapper.scim.errors import ScimError, invalid_path, invalid_syntax, invalid_value, mutability, no_target
from mapper.scim.filter import equality_terms, matches_value
from mapper.scim.patchvalues import (
    as_list,
    coerce_value,
    kind_of,
    listed,
    merge_into,
    one_primary,
    readonly_unchanged,
)
from mapper.scim.paths import AttributePath, parse_path

OPS = ("add", "replace", "remove")
_MISSING = object()


def apply_patch(resource: dict[str, Any], operations: Any, resolver: AttributeResolver) -> dict[str, Any]:
    """Apply PATCH ``Operations`` to a copy of ``resource`` and return it (all or nothing)."""
    if not isinstance(operations, list) or not operations:
        raise invalid_syntax("'Operations' must be a non-empty list of operations")
    patcher = _Patcher(dict(resource), resolver)
    for index, operation in enumerate(operations):
        try:
            patcher.apply(operation)
        except ScimError as exc:
            exc.detail = f"Operations[{index}]: {exc.detail}"
            exc.args = (exc.detail,)
            raise
    return patcher.resource


class _Patcher:
    """Applies operations to ``resource``, a shallow copy of the input: the values it changes are
    copied when first touched (:meth:`_own`), so the input is never modified and what no
    operation touches is shared, not copied."""

    def __init__(self, resource: dict[str, Any], resolver: AttributeResolver) -> None:
        self.resource = resource
        self.resolver = resolver
        self._owned: set[int] = set()  # ids of the copies made, which operations may change

    def _own(self, container: dict[str, Any], key: str) -> Any:
        """``container[key]``, copied the first time: a dict, or a list with its dict items
        (SCIM values nest no deeper than a complex value's sub-attributes)."""
        value = container[key]
        if id(value) in self._owned:
            return value
        if isinstance(value, dict):
            value = dict(value)
        elif isinstance(value, list):
            value = [dict(item) if isinstance(item, dict) else item for item in value]
        else:
            return value
        self._owned.add(id(value))
        container[key] = value
        return value

    # ------------------------------------------------------------------ operations

    def apply(self, operation: Any) -> None:
        if not isinstance(operation, dict):
            raise invalid_syntax("an operation must be an object with 'op', 'path' and 'value'")
        op = operation.get("op")
        if not isinstance(op, str) or op.lower() not in OPS:
            raise invalid_syntax("unknown op: expected 'add', 'replace' or 'remove'")
        op = op.lower()
        path = operation.get("path")
        if isinstance(path, AttributePath):  # parsed at the edge (mapper.scim.names.operations)
            self.apply_path(op, path, self._value(op, operation))
            return
        if path is not None and not isinstance(path, str):
            raise invalid_path(f"'path' must be a string, not {type(path).__name__}")
        value = self._value(op, operation)
        if path is None or not path.strip():
            if op == "remove":
                raise no_target("'remove' needs a 'path'")
            self.apply_object(op, value, None)
            return
        self.apply_path(op, parse_path(path), value)

    @staticmethod
    def _value(op: str, operation: dict[str, Any]) -> Any:
        value = operation.get("value", _MISSING)
        if op != "remove" and value is _MISSING:
            raise invalid_value(f"'{op}' needs a 'value'")
        return value

    def apply_object(self, op: str, value: Any, urn: str | None) -> None:
        """add/replace without a path: each key of ``value`` is a path of its own."""
        if isinstance(value, list) and all(isinstance(v, dict) for v in value):
            for each in value:
                self.apply_object(op, each, urn)
            return
        if not isinstance(value, dict):
            raise invalid_value(f"'{op}' without a path needs an object of attributes as its value")
        for key, item in value.items():
            if not isinstance(key, str):
                raise invalid_value("attribute names must be strings")
            if urn is None and key.casefold() == "schemas":
                continue
            schema = self.resolver.schema_urn(key) if urn is None else None
            if schema is not None:
                if not isinstance(item, dict):
                    raise invalid_value(f"'{key}' must be an object of that schema's attributes")
                self.apply_object(op, item, schema)
                continue
            path = parse_path(key)
            if urn is not None:
                path = AttributePath(urn, path.attribute, path.value_filter, path.sub_attribute)
            self.apply_path(op, path, item)

    def apply_path(self, op: str, path: AttributePath, value: Any) -> None:
        if path.urn and path.value_filter is None and path.sub_attribute is None:
            schema = self.resolver.schema_urn(f"{path.urn}:{path.attribute}")
            if schema is not None:  # the path is a whole extension
                self.apply_extension(op, schema, value)
                return
        info = self.resolver.resolve(path.urn, path.attribute)
        if path.sub_attribute and info.known and not info.complex:
            raise invalid_path(f"'{info.name}' has no sub-attributes")
        if path.value_filter is not None and info.known and not info.multi_valued:
            raise invalid_path(
                f"'{info.name}' is single-valued; a value filter needs a multi-valued attribute"
            )
        if value is None and op != "remove":
            op, value = "remove", _MISSING  # null unassigns (RFC 7643 §2.5)
        if op == "remove" and path.sub_attribute is None and path.value_filter is None and info.required:
            raise invalid_value(f"'{info.name}' is required and cannot be removed")
        if path.value_filter is not None:
            self.apply_filtered(op, path, info, value)
        elif path.sub_attribute is not None:
            self.apply_sub(op, path, info, value)
        else:
            self.apply_attribute(op, info, value)

    def apply_extension(self, op: str, urn: str, value: Any) -> None:
        if op in ("remove", "replace") and urn in self.resource:
            del self.resource[urn]
            self._forget_schema(urn)
        if op != "remove":
            self.apply_object(op, value, urn)

    # ------------------------------------------------------------------ targets

    def apply_attribute(self, op: str, info: Attribute, value: Any) -> None:
        container = self._container(info, create=op != "remove")
        if container is None:
            return
        key = info.name
        current = self._own(container, key) if key in container else None
        if op == "remove":
            self._check_mutable(info, current, _MISSING)
            if value is not _MISSING and value is not None and info.multi_valued:
                entries = [names.complex_value(info, v, self.resolver) for v in as_list(value)]
                kept = [item for item in as_list(current) if not listed(item, entries, info, self.resolver)]
                self._store(container, key, kept, info)
            else:
                container.pop(key, None)
                self._tidy(info)
            return
        new = self._normalise(info, value)
        if readonly_unchanged(info, current, new):
            return
        self._check_mutable(info, current, new)
        if info.multi_valued:
            items = as_list(current) if op == "add" else []
            if info.complex:
                fresh = [merge_into(items, item, info, self.resolver) for item in new]
                one_primary(items, fresh)
            else:
                items += [v for v in new if v not in items]
            self._store(container, key, items, info)
        elif info.complex and isinstance(current, dict):
            current.update(new)
        else:
            container[key] = new

    def apply_sub(self, op: str, path: AttributePath, info: Attribute, value: Any) -> None:
        sub = self.resolver.resolve(info.urn, info.name, path.sub_attribute)
        container = self._container(info, create=op != "remove")
        if container is None:
            return
        key = info.name
        current = self._own(container, key) if key in container else None
        if info.multi_valued:
            items = as_list(current)
            if op != "remove" and not items:
                items.append({})
            targets = [i for i in items if isinstance(i, dict)]
        else:
            if op != "remove" and not isinstance(current, dict):
                current = container[key] = {}
            targets = [current] if isinstance(current, dict) else []
        self._set_sub(op, targets, sub, value)
        if info.multi_valued:
            self._store(container, key, [i for i in items if i != {}], info)
        elif isinstance(container.get(key), dict) and not container[key]:
            del container[key]
            self._tidy(info)

    def apply_filtered(self, op: str, path: AttributePath, info: Attribute, value: Any) -> None:
        assert path.value_filter is not None
        container = self._container(info, create=op != "remove")
        if container is None:
            return
        key = info.name
        items = as_list(self._own(container, key) if key in container else None)
        matched = [
            item
            for item in items
            if isinstance(item, dict) and matches_value(path.value_filter, item, self.resolver, info)
        ]
        sub = self.resolver.resolve(info.urn, info.name, path.sub_attribute) if path.sub_attribute else None
        if op == "remove":
            if sub is not None:
                self._set_sub(op, matched, sub, value)
                items = [i for i in items if i != {}]
            else:
                self._check_mutable(info, items or None, _MISSING)
                items = [i for i in items if not any(i is m for m in matched)]
            self._store(container, key, items, info)
            return
        if not matched:
            matched = [self._new_item(path, info)]
            items.append(matched[0])
        if sub is not None:
            self._set_sub(op, matched, sub, value)
        else:
            new = self._normalise(info, value)
            if not info.known:  # an unknown attribute with a value filter is multi-valued complex
                new = [v if isinstance(v, dict) else {"value": v} for v in as_list(new)]
            if len(new) != 1:
                raise invalid_value(f"a value filter path takes one value of '{info.name}', not {len(new)}")
            for item in matched:
                item.update(new[0])
        one_primary(items, matched)
        self._store(container, key, items, info)

    # ------------------------------------------------------------------ helpers

    def _set_sub(self, op: str, targets: list[Any], sub: Attribute, value: Any) -> None:
        name = sub.sub or ""
        for item in targets:
            current = item.get(name)
            if op == "remove":
                self._check_mutable(sub, current, _MISSING)
                item.pop(name, None)
                continue
            new = coerce_value(value, sub)
            if readonly_unchanged(sub, current, new):
                continue
            self._check_mutable(sub, current, new)
            item[name] = new

    def _new_item(self, path: AttributePath, info: Attribute) -> dict[str, Any]:
        """The value a filter of ``eq`` terms describes, for add/replace that matched nothing."""
        assert path.value_filter is not None
        terms = equality_terms(path.value_filter)
        if terms is None or any(p.urn or p.sub for p, _ in terms):
            raise no_target(f"no value of '{info.name}' matches the path's value filter")
        item: dict[str, Any] = {}
        for term, term_value in terms:
            sub = self.resolver.resolve(info.urn, info.name, term.attribute)
            item[sub.sub or term.attribute] = coerce_value(term_value, sub)
        return item

    def _normalise(self, info: Attribute, value: Any) -> Any:
        """``value`` in the shape ``info`` stores: a list for multi-valued attributes, a dict of
        canonical sub-attributes for complex ones, a coerced scalar otherwise."""
        if not info.known:
            return value
        if info.multi_valued:
            values = value if isinstance(value, list) else [value]
            if info.complex:
                return [self._complex(info, v) for v in values if v is not None]
            return [coerce_value(v, info) for v in values if v is not None]
        if info.complex:
            if isinstance(value, list):
                if len(value) != 1:
                    raise invalid_value(f"'{info.name}' is single-valued; got a list of {len(value)} values")
                value = value[0]
            return self._complex(info, value)
        return coerce_value(value, info)

    def _complex(self, info: Attribute, value: Any) -> dict[str, Any]:
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
        for key, sub_value in value.items():
            if sub_value is None:
                continue
            sub = self.resolver.resolve(info.urn, info.name, key)
            out[sub.sub or key] = coerce_value(sub_value, sub) if sub.known else sub_value
        return out

    def _container(self, info: Attribute, create: bool) -> dict[str, Any] | None:
        urn = info.container
        if urn is None:
            return self.resource
        if isinstance(self.resource.get(urn), dict):
            return self._own(self.resource, urn)
        if not create:
            return None
        self.resource[urn] = {}
        self._owned.add(id(self.resource[urn]))
        schemas = self.resource.get("schemas")
        if isinstance(schemas, list) and not any(
            isinstance(s, str) and s.casefold() == urn.casefold() for s in schemas
        ):
            self.resource["schemas"] = [*schemas, urn]
        return self.resource[urn]

    def _store(self, container: dict[str, Any], key: str, items: list[Any], info: Attribute) -> None:
        if items:
            container[key] = items
        else:
            container.pop(key, None)
            self._tidy(info)

    def _tidy(self, info: Attribute) -> None:
        """Drop an extension object left empty, and its URN from ``schemas``."""
        urn = info.container
        if urn is not None and self.resource.get(urn) == {}:
            del self.resource[urn]
            self._forget_schema(urn)

    def _forget_schema(self, urn: str) -> None:
        schemas = self.resource.get("schemas")
        if isinstance(schemas, list):
            self.resource["schemas"] = [
                s for s in schemas if not (isinstance(s, str) and s.casefold() == urn.casefold())
            ]

    @staticmethod
    def _check_mutable(info: Attribute, current: Any, new: Any) -> None:
        if info.mutability == "readOnly":
            raise mutability(f"'{info.path}' is readOnly")
        if info.mutability == "immutable" and current not in (None, [], {}, "") and new != current:
            raise mutability(f"'{info.path}' is immutable and already has a value")
