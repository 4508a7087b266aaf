"""Every code is documented, and every check's code is planted by a test."""

from __future__ import annotations

import re
from pathlib import Path

from mapper.checks.codes import CODES
from mapper.lint import database
from mapper.lint.codes import REGISTRY
from tests.support.planted import ACROSS_FILES, CASES, CUSTOM_SCHEMA_CASES

ROOT = Path(__file__).resolve().parents[2]


def test_every_code_has_a_section_in_the_docs() -> None:
    documented = set(re.findall(r"^### (MAP\d{3})$", (ROOT / "docs" / "diagnostics.md").read_text(), re.M))
    ours = {c.code for c in (*CODES, *database.CODES)}
    assert documented == ours
    assert ours <= set(REGISTRY)


def test_every_check_code_is_planted_by_a_test() -> None:
    planted = {code for case in (*CASES, *CUSTOM_SCHEMA_CASES) for code, _, _ in case[2]}
    planted |= set(ACROSS_FILES)
    assert {c.code for c in CODES} <= planted


def test_codes_are_unique_and_named() -> None:
    assert len({c.code for c in CODES}) == len(CODES)
    assert all(re.fullmatch(r"[a-z]+(-[a-z]+)*", c.name) for c in REGISTRY.values())


def test_every_code_the_documentation_mentions_exists() -> None:
    """A code named in any page (a guide, an example's README) is one the linter can report."""
    pages = [*(ROOT / "docs").glob("*.md"), ROOT / "README.md", *(ROOT / "examples").glob("*/README.md")]
    mentioned = {
        (page.relative_to(ROOT).as_posix(), code)
        for page in pages
        for code in re.findall(r"\bMAP\d{3}\b", page.read_text(encoding="utf-8"))
    }
    assert len({page for page, _ in mentioned}) > 5
    assert {(page, code) for page, code in mentioned if code not in REGISTRY} == set()
