"""Lint messages found wanting in a user trial, each a mapping under tests/fixtures/lint/messages/
with its text output beside it (--update-golden rewrites them):

- ``map132-placeholders``: MAP132's did-you-mean lists only names that work as placeholders;
- ``two-errors-one-line``: MAP140 no longer hides the MAP204 on the same line;
- ``arrow-typo``: one ``<>`` typo is one MAP001 on the arrow, not three;
- ``map201-misspelled-keyword``: MAP201's caret is on the misspelled keyword, not the word after.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mapper.lint import lint_text, render

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = ROOT / "tests" / "fixtures" / "lint" / "messages"
CASES = sorted(p.stem for p in MESSAGES.glob("*.map"))


def lint(name: str) -> tuple[list, str]:
    path = f"tests/fixtures/lint/messages/{name}.map"  # as the CLI would be given it
    text = (ROOT / path).read_text(encoding="utf-8")
    diagnostics = lint_text(text, path).diagnostics
    return diagnostics, render(diagnostics, "text", {path: text})


@pytest.mark.parametrize("name", CASES)
def test_golden(name: str, golden: Callable[[str, Path], None]) -> None:
    golden(lint(name)[1], MESSAGES / f"{name}.txt")


def test_the_cases_are_all_there() -> None:
    assert CASES == ["arrow-typo", "map132-placeholders", "map201-misspelled-keyword", "two-errors-one-line"]


def test_map132_offers_only_usable_placeholders() -> None:
    (d,) = lint("map132-placeholders")[0]
    assert d.code == "MAP132" and d.hint is not None
    assert "password_hash" not in d.hint and "straße" not in d.hint and ", anchor" not in d.hint
    assert d.hint.startswith("did you mean 'login'?")


def test_both_errors_on_one_line() -> None:
    found = [(d.code, d.span.line, d.span.col) for d in lint("two-errors-one-line")[0]]
    assert found == [("MAP140", 21, 5), ("MAP204", 21, 38)]


def test_one_error_for_one_arrow_typo() -> None:
    (d,) = lint("arrow-typo")[0]
    assert (d.code, d.span.col, d.span.end_col) == ("MAP001", 34, 36)
    assert d.hint is not None and d.hint.startswith("did you mean '<->'?")


def test_map201_points_at_the_misspelled_keyword() -> None:
    (d,) = lint("map201-misspelled-keyword")[0]
    assert (d.code, d.span.line, d.span.col, d.span.end_col) == ("MAP201", 15, 5, 9)
    assert d.hint == "did you mean FROM?"


def test_a_keyword_that_is_right_is_not_blamed() -> None:
    text = (MESSAGES / "map201-misspelled-keyword.map").read_text(encoding="utf-8")
    text = text.replace("FORM employees", "FROM employees ORDER login")  # ORDER is right; BY is missing
    (d,) = lint_text(text, "t.map").diagnostics
    assert (d.code, text.splitlines()[d.span.line - 1][d.span.col - 1 :].split()[0]) == ("MAP201", "login")
    assert d.hint is None


def test_an_export_only_column_is_no_placeholder() -> None:
    text = (MESSAGES / "map132-placeholders.map").read_text(encoding="utf-8")
    for placeholder, codes in (("{password_hash}", ["MAP132"]), ("{login}", []), ("{LOGIN}", [])):
        found = lint_text(text.replace("{logn}", placeholder), "t.map").diagnostics
        assert [d.code for d in found] == codes, placeholder
