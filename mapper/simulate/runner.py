"""Runs a simulation: sets up the target, runs the scenario, prints the report."""

from __future__ import annotations

import argparse
import sys


def run_from_args(args: argparse.Namespace) -> int:
    print("mapper simulate: not implemented yet", file=sys.stderr)
    return 2
