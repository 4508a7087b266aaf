"""``mapper lint --db`` warns of an attribute a client may remove that is written to a ``NOT NULL
DEFAULT ''`` text column without ``null ""`` (MAP319): WordPress's ``wp_users`` and Moodle's
``mdl_user`` (tests/scaffold/schemas) on SQLite, PostgreSQL and MariaDB, each read back as its
database gives its DEFAULT (``''``, ``''::character varying``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mapper.lint.lint import lint_text
from tests.support.scaffold import GOLDEN, KINDS, load_schema


def lint(
    schema: str, kind: str, text: str, tmp_path: Path, request: pytest.FixtureRequest
) -> list[tuple[int, int, str]]:
    db = load_schema(schema, kind, tmp_path, request)
    result = lint_text(text.replace('"URL"', f'"{db.url}"'), f"{schema}.map", db=db.url)
    assert not [d for d in result.diagnostics if d.severity.value == "error"], result.diagnostics
    return [(d.span.line, d.span.col, d.hint or "") for d in result.diagnostics if d.code == "MAP319"]


@pytest.mark.parametrize("kind", KINDS)
def test_the_drafted_mappings_say_null_and_lint_clean(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    for schema in ("wordpress", "moodle"):
        text = (GOLDEN / f"{schema}.{kind}.map").read_text(encoding="utf-8")
        assert 'null ""' in text
        assert lint(schema, kind, text, tmp_path / schema, request) == []


@pytest.mark.parametrize("kind", KINDS)
def test_an_empty_text_column_without_null_is_map319(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    text = (GOLDEN / f"wordpress.{kind}.map").read_text(encoding="utf-8").replace(' null ""', "")
    lines = text.splitlines()
    found = lint("wordpress", kind, text, tmp_path, request)
    expected = []
    for column in ("user_email", "display_name", "user_url"):
        line = next(n for n, t in enumerate(lines, 1) if t.rstrip().endswith(f"<-> {column}"))
        expected.append((line, lines[line - 1].index(column) + 1))
    assert [(line, col) for line, col, _ in found] == expected
    assert found[1][2] == "say that '' is no value: displayName <-> display_name null \"\""


@pytest.mark.parametrize("kind", KINDS)
def test_required_and_read_only_attributes_are_not_map319(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """userName (required, the query attribute) maps user_login NOT NULL DEFAULT '' too; an
    attribute only read is never cleared."""
    text = (GOLDEN / f"wordpress.{kind}.map").read_text(encoding="utf-8").replace(' null ""', "")
    text = text.replace("profileUrl                   <->", "profileUrl                   <-")
    text = text.replace(
        "displayName                  <-> display_name", "displayName <-> display_name required"
    )
    found = lint("wordpress", kind, text, tmp_path, request)
    assert len(found) == 1 and "user_email" in text.splitlines()[found[0][0] - 1]
