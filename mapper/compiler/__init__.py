"""The compiler: a checked mapping model in, a plan out.

``compile(mapping, write=None)`` derives and transpiles every statement with sqlglot and returns
the plan (``None`` when there is any error) with every diagnostic it found; ``load(path)`` parses,
checks and compiles a file and raises :class:`mapper.errors.MappingError` on any error.
"""

from __future__ import annotations

from mapper.compiler.program import UnknownDialectError, compile, load

__all__ = ["UnknownDialectError", "compile", "load"]
