"""The read statements derived from an import query: the full import, keyset pages, look-ups by
anchor and by query attribute, and the delta queries. All are built on the sqlglot AST; values
only ever enter as ``:name`` placeholders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlglot import exp

from mapper.compiler.dialects import order_ascending
from mapper.compiler.projection import WRAP_ALIAS, Projection
from mapper.compiler.sqltext import copy_tree

#: ``DataType.build("text")`` parses its argument with sqlglot on every call; copies of one are the same.
_TEXT = exp.DataType.build("text")


def placeholder(name: str) -> exp.Placeholder:
    return exp.Placeholder(this=name)


#: How many anchors one read of several objects' child rows binds (``PlanMulti.load_for_anchors``):
#: far under every target's limit (SQLite 999 parameters before 3.32, SQL Server 2100, Oracle 1000
#: expressions in an IN list), and a delta of thousands of rows takes a few dozen reads, not one each.
ANCHORS_PER_READ = 100


def anchor_params() -> tuple[str, ...]:
    """The parameters of a read by several anchors: ``anchor_1`` .. ``anchor_{ANCHORS_PER_READ}``."""
    return tuple(f"anchor_{i}" for i in range(1, ANCHORS_PER_READ + 1))


def anchor_in(column: exp.Expr) -> exp.In:
    """``column IN (:anchor_1, ..., :anchor_K)``: a read by up to K anchors, the unused ones bound
    as NULL (which matches nothing)."""
    return exp.In(this=column, expressions=[placeholder(name) for name in anchor_params()])


def anchor_equals(column: exp.Identifier) -> exp.EQ:
    """``column = :anchor`` for a column of the written table."""
    return exp.EQ(this=exp.Column(this=copy_tree(column)), expression=placeholder("anchor"))


@dataclass(frozen=True)
class Base:
    """The query derived statements start from, and how to refer to an output column in it."""

    query: exp.Select
    ref: Callable[[str], exp.Expr]


def restrictable(projection: Projection, projected: bool = True) -> Base:
    """The import ready for restriction: the query itself (without ORDER BY) or a wrapper
    selecting every output column from it as a subquery (see ``projection``). ``query`` is a
    fresh tree the caller owns: builders may edit it in place (``copy=False``), and each further
    statement starts from a ``copy()`` of it. Unless ``projected``, the query itself comes without
    its select list, for a caller that selects something else (its outputs are still ``ref``)."""
    if not projection.wrap:
        inner = _copy_select(projection.bare_query, () if projected else ("order", "expressions"))
        inner.set("order", None)

        def ref_direct(name: str) -> exp.Expr:
            output = projection.output(name)
            assert output is not None
            return copy_tree(output.bare_expression)

        return Base(inner, ref_direct)
    wrapped = copy_tree(projection.bare_query)
    if not (wrapped.args.get("limit") or wrapped.args.get("offset")):
        wrapped.set("order", None)

    def ref_wrapped(name: str) -> exp.Expr:
        output = projection.output(name)
        assert output is not None
        return exp.Column(this=copy_tree(output.identifier), table=exp.to_identifier(WRAP_ALIAS))

    outer = exp.select(*(ref_wrapped(o.name) for o in projection.outputs)).from_(
        wrapped.subquery(WRAP_ALIAS, copy=False), copy=False
    )
    return Base(outer, ref_wrapped)


def _copy_select(query: exp.Query, without: tuple[str, ...]) -> exp.Select:
    """A copy of the plain SELECT ``query`` without the clauses ``without``, which are not copied
    at all (the select list is most of an import's tree)."""
    assert isinstance(query, exp.Select)
    if not without:
        return copy_tree(query)
    shell = exp.Select()  # borrows the kept clauses for the one copy below, and is dropped
    shell.args.update((key, value) for key, value in query.args.items() if key not in without)
    return copy_tree(shell)


@dataclass(frozen=True)
class Reads:
    import_all: exp.Select
    import_first_page: exp.Select
    import_page: exp.Select
    by_anchor: exp.Select
    by_query: exp.Select
    by_anchor_locked: exp.Select | None = None


def derive_reads(  # noqa: PLR0913 - the columns, and how the query attribute compares
    projection: Projection, anchor: str, query: str, case_exact: bool, write: str, instant: bool = False
) -> Reads:
    """The read statements keyed on the ``anchor`` output column and the ``query`` output column
    (compared as :func:`by_value` compares). Each is its own tree (rendering may rewrite it): one
    copy of the import apiece, edited in place."""
    b = restrictable(projection)

    def by_anchor_order() -> exp.Select:
        return copy_tree(b.query).order_by(order_ascending(b.ref(anchor), write), copy=False)

    by_anchor = copy_tree(b.query).where(
        exp.EQ(this=b.ref(anchor), expression=placeholder("anchor")), copy=False
    )
    after = exp.GT(this=b.ref(anchor), expression=placeholder("after"))
    page = copy_tree(b.query).where(after, copy=False)
    page = page.order_by(order_ascending(b.ref(anchor), write), copy=False)
    return Reads(
        import_all=by_anchor_order(),
        import_first_page=by_anchor_order().limit(placeholder("limit"), copy=False),
        import_page=page.limit(placeholder("limit"), copy=False),
        by_anchor=by_anchor,
        by_query=_equal_value(b, query, case_exact, write, instant),
        by_anchor_locked=locked_by_anchor(by_anchor, projection, anchor, write),
    )


def locked_by_anchor(
    by_anchor: exp.Select, projection: Projection, anchor: str, write: str
) -> exp.Select | None:
    """A copy of ``by_anchor`` as a locking read, for a write's read of the object it changes: PostgreSQL
    ``FOR NO KEY UPDATE OF`` the anchor's table (the lock an UPDATE of the row takes, so rows
    that reference it can still be added), MySQL/MariaDB and Oracle ``FOR UPDATE``.

    Without it, two gateway processes writing one object could each read the row, find the
    version they expected, and write: the second UPDATE waits for the first and then overwrites
    it with values computed from the row before it (PostgreSQL's READ COMMITTED, and InnoDB's
    REPEATABLE READ, whose plain reads come from the transaction's snapshot). A locking read waits
    for the other writer and returns the row it committed, so the version check sees it.

    None where no lock can be asked: SQLite (a write transaction holds the database's write lock
    from its BEGIN IMMEDIATE), SQL Server (no FOR UPDATE; table hints are not derived), and an
    import PostgreSQL cannot lock a row of (wrapped: GROUP BY, DISTINCT, aggregates, LIMIT; a WITH;
    an anchor that is no column of a table in the FROM)."""
    if write not in ("postgres", "mysql", "oracle") or projection.wrap:
        return None
    output = projection.output(anchor)
    if output is None or output.table is None or output.column is None or by_anchor.args.get("with"):
        return None
    select = copy_tree(by_anchor)  # by_anchor is rendered on its own, and rendering may rewrite it
    if write == "postgres":  # OF names the table as the FROM does: its alias, else its name, as quoted
        alias = output.table.args.get("alias")
        of = copy_tree(alias.this if isinstance(alias, exp.TableAlias) and alias.this else output.table.this)
        select.set("locks", [exp.Lock(update=True, key=True, expressions=[of])])
    else:
        select.set("locks", [exp.Lock(update=True)])
    return select


#: the SCIM types whose values fold case when the attribute is not ``caseExact``
FOLDED_TYPES = ("string", "reference", "binary")


def compared_as(scim_type: str, case_exact: bool) -> tuple[bool, bool]:
    """(case_exact, instant) of a look-up by an attribute's value (:func:`by_value`): only text
    folds case; a number or a dateTime is compared as the column's own type (a ``LOWER`` of it
    would compare spellings, and PostgreSQL has no ``LOWER`` of a bound number), a dateTime as an
    instant."""
    return case_exact or scim_type not in FOLDED_TYPES, scim_type == "dateTime"


def by_value(
    projection: Projection, column: str, case_exact: bool, write: str, instant: bool = False
) -> exp.Select:
    """The import's rows whose ``column`` (an output column) equals ``:value``, case-folded unless
    ``case_exact``: how the query attribute (``by_query``) and each other unique attribute are
    looked up in the database. ``instant``: a dateTime, which SQLite keeps as text in any ISO
    spelling (``2024-01-01 10:00:00``, ``...T10:00:00.000Z``, a bare day): there both sides are
    compared as ``strftime`` spells them, as a filter compares them."""
    return _equal_value(restrictable(projection), column, case_exact, write, instant)


def _equal_value(b: Base, column: str, case_exact: bool, write: str, instant: bool) -> exp.Select:
    """``b``'s query, restricted in place as :func:`by_value` says."""
    if instant and write == "sqlite":
        spelled = exp.Literal.string("%Y-%m-%dT%H:%M:%fZ")
        left = exp.Anonymous(this="strftime", expressions=[spelled, b.ref(column)])
        value = exp.Anonymous(this="strftime", expressions=[spelled.copy(), placeholder("value")])
        return b.query.where(exp.EQ(this=left, expression=value), copy=False)
    return _where_equal(b, column, case_exact, write)


def _where_equal(b: Base, column: str, case_exact: bool, write: str) -> exp.Select:
    """``b``'s query, restricted in place to ``column = :value``, both sides lower-cased unless
    ``case_exact``. PostgreSQL has no ``LOWER`` of a number or a date: there the column is cast
    to text first (a no-op for a text column, so an index on ``LOWER(column)`` still serves it)."""
    left: exp.Expr = b.ref(column)
    value: exp.Expr = placeholder("value")
    if not case_exact:
        if write == "postgres":
            left = exp.Cast(this=left, to=copy_tree(_TEXT))
        left, value = exp.Lower(this=left), exp.Lower(this=value)
    return b.query.where(exp.EQ(this=left, expression=value), copy=False)


def select_watermark_changes(projection: Projection, watermark: str, anchor: str, write: str) -> exp.Select:
    """The import's rows whose watermark is past ``:since``, oldest first."""
    b = restrictable(projection)
    since = exp.GT(this=b.ref(watermark), expression=placeholder("since"))
    return b.query.where(since, copy=False).order_by(
        order_ascending(b.ref(watermark), write), order_ascending(b.ref(anchor), write), copy=False
    )


def select_by_anchors(projection: Projection, anchor: str) -> exp.Select:
    """The import's rows whose anchor is one of ``:anchor_1`` .. ``:anchor_K`` (:func:`anchor_in`)."""
    b = restrictable(projection)
    return b.query.where(anchor_in(b.ref(anchor)), copy=False)


def select_watermark_max(projection: Projection, watermark: str) -> exp.Select:
    """The greatest watermark the import currently holds."""
    b = restrictable(projection, projected=False)
    return b.query.select(exp.Max(this=b.ref(watermark)), append=False, copy=False)


def select_table_changes(
    table: exp.Table,
    sequence: exp.Identifier,
    anchor: exp.Identifier,
    change_type: exp.Identifier,
    write: str,
) -> exp.Select:
    """The change-table rows past ``:since``, in sequence order."""
    seq = exp.Column(this=copy_tree(sequence))
    return (
        exp.select(seq, exp.Column(this=copy_tree(anchor)), exp.Column(this=copy_tree(change_type)))
        .from_(copy_tree(table))
        .where(exp.GT(this=copy_tree(seq), expression=placeholder("since")))
        .order_by(order_ascending(copy_tree(seq), write))
    )


def select_table_max(table: exp.Table, sequence: exp.Identifier) -> exp.Select:
    return exp.select(exp.Max(this=exp.Column(this=copy_tree(sequence)))).from_(copy_tree(table))
