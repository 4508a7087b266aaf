"""The linter: ``lint_file`` runs parse, checks and compile (and, with a database URL, the live
schema checks) and returns every diagnostic; ``render`` turns them into text, JSON, GitHub
annotations or SARIF."""

from mapper.lint.lint import LintResult, SourceFileError, lint_file, lint_paths, lint_text
from mapper.lint.render import FORMATS, render

__all__ = ["FORMATS", "LintResult", "SourceFileError", "lint_file", "lint_paths", "lint_text", "render"]
