"""SCIM filters evaluated against resources (RFC 7644 §3.4.2.2), and the filters the cache's
indexes answer (:func:`equality_terms`). The rules of evaluation are listed in the docstring of
:mod:`mapper.scim.filter`, which parses filters and re-exports these functions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mapper.runtime.keys import Fold
from mapper.scim.attributes import Attribute, AttributeResolver, container_key
from mapper.scim.errors import invalid_filter
from mapper.scimfilter import (
    ORDERING,
    SUBSTRING,
    And,
    AttrPath,
    Compare,
    Filter,
    Not,
    Or,
    Present,
    Scalar,
    ValuePath,
    as_bool,
)

# ---------------------------------------------------------------------------- equality terms


def equality_terms(
    node: Filter, resolver: AttributeResolver | None = None
) -> list[tuple[AttrPath, Scalar]] | None:
    """``[(path, value), ...]`` when ``node`` is ``attr eq value`` or an ``and`` of such terms
    (any nesting), else None. The app answers these from the cache's indexes (anchor id, query
    attribute) instead of scanning; the result is a conjunction.

    With a ``resolver`` the paths are canonical (``USERNAME`` -> ``userName``; the URN is kept
    only for extension attributes, so ``urn:...:core:2.0:User:userName`` -> ``userName`` and
    ``employeeNumber`` -> ``urn:...:enterprise:2.0:User:employeeNumber``) and values take the
    attribute's type (``active eq "true"`` -> ``True``).
    Whether to fold case is the resolver's ``case_exact``.
    """
    terms = _equality_terms(node)
    if terms is None or resolver is None:
        return terms
    return [_canonical_term(path, value, resolver) for path, value in terms]


def _equality_terms(node: Filter) -> list[tuple[AttrPath, Scalar]] | None:
    if isinstance(node, Compare):
        return [(node.path, node.value)] if node.op == "eq" and node.value is not None else None
    if isinstance(node, And):
        left, right = _equality_terms(node.left), _equality_terms(node.right)
        return None if left is None or right is None else left + right
    return None


def _canonical_term(path: AttrPath, value: Scalar, resolver: AttributeResolver) -> tuple[AttrPath, Scalar]:
    info = resolver.resolve(path.urn, path.attribute, path.sub)
    urn = container_key(resolver, info)
    if info.type == "boolean":
        value = as_bool(value) if as_bool(value) is not None else value
    return AttrPath(urn, info.name, info.sub), value


# ---------------------------------------------------------------------------- evaluation

# ``scope`` is the multi-valued attribute a value filter ranges over: its paths name sub-attributes


def _describe(path: AttrPath, scope: Attribute | None, resolver: AttributeResolver) -> Attribute:
    if scope is None:
        return resolver.resolve(path.urn, path.attribute, path.sub)
    return resolver.resolve(scope.urn, scope.name, path.attribute)


def _values(info: Attribute, data: dict[str, Any], scoped: bool, compared: bool) -> list[Any]:
    """Every value the attribute ``info`` (of :func:`_describe`) has in ``data`` (a resource, or
    one item when ``scoped``), flattened; when ``compared``, complex values without a
    sub-attribute give their ``value`` sub-attribute. Keys are looked up exactly: the names are
    the resolver's, which are the resources' (rendered, or made canonical at the edge)."""
    if scoped:
        raw = [data.get(info.sub or "")]  # in a value filter, a path names a sub-attribute
    else:
        container = _contained(data, info)
        raw = [container.get(info.name)] if container is not None else []
        if info.sub is not None:
            raw = [item.get(info.sub) for item in _flatten(raw) if isinstance(item, dict)]
    out = []
    for value in _flatten(raw):
        if isinstance(value, dict) and compared:
            value = value.get("value")
        if value not in (None, "", {}):
            out.append(value)
    return out


def _contained(data: dict[str, Any], info: Attribute) -> dict[str, Any] | None:
    """The dict of ``data`` holding ``info``'s attribute: its extension object, or ``data``."""
    if info.container is None:
        return data
    container = data.get(info.container)
    return container if isinstance(container, dict) else None


def _flatten(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for value in values:
        if isinstance(value, list):
            out.extend(value)
        elif value is not None:
            out.append(value)
    return out


def _evaluate(
    node: Filter,
    data: dict[str, Any],
    resolver: AttributeResolver,
    scope: Attribute | None,
    fold: Fold | None,
) -> bool:
    if isinstance(node, And):
        return _evaluate(node.left, data, resolver, scope, fold) and _evaluate(
            node.right, data, resolver, scope, fold
        )
    if isinstance(node, Or):
        return _evaluate(node.left, data, resolver, scope, fold) or _evaluate(
            node.right, data, resolver, scope, fold
        )
    if isinstance(node, Not):
        return not _evaluate(node.inner, data, resolver, scope, fold)
    if isinstance(node, Present):
        info = _describe(node.path, scope, resolver)
        return bool(_values(info, data, scope is not None, compared=False))
    if isinstance(node, ValuePath):
        outer = resolver.resolve(node.path.urn, node.path.attribute)
        container = _contained(data, outer)
        items = _flatten([container.get(outer.name)]) if container is not None else []
        return any(
            isinstance(item, dict) and _evaluate(node.filter, item, resolver, outer, fold) for item in items
        )
    info = _describe(node.path, scope, resolver)
    _check_types(node, info, resolver)
    values = _values(info, data, scope is not None, compared=True)
    if node.value is None:  # eq null / ne null
        return (not values) if node.op == "eq" else bool(values)
    hit = any(
        _compare(value, node.op if node.op != "ne" else "eq", node.value, info, fold) for value in values
    )
    return (not hit) if node.op == "ne" else hit


def _check_types(node: Compare, info: Attribute, resolver: AttributeResolver) -> None:
    if info.type == "complex" and info.known:
        if "value" not in info.sub_attributes:
            raise invalid_filter(f"'{node.path}' is complex; compare one of its sub-attributes")
        info = resolver.resolve(info.urn, info.name, "value")  # compared through its value
    if (info.type == "boolean" and node.op not in ("eq", "ne")) or (
        info.type == "binary" and node.op in ORDERING
    ):
        raise invalid_filter(f"'{node.op}' is not supported for the {info.type} attribute '{node.path}'")
    if node.value is not None and info.known and not _fits(node.value, info.type):
        kind = _kind(node.value, info.type)
        raise invalid_filter(f"'{node.path}' is {_EXPECTED[info.type]}; the value compared with it is {kind}")


#: What a filter value compared with an attribute of each type must be (RFC 7644 §3.4.2.2: the
#: comparison follows the attribute's type, and a filter value is a JSON string, number, boolean
#: or null); any other is ``invalidFilter`` (§3.12), not a filter that silently matches nothing.
#: The typing is the same both ways: an integer attribute refuses the string ``"5"``, a string
#: attribute the number ``5`` (a string is quoted: a number's text is not the client's, ``1.50``
#: reads as ``1.5``) and the booleans. ``"true"``/``"false"`` are booleans, as Okta and Entra ID
#: may send them; an unquoted word (``userName sw O``) is a string.
_EXPECTED = {
    "string": 'a string attribute: compare it with a string in double quotes, such as "42"',
    "reference": 'a reference attribute: compare it with a string in double quotes, such as "42"',
    "binary": "a binary attribute: compare it with base64 text in double quotes",
    "integer": "an integer attribute: compare it with a number",
    "decimal": "a decimal attribute: compare it with a number",
    "boolean": "a boolean attribute: compare it with true or false",
    "dateTime": 'a dateTime attribute: compare it with a date and time such as "2024-01-31T09:00:00Z"',
}


def _fits(value: Scalar, type_: str) -> bool:
    if type_ in ("integer", "decimal"):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if type_ == "boolean":
        return as_bool(value) is not None
    if type_ == "dateTime":
        return isinstance(value, str) and _as_datetime(value) is not None
    if type_ in _EXPECTED:  # string, reference, binary
        return isinstance(value, str)
    return True  # complex without a value: refused above; an unknown type has no rule


def _kind(value: Scalar, type_: str) -> str:
    """What a value is, as an error detail says it: a value is never echoed (it may be personal)."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "a string that is no date and time" if type_ == "dateTime" else "a string"


def _validate(
    node: Filter, resolver: AttributeResolver, scope: Attribute | None, unknown: list[str] | None = None
) -> None:
    """Check ``node``'s comparisons against their attributes' types; with ``unknown`` (a PATCH
    value filter's, :func:`validate_value`), also note there, left to right, each sub-attribute
    of ``scope`` it names that ``scope`` lacks, from the same resolution as the type check."""
    if isinstance(node, And | Or):
        _validate(node.left, resolver, scope, unknown)
        _validate(node.right, resolver, scope, unknown)
    elif isinstance(node, Not):
        _validate(node.inner, resolver, scope, unknown)
    elif isinstance(node, ValuePath):
        _validate(node.filter, resolver, resolver.resolve(node.path.urn, node.path.attribute))
    elif isinstance(node, Compare):
        info = _describe(node.path, scope, resolver)
        _check_types(node, info, resolver)
        if unknown is not None and not info.known:
            unknown.append(node.path.attribute)
    elif isinstance(node, Present) and unknown is not None:
        if not _describe(node.path, scope, resolver).known:
            unknown.append(node.path.attribute)


def _compare(actual: Any, op: str, expected: Scalar, info: Attribute, fold: Fold | None) -> bool:
    if isinstance(actual, bool) or info.type == "boolean":
        wanted = as_bool(expected)
        return wanted is not None and op == "eq" and as_bool(actual) == wanted
    if info.type == "dateTime" and isinstance(expected, str) and isinstance(actual, str):
        when = _as_datetime(expected)
        if when is None:
            raise invalid_filter(f"the value compared with '{info.path}' is not a dateTime")
        have = _as_datetime(actual)
        return have is not None and _ordered(op, have, when)
    if isinstance(actual, int | float) and isinstance(expected, int | float):
        if op in SUBSTRING:
            return _text(op, str(actual), str(expected))
        return _ordered(op, actual, expected)
    left, right = str(actual), str(expected)
    if not info.case_exact:
        if fold is None:  # no database to agree with (PATCH's value filters)
            left, right = left.casefold(), right.casefold()
        else:
            left, right = fold(left, False), fold(right, False)
    return _text(op, left, right) if op in SUBSTRING else _ordered(op, left, right)


def _text(op: str, actual: str, expected: str) -> bool:
    if op == "co":
        return expected in actual
    if op == "sw":
        return actual.startswith(expected)
    return actual.endswith(expected)


def _ordered(op: str, actual: Any, expected: Any) -> bool:
    if op == "eq":
        return bool(actual == expected)
    if op == "gt":
        return bool(actual > expected)
    if op == "ge":
        return bool(actual >= expected)
    if op == "lt":
        return bool(actual < expected)
    if op == "le":
        return bool(actual <= expected)
    if op in SUBSTRING:
        return _text(op, str(actual), str(expected))
    raise invalid_filter(f"unknown operator '{op}'")


def _as_datetime(text: str) -> datetime | None:
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def matches(
    node: Filter, resource: dict[str, Any], resolver: AttributeResolver, fold: Fold | None = None
) -> bool:
    """Whether ``resource`` satisfies the filter. Raises ``invalidFilter`` on a type misuse.

    Strings that are not caseExact compare folded by ``fold``: for a filter that a database
    could answer too, the store's (its database's ``LOWER``: :func:`mapper.runtime.keys.folding`),
    so that the cache and the database find the same resources ('Straße' is not 'STRASSE'
    to either); without one (nothing to agree with), by Python's ``str.casefold``."""
    return _evaluate(node, resource, resolver, None, fold)


def validate(node: Filter, resolver: AttributeResolver) -> None:
    """Raise ``invalidFilter`` for operator/type combinations the attribute types forbid,
    without needing a resource (so an empty result set still reports the error)."""
    _validate(node, resolver, None)


def validate_value(node: Filter, resolver: AttributeResolver, attribute: Attribute) -> None:
    """:func:`validate` for the value filter ``node`` of the multi-valued ``attribute`` (a
    PATCH path's ``emails[primary eq "yes"]``), whose paths name sub-attributes of it: each must
    be one the attribute has. A GET filter naming an attribute the type lacks matches nothing, but
    a PATCH's value filter decides what add and replace write: ``emails[foo eq 1].value``
    matched no item and made one (RFC 7644 §3.12: invalidFilter, "the specified attribute and
    filter comparison combination is not supported", PATCH path filters included)."""
    unknown: list[str] = []
    _validate(node, resolver, attribute, unknown)
    if unknown:
        raise invalid_filter(
            f"'{attribute.name}' has no sub-attribute '{unknown[0]}'"
            f" (it has {', '.join(attribute.sub_attributes) or 'none'})"
        )


def matches_value(
    node: Filter,
    item: dict[str, Any],
    resolver: AttributeResolver,
    attribute: Attribute,
    fold: Fold | None = None,
) -> bool:
    """Whether ``item``, one value of the multi-valued ``attribute``, satisfies the value filter
    ``node`` (whose paths name sub-attributes of ``attribute``, as in ``emails[type eq "work"]``);
    strings folded by ``fold``, as in :func:`matches`."""
    return _evaluate(node, item, resolver, attribute, fold)
