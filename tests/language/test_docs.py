"""docs/language.md stays true: its examples parse, and each syntax code's example fails with it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mapper.language.parser import parse

DOC = (Path(__file__).resolve().parents[2] / "docs" / "language.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"^```\n(.*?)^```", DOC, re.DOTALL | re.MULTILINE)
SECTIONS = dict(re.findall(r"^### (MAP0\d\d)\n(.*?)(?=^### |\Z)", DOC, re.DOTALL | re.MULTILINE))
MAPPING_START = ("#", "source ", "schema ", "object ")
ITEM_START = ("anchor ", "query ", "dn ", "import ", "delta ", "attributes ", "multi ", "write ", "disable ")
# Words that only syntax summaries use (``anchor COLUMN from SCIM_PATH``).
PLACEHOLDER = re.compile(
    r"\b(NAME|ALIAS|COLUMN|SCIM_PATH|TABLE|STATEMENT|LITERAL|OBJECT|WORD|TEMPLATE|ITEMS)\b"
)


def _examples() -> list[str]:
    """Complete examples, object items wrapped in an object; syntax summaries and error examples left out."""
    in_sections = "".join(SECTIONS.values())
    examples = []
    for block in BLOCKS:
        if block in in_sections or PLACEHOLDER.search(block):
            continue
        if block.startswith(MAPPING_START):
            examples.append(block)
        elif block.startswith(ITEM_START):
            examples.append("object X from db {\n" + block + "}\n")
    return examples


@pytest.mark.parametrize("example", _examples(), ids=lambda b: b.splitlines()[0][:40])
def test_examples_parse(example: str) -> None:
    mapping, diagnostics = parse(example, "doc.map")
    assert diagnostics == [] and mapping is not None


def test_every_syntax_code_is_documented_with_a_failing_example() -> None:
    assert sorted(SECTIONS) == ["MAP001", "MAP002", "MAP003", "MAP004", "MAP005"]
    for code, section in SECTIONS.items():
        example = re.search(r"```\n(.*?)```", section, re.DOTALL)
        assert example is not None, code
        _, diagnostics = parse(example.group(1), "hr.map")
        assert [d.code for d in diagnostics] == [code]
        shown = re.search(r"```\n(hr\.map:\d+:\d+): error\[" + code, section)
        assert shown is not None, code
        first = diagnostics[0]
        assert shown.group(1) == f"hr.map:{first.span.line}:{first.span.col}"


def test_the_readme_s_mapping_lints_clean() -> None:
    """README.md shows a shortened hr.map and says it lints clean as it stands."""
    from mapper.pipeline import load_text

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    (mapping,) = re.findall(r"^```\n(source .*?)^```", readme, re.DOTALL | re.MULTILINE)
    loaded = load_text(mapping, "README.md")
    assert loaded.ok and loaded.diagnostics == [], loaded.diagnostics


def test_every_repository_path_and_link_the_guides_name_exists() -> None:
    """A file a guide names (`tests/ops/test_deploy.py`, `deploy/mapper.service`) or links to is
    there: renames left guides pointing at nothing. `mapper/grammar` is where the wheel ships
    `grammar/` (docs/decisions.md), not a folder of the checkout. performance.md, a log of
    measurements kept by the benchmark's owners, is left to them."""
    root = Path(__file__).resolve().parents[2]
    pages = [*(root / "docs").glob("*.md"), root / "README.md", *(root / "examples").glob("*/README.md")]
    pages.remove(root / "docs" / "performance.md")
    named = re.compile(r"`((?:mapper|tests|bench|examples|deploy|docs|mappings|editors|grammar)/[\w./-]+)`")
    linked = re.compile(r"\]\(([^)#\s:]+)(?:#[^)]*)?\)")
    missing = []
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for path in named.findall(text):
            if path.rstrip("/.") != "mapper/grammar" and not (root / path.rstrip("/.")).exists():
                missing.append((page.name, path))
        missing += [(page.name, link) for link in linked.findall(text) if not (page.parent / link).exists()]
    assert missing == []
