"""The five target dialects, rendered so that every statement suits SQLAlchemy ``text()``.

sqlglot writes named placeholders in each dialect's own paramstyle (``%(name)s`` for Postgres).
The plan wants ``:name`` everywhere, so each target is a small subclass of the sqlglot dialect
whose generator writes ``:name``. sqlglot registers dialect classes by their lower-cased class
name, so these are named ``Mapper<Dialect>`` ("mapperpostgres"...), which clashes with nothing.

Identifiers that are reserved words are quoted (see ``RESERVED``), except in Oracle, where a
quoted name is case-sensitive and the right case cannot be known. Two more rules keep rendered SQL
safe for ``text()``, which reads ``:word`` as a parameter wherever it appears: a colon inside a
string literal or quoted name that ``text()`` would take for a parameter is escaped as ``\\:`` (``text()``
removes the backslash), and casts are rendered as ``CAST(...)`` (sqlglot never writes Postgres
``::`` casts). SQL Server and Oracle before 23 have no boolean type: flags are 0/1 numbers there
(``BIT``, ``NUMBER(1)``), so TRUE and FALSE are written 1 and 0, a flag used as a condition is
compared with 1 or 0, and a condition used as a value becomes a CASE (``mapper.compiler.booleans``).
"""

from __future__ import annotations

import functools
import re
from typing import Any

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.dialects.mysql import MySQL
from sqlglot.dialects.oracle import Oracle
from sqlglot.dialects.postgres import Postgres
from sqlglot.dialects.sqlite import SQLite
from sqlglot.dialects.tsql import TSQL
from sqlglot.errors import ErrorLevel
from sqlglot.generators.mysql import MySQLGenerator
from sqlglot.generators.oracle import OracleGenerator
from sqlglot.generators.postgres import PostgresGenerator
from sqlglot.generators.sqlite import SQLiteGenerator
from sqlglot.generators.tsql import TSQLGenerator

from mapper.compiler.booleans import flags_as_numbers
from mapper.plan import Dialect as PlanDialect
from mapper.plan import dialect_of

# What SQLAlchemy's TextClause reads as a bind parameter: ``:name`` after anything but a colon, a
# word character or a backslash. Written colon first, with the look-behind over the colon, so
# that the engine skips to each colon instead of trying the look-behind at every character
# (7x faster; the same matches).
_TEXT_PARAMETER = re.compile(r":(?<![:\w\\]:)(\w+)(?![:\w])")
_TEXT_COLON = re.compile(r":(?<![:\w\\]:)(?=\w)")


def normalize(name: str | None) -> PlanDialect | None:
    """The canonical dialect name for ``name``, or ``None`` when it is not a dialect we target."""
    return None if name is None else dialect_of(name)


#: Oracle's reserved words, which cannot name a bind variable (``:order`` fails with ORA-01745).
ORACLE_RESERVED = frozenset(
    """access add all alter and any as asc audit between by char check cluster column comment
    compress connect create current date decimal default delete desc distinct drop else exclusive
    exists file float for from grant group having identified immediate in increment index initial
    insert integer intersect into is level like lock long maxextents minus mlslabel mode modify
    noaudit nocompress not nowait null number of offline on online option or order pctfree prior
    public raw rename resource revoke row rowid rownum rows select session set share size smallint
    start successful synonym sysdate table then to trigger uid union unique update user validate
    values varchar varchar2 view whenever where with""".split()
)


def rename_binds(sql: str, write: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """``sql`` with every parameter the target cannot take as a bind renamed (Oracle's reserved
    words: ``:order`` becomes ``:order_``, with more underscores while that is taken), and the
    (new name, value name) pairs for ``Statement.renamed``."""
    if write != "oracle":
        return sql, ()
    params = find_text_parameters(sql)
    clashing = [p for p in params if p.lower() in ORACLE_RESERVED]
    if not clashing:
        return sql, ()
    taken = {p.lower() for p in params}
    new: dict[str, str] = {}
    for param in clashing:
        name = param + "_"
        while name.lower() in taken:
            name += "_"
        taken.add(name.lower())
        new[param] = name
    renamed = _TEXT_PARAMETER.sub(lambda m: ":" + new.get(m.group(1), m.group(1)), sql)
    return renamed, tuple((new[p], p) for p in clashing)


def find_text_parameters(sql: str) -> tuple[str, ...]:
    """The parameter names SQLAlchemy ``text()`` finds in ``sql``, in order of first use."""
    seen: dict[str, None] = {}
    for match in _TEXT_PARAMETER.finditer(sql):
        seen.setdefault(match.group(1), None)
    return tuple(seen)


class _TextGenerator:
    """Generator overrides shared by every target (mixed in before the dialect's generator).
    Each generator also notes what it rendered: the names of the placeholders (``placeholders``)
    and whether an opaque ``Command`` was among them (``opaque``), see :func:`render_noting`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.placeholders: set[str] = set()
        self.opaque = False

    def placeholder_sql(self, expression: exp.Placeholder) -> str:
        self.placeholders.add(expression.name)
        return f":{expression.name}" if expression.this else "?"

    def command_sql(self, expression: exp.Command) -> str:
        self.opaque = True
        return super().command_sql(expression)  # type: ignore[misc]

    def literal_sql(self, expression: exp.Literal) -> str:
        text: str = super().literal_sql(expression)  # type: ignore[misc]
        if expression.is_string:
            text = _TEXT_COLON.sub(r"\\:", text)
        return text

    def identifier_sql(self, expression: exp.Identifier) -> str:
        # Each object's columns are rendered in about ten statements: the text of a plain
        # identifier (only ``this`` and ``quoted``: T-SQL's reads more args) is kept per writer
        # and ``normalize``, all that sqlglot's identifier_sql reads of it, unless ``identify`` or
        # ``pretty`` is asked for (make_writer's renders never ask).
        generator: Any = self
        cache = _IDENTIFIERS.get(id(generator.dialect))
        key = None
        plain = expression.args.keys() <= _PLAIN and not generator.identify and not generator.pretty
        if cache is not None and plain:
            key = (expression.this, expression.quoted, generator.normalize)
            known = cache.get(key)
            if known is not None:
                return known
        text: str = super().identifier_sql(expression)  # type: ignore[misc]
        if expression.quoted:
            text = _TEXT_COLON.sub(r"\\:", text)
        if key is not None and cache is not None and len(cache) < _IDENTIFIERS_KEPT:
            cache[key] = text
        return text


_PLAIN = frozenset({"this", "quoted"})
_IDENTIFIERS_KEPT = 10_000
#: The rendered plain identifiers of each writer ``make_writer`` made, by the writer's id (they
#: live as long as the process).
_IDENTIFIERS: dict[int, dict[tuple[str, bool, bool], str]] = {}


#: Words that cannot be unquoted identifiers in (nearly) any of our targets. Names that come from
#: the mapping rather than its SQL (``write table order``, a change table's ``group`` column) are
#: quoted when they are one of these; sqlglot's MySQL generator has its own list. ``user`` is not
#: here: unquoted, it is a function in PostgreSQL and SQL Server, and quoting would change that.
RESERVED = frozenset(
    """all analyse analyze and any array as asc both case cast check collate column constraint create
    cross default deferrable desc distinct do else end except false fetch for foreign from full grant
    group having in initially inner intersect into is join leading left like limit natural not null
    offset on only or order outer placing primary references returning right select some symmetric
    table then to trailing true union unique using variadic when where window with""".split()
)
_TSQL_RESERVED = RESERVED | {"file", "identity", "key", "percent", "plan", "rule", "schema", "top"}


class MapperSqlite(SQLite):
    class Generator(_TextGenerator, SQLiteGenerator):
        RESERVED_KEYWORDS = set(RESERVED)


class MapperPostgres(Postgres):
    class Generator(_TextGenerator, PostgresGenerator):
        RESERVED_KEYWORDS = set(RESERVED)


class MapperMysql(MySQL):
    class Generator(_TextGenerator, MySQLGenerator):
        pass


class _NumericFlags:
    """For targets without a boolean type: flags and conditions as 0/1 (``mapper.compiler.booleans``)."""

    def preprocess(self, expression: exp.Expr) -> exp.Expr:
        return super().preprocess(flags_as_numbers(expression))  # type: ignore[misc]


class MapperTsql(TSQL):
    class Generator(_NumericFlags, _TextGenerator, TSQLGenerator):
        RESERVED_KEYWORDS = set(_TSQL_RESERVED)
        ENSURE_BOOLS = False  # flags_as_numbers writes ``flag = 1``, not sqlglot's ``flag <> 0``


class MapperOracle(Oracle):
    class Generator(_NumericFlags, _TextGenerator, OracleGenerator):
        def boolean_sql(self, expression: exp.Boolean) -> str:
            return "1" if expression.this else "0"


_WRITERS: dict[str, type[Dialect]] = {
    "sqlite": MapperSqlite,
    "postgres": MapperPostgres,
    "mysql": MapperMysql,
    "tsql": MapperTsql,
    "oracle": MapperOracle,
}


@functools.cache
def make_writer(write: str) -> Dialect:
    """The dialect instance that renders plan SQL for ``write`` (one per dialect: building one per
    statement was a tenth of compile time). Between renders it keeps only the text of the plain
    identifiers it rendered (``_TextGenerator.identifier_sql``), a function of the name alone."""
    writer = _WRITERS[write]()
    _IDENTIFIERS[id(writer)] = {}
    return writer


def render(expression: exp.Expr, write: str, *, consume: bool = False) -> str:
    """Render ``expression`` for ``write``; raises sqlglot's ``UnsupportedError`` when it cannot.
    The generator may rewrite the tree it renders, so ``expression`` is copied first unless the
    caller ``consume``s it: hands over a tree nothing else holds or reads afterwards (copying
    every derived statement once more was a fifth of compile time)."""
    return _generator(write).generate(expression, copy=not consume)


def render_noting(expression: exp.Expr, write: str) -> tuple[str, set[str], bool]:
    """``render(expression, write, consume=True)``, with the names of the placeholders it wrote
    and whether it wrote an opaque ``Command`` (whose text may hold anything): noted as the
    generator meets them, where a walk of every statement before rendering was 3 % of a load."""
    generator = _generator(write)
    sql = generator.generate(expression, copy=False)
    return sql, generator.placeholders, generator.opaque


def _generator(write: str) -> Any:
    return make_writer(write).generator(unsupported_level=ErrorLevel.RAISE, comments=False)


def order_ascending(expression: exp.Expr, write: str) -> exp.Ordered:
    """``expression ASC`` with the target's own null ordering, so no NULLS FIRST/LAST is written."""
    ordering = _WRITERS[write].NULL_ORDERING
    return exp.Ordered(this=expression, nulls_first=ordering == "nulls_are_small")


def render_call(name: exp.Table, params: tuple[str, ...], write: str) -> str:
    """A stored procedure call as ``write`` spells it; ``write`` must not be SQLite."""
    proc = render(name, write)
    args = ", ".join(f":{p}" for p in params)
    if write == "tsql":
        return f"EXEC {proc} {args}".rstrip()
    if write == "oracle":
        return f"BEGIN {proc}({args}); END;"
    return f"CALL {proc}({args})"


#: SQL Server refuses ``OUTPUT`` without ``INTO`` on a table with triggers, so a generated anchor
#: is output into a table variable and read back from the table itself. The variable's column is
#: text, which every anchor type converts to implicitly; the comparison converts it back to the
#: anchor column's type, so the look-up seeks the key and returns the anchor in its own type.
_TSQL_OUTPUT_PROLOGUE = "SET NOCOUNT ON; DECLARE @inserted TABLE (anchor NVARCHAR(450)); "


def output_into(insert: exp.Insert, anchor: exp.Identifier) -> exp.Insert:
    """``insert`` made to output the new ``anchor`` into the ``@inserted`` table variable
    (SQL Server; see :func:`read_back_output`)."""
    returned = insert.copy()
    inserted = exp.Column(this=anchor.copy(), table=exp.to_identifier("INSERTED"))
    into = exp.Parameter(this=exp.Var(this="inserted"))
    returned.set("returning", exp.Returning(expressions=[inserted], into=into))
    return returned


def read_back_output(insert_sql: str, table: exp.Table, anchor: exp.Identifier) -> str:
    """The SQL Server batch around an insert rendered from :func:`output_into`: declare the table
    variable first, then select the new row's anchor from the table (one row, one column)."""
    written, column = render(table, "tsql"), render(anchor, "tsql")
    return (
        f"{_TSQL_OUTPUT_PROLOGUE}{insert_sql}; SET NOCOUNT OFF; "
        f"SELECT written.{column} FROM {written} AS written "
        f"INNER JOIN @inserted AS added ON written.{column} = added.anchor"
    )
