"""The linter's golden files: ``golden(actual, path)`` compares output with a file under
tests/fixtures/ and rewrites the file instead when ``UPDATE_GOLDEN=1`` (review the diff)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

Golden = Callable[[str, Path], None]


def _golden(actual: str, path: Path) -> None:
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"{path} is missing (UPDATE_GOLDEN=1 writes it)"
    assert actual == path.read_text(encoding="utf-8"), f"{path.name} differs (UPDATE_GOLDEN=1 to regenerate)"


@pytest.fixture
def golden() -> Golden:
    return _golden
