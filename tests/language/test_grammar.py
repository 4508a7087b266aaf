"""The grammar file and the cached parser factory."""

from __future__ import annotations

from pathlib import Path

import pytest

from mapper.language.grammar import grammar_text, mapping_parser


def test_grammar_is_found_and_parser_is_cached() -> None:
    assert "attribute_mapping" in grammar_text()
    assert mapping_parser() is mapping_parser()


def test_no_parser_state_lets_two_word_terminals_compete() -> None:
    """The contextual lexer picks one terminal per state; a state accepting both a name and a
    SCIM path (LALR merges states with the same items) would lex a name as a path."""
    table = mapping_parser().parser.parser.parser.parse_table
    words = {"IDENT", "QNAME", "PATH"}
    clashes = {state: sorted(words & set(actions)) for state, actions in table.states.items()}
    assert {state: hit for state, hit in clashes.items() if len(hit) > 1} == {}


def test_packaged_grammar_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A wheel ships grammar/ as mapper/grammar/ (hatch force-include); that copy wins."""
    from mapper.language import grammar

    (tmp_path / "grammar").mkdir()
    (tmp_path / "grammar" / "mapping.lark").write_text("// packaged\n", encoding="utf-8")
    monkeypatch.setattr(grammar.resources, "files", lambda package: tmp_path)
    assert grammar.grammar_text() == "// packaged\n"


def test_grammar_falls_back_to_the_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mapper.language import grammar

    monkeypatch.setattr(grammar.resources, "files", lambda package: tmp_path)
    assert "attribute_mapping" in grammar.grammar_text()
