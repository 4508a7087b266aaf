"""Canonical names at the edge: what a client sends, spelled as the mapping's schemas spell it.

SCIM attribute names are case-insensitive (RFC 7643 §2.1): clients send ``USERNAME``,
``name.FamilyName``, ``"Manager": {"Value": ...}`` and PATCH operations as ``{"OP": ...,
"Path": ..., "VALUE": ...}``. The request handlers pass every body through here once, and from
then on the gateway (PATCH, strict mode, the store and its codec) looks keys up exactly.

- :func:`resource`: a POST/PUT body. Top-level attributes, extension objects (keyed by their
  schema URN, in any case) and their attributes, and the sub-attributes of complex values and of
  the items of multi-valued ones take their canonical names.
- :func:`operations`: a PATCH body's ``Operations``, each operation's ``op``, ``path`` and
  ``value`` keys canonical, and its path parsed, its names canonical
  (:class:`~mapper.scim.paths.AttributePath`; a path that does not parse stays text, for PATCH to
  refuse in its turn). Values are PATCH's to read (:mod:`mapper.scim.patch`).
- :func:`complex_value`: one value of a complex attribute (or an item of a multi-valued one).
- :func:`filter_paths`: a filter's attribute paths (``?filter=``, a SearchRequest's, a PATCH
  path's value filter), and :func:`attr_path` one path (``sortBy``). A known attribute's path
  becomes ``AttrPath(container, name, sub)``: its extension's URN or None for core and common
  attributes (``USERNAME`` -> ``userName``, ``urn:...:core:2.0:User:userName`` -> ``userName``,
  ``employeeNumber`` -> ``urn:...:enterprise:2.0:User:employeeNumber``), so it resolves again to
  the same attribute. Inside a value filter a path names a sub-attribute of the filtered one
  (``emails[TYPE eq "work"]`` -> ``type``). Values are untouched: caseExact is the evaluator's.
  Filters are canonical once per shape (:mod:`mapper.scim.filtershape`), not per request.

Names the schemas do not know are kept as sent: the store ignores what the mapping does not map.
Two keys of one object that name one attribute (``userName`` and ``USERNAME``) make the body
ambiguous, at any level: 400 ``invalidSyntax`` naming both (:func:`ambiguous`).
The look-ups go through the type's :class:`~mapper.scim.attributes.Resolver`, the one
case-insensitive resolver, whose memory the schemas bound.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from mapper.scim.attributes import MAX_PATHS, MAX_RESOLVED, Attribute, AttributeResolver
from mapper.scim.errors import ScimError, invalid_path, invalid_syntax
from mapper.scim.paths import CACHED_LENGTH, AttributePath, parse_path
from mapper.scimfilter import And, AttrPath, Compare, Filter, Not, Or, Present, ValuePath

#: The keys of a PATCH operation, and of a PATCH body's envelope.
_OPERATION = {"op": "op", "path": "path", "value": "value"}
_PATCH_BODY = {"operations": "Operations", "schemas": "schemas"}
_ENVELOPE = frozenset(_PATCH_BODY.values())


def resource(body: dict[str, Any], resolver: AttributeResolver) -> dict[str, Any]:
    """A POST/PUT body with canonical names (see the module docstring).

    Clients send the same few spellings again and again, so what each key of a known attribute
    becomes is remembered per spelling and level on the type's resolver (``names``, which the
    schemas bound; at most :data:`~mapper.scim.attributes.MAX_RESOLVED`): a key is then one dict
    look-up, where it was two or three resolutions. A body with two keys of one name takes the
    long way (:func:`_resource`), which refuses it."""
    memo = resolver.names
    out: dict[str, Any] = {}
    try:
        for key, value in body.items():
            found = memo.get((None, key))
            if found is None:
                found = _top(key, resolver)
            name, info, extension = found
            if name in out:
                raise _Collision
            if extension and isinstance(value, dict):
                value = _extension(value, name, memo, resolver)
            elif info.complex:
                value = (
                    [_subs(item, info, memo, resolver) for item in value]
                    if isinstance(value, list)
                    else _subs(value, info, memo, resolver)
                )
            out[name] = value
    except _Collision:
        return _resource(body, resolver)
    return out


class _Collision(Exception):
    """Two keys of one object have one canonical name: :func:`_resource` says which."""


def _remember(memo: dict[Any, Any], key: tuple[Any, ...], found: Any) -> Any:
    if len(memo) < MAX_RESOLVED:
        memo[key] = found
    return found


def _top(key: str, resolver: AttributeResolver) -> tuple[str, Attribute, bool]:
    """What a top-level key becomes: its canonical name, what is known of that, and whether it
    names an extension (whose object holds attributes); remembered when known."""
    urn = resolver.schema_urn(key)
    name = urn if urn is not None else resolver.resolve(None, key).name
    info = resolver.resolve(None, name)
    found = (name, info, urn is not None)
    return _remember(resolver.names, (None, key), found) if urn is not None or info.known else found


def _extension(
    container: dict[str, Any], urn: str, memo: dict[Any, Any], resolver: AttributeResolver
) -> dict[str, Any]:
    """An extension's object with canonical names, remembered (as the long way's second loop)."""
    out: dict[str, Any] = {}
    for key, value in container.items():
        found = memo.get((urn, key))
        if found is None:
            if not isinstance(key, str):
                raise _Collision
            name = resolver.resolve(urn, key).name
            info = resolver.resolve(urn, name)
            found = _remember(memo, (urn, key), (name, info)) if info.known else (name, info)
        name, info = found
        if name in out:
            raise _Collision
        if info.complex:
            value = (
                [_subs(item, info, memo, resolver) for item in value]
                if isinstance(value, list)
                else _subs(value, info, memo, resolver)
            )
        out[name] = value
    return out


def _subs(value: Any, info: Attribute, memo: dict[Any, Any], resolver: AttributeResolver) -> Any:
    """:func:`complex_value`, remembered."""
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, inner in value.items():
        name = memo.get((info.urn, info.name, key))
        if name is None:
            if not isinstance(key, str):
                raise _Collision  # not JSON: the long way keeps it as it is
            found = resolver.resolve(info.urn, info.name, key)
            name = found.sub or key
            if found.known:
                _remember(memo, (info.urn, info.name, key), name)
        if name in out:
            raise _Collision
        out[name] = inner
    return out


def _resource(body: dict[str, Any], resolver: AttributeResolver) -> dict[str, Any]:
    """:func:`resource` without its memory: what it is the memory of, and the way of the bodies
    it does not take (two keys of one name: this raises :func:`ambiguous`, naming both)."""

    def top(key: str) -> str:
        urn = resolver.schema_urn(key)
        return urn if urn is not None else resolver.resolve(None, key).name

    out = _renamed(body, top)
    for key, value in out.items():
        if isinstance(value, dict) and resolver.schema_urn(key) == key:
            out[key] = _renamed(value, partial(_extension_name, resolver, key), key)
            container: dict[str, Any] = out[key]
            for name, inner in container.items():
                container[name] = _valued(resolver.resolve(key, name), inner, resolver)
        else:
            out[key] = _valued(resolver.resolve(None, key), value, resolver)
    return out


def operations(body: dict[str, Any], resolver: AttributeResolver) -> Any:
    """The ``Operations`` of a PATCH body (any case), each operation's keys canonical and its
    path parsed with canonical names; what is not a list, or not an operation object, is passed
    on as sent for PATCH to refuse."""
    if "Operations" in body and body.keys() <= _ENVELOPE:  # as RFC 7644 spells it
        ops = body["Operations"]
    else:
        ops = _renamed(body, lambda key: _PATCH_BODY.get(key.casefold(), key)).get("Operations")
    if not isinstance(ops, list):
        return ops
    out = [_operation(op, index) if isinstance(op, dict) else op for index, op in enumerate(ops)]
    for op in out:
        text = op.get("path") if isinstance(op, dict) else None
        if isinstance(text, str) and text.strip():
            try:
                op["path"] = _canonical_path(text, resolver)
            except ScimError:
                pass  # PATCH parses it again in its turn, and refuses it there
    return out


def leave_meta(operations: Any) -> bool:
    """Whether every one of a PATCH's ``operations`` (as :func:`operations` gives them) has a path
    to an attribute other than ``meta``: they then neither read nor write what ``meta`` holds (a
    readOnly check compares a value with the one there), and apply alike to a resource without it."""
    if not isinstance(operations, list):
        return False
    for op in operations:
        path = op.get("path") if type(op) is dict else None
        if not isinstance(path, AttributePath) or path.attribute == "meta":
            return False
    return True


def _operation(op: dict[str, Any], index: int) -> dict[str, Any]:
    """A copy of one operation with canonical keys (most arrive so already)."""
    if op.keys() <= _OPERATION.keys():
        return dict(op)
    return _renamed(op, _operation_key, f"Operations[{index}]")


def _operation_key(key: str) -> str:
    return _OPERATION.get(key.casefold(), key)


def _canonical_path(text: str, resolver: AttributeResolver) -> AttributePath:
    """The path ``text`` parsed, with the schemas' names (its value filter as written: the
    evaluator resolves it). Provisioning sends the same few paths again and again, so those
    :func:`~mapper.scim.paths.parse_path` remembers are remembered made canonical too, on the
    type's resolver (``paths``: the paths are immutable; at most :data:`MAX_PATHS`, the oldest
    dropped first); a path that does not parse raises every time."""
    remembered = resolver.paths
    found: AttributePath | None = remembered.get(text)
    if found is None:
        found = _canonical(text, resolver)
        if len(text) <= CACHED_LENGTH:
            if len(remembered) >= MAX_PATHS:
                del remembered[next(iter(remembered))]
            remembered[text] = found
    return found


def _canonical(text: str, resolver: AttributeResolver) -> AttributePath:
    path = parse_path(text)
    written = str(path)
    if path.urn and path.value_filter is None and path.sub_attribute is None:
        whole = resolver.schema_urn(f"{path.urn}:{path.attribute}")
        if whole is not None:  # a whole extension: its URN, split as a path splits it
            urn, _, last = whole.rpartition(":")
            return AttributePath(urn, last, written=written)
    info = resolver.resolve(path.urn, path.attribute)
    if not info.known:
        return AttributePath(path.urn, path.attribute, path.value_filter, path.sub_attribute, written)
    sub = path.sub_attribute and (
        resolver.resolve(info.urn, info.name, path.sub_attribute).sub or path.sub_attribute
    )
    value_filter = path.value_filter and filter_paths(path.value_filter, resolver, info)
    return AttributePath(info.urn if path.urn else None, info.name, value_filter, sub, written)


def filter_paths(node: Filter, resolver: AttributeResolver, scope: Attribute | None = None) -> Filter:
    """``node`` with canonical attribute paths (see the module docstring); ``scope`` is the
    attribute whose value filter ``node`` is. Paths the schemas do not know stay as written, so
    they find no value, as before."""
    if isinstance(node, Compare):
        return Compare(_filter_path(node.path, resolver, scope), node.op, node.value)
    if isinstance(node, Present):
        return Present(_filter_path(node.path, resolver, scope))
    if isinstance(node, And):
        return And(filter_paths(node.left, resolver, scope), filter_paths(node.right, resolver, scope))
    if isinstance(node, Or):
        return Or(filter_paths(node.left, resolver, scope), filter_paths(node.right, resolver, scope))
    if isinstance(node, Not):
        return Not(filter_paths(node.inner, resolver, scope))
    outer = resolver.resolve(node.path.urn, node.path.attribute)
    return ValuePath(_filter_path(node.path, resolver, None), filter_paths(node.filter, resolver, outer))


def unknown_attribute(
    node: Filter, resolver: AttributeResolver, scope: Attribute | None = None
) -> str | None:
    """Why ``node`` (canonical, :func:`filter_paths`) names an attribute the type's schemas do
    not define, for its first such path, left to right; None when every path is one they define
    (mapped or not: one the mapping leaves out has no value, and matches nothing). ``scope`` is
    the attribute whose value filter ``node`` is."""
    if isinstance(node, And | Or):
        return unknown_attribute(node.left, resolver, scope) or unknown_attribute(node.right, resolver, scope)
    if isinstance(node, Not):
        return unknown_attribute(node.inner, resolver, scope)
    if isinstance(node, ValuePath):
        outer = resolver.resolve(node.path.urn, node.path.attribute)
        if not outer.known:
            return _unknown(node.path, resolver)
        return unknown_attribute(node.filter, resolver, outer)
    path = node.path
    if scope is not None:
        info = resolver.resolve(scope.urn, scope.name, path.attribute)
        return None if info.known else f"'{scope.name}' has no sub-attribute '{path.attribute}'"
    info = resolver.resolve(path.urn, path.attribute, path.sub)
    return None if info.known else _unknown(path, resolver)


def _unknown(path: AttrPath, resolver: AttributeResolver) -> str:
    """What is unknown of ``path``: the sub-attribute of a known attribute, or the attribute."""
    if path.sub is not None:
        parent = resolver.resolve(path.urn, path.attribute)
        if parent.known:
            return f"'{parent.name}' has no sub-attribute '{path.sub}'"
    written = f"{path.urn}:{path.attribute}" if path.urn else path.attribute
    return f"'{written}' is not an attribute of this resource type"


def attr_path(text: str, resolver: AttributeResolver) -> AttrPath:
    """One attribute path (``sortBy``) with canonical names, as :func:`filter_paths` spells it.
    A path that does not parse, or that carries a value filter (``sortBy`` names an attribute or
    a sub-attribute, RFC 7644 §3.4.2.3), is ``invalidPath``: a client that misspells its sort
    learns so, instead of getting an unsorted page. An unknown attribute sorts nothing, as it
    matches nothing in a filter."""
    parsed = parse_path(text)
    if parsed.value_filter is not None:
        raise invalid_path(f"sortBy takes an attribute path without a value filter, not '{text.strip()}'")
    return _filter_path(parsed.attr_path, resolver, None)


def _filter_path(path: AttrPath, resolver: AttributeResolver, scope: Attribute | None) -> AttrPath:
    if scope is None:
        info = resolver.resolve(path.urn, path.attribute, path.sub)
        canonical = AttrPath(info.container, info.name, info.sub) if info.known else path
    else:
        info = resolver.resolve(scope.urn, scope.name, path.attribute)
        canonical = AttrPath(path.urn, info.sub, path.sub) if info.known and info.sub else path
    return path if canonical == path else canonical


def complex_value(info: Attribute, value: Any, resolver: AttributeResolver) -> Any:
    """``value`` (an object of sub-attributes of ``info``) with canonical sub-attribute names;
    anything else as it is."""
    if not isinstance(value, dict):
        return value
    return _renamed(value, lambda sub: resolver.resolve(info.urn, info.name, sub).sub or sub, info.name)


def _extension_name(resolver: AttributeResolver, urn: str, name: str) -> str:
    return resolver.resolve(urn, name).name


def _valued(info: Attribute, value: Any, resolver: AttributeResolver) -> Any:
    """The value of a top-level or extension attribute with canonical sub-attribute names."""
    if not info.complex:
        return value
    if isinstance(value, list):
        return [complex_value(info, item, resolver) for item in value]
    return complex_value(info, value, resolver)


def _renamed(mapping: dict[str, Any], canonical: Callable[[str], str], within: str = "") -> dict[str, Any]:
    """``mapping`` with each key as ``canonical`` spells it; two keys with one canonical name are
    :func:`ambiguous` (``within``: the attribute or operation ``mapping`` is the value of)."""
    out: dict[str, Any] = {}
    for key, value in mapping.items():
        name = canonical(key) if isinstance(key, str) else key
        if name in out:
            first = next(k for k in mapping if (canonical(k) if isinstance(k, str) else k) == name)
            raise ambiguous(first, key, within)
        out[name] = value
    return out


def distinct_keys(mapping: dict[str, Any], within: str = "") -> None:
    """Raise :func:`ambiguous` when two keys of ``mapping`` differ only in case (names that are not
    made canonical first: the keys of a PATCH operation's value without a path)."""
    folded: dict[str, str] = {}
    for key in mapping:
        if isinstance(key, str):
            first = folded.setdefault(key.casefold(), key)
            if first != key:
                raise ambiguous(first, key, within)


def ambiguous(first: str, second: str, within: str = "") -> ScimError:
    """400 ``invalidSyntax``: ``first`` and ``second``, keys of one object, name one attribute
    (attribute names are case-insensitive, RFC 7643 §2.1), so which value is meant is unknown."""
    where = f" in '{within}'" if within else ""
    return invalid_syntax(
        f"'{first}' and '{second}'{where} name the same attribute (attribute names are"
        " case-insensitive): send it once"
    )
