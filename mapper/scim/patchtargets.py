"""Where a PATCH's changes land (:mod:`mapper.scim.patch`): each resolved :class:`Change` applied
to a resource, in order: the attribute itself, a sub-attribute of it (of each item of a
multi-valued one), or the items a value filter selects; and the rules for the items of a
multi-valued attribute (when two are the same, what a remove lists, merging an added item, one
primary) and for mutability.

:class:`Patcher` works on a shallow copy of the resource: the values it changes are copied when
first touched (:meth:`Patcher._own`), so its input is never modified and what no change touches is
shared, not copied. Values arrive resolved: canonical names, coerced to the attribute's type, in
the shape it stores.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mapper.scim.attributes import Attribute, AttributeResolver
from mapper.scim.errors import mutability, no_target
from mapper.scim.filter import Filter, equality_terms, matches_value
from mapper.scim.patchvalues import coerce_value

#: the value of a change that carries none (a remove)
MISSING: Any = object()


@dataclass(slots=True)  # not frozen: made for every operation, and a frozen one costs ~0.6 us more
class Change:
    """One operation's change to one attribute (``op`` add, replace or remove). Through a path:
    to its ``sub`` attribute, to the items its ``value_filter`` selects, or both. ``value`` is
    what add and replace write, in the shape of what they write to (``sub``; one item when
    filtered; else ``info``), and for a remove of ``info`` itself the items it lists (canonical),
    or :data:`MISSING` for all of it. ``index`` is the operation's, for errors."""

    index: int
    op: str
    info: Attribute
    value: Any = MISSING
    sub: Attribute | None = None
    value_filter: Filter | None = None


@dataclass(slots=True)
class DropExtension:
    """A replace or remove of a whole extension (``urn``): its object and its ``schemas`` entry go."""

    index: int
    urn: str


class Patcher:
    """Applies changes to ``resource``, a shallow copy of the input (see the module docstring)."""

    def __init__(self, resource: dict[str, Any], resolver: AttributeResolver) -> None:
        self.resource = resource
        self.resolver = resolver
        self._owned: set[int] = set()  # ids of the copies made, which changes may change

    def apply(self, change: Change | DropExtension) -> None:
        if isinstance(change, DropExtension):
            if change.urn in self.resource:
                del self.resource[change.urn]
                self._forget_schema(change.urn)
        elif change.value_filter is not None:
            self.apply_filtered(change, change.value_filter)
        elif change.sub is not None:
            self.apply_sub(change, change.sub)
        else:
            self.apply_attribute(change)

    # ------------------------------------------------------------------ targets

    def apply_attribute(self, change: Change) -> None:
        info, op = change.info, change.op
        found = self._found(info, op)
        if found is None:
            return
        container, key, current = found
        if op == "remove":
            check_mutable(info, current, MISSING)
            if change.value is not MISSING:  # the items listed, only
                kept = [
                    item for item in as_list(current) if not listed(item, change.value, info, self.resolver)
                ]
                self._store(container, key, kept, info)
            else:
                container.pop(key, None)
                self._tidy(info)
            return
        new = change.value
        if readonly_unchanged(info, current, new):
            return
        check_mutable(info, current, new)
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

    def apply_sub(self, change: Change, sub: Attribute) -> None:
        info, op = change.info, change.op
        found = self._found(info, op)
        if found is None:
            return
        container, key, current = found
        if info.multi_valued:
            items = as_list(current)
            if op != "remove" and not items:
                items.append({})
            targets = [i for i in items if isinstance(i, dict)]
        else:
            if op != "remove" and not isinstance(current, dict):
                current = container[key] = {}
            targets = [current] if isinstance(current, dict) else []
        _set_sub(op, targets, sub, change.value)
        if info.multi_valued:
            self._store(container, key, [i for i in items if i != {}], info)
        elif isinstance(container.get(key), dict) and not container[key]:
            del container[key]
            self._tidy(info)

    def apply_filtered(self, change: Change, value_filter: Filter) -> None:
        info, op, sub = change.info, change.op, change.sub
        found = self._found(info, op)
        if found is None:
            return
        container, key, current = found
        items = as_list(current)
        matched = [
            item
            for item in items
            if isinstance(item, dict) and matches_value(value_filter, item, self.resolver, info)
        ]
        if op == "remove":
            if sub is not None:
                _set_sub(op, matched, sub, MISSING)
                # an item without its value is no item (RFC 7643 §2.4): Entra clears a work
                # e-mail kept in a child table with remove emails[type eq "work"].value
                gone = sub.sub == "value"
                items = [i for i in items if i != {} and not (gone and any(i is m for m in matched))]
            else:
                check_mutable(info, items or None, MISSING)
                items = [i for i in items if not any(i is m for m in matched)]
            self._store(container, key, items, info)
            return
        if not matched:
            matched = [self._new_item(value_filter, info)]
            items.append(matched[0])
        if sub is not None:
            _set_sub(op, matched, sub, change.value)
        else:
            for item in matched:
                item.update(change.value)
        one_primary(items, matched)
        self._store(container, key, items, info)

    # ------------------------------------------------------------------ helpers

    def _found(self, info: Attribute, op: str) -> tuple[dict[str, Any], str, Any] | None:
        """Where ``info`` lives (its container, made for an add or replace; None for a remove
        that finds none), its key there, and its value (owned; None when absent)."""
        container = self._container(info, create=op != "remove")
        if container is None:
            return None
        key = info.name
        return container, key, self._own(container, key) if key in container else None

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

    def _new_item(self, value_filter: Filter, info: Attribute) -> dict[str, Any]:
        """The value a filter of ``eq`` terms describes, for add/replace that matched nothing."""
        terms = equality_terms(value_filter)
        if terms is None or any(p.urn or p.sub for p, _ in terms):
            raise no_target(f"no value of '{info.name}' matches the path's value filter")
        item: dict[str, Any] = {}
        for term, term_value in terms:
            sub = self.resolver.resolve(info.urn, info.name, term.attribute)
            item[sub.sub or term.attribute] = coerce_value(term_value, sub)
        return item

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


def _set_sub(op: str, targets: list[Any], sub: Attribute, new: Any) -> None:
    """Set (or remove) sub-attribute ``sub`` of each of ``targets``."""
    name = sub.sub or ""
    for item in targets:
        current = item.get(name)
        if op == "remove":
            check_mutable(sub, current, MISSING)
            item.pop(name, None)
            continue
        if readonly_unchanged(sub, current, new):
            continue
        check_mutable(sub, current, new)
        item[name] = new


# ---------------------------------------------------------------------- mutability


def readonly_unchanged(info: Attribute, current: Any, new: Any) -> bool:
    """Writing a readOnly attribute with the value it has is a no-op, not an error."""
    return info.mutability == "readOnly" and current is not None and current == new


def check_mutable(info: Attribute, current: Any, new: Any) -> None:
    if info.mutability == "readOnly":
        raise mutability(f"'{info.path}' is readOnly")
    if info.mutability == "immutable" and current not in (None, [], {}, "") and new != current:
        raise mutability(f"'{info.path}' is immutable and already has a value")


# ---------------------------------------------------------------------- items of a multi-valued attribute


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def same(a: Any, b: Any, case_exact: bool) -> bool:
    if isinstance(a, str) and isinstance(b, str) and not case_exact:
        return a.casefold() == b.casefold()
    return bool(a == b)


def same_item(a: Any, b: Any, info: Attribute, resolver: AttributeResolver) -> bool:
    """Two values of a multi-valued attribute are the same when their ``value`` (and ``type``,
    when both have one) are equal; values without ``value`` must be equal as a whole."""
    if not (isinstance(a, dict) and isinstance(b, dict)):
        return same(a, b, info.case_exact)
    a_value, b_value = a.get("value"), b.get("value")
    if a_value is None or b_value is None:
        return a == b
    value_info = resolver.resolve(info.urn, info.name, "value")
    if not same(a_value, b_value, value_info.case_exact):
        return False
    a_type, b_type = a.get("type"), b.get("type")
    return a_type is None or b_type is None or same(a_type, b_type, False)


def listed(item: Any, listed: Any, info: Attribute, resolver: AttributeResolver) -> bool:
    """Whether ``item`` is one of the values a remove lists (objects or bare ``value`` strings)."""
    for entry in listed if isinstance(listed, list) else [listed]:
        if info.complex and not isinstance(entry, dict):
            entry = {"value": entry}
        if same_item(item, entry, info, resolver):
            return True
    return False


def merge_into(
    items: list[Any], new: dict[str, Any], info: Attribute, resolver: AttributeResolver
) -> dict[str, Any]:
    """Append ``new`` to ``items``, or merge it into the value it duplicates; return the value."""
    for item in items:
        if same_item(item, new, info, resolver):
            item.update(new)
            return item
    items.append(new)
    return new


def one_primary(items: list[Any], touched: list[dict[str, Any]]) -> None:
    """At most one value is primary: one just set to primary wins over the others."""
    if not any(t.get("primary") is True for t in touched):
        return
    winner = next(t for t in reversed(touched) if t.get("primary") is True)
    for item in items:
        if item is not winner and isinstance(item, dict) and item.get("primary") is True:
            item["primary"] = False
