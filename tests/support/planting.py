"""Plant a mistake into the HR example and find where a piece of the result is."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HR = ROOT / "examples" / "hr" / "hr.map"
HR_TEXT = HR.read_text(encoding="utf-8")

Edit = tuple[str, str]


def plant(*edits: Edit, text: str = HR_TEXT) -> str:
    """The HR example with each ``old`` replaced (once, and it must be there) by ``new``."""
    for old, new in edits:
        assert old in text, f"{old!r} is not in the example"
        text = text.replace(old, new, 1)
    return text


def at(text: str, needle: str, nth: int = 0) -> tuple[int, int]:
    """1-based (line, col) of the ``nth`` occurrence of ``needle`` in ``text``."""
    index = -1
    for _ in range(nth + 1):
        index = text.index(needle, index + 1)
    before = text[:index]
    return before.count("\n") + 1, index - (before.rfind("\n") + 1) + 1
