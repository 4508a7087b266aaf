"""The editor packaging in editors/: the TextMate grammar is valid and names exactly the Lark
grammar's keywords (so the two cannot drift), and the VS Code manifest starts ``mapper lsp``."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from mapper.lsp.context import keywords

ROOT = Path(__file__).resolve().parents[2]
VSCODE = ROOT / "editors" / "vscode"
TM_GRAMMAR = VSCODE / "syntaxes" / "mapper.tmLanguage.json"
CONSTANTS = {"true", "false", "null"}


def grammar() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(TM_GRAMMAR.read_text(encoding="utf-8"))
    return data


def alternatives(pattern: str) -> set[str]:
    """The words of a ``\\b(a|b|c)\\b`` pattern."""
    match = re.fullmatch(r"\\b\(([\w|]+)\)\\b", pattern)
    assert match, pattern
    return set(match.group(1).split("|"))


def regexes(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [v for k, v in node.items() if k in ("match", "begin", "end") and isinstance(v, str)]
        return found + [r for v in node.values() for r in regexes(v)]
    if isinstance(node, list):
        return [r for v in node for r in regexes(v)]
    return []


def test_the_textmate_grammar_names_every_keyword_of_the_lark_grammar() -> None:
    repo = grammar()["repository"]
    words = set(keywords().values())
    assert alternatives(repo["keyword"]["match"]) == words - CONSTANTS
    assert alternatives(repo["constant"]["match"]) == CONSTANTS


def test_the_textmate_grammar_is_valid_and_embeds_sql() -> None:
    data = grammar()
    assert data["scopeName"] == "source.mapper"
    repo = data["repository"]
    assert {p["include"] for p in data["patterns"]} == {f"#{name}" for name in repo}
    for pattern in regexes(data):
        re.compile(pattern, re.MULTILINE)  # Oniguruma is a superset for what we use
    sql = repo["sql"]
    assert re.match(sql["begin"], 'sql"""SELECT 1"""') and sql["end"] == '"""'
    assert sql["patterns"] == [{"include": "source.sql"}]
    arrows = re.compile(repo["arrow"]["match"])
    assert [m.group() for m in arrows.finditer("a <-> b\nc <- d\ne -> f")] == ["<->", "<-", "->"]
    assert re.fullmatch(repo["comment"]["match"], "# a comment")
    assert re.fullmatch(repo["string"]["begin"] + r'[^"]*' + repo["string"]["end"], '"CN={anchor}"')


def test_the_keyword_pattern_highlights_the_example_mappings_keywords() -> None:
    pattern = re.compile(grammar()["repository"]["keyword"]["match"])
    text = (ROOT / "examples" / "hr" / "hr.map").read_text(encoding="utf-8")
    found = {m.group() for m in pattern.finditer(text)}
    assert {"source", "object", "anchor", "attributes", "multi", "write", "disable", "delete"} <= found


def test_the_vscode_manifest_starts_mapper_lsp_for_map_files() -> None:
    manifest = json.loads((VSCODE / "package.json").read_text(encoding="utf-8"))
    (language,) = manifest["contributes"]["languages"]
    assert language["id"] == "mapper" and language["extensions"] == [".map"]
    assert (VSCODE / language["configuration"]).is_file()
    (contributed,) = manifest["contributes"]["grammars"]
    assert contributed["language"] == "mapper"
    assert contributed["scopeName"] == grammar()["scopeName"]
    assert (VSCODE / contributed["path"]).resolve() == TM_GRAMMAR
    assert "sql" in contributed["embeddedLanguages"].values()
    assert "vscode-languageclient" in manifest["dependencies"]
    assert "vscode" in manifest["engines"]
    main = (VSCODE / manifest["main"]).read_text(encoding="utf-8")
    assert '"lsp"' in main and "vscode-languageclient/node" in main
    assert (
        manifest["contributes"]["configuration"]["properties"]["mapper.server.command"]["default"] == "mapper"
    )
    json.loads((VSCODE / language["configuration"]).read_text(encoding="utf-8"))
