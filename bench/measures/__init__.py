"""The measures. Those that run in-process (commit rates, imports, memory, compile) run in a fresh
Python subprocess pinned to the server core, so each starts with a clean heap and the same CPU."""

from __future__ import annotations

import json
import subprocess

from bench.data import ROOT
from bench.servers import BIN, SERVER_CPU, pinned


def probe(module: str, *args: object, cpu: int | None = SERVER_CPU, timeout: float = 3600) -> dict:
    """Run ``python -m bench.measures.<module> ARGS...`` and return the JSON object it prints last."""
    argv = [str(BIN / "python"), "-m", f"bench.measures.{module}", *map(str, args)]
    completed = subprocess.run(
        pinned(cpu, argv), cwd=ROOT, capture_output=True, text=True, check=False, timeout=timeout
    )
    if completed.returncode != 0:
        raise RuntimeError(f"bench.measures.{module} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])
