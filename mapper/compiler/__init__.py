"""The compiler: a checked mapping model in, a plan out.

``compile(mapping, write=None)`` derives and transpiles every statement with sqlglot and returns
the plan (``None`` when there is any error) with every diagnostic it found (MAP2xx, see
docs/diagnostics-sql.md). The compiler does not run the checks: ``mapper.pipeline.load(path)``
parses, checks and compiles a file. The SQL in a file is read in its source's dialect (``read``)
and written in the target's (``write``: the source's, or the override).

The pipeline, one module per concern:

- ``program``: the whole file: sources, custom schemas, each object against its source.
- ``objects``: one object: import, attributes, anchor, query attribute, DN, then the statements.
- ``sqltext``: parsing SQL blocks, with sqlglot's errors placed at file line:col.
- ``projection``: the import's output columns, and which are plain columns of which table.
- ``paths``: SCIM paths resolved against the standard and custom schemas.
- ``attributes``: attribute map lines as plan attributes.
- ``derive``: the read statements (import, keyset pages, look-ups) and delta queries, on the AST.
- ``delta``, ``writes``, ``deprovision``, ``multi``, ``procedures``: the rest of an object.
- ``statements``: rendering, parameter checks and explicit SQL; ``dialects``: the five targets.
- ``listing``: a plan's SQL as annotated text (the golden files; handy for a CLI listing).

Decisions worth knowing:

- Predicates are injected into a plain import SELECT with ``.where()`` (an existing WHERE is
  ANDed); any other shape (set operations, GROUP BY, DISTINCT, LIMIT, aggregates or windows in the
  projection) is wrapped: ``SELECT src.a, ... FROM (import) AS src WHERE ...``.
- Every statement binds ``:name`` parameters in every dialect, through ``Mapper<Dialect>``
  subclasses of sqlglot's dialects (no monkey-patching).
- A database-generated anchor comes back by ``RETURNING`` (PostgreSQL, SQLite), ``OUTPUT
  INSERTED`` (SQL Server), lastrowid (MySQL), or a look-up by the query attribute (Oracle, and
  every stored procedure insert).
"""

from __future__ import annotations

from mapper.compiler.program import UnknownDialectError, compile

__all__ = ["UnknownDialectError", "compile"]
