"""The import query's projection: its output columns, in order, and for each whether it is a
plain column of a table (and so writable) or an expression.

Derived statements restrict and order the import. For a plain ``SELECT ... FROM ... [JOIN]
[WHERE]`` the predicates are injected into the query itself (an existing WHERE is ANDed) using
the projection item's own expression, which keeps the statement readable and index-friendly.
Any other shape (UNION and other set operations, GROUP BY, HAVING, DISTINCT, LIMIT/OFFSET,
window functions or aggregates in the projection) is wrapped as a subquery
``SELECT src.a, src.b FROM (import) AS src WHERE src.anchor = :anchor``, which is correct for
every shape; its inner ORDER BY is dropped unless a LIMIT/OFFSET depends on it.

Which table a plain column belongs to: its qualifier resolved through the FROM/JOIN aliases, or
the main FROM table when unqualified. When the write table does not appear in the import at
all (the import reads a view over it), the main FROM source stands for the write table.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlglot import exp

from mapper.compiler.sqltext import copy_tree

_WRAPPING_CLAUSES = ("group", "having", "distinct", "limit", "offset", "qualify", "windows", "connect")
WRAP_ALIAS = "src"


@dataclass(frozen=True)
class Output:
    """One output column of a projection."""

    name: str
    identifier: exp.Identifier  # the output name as parsed (keeps its quoting)
    expression: exp.Expr  # the projection item without its alias: a node of the import, never edit it
    column: str | None  # the underlying column name when the item is a plain column
    table: exp.Table | None  # the table that plain column is read from, when known
    column_identifier: exp.Identifier | None = None  # that column as parsed (keeps its quoting)

    @functools.cached_property
    def bare_expression(self) -> exp.Expr:
        """``expression`` without token positions, for derived statements to copy (never edit it)."""
        return copy_tree(self.expression, positions=False)


@dataclass(frozen=True)
class Projection:
    query: exp.Query
    outputs: tuple[Output, ...]
    wrap: bool
    main_table: exp.Table | None
    tables: tuple[exp.Table, ...]
    quoted: frozenset[str] = frozenset()  # column names the mapping writes as quoted identifiers

    @functools.cached_property
    def bare_query(self) -> exp.Query:
        """``query`` without token positions, for derived statements to copy (never edit it)."""
        return copy_tree(self.query, positions=False)

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(o.name for o in self.outputs)

    def output(self, name: str) -> Output | None:
        """The output called ``name``: exactly, else case-insensitively (SQL folds unquoted names)."""
        for o in self.outputs:
            if o.name == name:
                return o
        lowered = name.lower()
        return next((o for o in self.outputs if o.name.lower() == lowered), None)

    def target_column(self, output: Output, table: exp.Table | None) -> str | None:
        """The column of ``table`` that ``output`` reads, or ``None`` when it reads no column of it."""
        if output.column is None or table is None or output.table is None:
            return None
        if any(same_table(t, table) for t in self.tables):
            return output.column if same_table(output.table, table) else None
        return output.column if output.table is self.main_table else None

    def spelled(self, table: exp.Table) -> exp.Table:
        """``table`` as the import spells it (its quoting), without alias; else as given."""
        for t in self.tables:
            if same_table(t, table):
                found = copy_tree(t)
                found.set("alias", None)
                return found
        return table

    def identifier(self, column: str) -> exp.Identifier:
        """``column`` (a table column name) as an identifier, quoted as the import quotes it; a
        column the import does not read is quoted when the mapping writes it quoted."""
        for o in self.outputs:
            if o.column == column and o.column_identifier is not None:
                return copy_tree(o.column_identifier)
        return exp.to_identifier(column, quoted=True if column in self.quoted else None)


@dataclass(frozen=True)
class Problem:
    """An output the projection cannot name: ``item`` is the offending SQL, ``reason`` why."""

    item: exp.Expr
    reason: str
    fatal: bool = False  # the projection's columns are unknown (SELECT *): check nothing against them


def project(query: exp.Query, quoted: frozenset[str] = frozenset()) -> tuple[Projection, list[Problem]]:
    """Analyse ``query``'s projection (the leftmost SELECT of a set operation). ``quoted``: the
    column names the mapping writes as quoted identifiers (see ``Projection.identifier``)."""
    select = _leftmost(query)
    sources = _sources(select)
    main = _main_table(select)
    outputs: list[Output] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for item in select.selects:
        output = _output(item, sources, main, plain=isinstance(query, exp.Select))
        if isinstance(output, Problem):
            problems.append(output)
        elif output.name.lower() in seen:
            problems.append(Problem(item, f"output column '{output.name}' appears twice"))
        else:
            seen.add(output.name.lower())
            outputs.append(output)
    tables = tuple(t for t in sources.values() if isinstance(t, exp.Table))
    projection = Projection(query, tuple(outputs), _needs_wrap(query), main, tables, quoted)
    return projection, problems


def _output(
    item: exp.Expr, sources: dict[str, exp.Expr], main: exp.Table | None, plain: bool
) -> Output | Problem:
    expression = item.unalias()
    if isinstance(expression, exp.Star) or (isinstance(expression, exp.Column) and expression.is_star):
        return Problem(item, "SELECT * does not say which columns the import returns", fatal=True)
    identifier = item.args.get("alias") if isinstance(item, exp.Alias) else None
    if identifier is None and isinstance(expression, exp.Column):
        identifier = expression.this
    if not isinstance(identifier, exp.Identifier) or not identifier.name:
        return Problem(item, "this expression has no name")
    column = table = column_identifier = None
    if isinstance(expression, exp.Column) and plain:
        column, column_identifier = expression.name, copy_tree(expression.this, positions=False)
        qualifier = expression.table
        source = sources.get(qualifier.lower()) if qualifier else main
        table = source if isinstance(source, exp.Table) else None
    # never located: only copied into statements; an unaliased column's name is its column's
    bare_identifier = (
        column_identifier
        if column_identifier is not None and identifier is expression.this
        else copy_tree(identifier, positions=False)
    )
    # the node itself, not a copy: it is only read (located, rendered in messages), and
    # derived statements copy ``bare_expression``
    return Output(identifier.name, bare_identifier, expression, column, table, column_identifier)


def _leftmost(query: exp.Query) -> exp.Select:
    while isinstance(query, exp.SetOperation):
        query = query.this
    if isinstance(query, exp.Subquery):
        return _leftmost(query.this)
    assert isinstance(query, exp.Select)
    return query


def _sources(select: exp.Select) -> dict[str, exp.Expr]:
    found: dict[str, exp.Expr] = {}
    from_ = select.args.get("from_")
    nodes = [from_.this] if from_ is not None else []
    nodes += [join.this for join in select.args.get("joins") or ()]
    for node in nodes:
        found[node.alias_or_name.lower()] = node
    return found


def _main_table(select: exp.Select) -> exp.Table | None:
    from_ = select.args.get("from_")
    return from_.this if from_ is not None and isinstance(from_.this, exp.Table) else None


def same_table(a: exp.Table, b: exp.Table) -> bool:
    """Whether ``a`` and ``b`` name one table (a schema only one of them names is no difference)."""
    if a.name.lower() != b.name.lower():
        return False
    return not (a.db and b.db and a.db.lower() != b.db.lower())


def _needs_wrap(query: exp.Query) -> bool:
    if not isinstance(query, exp.Select) or query.args.get("from_") is None:
        return True
    if any(query.args.get(clause) for clause in _WRAPPING_CLAUSES):
        return True
    return any(item.find(exp.AggFunc, exp.Window) for item in query.selects)
