"""The values a PATCH operation writes (:mod:`mapper.scim.patch`): a scalar coerced to its
attribute's type, leniently. (The rules for the items of a multi-valued attribute are where the
values land: :mod:`mapper.scim.patchtargets`.)"""

from __future__ import annotations

from typing import Any

from mapper.runtime.values import parse_boolean, parse_integer
from mapper.scim.attributes import Attribute
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
