"""The performance bench: the gateway against baselines measured in the same run.

Run it with ``.venv/bin/python -m bench`` (see ``--help`` and docs/performance.md)."""
