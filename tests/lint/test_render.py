"""The output formats against golden files in tests/fixtures/lint/ (--update-golden rewrites them)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from mapper.diagnostics import Diagnostic, Severity, Span
from mapper.lint import lint_text, render
from mapper.lint.codes import REGISTRY, explain
from mapper.lint.render import render_text, summary

Golden = Callable[[str, Path], None]  # the golden fixture (tests/conftest.py)

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "lint"
BROKEN = "tests/fixtures/lint/broken.map"  # as the CLI would be given it, from the repository root
SUFFIX = {"text": "txt", "json": "json", "github": "github", "sarif": "sarif"}


@pytest.fixture(scope="module")
def broken() -> tuple[list[Diagnostic], dict[str, str]]:
    text = (ROOT / BROKEN).read_text(encoding="utf-8")
    return lint_text(text, BROKEN).diagnostics, {BROKEN: text}


@pytest.mark.parametrize("format", sorted(SUFFIX))
def test_golden(format: str, broken: tuple[list[Diagnostic], dict[str, str]], golden: Golden) -> None:
    diagnostics, sources = broken
    output = render(diagnostics, format, sources).replace(_version(), "VERSION")
    golden(output, FIXTURES / f"broken.{SUFFIX[format]}")


def _version() -> str:
    from mapper.lint.render import tool_version

    return tool_version()


def test_json_fields(broken: tuple[list[Diagnostic], dict[str, str]]) -> None:
    items = json.loads(render(broken[0], "json", broken[1]))
    assert {tuple(sorted(i)) for i in items} == {
        ("code", "end_location", "filename", "hint", "location", "message", "severity")
    }
    assert items[0]["location"] == {"row": 6, "column": 7}


def test_sarif_rules_cover_results(broken: tuple[list[Diagnostic], dict[str, str]]) -> None:
    log = json.loads(render(broken[0], "sarif", broken[1]))
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    for result in run["results"]:
        assert rules[result["ruleIndex"]] == result["ruleId"]
    assert all(r["name"] != r["id"].lower() for r in run["tool"]["driver"]["rules"])  # all registered


def test_github_escapes_newlines_and_commas() -> None:
    d = Diagnostic(
        code="MAP999",
        severity=Severity.ERROR,
        message="a, b\nc: 100%",
        file="dir,x/a:b.map",
        span=Span(line=1, col=2, end_line=1, end_col=3),
    )
    line = render([d], "github")
    props = "file=dir%2Cx/a%3Ab.map,line=1,endLine=1,col=2,endColumn=3,title=MAP999"
    assert line == f"::error {props}::a, b%0Ac: 100%25\n"


def test_long_output_is_capped() -> None:
    span = Span(line=1, col=1, end_line=1, end_col=2)
    many = [
        Diagnostic(code="MAP101", severity=Severity.ERROR, message=f"m{i}", file="f", span=span)
        for i in range(7)
    ]
    text = render_text(many, {}, maximum=5)
    assert text.count("error[MAP101]") == 5
    assert text.endswith("... and 2 more\nFound 7 errors.\n")


def test_summary() -> None:
    assert summary([]) == "All checks passed!"


def test_registry_knows_every_range() -> None:
    prefixes = {code[:4] for code in REGISTRY}
    assert prefixes == {"MAP0", "MAP1", "MAP2", "MAP3", "MAP4"}
    assert "MAP130" in (explain("map130") or "")
    assert explain("MAP999") is None


def test_text_quotes_the_first_line_of_a_multi_line_span() -> None:
    span = Span(line=2, col=3, end_line=4, end_col=2)
    d = Diagnostic(code="MAP112", severity=Severity.ERROR, message="m", file="f.map", span=span)
    text = render_text([d], {"f.map": "a\n  import sql\n x\n y\n"})
    assert "2 |   import sql\n  |   ^^^^^^^^^^\n" in text


def test_text_without_the_source_shows_the_header_and_hint() -> None:
    span = Span(line=9, col=1, end_line=9, end_col=2)
    d = Diagnostic(
        code="MAP101", severity=Severity.WARNING, message="m", file="gone.map", span=span, hint="h"
    )
    assert render_text([d], {}) == "gone.map:9:1: warning[MAP101] m\n  = help: h\n\nFound 1 warning.\n"
