"""The formatter: canonical layout, round trips, idempotence and comments."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mapper.language.fmt import format_mapping
from mapper.language.layout import quote
from mapper.language.model import SqlBlock
from mapper.language.parser import parse

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "parse"
EXAMPLES = sorted((ROOT / "examples").glob("**/*.map")) + sorted((ROOT / "mappings").glob("*.map"))
OK = sorted((FIXTURES / "ok").glob("*.map"))
FMT = sorted((FIXTURES / "fmt").glob("*.map"))
FMT = [p for p in FMT if not p.name.endswith(".expected.map")]


def fmt(text: str) -> str:
    mapping, diagnostics = parse(text, "t.map")
    assert diagnostics == [] and mapping is not None
    return format_mapping(mapping)


@pytest.mark.parametrize("path", EXAMPLES + OK, ids=lambda p: str(p.relative_to(ROOT)))
def test_canonical_files_round_trip(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert fmt(text) == text, f"{path.name} is not in canonical layout: run mapper fmt --write on it"


@pytest.mark.parametrize("path", FMT, ids=lambda p: p.stem)
def test_formats_to_golden_layout(path: Path, golden: Callable[[str, Path], None]) -> None:
    """fmt/NAME.map formats to fmt/NAME.expected.map (--update-golden rewrites it)."""
    golden(fmt(path.read_text(encoding="utf-8")), path.with_name(path.stem + ".expected.map"))


@pytest.mark.parametrize("path", EXAMPLES + OK + FMT, ids=lambda p: p.stem)
def test_idempotent(path: Path) -> None:
    once = fmt(path.read_text(encoding="utf-8"))
    assert fmt(once) == once


@pytest.mark.parametrize("path", EXAMPLES + OK + FMT, ids=lambda p: p.stem)
def test_formatting_keeps_the_model_and_every_comment(path: Path) -> None:
    before, _ = parse(path.read_text(encoding="utf-8"), "t.map")
    after, _ = parse(fmt(path.read_text(encoding="utf-8")), "t.map")
    assert before is not None and after is not None
    assert sorted(c.text for c in after.comments) == sorted(c.text for c in before.comments)
    strip = {"span", "text_span"}

    def shape(node: object) -> object:
        if isinstance(node, dict):
            return {k: shape(v) for k, v in node.items() if k not in strip}
        if isinstance(node, list | tuple):
            return [shape(v) for v in node]
        return node

    exclude = {"text", "comments"}
    assert shape(after.model_dump(exclude=exclude)) == shape(before.model_dump(exclude=exclude))


def test_attribute_map_is_aligned() -> None:
    text = "object U from db {\n attributes {\n  userName <-> login required\n  name.givenName <- given\n}}"
    assert fmt(text) == (
        "object U from db {\n"
        "  attributes {\n"
        "    userName       <-> login required\n"
        "    name.givenName <-  given\n"
        "  }\n"
        "}\n"
    )


def test_null_value_is_kept_after_the_flags() -> None:
    text = 'object U from db {\n attributes {\n  title <-> title null ""  caseExact\n}}'
    assert fmt(text) == 'object U from db {\n  attributes {\n    title <-> title caseExact null ""\n  }\n}\n'
    mapping, _ = parse(text, "t.map")
    assert mapping is not None
    null = mapping.objects[0].attributes[0].null_value
    assert null is not None and null.value == "" and (null.span.line, null.span.col) == (3, 19)


def test_items_come_in_canonical_order_with_blank_lines_between_groups() -> None:
    text = (
        "object U from db { delete row write table t attributes { a <-> b } "
        'delta none import sql"""SELECT 1""" query userName anchor id uuid }'
    )
    assert fmt(text) == (
        "object U from db {\n"
        "  anchor id uuid\n"
        "  query userName\n"
        "\n"
        '  import sql"""SELECT 1"""\n'
        "  delta none\n"
        "\n"
        "  attributes {\n"
        "    a <-> b\n"
        "  }\n"
        "\n"
        "  write table t\n"
        "  delete row\n"
        "}\n"
    )


def test_sql_is_kept_verbatim() -> None:
    sql = 'sql"""\n      select  *\n   from t -- # not a comment\n"""'
    text = f"object U from db {{\n  import {sql}\n}}\n"
    assert fmt(text) == text


def test_strings_round_trip() -> None:
    for value in ["plain", 'a "quoted" word', "CN=Smith\\, John", "trailing\\", "\\\\"]:
        mapping, _ = parse(f"object U from db {{\n  dn {quote(value)}\n}}\n", "t.map")
        assert mapping is not None and mapping.objects[0].dn is not None
        assert mapping.objects[0].dn.value is not None
        assert mapping.objects[0].dn.value.value == value


def test_empty_file_formats_to_nothing() -> None:
    assert fmt("") == ""
    assert fmt("\n\n") == ""


def test_windows_line_ends_are_kept() -> None:
    text = (ROOT / "examples" / "hr" / "hr.map").read_text(encoding="utf-8")
    crlf = text.replace("\n", "\r\n")
    assert fmt(crlf) == crlf


def _sql_lines(text: str) -> set[int]:
    mapping, _ = parse(text, "t.map")
    assert mapping is not None
    blocks = [o.import_sql for o in mapping.objects] + [
        s for o in mapping.objects for m in o.multi for s in (m.import_sql, m.add, m.remove)
    ]
    return {n for b in blocks if isinstance(b, SqlBlock) for n in range(b.span.line, b.span.end_line + 1)}


@pytest.mark.parametrize("path", EXAMPLES + OK, ids=lambda p: p.stem)
def test_comments_anywhere_survive(path: Path) -> None:
    """A comment on its own line before every line, and one after every line, all come through."""
    text = path.read_text(encoding="utf-8")
    in_sql = _sql_lines(text)
    lines: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        indent = line[: len(line) - len(line.lstrip())]
        if number not in in_sql or number - 1 not in in_sql:
            lines.append(f"{indent}# before {number}")
        lines.append(line if number in in_sql or not line.strip() else f"{line}  # after {number}")
    commented = "\n".join(lines) + "\n"
    once = fmt(commented)
    assert fmt(once) == once
    before, _ = parse(commented, "t.map")
    after, _ = parse(once, "t.map")
    assert before is not None and after is not None
    assert sorted(c.text for c in after.comments) == sorted(c.text for c in before.comments)


def test_a_model_without_its_text_still_formats() -> None:
    """The layout comes from the model; the text only places comments."""
    text = (ROOT / "examples" / "hr" / "hr.map").read_text(encoding="utf-8")
    mapping, _ = parse(text, "hr.map")
    assert mapping is not None
    bare = mapping.model_copy(update={"text": "", "comments": ()})
    without_comments = "\n".join(line for line in text.splitlines() if not line.startswith("#")).lstrip("\n")
    assert format_mapping(bare) == without_comments + "\n"
