"""``mapper lint --explain`` and SARIF help links: each code's documentation ships in the package
(mapper/lint/explanations.json, generated from docs/ here), and every link is absolute."""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Callable
from pathlib import Path

from mapper import links
from mapper.lint.codes import EXPLANATIONS, REGISTRY, doc_url, explain

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "mapper" / "lint" / EXPLANATIONS
#: The pages that document codes: syntax in language.md, SQL in diagnostics-sql.md, the rest here.
PAGES = ("language.md", "diagnostics.md", "diagnostics-sql.md")
_HEADING = re.compile(r"^(#{1,6}) (.*)$")
_CODE_HEADING = re.compile(r"^#{2,3} (MAP\d{3})\b")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def sections(page: str) -> dict[str, dict[str, str]]:
    """Each code's section of ``docs/<page>``: the text under its heading up to the next heading."""
    out: dict[str, dict[str, str]] = {}
    current: tuple[str, str] | None = None
    body: list[str] = []
    fenced = False

    def close() -> None:
        if current is not None:
            code, anchor = current
            out[code] = {"page": page, "anchor": anchor, "text": "\n".join(body).strip("\n")}

    for line in (ROOT / "docs" / page).read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
        heading = None if fenced else _HEADING.match(line)
        if heading is None:
            body.append(line)
            continue
        close()
        code = _CODE_HEADING.match(line)
        current = (code.group(1), slug(heading.group(2))) if code else None
        body = []
    close()
    return out


def from_docs() -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for page in PAGES:
        found.update(sections(page))
    return dict(sorted(found.items()))


def test_the_shipped_explanations_are_the_docs(golden: Callable[[str, Path], None]) -> None:
    """After editing a code's section in docs/ (or adding a code), regenerate the shipped copy:
    ``.venv/bin/pytest tests/lint/test_explain.py --update-golden``."""
    actual = json.dumps(from_docs(), indent=1, ensure_ascii=False) + "\n"
    if SHIPPED.read_text(encoding="utf-8") != actual and not os.environ.get("UPDATE_GOLDEN"):
        changed = sorted(c for c, e in from_docs().items() if json.loads(SHIPPED.read_text()).get(c) != e)
        raise AssertionError(
            f"docs/ changed the sections of {', '.join(changed) or 'removed codes'}: regenerate "
            f"{SHIPPED.relative_to(ROOT)} with .venv/bin/pytest tests/lint/test_explain.py --update-golden"
        )
    golden(actual, SHIPPED)


def test_every_code_is_documented() -> None:
    assert sorted(set(REGISTRY) - set(from_docs())) == []
    assert sorted(set(from_docs()) - set(REGISTRY)) == []


def test_explain_prints_the_documentation_and_an_absolute_link() -> None:
    text = explain("map132") or ""
    assert text.startswith("MAP132 (dn-unknown-placeholder), error\n")
    assert 'dn "CN={anchor},OU={logn}"' in text  # the example, from the package's own data
    assert text.endswith(f"Documentation: {links.DOCS}/diagnostics.md#map132")
    assert (
        explain("MAP201") is not None
        and doc_url("MAP201") == f"{links.DOCS}/diagnostics-sql.md#map201-sql-syntax"
    )
    assert doc_url("MAP001") == f"{links.DOCS}/language.md#map001"
    assert explain("MAP999") is None


def test_every_link_is_absolute_and_points_at_a_heading_that_exists() -> None:
    for code in REGISTRY:
        url = doc_url(code)
        assert url.startswith("https://"), url
        page, _, anchor = url.removeprefix(links.DOCS + "/").partition("#")
        headings = [
            slug(m.group(2))
            for line in (ROOT / "docs" / page).read_text().splitlines()
            if (m := _HEADING.match(line))
        ]
        assert anchor in headings, (code, url)


def test_pyproject_names_the_same_addresses() -> None:
    urls = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["urls"]
    assert urls["Repository"] == links.REPOSITORY
    assert urls["Documentation"] == links.DOCS
