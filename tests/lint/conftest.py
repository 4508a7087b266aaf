"""The linter's golden files: ``golden(actual, path)`` compares output with a file under
tests/fixtures/ and rewrites the file instead when ``UPDATE_GOLDEN=1`` (review the diff)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import check_golden

Golden = Callable[[str, Path], None]


@pytest.fixture
def golden() -> Golden:
    return check_golden
