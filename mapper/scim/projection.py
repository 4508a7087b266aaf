"""The ``attributes`` and ``excludedAttributes`` query parameters (RFC 7644 §3.4.2.5, §3.9).

``project(resource, attributes, excluded, resolver)`` returns a new dict holding what the client
asked for. Each parameter is a comma-separated string or a list of paths; names are matched
case-insensitively and may be URN-qualified (``urn:...:enterprise:2.0:User:manager``), name a
sub-attribute (``name.givenName``, ``emails.value``), or name a whole extension by its URN.

- ``id``, ``schemas`` and ``meta.resourceType`` are always returned (:data:`ALWAYS`, and every
  attribute whose ``returned`` is ``always``); ``excludedAttributes`` cannot remove them.
- Attributes whose ``returned`` is ``never`` (``password``) are never returned; those whose
  ``returned`` is ``request`` only when ``attributes`` names them.
- Leniency: a value filter in ``attributes`` (Microsoft's test collection sends
  ``attributes=emails[type eq "work"]``) is accepted and ignored: the whole attribute is returned.
- A malformed entry is ``invalidPath`` (400). Unknown attributes select nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mapper.scim.attributes import AttributeResolver, container_key, get_ci, key_ci
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
    wanted = _paths(attributes)
    dropped = _paths(excluded)
    if wanted:
        result = _select(resource, _selection(wanted, resolver, resource), resolver)
    else:
        result = _default(resource, resolver)
    if dropped:
        _exclude(result, _selection(dropped, resolver, resource), resolver)
    return result


def _paths(value: str | Iterable[str] | None) -> list[AttributePath]:
    if value is None:
        return []
    entries = split_list(value) if isinstance(value, str) else [e for v in value for e in split_list(v)]
    return [parse_path(entry) for entry in entries]


def _selection(
    paths: list[AttributePath], resolver: AttributeResolver | None, resource: dict[str, Any]
) -> _Selection:
    selection: _Selection = {}
    for path in paths:
        if path.urn and path.value_filter is None and path.sub_attribute is None:
            whole = f"{path.urn}:{path.attribute}"
            schema = resolver.schema_urn(whole) if resolver else None
            if schema is not None or (resolver is None and key_ci(resource, whole)):
                selection.setdefault(schema or whole, {})["*"] = None
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


def _select(
    resource: dict[str, Any], selection: _Selection, resolver: AttributeResolver | None
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, sub in ALWAYS:
        key = key_ci(resource, name)
        if key is None:
            continue
        if sub is None:
            result[key] = _copy(resource[key])
        elif (sub_key := key_ci(resource[key], sub) if isinstance(resource[key], dict) else None) is not None:
            result.setdefault(key, {})[sub_key] = resource[key][sub_key]
    for key, value in resource.items():
        if key not in result and _is_always(key, resolver):
            result[key] = _copy(value)
    for container, names in selection.items():
        source = resource if container is None else get_ci(resource, container)
        if not isinstance(source, dict):
            continue
        target = result
        if container is not None:
            container_name = key_ci(resource, container) or container
            if "*" in names:
                result[container_name] = {
                    k: _copy(v) for k, v in source.items() if _returnable(k, resolver, container)
                }
                continue
            target = result.setdefault(container_name, {})
        for name, subs in names.items():
            key = key_ci(source, name)
            if key is None or not _returnable(key, resolver, container):
                continue
            if subs is None:
                target[key] = _copy(source[key])
            elif key in target and not isinstance(target[key], list | dict):
                continue
            else:
                _merge(target, key, _only(source[key], subs))
        if container is not None and not target:
            del result[key_ci(resource, container) or container]
    return result


def _exclude(result: dict[str, Any], selection: _Selection, resolver: AttributeResolver | None) -> None:
    for container, names in selection.items():
        target = result if container is None else get_ci(result, container)
        if not isinstance(target, dict):
            continue
        if "*" in names and container is not None:
            del result[key_ci(result, container) or container]
            continue
        for name, subs in names.items():
            key = key_ci(target, name)
            if key is None or (container is None and _is_always(key, resolver)):
                continue
            if subs is None:
                if container is None and (key.casefold(), "resourcetype") in _ALWAYS_SUBS:
                    _keep_only(target, key, {"resourceType"})
                else:
                    del target[key]
                continue
            for item in target[key] if isinstance(target[key], list) else [target[key]]:
                if isinstance(item, dict):
                    for sub in subs:
                        if (sub_key := key_ci(item, sub)) is not None and (
                            key.casefold(),
                            sub.casefold(),
                        ) not in _ALWAYS_SUBS:
                            del item[sub_key]
        if container is not None and not target:
            del result[key_ci(result, container) or container]


_ALWAYS_SUBS = {(name.casefold(), sub.casefold()) for name, sub in ALWAYS if sub}


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
    out = {}
    for sub in subs:
        key = key_ci(value, sub)
        if key is not None:
            out[key] = _copy(value[key])
    return out


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
    return key.casefold() in ("id", "schemas") or _returned(key, resolver) == "always"


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
