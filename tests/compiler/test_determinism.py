"""Same input, byte-identical plan JSON: within a process and across processes with different
hash seeds."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.compiling import DIALECTS, EXAMPLES, ROOT, compile_file

EXAMPLE_FILES = [EXAMPLES / "hr" / "hr.map", *sorted((EXAMPLES / "payroll").glob("*.map"))]
SCRIPT = """
import sys
from pathlib import Path
from tests.support.compiling import compile_file
plan, _ = compile_file(Path(sys.argv[1]), sys.argv[2])
sys.stdout.write(plan.model_dump_json())
"""


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_same_process(path) -> None:
    for write in DIALECTS[1:]:
        first, _ = compile_file(path, write)
        second, _ = compile_file(path, write)
        assert first is not None and second is not None
        assert first.model_dump_json() == second.model_dump_json()


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_across_hash_seeds(path) -> None:
    outputs = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT, str(path), "postgres"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        outputs.add(done.stdout)
    assert len(outputs) == 1
