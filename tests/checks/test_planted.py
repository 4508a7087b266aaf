"""Every mistake the checks know, planted into a copy of the HR example, gives exactly the right
codes at the right places."""

from __future__ import annotations

import pytest

from mapper.checks import check
from mapper.language.parser import parse
from tests.support.planted import CASES, HR_URL
from tests.support.planting import HR, HR_TEXT, Edit, at, plant


@pytest.mark.parametrize(("edits", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_planted_mistake(edits: list[Edit], expected: list[tuple[str, str, int]]) -> None:
    text = plant(*edits)
    mapping, syntax = parse(text, str(HR))
    assert syntax == [] and mapping is not None
    got = sorted((d.code, d.span.line, d.span.col) for d in check(mapping))
    want = sorted((code, *at(text, needle, nth)) for code, needle, nth in expected)
    assert got == want


def test_the_example_is_clean() -> None:
    mapping, _ = parse(HR_TEXT, str(HR))
    assert mapping is not None
    assert check(mapping) == []


def test_diagnostics_are_sorted_by_position() -> None:
    text = plant(
        ("dialect sqlite", "dialect sqlit"), ("query userName", "query emails"), ("nickName  ", "nickNam   ")
    )
    mapping, _ = parse(text, str(HR))
    assert mapping is not None
    lines = [(d.span.line, d.span.col) for d in check(mapping)]
    assert lines == sorted(lines) and len(lines) == 3


def test_the_password_is_never_echoed() -> None:
    text = plant((HR_URL, 'url "postgresql://hr:s3cret@db/hr"'))
    mapping, _ = parse(text, str(HR))
    assert mapping is not None
    (found,) = [d for d in check(mapping) if d.code == "MAP401"]
    assert "s3cret" not in found.message + (found.hint or "")


def test_hints_suggest_the_right_name() -> None:
    def hint(*edits: Edit) -> str:
        mapping, _ = parse(plant(*edits), str(HR))
        assert mapping is not None
        return " ".join(d.hint or "" for d in check(mapping))

    assert "'postgres'" in hint(("dialect sqlite", "dialect pg"))
    assert "'sqlite'" in hint(("dialect sqlite", "dialect sqlit"))
    assert "'nickName'" in hint(("    nickName  ", "    nickNam   "))
    assert "'enterprise'" in hint(("enterprise.department", "entreprise.department"))
    assert "'login'" in hint(("OBJECT=USER", "OU={logn}"))
    assert "CN={anchor},OU=Users,DC=contoso,DC=com" in hint(
        ("CN={anchor},OBJECT=USER", "{anchor}@contoso.com")
    )
    assert "'User'" in hint(("manager_id      reference User", "manager_id      reference Usr"))


def test_dialect_spellings_agree_with_the_compiler() -> None:
    from mapper.checks.sources import ALIASES, DIALECTS, MISSPELLINGS, dialect_of
    from mapper.compiler.dialects import normalize

    for word in (*DIALECTS, *ALIASES, *MISSPELLINGS, "MariaDB", "nosuch"):
        assert dialect_of(word) == normalize(word), word
