"""Rendering a record as a SCIM resource, in one call (:meth:`ShapeRenderers.render`) that does
its own formatting: database values as SCIM JSON values (:func:`to_scim`, timestamps by
:func:`format_datetime`), placed where each attribute goes, then the multi-valued children and
``meta``.

The placing is planned once per attribute: a :data:`RenderStep` says which row value goes where
and how it is converted, so a render only converts and places each non-null column. The steps
are then compiled once per record shape (:class:`ShapeRenderers`): a shape knows which columns it
holds, so its renderer reads those slots straight from the record and runs only their steps,
without the loop, the row tuple or the steps of columns the shape has no value in."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import partial
from math import isfinite
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # slots.py and values.py read stored values with to_scim
    from mapper.runtime.record import Record
    from mapper.runtime.slots import MultiSlot, Slot

#: What a stored value outside a value map (``else error``) reads as: the attribute is left out.
OMIT: Any = object()

#: A boolean stored as text: what each spelling reads as (any case, spaces around); any other
#: text (``'maybe'``, ``''``) is no flag and has no SCIM value (:func:`_boolean`).
_FLAG_TEXTS = {
    **dict.fromkeys(("1", "true", "t", "y", "yes", "on"), True),
    **dict.fromkeys(("0", "false", "f", "n", "no", "off"), False),
}


# ---------------------------------------------------------------------------------------------
# values: database -> SCIM


def format_datetime(value: datetime | date | str | int) -> str | None:
    """RFC 3339: UTC with 'Z' (naive datetimes are taken as UTC, and a date, a ``DATE`` column's
    value, as its midnight in UTC: ``1990-05-07T00:00:00Z``, never the bare day, which is no
    ``xsd:dateTime``). An integer is a timestamp as
    the cache keeps it (:func:`mapper.runtime.record.instant`: microseconds since the epoch).
    None for text that is no timestamp (MySQL's zero date ``0000-00-00 00:00:00``, which pymysql
    returns as text): no value, rather than a dateTime no client can read."""
    if isinstance(value, int):
        return format_instant(value)
    if isinstance(value, str):
        try:
            parsed: datetime | date = datetime.fromisoformat(value)
        except ValueError:
            return None
        value = parsed
    if isinstance(value, datetime):
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        spec = (
            "microseconds"
            if value.microsecond % 1000
            else ("milliseconds" if value.microsecond else "seconds")
        )
        return value.isoformat(timespec=spec).replace("+00:00", "Z")
    return f"{value.isoformat()}T00:00:00Z"  # a DATE column's day: its midnight, in UTC as above


def to_scim(attr_type: str, value: Any) -> Any:
    """A database value as the JSON value of a SCIM attribute of ``attr_type``."""
    if attr_type == "boolean":
        return _boolean(value)
    if attr_type == "integer":
        return _integer(value)
    if attr_type == "decimal":
        return _decimal(value)
    if attr_type == "dateTime":
        return format_datetime(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, bool):
        return value
    return value if isinstance(value, str) else str(value)


_EPOCH_DAY = date(1970, 1, 1).toordinal()
_CLOCK = tuple(f"T{hour:02d}:{minute:02d}:" for hour in range(24) for minute in range(60))
_SECONDS = tuple(f"{second:02d}" for second in range(60))
_MILLIS = tuple(f".{milli:03d}Z" for milli in range(1000))
#: Days seen, as text: a read renders two timestamps, and a cache's users span a few hundred days
#: at most, so the dates repeat; bounded in case they do not.
_days: dict[int, str] = {}
_DAYS_KEPT = 4096


def format_instant(value: int) -> str:
    """An instant (:func:`mapper.runtime.record.instant`) as RFC 3339 text in UTC, exactly as
    :func:`format_datetime` renders the datetime it stands for (seconds, milliseconds or
    microseconds, whichever the value needs), from tables of the clock's text: a sixth of
    ``datetime``'s cost, paid on every read of a record's two timestamps."""
    seconds, micro = divmod(value, 1_000_000)
    days, second = divmod(seconds, 86_400)
    day = _days.get(days)
    if day is None:
        day = datetime.fromordinal(_EPOCH_DAY + days).date().isoformat()
        if len(_days) < _DAYS_KEPT:
            _days[days] = day
    minute, second = divmod(second, 60)
    if not micro:
        return day + _CLOCK[minute] + _SECONDS[second] + "Z"
    milli, rest = divmod(micro, 1000)
    if rest:
        return f"{day}{_CLOCK[minute]}{_SECONDS[second]}.{micro:06d}Z"
    return day + _CLOCK[minute] + _SECONDS[second] + _MILLIS[milli]


# ---------------------------------------------------------------------------------------------
# resources


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
    convert: Callable[[Any], Any]
    if slot.ident is not None:
        convert = slot.ident
    elif attr.type == "dateTime":
        convert = _datetime
    elif attr.type == "decimal":
        convert = _decimal
    elif attr.type == "integer":
        convert = _integer
    elif attr.type == "boolean":
        convert = _boolean
    else:
        convert = partial(to_scim, attr.type)
    if slot.null is not None:  # ``null ""``: the stored value of no value is left out
        convert, text = _Blank(slot.null, convert), None
    simple = not (slot.meta or attr.multi_valued or attr.sub_attribute or slot.complex)
    if simple and slot.extension is None:
        return slot.index, text, convert, attr.attribute, None
    return slot.index, text, convert, attr.attribute, _placer(slot)


class _Blank:
    """The converter of a ``null ""`` attribute: None (left out) for the stored value that means
    no value, else ``convert``'s value."""

    __slots__ = ("convert", "null")

    def __init__(self, null: str, convert: Callable[[Any], Any]) -> None:
        self.null, self.convert = null, convert

    def __call__(self, value: Any) -> Any:
        return None if value == self.null else self.convert(value)


def _boolean(value: Any) -> bool | None:
    """A boolean attribute's value: text as :data:`_FLAG_TEXTS` reads it, None (left out) for text
    that is no flag (``'maybe'`` read as false, and the next write of the object stored false
    over it); anything else by its truth (``ShapeRenderers.compile`` writes this in line)."""
    if isinstance(value, str):
        return _FLAG_TEXTS.get(value.strip().lower())
    return bool(value)


def _decimal(value: Any) -> int | float | None:
    """A decimal attribute's value: an integer when it is integral and fits 64 bits (orjson's
    integers), else a float; None (left out) for what JSON has no number for: a value that is not
    finite (PostgreSQL's ``NaN`` and ``Infinity``, SQLite's ``9e999``) or no number at all."""
    try:
        number = value if isinstance(value, Decimal) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return None
    if not number.is_finite():
        return None
    if number == number.to_integral_value() and -_INT64 <= number < _INT64:
        return int(number)
    as_float = float(number)
    return as_float if isfinite(as_float) else None


_INT64 = 2**63


def _integer(value: Any) -> int | None:
    """An integer attribute's value; None (left out) for a stored value that is no integer: a
    fraction in a NUMERIC column (``2.75``, which ``int()`` served as 2, and the next write of the
    object stored back), text that is no number (``int()`` raised, a 500), or one beyond 64 bits
    (which JSON's integers, orjson's, do not hold)."""
    if type(value) is int and -_INT64 <= value < _INT64:
        return value
    if isinstance(value, bool):
        return int(value)
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or number != number.to_integral_value() or not -_INT64 <= number < _INT64:
        return None
    return int(number)


def _datetime(value: Any) -> str | None:
    """A dateTime attribute's value: :func:`to_scim`'s, straight to the instant formatter for the
    integers the cache keeps timestamps as (:func:`mapper.runtime.record.instant`); None (left
    out) for text that is no timestamp."""
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

        return _inline(place_meta, ("meta", None, name, sub))
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

        return _inline(place_sub, ("sub", extension, name, sub))
    if slot.complex:

        def place_complex(resource: dict[str, Any], meta: dict[str, Any], value: Any) -> None:
            (resource if extension is None else extend(resource, extension))[name] = {"value": value}

        return _inline(place_complex, ("complex", extension, name, None))

    def place(resource: dict[str, Any], meta: dict[str, Any], value: Any) -> None:
        (resource if extension is None else extend(resource, extension))[name] = value

    return _inline(place, ("plain", extension, name, None))


#: What a placer does, for :meth:`ShapeRenderers.compile` to write in line instead of calling it:
#: ``(kind, extension URN or None, attribute name, sub-attribute or None)``, ``kind`` one of
#: ``meta``, ``sub``, ``complex``, ``plain``. Placers without one (multi-valued items, transforms
#: that may leave the value out) are called.
Inline = tuple[str, str | None, str, str | None]


def _inline(place: Place, inline: Inline) -> Place:
    place.inline = inline  # type: ignore[attr-defined]
    return place


class ShapeRenderers(dict[type, Callable[[Any], tuple[dict[str, Any], dict[str, Any]]]]):
    """The renderer of one object type: :meth:`render` makes a record's resource.

    ``renderers[type(record)](record)`` is ``(resource, meta)``: ``schemas``, ``id`` and the
    attributes of ``steps`` placed as a loop over the full row would place them (in step order,
    nulls left out), for records of that shape. Each renderer is compiled on the shape's first
    read, from column positions and the steps' positions in ``steps`` (never values), as
    :func:`mapper.runtime.record._make_shape` compiles the shape itself (docs/decisions.md, "A
    compact record cache"). Every slot is still tested for None: the shape made past
    ``MAX_SHAPES`` holds every column, NULLs too."""

    def __init__(
        self,
        steps: Sequence[RenderStep],
        multis: Sequence[MultiSlot],
        schema_urn: str,
        type_name: str,
        id_of: Callable[[Any], str],
        anchor: int,
    ) -> None:
        super().__init__()
        self.steps = tuple(steps)
        self.multis = tuple(multis)
        self.schema_urn = schema_urn
        self.type_name = type_name
        self.id_of = id_of
        self.anchor = anchor

    def without_meta(self) -> ShapeRenderers:
        """The renderer of the same resources without the values placed in ``meta`` (its
        timestamps: ``resourceType`` stays, and the version is :meth:`render`'s to leave out)."""
        steps = tuple(s for s in self.steps if getattr(s[4], "inline", ("",))[0] != "meta")
        return ShapeRenderers(steps, self.multis, self.schema_urn, self.type_name, self.id_of, self.anchor)

    def render(self, record: Record, versioned: bool = True) -> dict[str, Any]:
        """A fresh resource dict (callers decorate it): ``schemas``, ``id``, the mapped attributes
        in mapping order (by the renderer compiled for the record's shape), multi-valued
        children, then ``meta`` with the record's version (not ``versioned``: without it, for a
        caller that works with the record's version itself)."""
        resource, meta = self[type(record)](record)
        for multi_slot, items in zip(self.multis, record.children, strict=False):
            if not items:
                continue
            urn = multi_slot.extension
            target = resource if urn is None else extension_of(resource, urn)
            target[multi_slot.multi.attribute] = [render_item(multi_slot, item) for item in items]
        if versioned:
            meta["version"] = record.version
        resource["meta"] = meta
        return resource

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
        namespace: dict[str, Any] = {
            "urn": self.schema_urn,
            "type_name": self.type_name,
            "id_of": self.id_of,
            "format_instant": format_instant,
            "format_datetime": format_datetime,
        }
        for n, (index, text, convert, key, place) in enumerate(self.steps):
            if index not in held:
                continue
            namespace[f"c{n}"], namespace[f"k{n}"], namespace[f"p{n}"] = convert, key, place
            lines += [f"    v = record._{index}", "    if v is not None:"]
            if convert is _datetime:  # _datetime, in line
                lines.append("        v = format_instant(v) if type(v) is int else format_datetime(v)")
            elif convert is _boolean:  # _boolean, in line
                namespace["flag_texts"] = _FLAG_TEXTS
                lines.append(
                    "        v = flag_texts.get(v.strip().lower()) if isinstance(v, str) else bool(v)"
                )
            elif text is None:
                lines.append(f"        v = c{n}(v)")
            else:  # a str of a text type is its own JSON
                lines.append(f"        if type(v) is not str: v = c{n}(v)")
            placed = _placed(n, place, namespace)
            if convert in (_datetime, _decimal, _integer, _boolean) or type(convert) is _Blank:  # no value
                lines += ["        if v is not None:", *("            " + line for line in placed)]
            else:
                lines += ["        " + line for line in placed]
        lines.append("    return resource, meta")
        source = "\n".join(lines)
        exec(compile(source, f"<renderer {present}>", "exec"), namespace)  # noqa: S102 - see the class
        renderer: Callable[[Any], tuple[dict[str, Any], dict[str, Any]]] = namespace["render"]
        return renderer


def _placed(n: int, place: Place | None, namespace: dict[str, Any]) -> list[str]:
    """The lines of a compiled renderer that place step ``n``'s value ``v``: what its placer does,
    written in line when it says what that is (:data:`Inline`; ``extension_of`` and
    ``setdefault`` as the placer runs them), else a call of it."""
    if place is None:
        return [f"resource[k{n}] = v"]
    inline: Inline | None = getattr(place, "inline", None)
    if inline is None:
        return [f"p{n}(resource, meta, v)"]
    kind, extension, _name, sub = inline
    namespace[f"s{n}"], namespace[f"u{n}"] = sub, extension
    if kind == "meta":
        return [f"meta[s{n}] = v"] if sub else ["pass"]
    if extension is None:
        lines, target = [], "resource"
    else:  # extension_of(resource, urn)
        lines = [
            f"t = resource.get(u{n})",
            "if t is None:",
            f"    t = resource[u{n}] = {{}}",
            f"    resource['schemas'].append(u{n})",
        ]
        target = "t"
    if kind == "sub":
        lines.append(f"{target}.setdefault(k{n}, {{}})[s{n}] = v")
    elif kind == "complex":
        lines.append(f"{target}[k{n}] = {{'value': v}}")
    else:
        lines.append(f"{target}[k{n}] = v")
    return lines


def render_item(multi_slot: MultiSlot, item: Any) -> dict[str, Any]:
    """A child of a record (a multi's item: its value, then its sub-attributes) as SCIM renders it."""
    if not multi_slot.extra:
        return {"value": multi_slot.ident(item)}
    rendered: dict[str, Any] = {"value": multi_slot.ident(item[0])}
    for name, value in zip(multi_slot.extra, item[1:], strict=False):
        if value is None:
            continue
        if name != "primary":
            rendered[name] = str(value)
        elif to_scim("boolean", value):  # false is the default: left out, as clients send it
            rendered[name] = True
    return rendered


def extension_of(resource: dict[str, Any], urn: str) -> dict[str, Any]:
    """The object of extension ``urn`` in ``resource``, made (and its URN listed in ``schemas``)
    on first use."""
    container = resource.get(urn)
    if container is None:
        container = resource[urn] = {}
        resource["schemas"].append(urn)
    return container
