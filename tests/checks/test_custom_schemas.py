"""Custom schemas: extensions of User and the core schema of a custom object type."""

from __future__ import annotations

import pytest

from mapper.checks import check
from mapper.language.parser import parse
from tests.support.planted import CUSTOM_SCHEMA_CASES as CASES
from tests.support.planted import CUSTOM_SCHEMA_MAPPING as MAPPING
from tests.support.planting import Edit, at, plant


def test_clean() -> None:
    mapping, syntax = parse(MAPPING, "custom.map")
    assert syntax == [] and mapping is not None
    assert check(mapping) == []


@pytest.mark.parametrize(("edits", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_planted_mistake(edits: list[Edit], expected: list[tuple[str, str, int]]) -> None:
    text = plant(*edits, text=MAPPING)
    mapping, syntax = parse(text, "custom.map")
    assert syntax == [] and mapping is not None
    got = sorted((d.code, d.span.line, d.span.col) for d in check(mapping))
    assert got == sorted((code, *at(text, needle, nth)) for code, needle, nth in expected)


def test_required_extension_attribute_is_named_with_its_prefix() -> None:
    mapping, _ = parse(plant(("    hrx.costCenter <-> cost\n", ""), text=MAPPING), "custom.map")
    assert mapping is not None
    (found,) = check(mapping)
    assert "'hrx.costCenter'" in found.message and "add hrx.costCenter <-> COLUMN" in (found.hint or "")
