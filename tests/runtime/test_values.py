"""Single values between the database and SCIM (mapper/runtime/values.py): database values as SCIM
JSON, client JSON checked and converted to what each dialect binds, and value transforms. The
attributes are the compiled HR example's; no database is needed."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from mapper.plan import PlanAttribute, PlanTransform
from mapper.runtime.errors import InvalidValueError
from mapper.runtime.record import instant
from mapper.runtime.rendering import OMIT, format_datetime, to_scim
from mapper.runtime.values import (
    INT64_MAX,
    INT64_MIN,
    PLAIN,
    PLAIN_STRICT,
    Transform,
    canonical,
    coerce,
    parse_boolean,
    parse_integer,
    text_problem,
)
from tests.support.hr import hr_plan

ATTRIBUTES = {a.path: a for a in hr_plan("sqlite").object("User").attributes}


def attribute(path: str, **changes: Any) -> PlanAttribute:
    return ATTRIBUTES[path].model_copy(update=changes)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (datetime(2024, 5, 1, 12, 30, 0), "2024-05-01T12:30:00Z"),  # naive is UTC
        (datetime(2024, 5, 1, 14, 30, 0, tzinfo=timezone(timedelta(hours=2))), "2024-05-01T12:30:00Z"),
        (datetime(2024, 5, 1, 12, 30, 0, 250000, tzinfo=UTC), "2024-05-01T12:30:00.250Z"),
        (datetime(2024, 5, 1, 12, 30, 0, 250001, tzinfo=UTC), "2024-05-01T12:30:00.250001Z"),
        ("2024-05-01 12:30:00", "2024-05-01T12:30:00Z"),
        ("not a time", None),  # no dateTime (MySQL's zero date): no value, left out
        (date(2024, 5, 1), "2024-05-01T00:00:00Z"),  # a DATE column's day: its midnight in UTC
    ],
)
def test_format_datetime_is_rfc3339_in_utc(value: Any, text: str | None) -> None:
    assert format_datetime(value) == text


def test_an_instant_renders_as_the_datetime_it_came_from() -> None:
    moment = datetime(2024, 5, 1, 12, 30, 0, 123000, tzinfo=UTC)
    assert format_datetime(instant(moment)) == format_datetime(moment) == "2024-05-01T12:30:00.123Z"


@pytest.mark.parametrize(
    ("kind", "stored", "scim"),
    [
        ("boolean", 1, True),
        ("boolean", 0, False),
        ("boolean", " Yes ", True),
        ("boolean", "off", False),
        ("boolean", "maybe", None),  # text that is no flag: no value, not false
        ("boolean", "", None),
        ("integer", "42", 42),
        ("decimal", Decimal("2.50"), 2.5),
        ("decimal", Decimal("3.000"), 3),
        ("string", b"caf\xc3\xa9", "café"),
        ("string", 7, "7"),
        ("string", True, True),
        ("reference", 12, "12"),
    ],
)
def test_to_scim_converts_database_values(kind: str, stored: Any, scim: Any) -> None:
    converted = to_scim(kind, stored)
    assert converted == scim and type(converted) is type(scim)


@pytest.mark.parametrize(
    ("value", "flag"),
    [
        (True, True),
        (False, False),
        ("True", True),
        (" false ", False),
        ("yes", None),
        (1, None),
        (None, None),
    ],
)
def test_parse_boolean_takes_json_booleans_and_entras_strings(value: Any, flag: bool | None) -> None:
    assert parse_boolean(value) is flag


@pytest.mark.parametrize(
    ("value", "number"),
    [
        (5, 5),
        (5.0, 5),
        (" -12 ", -12),
        (INT64_MAX, INT64_MAX),
        (INT64_MIN, INT64_MIN),
        (INT64_MAX + 1, None),
        (str(INT64_MIN - 1), None),
        ("9" * 400, None),  # not even converted
        (5.5, None),
        (True, None),
        ("12a", None),
    ],
)
def test_parse_integer_is_bounded_to_64_bits(value: Any, number: int | None) -> None:
    assert parse_integer(value) == number


def test_text_problem_names_the_problem_never_the_text() -> None:
    assert text_problem("plain") is None
    assert text_problem("tab\there") is None
    assert text_problem("tab\there", controls=True) == "must not contain control characters"
    assert text_problem("nul\x00") == "must not contain a NUL character"
    assert text_problem("Zoë\x00") == "must not contain a NUL character"
    assert text_problem("lone \ud800") == "must not contain a lone surrogate"
    assert text_problem("Zoë\x85", controls=True) == "must not contain control characters"


def test_plain_text_is_text_that_text_problem_finds_nothing_in() -> None:
    """``PLAIN`` and ``PLAIN_STRICT`` let the codec and ``coerce`` skip :func:`text_problem` for
    the common string: whatever they match in full, it would have let through."""
    samples = [chr(c) for c in range(0x2100)] + ["\ud800", "", "plain", "tab\there", "Zoë", "a\x7fb"]
    samples += [f"user {s} name" for s in samples]
    for text in samples:
        if PLAIN.fullmatch(text):
            assert text_problem(text) is None, repr(text)
        if PLAIN_STRICT.fullmatch(text):
            assert text_problem(text, controls=True) is None, repr(text)
    assert PLAIN.fullmatch("tab\there") and not PLAIN_STRICT.fullmatch("tab\there")
    assert not PLAIN.fullmatch("Zoë")  # left to text_problem, which takes it


def test_coerce_converts_each_type_for_its_dialect() -> None:
    active, created = attribute("active"), attribute("meta.created")
    assert coerce(active, "False", "sqlite") is False
    assert coerce(attribute("title"), 12, "sqlite") == "12"
    assert coerce(attribute("userName"), None, "sqlite") is None
    assert coerce(attribute("manager.value"), 7, "sqlite") == "7"
    stamp = "2024-05-01T14:30:00+02:00"
    assert coerce(created, stamp, "sqlite") == "2024-05-01T12:30:00.000Z"
    assert coerce(created, stamp, "mysql") == datetime(2024, 5, 1, 12, 30)
    assert coerce(created, stamp, "postgres") == datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
    assert coerce(attribute("title", type="integer"), "41", "sqlite") == 41
    assert coerce(attribute("title", type="decimal"), "2.5", "sqlite") == Decimal("2.5")
    assert coerce(attribute("title", type="reference"), 9, "sqlite") == "9"


@pytest.mark.parametrize(
    ("path", "changes", "value", "message"),
    [
        ("active", {}, "maybe", "expected a boolean"),
        ("title", {"type": "integer"}, 2**64, "expected a 64-bit integer"),
        ("title", {"type": "decimal"}, "NaN", "expected a decimal number"),
        ("title", {"type": "decimal"}, True, "expected a decimal number"),
        ("meta.created", {}, "yesterday", "expected an RFC 3339 dateTime"),
        ("title", {"type": "reference"}, ["7"], "expected a reference id"),
        ("title", {}, {"nested": "secret-value"}, "expected a string"),
        ("title", {}, "nul\x00secret-value", "must not contain a NUL character"),
    ],
)
def test_coerce_refuses_what_does_not_fit_naming_the_attribute(
    path: str, changes: dict[str, Any], value: Any, message: str
) -> None:
    with pytest.raises(InvalidValueError) as raised:
        coerce(attribute(path, **changes), value, "sqlite")
    assert message in str(raised.value) and path in str(raised.value)
    assert "secret-value" not in str(raised.value)


def test_strict_coercion_refuses_control_characters() -> None:
    user_name = attribute("userName")
    assert coerce(user_name, "tab\there", "sqlite") == "tab\there"
    with pytest.raises(InvalidValueError):
        coerce(user_name, "tab\there", "sqlite", strict=True)


@pytest.mark.parametrize(
    ("value", "text"),
    [(True, "1"), (1, "1"), (Decimal("1.0"), "1"), (1.50, "1.5"), ("A   ", "A"), (b"T ", "T"), (None, None)],
)
def test_canonical_compares_values_across_drivers(value: Any, text: str | None) -> None:
    assert canonical(value) == text


def test_a_not_transform_inverts_both_ways() -> None:
    locked = Transform(attribute("active", transform=PlanTransform(kind="not")))
    assert locked.read(1) is False and locked.read("0") is True and locked.read(None) is None
    assert locked.read("maybe") is OMIT  # no flag: left out, not read as "not false"
    assert locked.write(True) is False and locked.write(None) is None


def test_a_map_transform_translates_both_ways() -> None:
    status = PlanTransform(kind="map", pairs=((True, "A"), (False, "T")), otherwise="value", default=False)
    active = Transform(attribute("active", transform=status))
    assert active.read("A") is True and active.read("T ") is False  # CHAR padding is no difference
    assert active.read("D") is False  # else false
    assert active.write(True) == "A" and active.write(False) == "T"
    department = PlanTransform(kind="map", pairs=(("Sales", "S"), ("Engineering", "E")))
    mapped = Transform(attribute("department", transform=department))
    assert mapped.write("sales") == "S"  # department is not caseExact
    with pytest.raises(InvalidValueError) as raised:
        mapped.write("Marketing")
    assert "department" in str(raised.value) and "Marketing" not in str(raised.value)


def test_a_stored_value_a_map_reads_as_the_value_written_is_kept() -> None:
    """``reads_as``: Redmine's status 2 (registered) and Mattermost's deleteat (the time of the
    deactivation) read as false through ``else false``, and a write of false must keep them: the
    update wrote the map's own false (3, locked; 1, the epoch) on every change of the object."""
    status = PlanTransform(kind="map", pairs=((True, 1), (False, 3)), otherwise="value", default=False)
    active = Transform(attribute("active", transform=status))
    assert active.reads_as(2, False) and active.reads_as(3, False) and active.reads_as(1, True)
    assert not active.reads_as(2, True) and not active.reads_as(None, False)
    closed = Transform(attribute("active", transform=PlanTransform(kind="map", pairs=((True, "A"),))))
    assert not closed.reads_as("X", False)  # outside a map without else: no value, nothing kept
    department = PlanTransform(kind="map", pairs=(("Sales", "S"),))
    assert Transform(attribute("department", transform=department)).reads_as("S", "sales")


def test_a_stored_value_outside_a_map_is_left_out_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    department = PlanTransform(kind="map", pairs=(("Sales", "S"),))
    mapped = Transform(attribute("department", transform=department))
    with caplog.at_level(logging.WARNING, logger="mapper.runtime.values"):
        assert mapped.read("X-secret") is OMIT
        assert mapped.read("Y-secret") is OMIT
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1 and "department" in warnings[0] and "secret" not in warnings[0]
