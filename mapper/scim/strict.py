"""Strict PATCH (``mapper serve --strict``): an operation on an attribute the mapping does not map
answers 400 ``invalidPath`` instead of being ignored.

By default a PATCH of something the mapping does not map (``nickName`` when no column holds it,
``emails[type eq "home"].value`` when only the work email is mapped) changes nothing and answers
200, as Microsoft Entra ID expects: it sends every attribute of its own attribute mapping. While
a mapping is being written, that silence hides mistakes; ``--strict`` names the first unmapped
path of the request instead. Only PATCH is checked: a full resource (POST, PUT) always carries
attributes that no mapping keeps (``schemas``, read-only ones).

What counts as mapped: a multi-valued attribute kept in a child table (``multi emails``), whatever
its sub-attributes and filters; otherwise an attribute-map line with the same attribute, the same
sub-attribute when the path or value names one, and a value filter that agrees with the path's
``eq`` terms (or with an item's own ``type``). ``schemas``, ``id`` and ``meta`` are the server's,
and the ``$ref``/``display``/``type`` of a reference are filled in by the gateway: never checked.
"""

from __future__ import annotations

from typing import Any

from mapper.plan import PlanAttribute, PlanObject
from mapper.scim import names
from mapper.scim.attributes import Attribute, AttributeResolver
from mapper.scim.errors import invalid_path
from mapper.scim.filter import equality_terms
from mapper.scim.paths import AttributePath, parse_path

_SERVER = frozenset({"schemas", "id", "meta"})
_FILLED_IN = frozenset({"$ref", "display", "type"})  # of a reference: the gateway's


def check_mapped(operations: Any, obj: PlanObject, resolver: AttributeResolver) -> None:
    """Raise ``invalidPath`` for the first PATCH operation that addresses an unmapped attribute.
    Malformed operations are left to :func:`mapper.scim.patch.apply_patch` to report."""
    if not isinstance(operations, list):
        return
    checker = _Checker(obj, resolver)
    for index, operation in enumerate(operations):
        if not isinstance(operation, dict):
            continue
        path, value = operation.get("path"), operation.get("value")
        try:
            if isinstance(path, AttributePath):  # parsed at the edge (mapper.scim.names.operations)
                checker.path(path, value)
            elif isinstance(path, str) and path.strip():
                checker.path(parse_path(path), value)
            elif isinstance(value, dict):
                checker.object(value, None)
        except _Unmapped as unmapped:
            raise invalid_path(
                f"Operations[{index}]: '{unmapped.path}' is not mapped to any column"
                " (the gateway serves this mapping with --strict)"
            ) from None


class _Unmapped(Exception):
    def __init__(self, path: str) -> None:
        self.path = path


class _Checker:
    def __init__(self, obj: PlanObject, resolver: AttributeResolver) -> None:
        self.obj = obj
        self.resolver = resolver

    def object(self, value: dict[str, Any], urn: str | None) -> None:
        """A path-less add/replace: each key is a path, or an extension URN holding an object."""
        for key, item in value.items():
            if not isinstance(key, str) or (urn is None and key.casefold() in _SERVER):
                continue
            schema = self.resolver.schema_urn(key) if urn is None else None
            if schema is not None:
                if isinstance(item, dict):
                    self.object(item, schema)
                continue
            path = parse_path(key)
            if urn is not None:
                path = AttributePath(urn, path.attribute, path.value_filter, path.sub_attribute)
            self.path(path, item)

    def path(self, path: AttributePath, value: Any) -> None:
        if path.urn and path.value_filter is None and path.sub_attribute is None:
            schema = self.resolver.schema_urn(f"{path.urn}:{path.attribute}")
            if schema is not None:  # the path is a whole extension
                if isinstance(value, dict):
                    self.object(value, schema)
                return
        info = self.resolver.resolve(path.urn, path.attribute)
        if not path.urn and info.name.casefold() in _SERVER and not info.urn:
            return
        if self._child_table(info):
            return
        lines = [a for a in self.obj.attributes if self._same(a, info)]
        if not lines:
            raise _Unmapped(str(path))
        if path.value_filter is not None:
            terms = equality_terms(path.value_filter)
            if terms is not None:
                wanted = [(t.attribute.casefold(), str(v).casefold()) for t, v in terms if not t.sub]
                lines = [a for a in lines if _agrees(a, wanted)]
            if not lines:
                raise _Unmapped(str(path))
        if path.sub_attribute is not None:
            self._subs(str(path), lines, [path.sub_attribute])
        elif info.multi_valued and isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    item = names.complex_value(info, item, self.resolver)
                    typed = [("type", str(item["type"]).casefold())] if "type" in item else []
                    matching = [a for a in lines if _agrees(a, typed)]
                    if not matching:
                        raise _Unmapped(f'{path}[type eq "{item.get("type")}"]')
                    self._subs(str(path), matching, [k for k in item if k not in ("type", "primary")])
        elif isinstance(value, dict):
            given = [k for k, v in value.items() if v is not None]
            if any(a.reference for a in lines):
                given = [k for k in given if k.casefold() not in _FILLED_IN]
            self._subs(str(path), lines, given)

    def _child_table(self, info: Attribute) -> bool:
        return any(
            m.attribute.casefold() == info.name.casefold() and _same_urn(m.schema_urn, info.urn, self.obj)
            for m in self.obj.multi
        )

    def _same(self, line: PlanAttribute, info: Attribute) -> bool:
        return line.attribute.casefold() == info.name.casefold() and _same_urn(
            line.schema_urn, info.urn, self.obj
        )

    @staticmethod
    def _subs(where: str, lines: list[PlanAttribute], subs: list[str]) -> None:
        mapped = {(a.sub_attribute or "value").casefold() for a in lines}
        for sub in subs:
            if sub.casefold() not in mapped:
                raise _Unmapped(f"{where}.{sub}" if "." not in where.rsplit("]", 1)[-1] else where)


def _same_urn(planned: str, resolved: str, obj: PlanObject) -> bool:
    if not resolved:  # a common attribute (externalId)
        return planned in ("", obj.schema_urn)
    return planned.casefold() == resolved.casefold() or (planned == "" and resolved == obj.schema_urn)


def _agrees(line: PlanAttribute, terms: list[tuple[str, str]]) -> bool:
    """Whether a line's value filter (``type eq "work"``) agrees with ``terms``; a line without a
    filter agrees with any."""
    fixed = {k.casefold(): v.casefold() for k, v in line.filter}
    return all(fixed.get(k, v) == v for k, v in terms)
