"""The ``attributes`` and ``excludedAttributes`` query parameters (RFC 7644 §3.4.2.5, §3.9).

``project(resource, attributes, excluded, resolver)`` returns a new dict holding what the client
asked for. Each parameter is a comma-separated string or a list of paths; names are in any case
and may be URN-qualified (``urn:...:enterprise:2.0:User:manager``), name a sub-attribute
(``name.givenName``, ``emails.value``), or name a whole extension by its URN.

The parameters are parsed and their names made canonical through the type's resolver once per
distinct pair of parameters (:func:`_selections`, remembered), not once per resource of a page;
the resources' keys are canonical (rendered), so from there on every look-up is exact. Without
a resolver (tools, tests) the names are spelled as ``resource``'s keys spell them.

- ``id``, ``schemas`` and ``meta.resourceType`` are always returned (:data:`ALWAYS`, and every
  attribute whose ``returned`` is ``always``); ``excludedAttributes`` cannot remove them.
- Attributes whose ``returned`` is ``never`` (``password``) are never returned; those whose
  ``returned`` is ``request`` only when ``attributes`` names them.
- Leniency: a value filter in ``attributes`` (Microsoft's test collection sends
  ``attributes=emails[type eq "work"]``) is accepted and ignored: the whole attribute is returned.
- A malformed entry is ``invalidPath`` (400). Unknown attributes select nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from mapper.scim.attributes import AttributeResolver, container_key
from mapper.scim.paths import AttributePath, parse_path, split_list

#: Returned whatever the client asks (RFC 7643 §3.1: ``id`` is returned always).
ALWAYS: tuple[tuple[str, str | None], ...] = (("id", None), ("schemas", None), ("meta", "resourceType"))

# A selection: container key (None for the top level) -> attribute name -> sub-attributes (None: all)
_Selection = dict[str | None, dict[str, set[str] | None]]


def project(
    resource: dict[str, Any],
    attributes: str | Iterable[str] | None = None,
    excluded: str | Iterable[str] | None = None,
    resolver: AttributeResolver | None = None,
) -> dict[str, Any]:
    """``resource`` reduced to ``attributes`` (when given), minus ``excluded``, minus what is
    never returned. The input is not modified."""
    if resolver is not None:
        wanted, dropped = _selections(_entries(attributes), _entries(excluded), resolver)
    else:
        wanted = _spelled(_selection(_paths(_entries(attributes)), None), resource)
        dropped = _spelled(_selection(_paths(_entries(excluded)), None), resource)
    result = _select(resource, wanted, resolver) if wanted else _default(resource, resolver)
    if dropped:
        _exclude(result, dropped, resolver)
    return result


#: How many pairs of parameters :func:`_selections` remembers (clients ask for a few).
_REMEMBERED = 256


def _entries(value: str | Iterable[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return _split((value,) if isinstance(value, str) else tuple(value))


@functools.lru_cache(maxsize=_REMEMBERED)
def _split(values: tuple[str, ...]) -> tuple[str, ...]:
    """The entries of a parameter's values, each once. A list response projects every resource
    with the same parameters: splitting them again for each resource let ``attributes=`` with
    thousands of names (a 60 KB URL) cost seconds of CPU per request."""
    return tuple(dict.fromkeys(e for v in values for e in split_list(v)))


@functools.lru_cache(maxsize=_REMEMBERED)
def _selections(
    attributes: tuple[str, ...], excluded: tuple[str, ...], resolver: AttributeResolver
) -> tuple[_Selection, _Selection]:
    """What ``attributes`` and ``excluded`` select, with canonical names; parsed once per pair
    (a malformed entry raises every time, and is not remembered). The selections are read only."""
    return _selection(_paths(attributes), resolver), _selection(_paths(excluded), resolver)


def _paths(entries: tuple[str, ...]) -> list[AttributePath]:
    return [parse_path(entry) for entry in entries]


def _selection(paths: list[AttributePath], resolver: AttributeResolver | None) -> _Selection:
    selection: _Selection = {}
    for path in paths:
        if path.urn and path.value_filter is None and path.sub_attribute is None:
            whole = f"{path.urn}:{path.attribute}"
            schema = resolver.schema_urn(whole) if resolver else whole
            if schema is not None:
                selection.setdefault(schema, {})["*"] = None
                continue
        if resolver is not None:
            info = resolver.resolve(path.urn, path.attribute)
            container, name = container_key(resolver, info), info.name
            sub = (
                resolver.resolve(info.urn, info.name, path.sub_attribute).sub if path.sub_attribute else None
            )
        else:
            container, name, sub = path.urn, path.attribute, path.sub_attribute
        names = selection.setdefault(container, {})
        if sub is None:
            names[name] = None
        elif name not in names or names[name] is not None:
            names.setdefault(name, set()).add(sub)  # type: ignore[union-attr]
    return selection


def _spelled(selection: _Selection, resource: dict[str, Any]) -> _Selection:
    """A selection made without a resolver, its names spelled as ``resource``'s keys (any
    case), so that it is looked up exactly like a canonical one. A whole extension is known by
    its key in ``resource``; a URN that is none of its keys names an attribute after all."""
    out: _Selection = {}
    for container, names in selection.items():
        if container is not None and "*" in names and _key(resource, container) is None:
            urn, _, name = container.rpartition(":")
            names, container = {name: None}, urn
        spelled = container and (_key(resource, container) or container)
        source = resource if spelled is None else resource.get(spelled)
        target = out.setdefault(spelled, {})
        for name, subs in names.items():
            key = _key(source, name) or name
            value = source.get(key) if isinstance(source, dict) else None
            items = [i for i in (value if isinstance(value, list) else [value]) if isinstance(i, dict)]
            target[key] = subs and {next(filter(None, (_key(i, s) for i in items)), s) for s in subs}
    return out


def _key(mapping: Any, name: str) -> str | None:
    """The key of ``mapping`` equal to ``name`` ignoring case (an exact match wins), or None."""
    if not isinstance(mapping, dict):
        return None
    if name in mapping:
        return name
    folded = name.casefold()
    return next((k for k in mapping if isinstance(k, str) and k.casefold() == folded), None)


def _select(
    resource: dict[str, Any], selection: _Selection, resolver: AttributeResolver | None
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, sub in ALWAYS:
        if name not in resource:
            continue
        if sub is None:
            result[name] = _copy(resource[name])
        elif isinstance(resource[name], dict) and sub in resource[name]:
            result.setdefault(name, {})[sub] = resource[name][sub]
    for key, value in resource.items():
        if key not in result and _is_always(key, resolver):
            result[key] = _copy(value)
    for container, names in selection.items():
        source = resource if container is None else resource.get(container)
        if not isinstance(source, dict):
            continue
        target = result
        if container is not None:
            if "*" in names:
                result[container] = {
                    k: _copy(v) for k, v in source.items() if _returnable(k, resolver, container)
                }
                continue
            target = result.setdefault(container, {})
        for name, subs in names.items():
            if name not in source or not _returnable(name, resolver, container):
                continue
            if subs is None:
                target[name] = _copy(source[name])
            elif name in target and not isinstance(target[name], list | dict):
                continue
            else:
                _merge(target, name, _only(source[name], subs))
        if container is not None and not target:
            del result[container]
    return result


def _exclude(result: dict[str, Any], selection: _Selection, resolver: AttributeResolver | None) -> None:
    for container, names in selection.items():
        target = result if container is None else result.get(container)
        if not isinstance(target, dict):
            continue
        if "*" in names and container is not None:
            del result[container]
            continue
        for name, subs in names.items():
            if name not in target or (container is None and _is_always(name, resolver)):
                continue
            if subs is None:
                if container is None and (name, "resourceType") in _ALWAYS_SUBS:
                    _keep_only(target, name, {"resourceType"})
                else:
                    del target[name]
                continue
            for item in target[name] if isinstance(target[name], list) else [target[name]]:
                if isinstance(item, dict):
                    for sub in subs:
                        if sub in item and (name, sub) not in _ALWAYS_SUBS:
                            del item[sub]
        if container is not None and not target:
            del result[container]


_ALWAYS_SUBS = {(name, sub) for name, sub in ALWAYS if sub}


def _keep_only(target: dict[str, Any], key: str, subs: set[str]) -> None:
    kept = _only(target[key], subs)
    if kept:
        target[key] = kept
    else:
        del target[key]


def _only(value: Any, subs: set[str]) -> Any:
    """``value`` (a complex value or a list of them) with only the sub-attributes ``subs``."""
    if isinstance(value, list):
        return [_only(item, subs) for item in value if isinstance(item, dict)]
    if not isinstance(value, dict):
        return value
    return {sub: _copy(value[sub]) for sub in subs if sub in value}


def _merge(target: dict[str, Any], key: str, value: Any) -> None:
    """Add the sub-attributes in ``value`` to what ``target[key]`` already holds."""
    current = target.get(key)
    if isinstance(current, dict) and isinstance(value, dict):
        current.update(value)
    elif isinstance(current, list) and isinstance(value, list) and len(current) == len(value):
        for have, more in zip(current, value, strict=True):
            have.update(more)
    else:
        target[key] = value


def _returned(key: str, resolver: AttributeResolver | None, container: str | None = None) -> str:
    if resolver is None or key.startswith("urn:") and container is None:
        return "default"
    return resolver.resolve(container, key).returned


def _is_always(key: str, resolver: AttributeResolver | None) -> bool:
    return key in ("id", "schemas") or _returned(key, resolver) == "always"


def _returnable(key: str, resolver: AttributeResolver | None, container: str | None = None) -> bool:
    return _returned(key, resolver, container) != "never"


def _default(resource: dict[str, Any], resolver: AttributeResolver | None) -> dict[str, Any]:
    """What is returned when ``attributes`` is not given: all but ``never``/``request`` attributes."""
    result: dict[str, Any] = {}
    for key, value in resource.items():
        schema = resolver.schema_urn(key) if resolver is not None else None
        if schema is not None and isinstance(value, dict):
            result[key] = {k: _copy(v) for k, v in value.items() if _by_default(k, resolver, schema)}
        elif _by_default(key, resolver):
            result[key] = _copy(value)
    return result


def _by_default(key: str, resolver: AttributeResolver | None, container: str | None = None) -> bool:
    return _returned(key, resolver, container) not in ("never", "request")


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value
