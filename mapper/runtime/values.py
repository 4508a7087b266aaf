"""Client JSON values checked and converted to what each dialect binds (:func:`coerce`), and the
value transforms of the mapping, both ways (:class:`Transform`). Errors name the attribute, never
the value. Database values are rendered as SCIM JSON values by the renderer
(:func:`mapper.runtime.rendering.to_scim`)."""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from math import isfinite
from typing import Any

from mapper.plan import PlanAttribute
from mapper.runtime.errors import InvalidValueError
from mapper.runtime.rendering import OMIT, to_scim

#: The range of a signed 64-bit integer: the widest integer column of every dialect we serve
#: (SQLite INTEGER, PostgreSQL bigint, MySQL BIGINT). Integers outside it are refused before
#: they reach a driver (SQLite's would raise OverflowError while binding).
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
_INT64_DIGITS = 19
log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------
# values: SCIM -> database


def parse_boolean(value: Any) -> bool | None:
    """A JSON boolean, or the strings Entra ID sends ("True", "false"...); None for anything else."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def parse_integer(value: Any) -> int | None:
    """A JSON integer, an integral float or a numeric string, within a signed 64-bit integer;
    None for anything else (a longer digit string is not even converted)."""
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str):
        text = value.strip()
        if len(text.lstrip("+-")) <= _INT64_DIGITS:
            try:
                number = int(text)
            except ValueError:
                return None
    if number is None or not INT64_MIN <= number <= INT64_MAX:
        return None
    return number


_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
#: Text that :func:`text_problem` finds nothing in, at a glance: ASCII without a NUL (``PLAIN``),
#: and without any control character for ``controls=True`` (``PLAIN_STRICT``). A string they do
#: not match in full may still be fine: ask :func:`text_problem`.
PLAIN = re.compile(r"[\x01-\x7f]*")
PLAIN_STRICT = re.compile(r"[\x20-\x7e]*")
#: the SCIM types that :func:`coerce` takes a string of as it is, once its text is checked
TEXT_TYPES = frozenset({"string", "binary"})


def text_problem(text: str, *, controls: bool = False) -> str | None:
    """What makes ``text`` unfit to store or compare, or None: a NUL character (PostgreSQL text
    cannot hold one, and the other databases would store a string no client can type), a lone
    surrogate (it has no UTF-8 encoding, so no driver can send it) and, with ``controls``, any
    control character (C0, DEL, C1: refused in names, the query attribute and ``required``
    attributes, where an invisible character makes two values look the same)."""
    if text.isascii():
        if controls:
            return "must not contain control characters" if _CONTROLS.search(text) else None
        return "must not contain a NUL character" if "\x00" in text else None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "must not contain a lone surrogate"
    if controls and _CONTROLS.search(text):
        return "must not contain control characters"
    return "must not contain a NUL character" if "\x00" in text else None


def coerce(attr: PlanAttribute, value: Any, dialect: str, *, strict: bool = False) -> Any:
    """A client's JSON value as the value to bind for ``attr``; InvalidValueError when it does not
    fit the attribute's type. Text is checked with :func:`text_problem` (``strict``: control
    characters too, for the query attribute and required attributes). Never puts the value in the
    message."""
    if value is None:
        return None
    if (
        type(value) is str
        and attr.type in TEXT_TYPES
        and (PLAIN_STRICT if strict else PLAIN).fullmatch(value)
    ):
        return value  # what the lines below make of it, in a quarter of the time
    if isinstance(value, str):
        problem = text_problem(value, controls=strict)
        if problem is not None:
            raise InvalidValueError(attr.path, problem)
    kind = attr.type
    if kind == "boolean":
        flag = parse_boolean(value)
        if flag is None:
            raise InvalidValueError(attr.path, "expected a boolean")
        return flag
    if kind == "integer":
        integer = parse_integer(value)
        if integer is None:
            raise InvalidValueError(attr.path, "expected a 64-bit integer")
        return integer
    if kind == "decimal":
        if isinstance(value, int | float | str) and not isinstance(value, bool):
            try:
                number = Decimal(str(value).strip())
            except InvalidOperation:
                pass
            else:
                if number.is_finite() and isfinite(float(number)):  # JSON's numbers are doubles
                    return number
        raise InvalidValueError(attr.path, "expected a decimal number")
    if kind == "dateTime":
        if isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value.strip())
                moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
            except ValueError:
                pass
            except OverflowError:  # 9999-12-31T23:59:59-05:00 is in year 10000 in UTC
                raise InvalidValueError(attr.path, "is outside the years 1 to 9999 in UTC") from None
            else:
                return bind_datetime(moment, dialect)
        raise InvalidValueError(attr.path, "expected an RFC 3339 dateTime")
    if kind == "reference":
        if isinstance(value, str | int) and not isinstance(value, bool):
            return str(value)
        raise InvalidValueError(attr.path, "expected a reference id")
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise InvalidValueError(attr.path, f"expected a {kind}")


_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def is_day(stored: Any) -> bool:
    """Whether a dateTime column's stored value is a day without a time: a ``DATE`` column's
    ``date`` (PostgreSQL, MariaDB), or ISO ``YYYY-MM-DD`` text (SQLite keeps dates as text)."""
    if type(stored) is date:
        return True
    return type(stored) is str and len(stored) == 10 and _DAY.fullmatch(stored) is not None


def bind_day(attr: PlanAttribute, bound: Any, dialect: str) -> Any:
    """A dateTime value as bound (:func:`bind_datetime`) for a column that holds days: the day
    (a ``date``; ISO text on SQLite, as its other days are kept), when the value is its midnight
    in UTC, as days are served (:func:`~mapper.runtime.rendering.format_datetime`). A time of day
    the column cannot keep is refused: the database would drop it, and the write would answer a
    moment other than the one the client sent."""
    moment = datetime.fromisoformat(bound) if isinstance(bound, str) else bound
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    if moment.time() != time(0):
        raise InvalidValueError(
            attr.path, "is a date in the database: its time must be midnight UTC (T00:00:00Z)"
        )
    day = moment.date()
    return day.isoformat() if dialect == "sqlite" else day


def bind_datetime(moment: datetime, dialect: str) -> Any:
    """A UTC datetime as each dialect stores it in our schemas: ISO text with milliseconds in
    SQLite (as its defaults write), naive UTC for MySQL/MariaDB DATETIME, aware elsewhere."""
    if dialect == "sqlite":
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if dialect in ("mysql", "mariadb"):
        return moment.replace(tzinfo=None)
    return moment


# ---------------------------------------------------------------------------------------------
# value transforms: ``not COLUMN`` and ``map { ... }`` (mapper.plan.PlanTransform)


def canonical(value: Any) -> Any:
    """A stored or declared value in a form that compares across drivers: booleans and numbers
    as normalised decimal text (``True``, ``1`` and ``Decimal("1.0")`` are all ``"1"``), strings
    without the padding of CHAR columns."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float | Decimal):
        number = Decimal(str(value))
        return format(number.normalize(), "f") if number.is_finite() else str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        value = bytes(value).decode("utf-8", "replace")
    return str(value).rstrip()


class Transform:
    """The value transform of one attribute, both ways. ``read`` turns a stored value into the
    SCIM value (OMIT for a value outside a map with ``else error``, logged once per attribute);
    ``write`` turns a client's value, already coerced to the attribute's type, into the value
    to store (InvalidValueError naming the attribute for a value outside the map)."""

    __slots__ = ("attr", "from_scim", "from_stored", "kind", "warned")

    def __init__(self, attr: PlanAttribute) -> None:
        assert attr.transform is not None
        self.attr = attr
        self.kind = attr.transform.kind
        self.from_stored: dict[Any, Any] = {}
        self.from_scim: dict[Any, Any] = {}
        for scim, stored in attr.transform.pairs:
            self.from_stored.setdefault(canonical(stored), scim)
            self.from_scim.setdefault(self._scim_key(scim), stored)
        self.warned = False

    def _scim_key(self, value: Any) -> Any:
        if isinstance(value, str) and not self.attr.case_exact:
            return value.casefold()
        return canonical(value)

    def read(self, stored: Any) -> Any:
        if stored is None:
            return None
        if self.kind == "not":
            flag = to_scim("boolean", stored)
            return OMIT if flag is None else not flag
        found = self.from_stored.get(canonical(stored), OMIT)
        if found is not OMIT:
            return found
        transform = self.attr.transform
        assert transform is not None
        if transform.otherwise == "value":
            return transform.default
        if not self.warned:  # the value itself is data: it is never logged
            self.warned = True
            log.warning(
                "%s: a stored value of column %s is outside its value map; the attribute is left out",
                self.attr.path,
                self.attr.column,
            )
        return OMIT

    def reads_as(self, stored: Any, value: Any) -> bool:
        """Whether ``stored`` (a column's value) reads as the SCIM ``value``: then a write of
        ``value`` keeps it. A map whose ``else`` reads several stored values as one (Redmine's
        status 2, registered, and 3, locked, both inactive; Mattermost's deleteat, any time of
        deactivation) wrote that one's own stored value back on every update of the object,
        locking the registered user, losing the time of the deactivation."""
        if stored is None or value is None:
            return False
        read = self.read(stored)
        return read is not OMIT and read is not None and self._scim_key(read) == self._scim_key(value)

    def write(self, value: Any) -> Any:
        if value is None:
            return None
        if self.kind == "not":
            return not value
        found = self.from_scim.get(self._scim_key(value), OMIT)
        if found is OMIT:
            raise InvalidValueError(self.attr.path, "is not one of the values the mapping translates")
        return found
