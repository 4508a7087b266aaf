"""The server's small parts: positions in the client's units, and the database jobs' budget."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading

import pytest
from lsprotocol import types

from mapper.language.model import Span
from mapper.language.parser import parse
from mapper.lsp.live import LiveDatabase, reachable, source_url
from mapper.lsp.positions import Positions

TEXT = "a\n# 😀 é\nname.x <-> y\n"


def test_positions_count_in_the_agreed_units() -> None:
    # column 5 of line 2 is the "é" after "# 😀 ": 4 characters, 5 UTF-16 units, 7 UTF-8 bytes
    utf16 = Positions(TEXT)
    assert utf16.position(2, 5) == types.Position(line=1, character=5)
    assert Positions(TEXT, types.PositionEncodingKind.Utf32).position(2, 5) == types.Position(
        line=1, character=4
    )
    assert Positions(TEXT, types.PositionEncodingKind.Utf8).position(2, 5) == types.Position(
        line=1, character=7
    )
    offset = TEXT.index("é")
    assert utf16.offset(types.Position(line=1, character=5)) == offset
    assert utf16.at(offset) == types.Position(line=1, character=5)
    span = Span(line=3, col=1, end_line=3, end_col=7)
    assert utf16.range(span) == types.Range(
        start=types.Position(line=2, character=0), end=types.Position(line=2, character=6)
    )


def test_the_database_of_a_file_is_its_sources_one_url(tmp_path) -> None:
    text = """
source a { dialect sqlite  url env("A_URL", "sqlite:///a.db") }
source b { dialect sqlite  url "sqlite:///b.db" }
object User from a { }
"""
    mapping, _ = parse(text, "t.map")
    assert mapping is not None
    assert source_url(mapping, {}) == "sqlite:///a.db"
    assert source_url(mapping, {"A_URL": "sqlite:///env.db"}) == "sqlite:///env.db"
    both, _ = parse(text + "object Group from b { }\n", "t.map")
    assert both is not None and source_url(both, {}) is None  # two databases: neither is checked
    missing = tmp_path / "missing.db"
    assert not reachable(f"sqlite:///{missing}") and not missing.exists()
    assert not reachable("sqlite:///:memory:")


@pytest.mark.anyio
async def test_a_database_job_past_its_budget_is_abandoned_and_the_database_left_alone() -> None:
    notes: list[str] = []
    release = threading.Event()
    calls: list[int] = []

    def stuck() -> int:
        calls.append(1)
        release.wait(30)
        return 1

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        live = LiveDatabase(pool, notify=notes.append, timeout=0.2, backoff=60)
        url = "postgresql://user:secret@db.invalid/x"
        assert await live._run(url, stuck) is None
        assert await live._run(url, stuck) is None  # within the back-off: not even tried
        release.set()
    assert len(calls) == 1
    assert len(notes) == 1 and "no answer within 0.2s" in notes[0]
    assert "secret" not in notes[0] and "***" in notes[0]
    await asyncio.sleep(0)


def test_a_quick_fix_only_replaces_one_word_close_to_the_suggestion() -> None:
    from mapper.lsp.fixes import quick_fixes

    positions = Positions("userNme <-> login\nname.x <-> y\n")

    def diagnostic(line: int, start: int, end: int, hint: str, source: str = "mapper") -> types.Diagnostic:
        where = types.Range(
            start=types.Position(line=line, character=start), end=types.Position(line=line, character=end)
        )
        return types.Diagnostic(range=where, message="m", source=source, data={"hint": hint})

    (fix,) = quick_fixes("file:///t.map", positions, [diagnostic(0, 0, 7, "did you mean 'userName'? (...)")])
    assert fix.edit is not None and fix.edit.changes is not None
    assert fix.edit.changes["file:///t.map"][0].new_text == "userName"
    assert not quick_fixes("u", positions, [diagnostic(0, 0, 17, "did you mean 'userName'?")])  # 3 words
    assert not quick_fixes("u", positions, [diagnostic(1, 0, 6, "did you mean 'timezone'?")])  # not alike
    assert not quick_fixes("u", positions, [diagnostic(0, 0, 7, "add userName <-> COLUMN")])  # no suggestion
    assert not quick_fixes("u", positions, [diagnostic(0, 0, 7, "did you mean 'userName'?", "other")])


def test_lsp_takes_a_database_or_none_not_both(capsys: pytest.CaptureFixture[str]) -> None:
    from mapper.cli import EXIT_USAGE, main

    with pytest.raises(SystemExit) as exited:
        main(["lsp", "--db", "sqlite:///x.db", "--no-db"])
    assert exited.value.code == EXIT_USAGE
    assert "not allowed with" in capsys.readouterr().err
