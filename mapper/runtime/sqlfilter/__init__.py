"""SCIM filters answered by the database: a filter (the AST of :mod:`mapper.scimfilter`) becomes a
sqlglot condition over the import query's projection, and the matching rows are rendered by the
codec exactly as cached records are.

The import (the plan's ``import_all``, whose WHERE already hides tombstoned rows) is wrapped as a
derived table ``scim_f``; the condition refers to its output columns, and a multi-valued attribute
kept in a child table to an ``EXISTS`` over the child import (``scim_c0``...) correlated on the
anchor. Values only ever enter as bound parameters (``:scim_p0``...); a ``co``/``sw``/``ew``
value is escaped for LIKE (``!`` escapes ``%``, ``_`` and ``!``).

The translation is exact or refused: every construct whose SQL would not give the cache
evaluator's answer (:mod:`mapper.scim.filter`) raises :class:`Untranslatable` naming it, and
the caller evaluates the filter on the cache instead. What it mirrors of that evaluator:

- an attribute matches when one of its values does; null, ``""`` and a missing attribute have no
  value (so ``ne`` and ``not`` hold for them), and every leaf is two-valued (``col IS NOT NULL
  AND ...``), so ``not`` is exact under SQL's three-valued logic;
- strings compare case-insensitively through ``LOWER()`` on both sides unless caseExact, and in
  code-point order (``COLLATE "C"`` on PostgreSQL, ``COLLATE BINARY`` on SQLite, binary strings
  on MariaDB, which also keeps trailing spaces and accents significant); a column of another
  type compared as a string is cast to text first, as the codec renders it;
- numbers compare as numbers, dateTimes chronologically (SQLite: through ``strftime``, so any
  ISO 8601 text it stores compares; a column found holding integers, seconds since the epoch,
  as those seconds times a million, the cache's instant), booleans by the value a write would
  store, through the attribute's transform (``active eq true`` for ``active <-> not locked`` is
  ``locked = false``);
- a value map translates ``eq``/``ne``/``pr`` into ``IN`` over the stored values it declares.

Refused, so evaluated on the cache: value maps with ``else`` defaults, ordering or substring
operators on mapped values, multi-valued attributes bound to columns
(``emails[type eq "work"].value <-> mail``), references rendered as DNs, ``meta`` beyond the mapped
``created``/``lastModified``, ``schemas``, ids that are DNs, a string value compared with a number
attribute and the like, and on SQLite (whose ``LOWER()`` folds ASCII only) a case-insensitive
comparison with a non-ASCII letter in the value.

The parts, each a module of this package: :mod:`.terms` (the verdict, the resolver's protocol,
what a path reaches), :mod:`.wrapped` (the import and child imports as derived tables),
:mod:`.paths` (what a path reaches), :mod:`.leaves` (a value present or compared),
:mod:`.condition` (the filter's structure and ``sortBy``) and :mod:`.query` (the statements, kept
per filter, and their rows as records).
"""

from mapper.runtime.sqlfilter.query import FilterSql, Search
from mapper.runtime.sqlfilter.terms import Describe, Described, Sort, Untranslatable

__all__ = [
    "Describe",
    "Described",
    "FilterSql",
    "Search",
    "Sort",
    "Untranslatable",
]
