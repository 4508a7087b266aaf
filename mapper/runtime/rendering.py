"""Rendering a record as a SCIM resource, planned once per attribute: a :data:`RenderStep` says
which row value goes where and how it is converted, so :meth:`mapper.runtime.codec.Codec.render`
only converts and places each non-null column.

The steps are then compiled once per record shape (:class:`ShapeRenderers`): a shape knows which
columns it holds, so its renderer reads those slots straight from the record and runs only their
steps, without the loop, the row tuple or the steps of columns the shape has no value in."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from mapper.runtime.record import format_instant
from mapper.runtime.slots import Slot
from mapper.runtime.values import OMIT, format_datetime, to_scim

Place = Callable[[dict[str, Any], dict[str, Any], Any], None]  # (resource, meta, value)
#: (row index, text type or None, converter, key, placer)
RenderStep = tuple[int, str | None, Callable[[Any], Any], str, Place | None]

#: The SCIM types whose database value :func:`to_scim` converts; a ``str`` of any other type
#: (string, reference, binary) is its own JSON value.
_CONVERTED = frozenset({"boolean", "integer", "decimal", "dateTime"})


def render_steps(slots: Sequence[Slot]) -> tuple[RenderStep, ...]:
    """One step per readable attribute. A step without a placer sets ``resource[key]`` (a core
    attribute with a plain value, the common case); a text step skips the converter for a str."""
    return tuple(_render_step(slot) for slot in slots if slot.readable)


def _render_step(slot: Slot) -> RenderStep:
    attr = slot.attr
    assert slot.index is not None  # readable slots are in the import projection
    if slot.transform is not None:  # converted by the transform; a value outside a map is left out
        place = _placer(slot)

        def place_known(resource: dict[str, Any], meta: dict[str, Any], value: Any) -> None:
            if value is not OMIT:
                place(resource, meta, value)

        return slot.index, None, slot.transform.read, attr.attribute, place_known
    text = None if slot.ident is not None or attr.type in _CONVERTED else attr.type
    if slot.ident is not None:
        convert = slot.ident
    elif attr.type == "dateTime":
        convert = _datetime
    else:
        convert = partial(to_scim, attr.type)
    simple = not (slot.meta or attr.multi_valued or attr.sub_attribute or slot.complex)
    if simple and slot.extension is None:
        return slot.index, text, convert, attr.attribute, None
    return slot.index, text, convert, attr.attribute, _placer(slot)


def _datetime(value: Any) -> str:
    """A dateTime attribute's value: :func:`to_scim`'s, straight to the instant formatter for the
    integers the cache keeps timestamps as (:func:`mapper.runtime.record.instant`)."""
    return format_instant(value) if type(value) is int else format_datetime(value)


def _placer(slot: Slot) -> Place:
    """Where a converted value goes in the resource (or in ``meta``)."""
    attr = slot.attr
    name, sub, extension = attr.attribute, attr.sub_attribute, slot.extension

    extend = extension_of  # the extension's object in a resource, made on first use

    if slot.meta:

        def place_meta(resource: dict[str, Any], meta: dict[str, Any], value: Any) -> None:
            if sub:
                meta[sub] = value

        return place_meta
    if attr.multi_valued:
        filter_ = attr.filter
        key = sub or "value"

        def place_item(resource: dict[str, Any], meta: dict[str, Any], value: Any) -> None:
            target = resource if extension is None else extend(resource, extension)
            items: list[dict[str, Any]] | None = target.get(name)
            if items is None:  # the first item: nothing to look for
                first: dict[str, Any] = dict(filter_)
                first[key] = value
                target[name] = [first]
                return
            found = next((i for i in items if all(i.get(k) == v for k, v in filter_)), None)
            item: dict[str, Any] = dict(filter_) if found is None else found
            if found is None:
                items.append(item)
            item[key] = value

        return place_item
    if sub:

        def place_sub(resource: dict[str, Any], meta: dict[str, Any], value: Any) -> None:
            (resource if extension is None else extend(resource, extension)).setdefault(name, {})[sub] = value

        return place_sub
    if slot.complex:

        def place_complex(resource: dict[str, Any], meta: dict[str, Any], value: Any) -> None:
            (resource if extension is None else extend(resource, extension))[name] = {"value": value}

        return place_complex

    def place(resource: dict[str, Any], meta: dict[str, Any], value: Any) -> None:
        (resource if extension is None else extend(resource, extension))[name] = value

    return place


class ShapeRenderers(dict[type, Callable[[Any], tuple[dict[str, Any], dict[str, Any]]]]):
    """``renderers[type(record)](record)`` is ``(resource, meta)``: ``schemas``, ``id`` and the
    attributes of ``steps`` placed as :meth:`mapper.runtime.codec.Codec.render`'s loop over the
    full row places them (in step order, nulls left out), for records of that shape. Each
    renderer is compiled on the shape's first read, from column positions and the steps'
    positions in ``steps`` (never values), as :func:`mapper.runtime.record._make_shape` compiles
    the shape itself (docs/decisions.md, "A compact record cache"). Every slot is still tested
    for None: the shape made past ``MAX_SHAPES`` holds every column, NULLs too."""

    def __init__(
        self,
        steps: Sequence[RenderStep],
        schema_urn: str,
        type_name: str,
        id_of: Callable[[Any], str],
        anchor: int,
    ) -> None:
        super().__init__()
        self.steps = tuple(steps)
        self.schema_urn = schema_urn
        self.type_name = type_name
        self.id_of = id_of
        self.anchor = anchor

    def __missing__(self, cls: type) -> Callable[[Any], tuple[dict[str, Any], dict[str, Any]]]:
        renderer = self[cls] = self.compile(cls.present)  # type: ignore[attr-defined]
        return renderer

    def compile(self, present: Sequence[int]) -> Callable[[Any], tuple[dict[str, Any], dict[str, Any]]]:
        held = frozenset(present)
        anchor = f"record._{self.anchor}" if self.anchor in held else "None"
        lines = [
            "def render(record):",
            f"    resource = {{'schemas': [urn], 'id': id_of({anchor})}}",
            "    meta = {'resourceType': type_name}",
        ]
        namespace: dict[str, Any] = {"urn": self.schema_urn, "type_name": self.type_name, "id_of": self.id_of}
        for n, (index, text, convert, key, place) in enumerate(self.steps):
            if index not in held:
                continue
            namespace[f"c{n}"], namespace[f"k{n}"], namespace[f"p{n}"] = convert, key, place
            lines += [f"    v = record._{index}", "    if v is not None:"]
            if text is None:
                lines.append(f"        v = c{n}(v)")
            else:  # a str of a text type is its own JSON
                lines.append(f"        if type(v) is not str: v = c{n}(v)")
            placed = f"resource[k{n}] = v" if place is None else f"p{n}(resource, meta, v)"
            lines.append(f"        {placed}")
        lines.append("    return resource, meta")
        source = "\n".join(lines)
        exec(compile(source, f"<renderer {present}>", "exec"), namespace)  # noqa: S102 - see the class
        renderer: Callable[[Any], tuple[dict[str, Any], dict[str, Any]]] = namespace["render"]
        return renderer


def extension_of(resource: dict[str, Any], urn: str) -> dict[str, Any]:
    """The object of extension ``urn`` in ``resource``, made (and its URN listed in ``schemas``)
    on first use."""
    container = resource.get(urn)
    if container is None:
        container = resource[urn] = {}
        resource["schemas"].append(urn)
    return container
