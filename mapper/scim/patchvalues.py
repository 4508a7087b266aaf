"""The values a PATCH operation writes (:mod:`mapper.scim.patch`): a scalar coerced to its
attribute's type, leniently, and the rules for items of a multi-valued attribute (when two are the
same, what a remove lists, merging an added item, one primary)."""

from __future__ import annotations

from typing import Any

from mapper.runtime.values import parse_boolean, parse_integer
from mapper.scim.attributes import Attribute, AttributeResolver
from mapper.scim.errors import invalid_value


def coerce_value(value: Any, info: Attribute) -> Any:
    """A scalar converted to ``info``'s type, leniently (see the module docstring)."""
    if not info.known or info.complex:
        return value
    kind = info.type
    if kind == "boolean":
        flag = parse_boolean(value)
        if flag is not None:
            return flag
    elif kind == "integer":
        number = parse_integer(value)
        if number is not None:
            return number
    elif kind == "decimal":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            try:
                return float(value.strip())
            except ValueError:
                pass
    elif isinstance(value, str):
        return value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    wanted = "a 64-bit integer" if kind == "integer" else f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"
    raise invalid_value(f"'{info.path}' takes {wanted}, not {kind_of(value)}")


def kind_of(value: Any) -> str:
    """What a client's value is, for an error detail that never echoes the value itself (it may
    be sensitive, or nested deep enough to exhaust ``repr``)."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "this string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "null" if value is None else "this value"


def readonly_unchanged(info: Attribute, current: Any, new: Any) -> bool:
    """Writing a readOnly attribute with the value it has is a no-op, not an error."""
    return info.mutability == "readOnly" and current is not None and current == new


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
