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
  ISO 8601 text it stores compares), booleans by the value a write would store, through the
  attribute's transform (``active eq true`` for ``active <-> not locked`` is ``locked = false``);
- a value map translates ``eq``/``ne``/``pr`` into ``IN`` over the stored values it declares.

Refused, so evaluated on the cache: value maps with ``else`` defaults, ordering or substring
operators on mapped values, multi-valued attributes bound to columns
(``emails[type eq "work"].value <-> mail``), references rendered as DNs, ``meta`` beyond the mapped
``created``/``lastModified``, ``schemas``, ids that are DNs, a string value compared with a number
attribute and the like, and on SQLite (whose ``LOWER()`` folds ASCII only) a case-insensitive
comparison with a non-ASCII letter in the value.
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import sqlglot
from sqlalchemy import text
from sqlglot import exp

from mapper.plan import PlanMulti, PlanObject
from mapper.runtime.codec import Codec
from mapper.runtime.database import Tx
from mapper.runtime.loading import RowForm
from mapper.runtime.record import Record, anchor_key
from mapper.runtime.values import OMIT, bind_datetime, canonical
from mapper.scimfilter import (
    ORDERING,
    SUBSTRING,
    And,
    AttrPath,
    Compare,
    Filter,
    Not,
    Or,
    Present,
    Scalar,
    ValuePath,
)

#: sqlglot's name of each SQLAlchemy backend this module writes SQL for
DIALECTS = {"sqlite": "sqlite", "postgresql": "postgres", "mysql": "mysql", "mariadb": "mysql"}
FILTERED = "scim_f"  # the alias of the wrapped import
LIMIT, OFFSET = "scim_limit", "scim_offset"
#: The most values one statement binds on SQLite: a flat OR of that many comparisons stays within
#: its expression depth (SQLITE_MAX_EXPR_DEPTH, 1000)
SQLITE_TERMS = 400
#: Filters whose statements a translation keeps (each at most --max-filter-length long).
REMEMBERED = 128
LIKE_ESCAPE = "!"


class Untranslatable(Exception):  # noqa: N818 - a verdict, not a failure: the cache answers instead
    """The filter has a part the database cannot answer exactly; ``reason`` names it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Described(Protocol):
    """What the translation needs to know of an attribute path (the front end's resolver answers
    it: :class:`mapper.scim.attributes.Attribute`)."""

    @property
    def urn(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def sub(self) -> str | None: ...
    @property
    def type(self) -> str: ...
    @property
    def case_exact(self) -> bool: ...
    @property
    def known(self) -> bool: ...
    @property
    def sub_attributes(self) -> tuple[str, ...]: ...


class Describe(Protocol):
    def resolve(self, urn: str | None, attribute: str, sub: str | None = None) -> Described: ...


@dataclass(frozen=True)
class Sort:
    """``sortBy`` (as written) and its direction."""

    path: AttrPath
    descending: bool = False


# ---------------------------------------------------------------------------------------------
# what a path reaches


@dataclass(frozen=True)
class _Value:
    """One column (of the wrapped import, or of a child row) holding one SCIM value: ``kind`` is
    how its values compare (``string``, ``number``, ``boolean``, ``dateTime``); ``read`` maps a
    stored value to the SCIM value when a transform sits between them."""

    expr: exp.Expr
    kind: str
    case_exact: bool
    transform: Any = None  # mapper.runtime.values.Transform


@dataclass(frozen=True)
class _Child:
    """A multi-valued attribute kept in a child table: its import and output columns."""

    index: int
    multi: PlanMulti
    subs: tuple[str, ...]  # "value", then the sub-attributes of the extra columns


_NOTHING = None  # a path that reaches no value in any resource


class FilterSql:
    """The filter → SQL translation of one object type on one database (``dialect``: SQLAlchemy's
    backend name). Built once per store; :meth:`query` is safe to call from worker threads."""

    def __init__(self, obj: PlanObject, codec: Codec, dialect: str) -> None:
        self.obj = obj
        self.codec = codec
        self.dialect = dialect
        self.write = DIALECTS.get(dialect, dialect)
        self._import, self._outputs = _unordered(obj.import_all.sql, self.write)
        self._children = [_unordered(m.load.sql, self.write) for m in obj.multi]
        # the imports as text, rendered once: a statement is the filter's SQL around them
        self._import_sql = self._import.sql(dialect=self.write)
        self._children_sql = [query.sql(dialect=self.write) for query, _ in self._children]
        self._columns_sql = ", ".join(self.column(n).sql(dialect=self.write) for n in obj.columns)
        self._remembered: OrderedDict[tuple[Any, ...], tuple[str, str, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    # -- the statements ---------------------------------------------------------------------

    def query(
        self,
        node: Filter | None,
        describe: Describe,
        *,
        sort: Sort | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> Search:
        """The page and count statements for ``node`` (every row without one); raises
        :class:`Untranslatable` when the database cannot answer it exactly. The statements of the
        last :data:`REMEMBERED` filters are kept (a client polling one filter pays sqlglot once)."""
        if offset and limit is None:
            raise Untranslatable("an offset without a limit")
        key = (_fingerprint(node), repr(sort), id(describe), limit is None, offset == 0)
        with self._lock:
            found = self._remembered.get(key)
            if found is not None:
                self._remembered.move_to_end(key)
        if found is None:
            found = self._statements(node, describe, sort, limit is not None, offset != 0)
            with self._lock:
                self._remembered[key] = found
                while len(self._remembered) > REMEMBERED:
                    self._remembered.popitem(last=False)
        page, count, params = found
        bound = dict(params)
        if limit is not None:
            bound[LIMIT] = limit
        if offset:
            bound[OFFSET] = offset
        return Search(page, count, bound, self)

    def _statements(
        self, node: Filter | None, describe: Describe, sort: Sort | None, limited: bool, offset: bool
    ) -> tuple[str, str, dict[str, Any]]:
        params: dict[str, Any] = {}
        names = (f"scim_p{i}" for i in itertools.count())

        def bind(value: Any) -> exp.Expr:
            name = next(names)
            params[name] = value
            return exp.var(f":{name}")

        build = _Builder(self, describe, bind)
        condition = build.filter(node, None) if node is not None else None
        if self.write == "sqlite" and len(params) > SQLITE_TERMS:
            raise Untranslatable(f"more than {SQLITE_TERMS} values on SQLite (its expression depth limit)")
        where = f" WHERE {self._render(condition)}" if condition is not None else ""
        order = build.order(sort) if sort is not None else []
        order.append(exp.Ordered(this=self.column(self.obj.anchor_column), desc=False))
        source = f"FROM ({self._import_sql}) AS {FILTERED}"
        ordered = self._render(exp.Order(expressions=order)).strip()
        page = f"SELECT {self._columns_sql} {source}{where} {ordered}"
        if limited:
            page += f" LIMIT :{LIMIT}"
        if offset:
            page += f" OFFSET :{OFFSET}"
        return page, f"SELECT COUNT(*) {source}{where}", params

    def _render(self, expression: exp.Expr) -> str:
        """``expression`` in the dialect, each child import put in where its marker stands."""
        text = expression.sql(dialect=self.write)
        for index, sql in enumerate(self._children_sql):
            text = text.replace(_marker(index), f"({sql})")
        return text

    def records(self, tx: Tx, fetched: list[tuple[Any, ...]]) -> list[Record]:
        """Records of fetched import rows, with their children read for those anchors only."""
        codec = self.codec
        anchors = [anchor_key(row[codec.anchor_index]) for row in fetched]
        per_multi: list[dict[Any, list[tuple[Any, ...]]]] = []
        for index in range(len(self.obj.multi)):
            grouped: dict[Any, list[tuple[Any, ...]]] = defaultdict(list)
            for chunk in _chunks(anchors, 500):
                alias = "scim_c"
                names = [f"scim_a{i}" for i in range(len(chunk))]
                select = exp.Select(
                    expressions=[
                        self.child(index, alias, p) for p in range(len(self.obj.multi[index].columns))
                    ]
                ).from_(self.child_source(index, alias), copy=False)
                owner = self.child(index, alias, 0)
                select.set(
                    "where", exp.Where(this=exp.In(this=owner, expressions=[exp.var(f":{n}") for n in names]))
                )
                bound = {n: tx.database.convert(a) for n, a in zip(names, chunk, strict=True)}
                for item in tx.connection.execute(text(self._render(select)), bound):
                    grouped[anchor_key(item[0])].append(tuple(item))
            per_multi.append(grouped)
        form = RowForm.of(codec)
        out = []
        for row, anchor in zip(fetched, anchors, strict=True):
            children = codec.children_of([grouped.get(anchor, ()) for grouped in per_multi])
            out.append(form.record(row, children))
        return out

    def column(self, name: str) -> exp.Column:
        """An output column of the wrapped import."""
        return exp.Column(this=self._outputs[name.lower()].copy(), table=_ident(FILTERED))

    def child(self, index: int, alias: str, position: int) -> exp.Column:
        outputs = self._children[index][1]
        name = self.obj.multi[index].columns[position]
        return exp.Column(this=outputs[name.lower()].copy(), table=_ident(alias))

    def child_source(self, index: int, alias: str) -> exp.Table:
        """The child import as a table of the FROM: a marker that :meth:`_render` replaces."""
        return exp.Table(this=_ident(_marker(index)), alias=exp.TableAlias(this=_ident(alias)))


@dataclass(frozen=True)
class Search:
    """A translated query: ``page`` (the import projection of the requested rows, in order) and
    ``count`` (how many rows match), both binding ``params``."""

    page: str
    count: str
    params: dict[str, Any]
    source: FilterSql

    def run(self, tx: Tx, *, rows: bool = True) -> tuple[int, list[Record]]:
        """(total matches, the page's records), in one transaction; ``rows=False`` counts only."""
        convert = tx.database.convert
        bound = {k: convert(v) for k, v in self.params.items()}
        connection = tx.connection
        total = int(connection.execute(text(self.count), bound).scalar_one())
        if not rows or total == 0:
            return total, []
        fetched = [tuple(r) for r in connection.execute(text(self.page), bound)]
        return total, self.source.records(tx, fetched)


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _marker(index: int) -> str:
    return f"scim_child_import_{index}"


def _ident(name: str) -> exp.Identifier:
    return exp.Identifier(this=name, quoted=False)


def _unordered(sql: str, write: str) -> tuple[exp.Select, dict[str, exp.Identifier]]:
    """A plan SELECT without its ORDER BY, and its output identifiers by lower-cased name (with
    their quoting, as the import spells them)."""
    query = sqlglot.parse_one(sql, read=write)
    if not isinstance(query, exp.Select):  # every import is compiled to one SELECT
        raise ValueError("the import is not a SELECT")
    query.set("order", None)
    outputs: dict[str, exp.Identifier] = {}
    for expression in query.expressions:
        alias = expression.args.get("alias")
        if isinstance(alias, exp.TableAlias):
            alias = alias.this
        identifier = alias if isinstance(alias, exp.Identifier) else None
        if identifier is None and isinstance(expression, exp.Column):
            identifier = expression.this if isinstance(expression.this, exp.Identifier) else None
        if identifier is not None:
            outputs.setdefault(identifier.name.lower(), identifier)
    return query, outputs


# ---------------------------------------------------------------------------------------------
# the condition


_NUMBERS = frozenset({"integer", "decimal"})
_TEXTS = frozenset({"string", "reference", "binary"})


class _Builder:
    """Builds the condition of one filter; ``bind`` makes a placeholder for a value."""

    def __init__(self, source: FilterSql, describe: Describe, bind: Callable[[Any], exp.Expr]) -> None:
        self.source = source
        self.codec = source.codec
        self.obj = source.obj
        self.write = source.write
        self.describe = describe
        self.bind = bind
        self.aliases = (f"scim_c{i}" for i in itertools.count())

    # -- structure --------------------------------------------------------------------------

    def filter(self, node: Filter, scope: _Scope | None) -> exp.Expr:
        if isinstance(node, And | Or):  # a chain as one flat connective: nested parentheses
            # overflow SQLite's parser stack after about a hundred terms
            combine = exp.and_ if isinstance(node, And) else exp.or_
            terms = [self.filter(term, scope) for term in _chain(node, type(node))]
            return combine(*terms, copy=False)
        if isinstance(node, Not):
            return exp.not_(exp.paren(self.filter(node.inner, scope), copy=False), copy=False)
        if isinstance(node, ValuePath):
            if scope is not None:
                raise Untranslatable("a nested value filter")
            return self.value_path(node)
        if isinstance(node, Present):
            return self.present(node.path, scope)
        return self.compare(node, scope)

    def value_path(self, node: ValuePath) -> exp.Expr:
        info = self.describe.resolve(node.path.urn, node.path.attribute)
        child = self._child(info)
        if child is not None:
            alias = next(self.aliases)
            inner = self.filter(node.filter, _Scope(info, child=child, alias=alias))
            return self._exists(child, alias, inner)
        slots = self._complex_slots(info)
        if slots is None:
            return exp.false()  # no item in any resource: no item matches
        inner = self.filter(node.filter, _Scope(info))
        return exp.and_(self._dict_exists(slots), exp.paren(inner, copy=False), copy=False)

    def present(self, path: AttrPath, scope: _Scope | None) -> exp.Expr:
        if scope is None and path.sub is None:
            info = self.describe.resolve(path.urn, path.attribute)
            child = self._child(info)
            if child is not None:  # some item
                alias = next(self.aliases)
                return self._exists(child, alias, exp.true())
            if info.type == "complex":
                slots = self._complex_slots(info)
                return self._dict_exists(slots) if slots is not None else exp.false()
        target = self._target(path, scope, compared=False)
        if target is _NOTHING:
            return exp.false()
        if isinstance(target, tuple):  # a child's sub-attribute
            child, position, value = target
            alias = next(self.aliases)
            return self._exists(child, alias, self._present(self._child_value(child, alias, position, value)))
        return self._present(target)

    def compare(self, node: Compare, scope: _Scope | None) -> exp.Expr:
        info = self._info(node.path, scope)
        if node.op == "ne":
            positive = self.compare(Compare(node.path, "eq", node.value), scope)
            return exp.not_(exp.paren(positive, copy=False), copy=False)
        target = self._target(node.path, scope, compared=True)
        if node.value is None:  # eq null: no value
            if target is _NOTHING:
                return exp.true()
            return exp.not_(exp.paren(self.present(node.path, scope), copy=False), copy=False)
        if target is _NOTHING:
            self._check_value(info, node)
            return exp.false()
        if isinstance(target, tuple):
            child, position, value = target
            alias = next(self.aliases)
            column = self._child_value(child, alias, position, value)
            return self._exists(child, alias, self._matches(column, info, node))
        return self._matches(target, info, node)

    # -- leaves -----------------------------------------------------------------------------

    def _present(self, value: _Value) -> exp.Expr:
        expr = value.expr
        present: exp.Expr = exp.Not(this=exp.Is(this=expr.copy(), expression=exp.Null()))
        transform = value.transform
        if transform is not None:
            if transform.kind == "not":
                return present
            plan = transform.attr.transform
            if plan.otherwise == "value":
                if plan.default in (None, ""):
                    raise Untranslatable("'pr' on a value map whose default is empty")
                return present
            if any(scim in (None, "") for scim, _ in plan.pairs):
                raise Untranslatable("'pr' on a value map with an empty value")
            return self._in(expr, [stored for _, stored in plan.pairs])
        if value.kind == "flag":
            return exp.and_(present, exp.EQ(this=expr.copy(), expression=self.bind(True)), copy=False)
        if value.kind == "string":
            length = exp.Length(this=self._text(expr.copy()))
            return exp.and_(present, exp.GT(this=length, expression=exp.Literal.number(0)), copy=False)
        return present

    def _matches(self, value: _Value, info: Described, node: Compare) -> exp.Expr:
        """``eq`` (``ne`` is its negation) or an ordering or substring operator, two-valued."""
        op, expected = node.op, node.value
        if value.transform is not None:
            return self._mapped(value, op, expected)
        kind = value.kind
        if kind == "flag":
            return self._present(value) if op == "eq" and _as_bool(expected) is True else exp.false()
        if kind == "boolean" or isinstance(expected, bool):
            if kind != "boolean":
                raise Untranslatable("a boolean compared with a non-boolean attribute")
            wanted = _as_bool(expected)
            if wanted is None or op != "eq":
                return exp.false()
            return self._guarded(value, exp.EQ(this=value.expr.copy(), expression=self.bind(wanted)))
        if info.type == "dateTime" and kind == "dateTime":
            return self._datetime(value, op, expected)
        if kind == "number":
            if not isinstance(expected, int | float) or op in SUBSTRING:
                raise Untranslatable(f"'{op}' with a non-number on a number attribute")
            return self._guarded(value, _operator(op, value.expr.copy(), self.bind(expected)))
        if kind != "string":
            raise Untranslatable(f"comparing a {kind} attribute")
        if isinstance(expected, float | int):
            expected = str(expected)
        assert isinstance(expected, str)
        return self._guarded(value, self._string(value, op, expected))

    def _guarded(self, value: _Value, match: exp.Expr) -> exp.Expr:
        return exp.and_(self._present(value), match, copy=False)

    def _mapped(self, value: _Value, op: str, expected: Scalar) -> exp.Expr:
        transform = value.transform
        if transform.kind == "not":
            wanted = _as_bool(expected)
            if op != "eq" or wanted is None:
                if op == "eq":
                    return exp.false()
                raise Untranslatable(f"'{op}' on an inverted flag")
            stored = transform.write(wanted)
            return exp.and_(
                self._present(value), exp.EQ(this=value.expr.copy(), expression=self.bind(stored)), copy=False
            )
        plan = transform.attr.transform
        if op != "eq":
            raise Untranslatable(f"'{op}' on a value map")
        if expected is None:
            return exp.false()
        case_exact = transform.attr.case_exact
        wanted = _as_bool(expected) if transform.attr.type == "boolean" else _folded(expected, case_exact)
        if wanted is None:
            return exp.false()
        # the stored values that read as the wanted SCIM value (each reads as its first pairing)
        declared = [stored for _, stored in plan.pairs if stored is not None]
        hits = [s for s in declared if _same_scim(transform.read(s), wanted, case_exact)]
        condition = self._in(value.expr, hits)
        if plan.otherwise == "value" and _same_scim(plan.default, wanted, case_exact):
            # any stored value the map does not declare reads as the default
            outside = exp.not_(self._in(value.expr, declared), copy=False) if declared else exp.true()
            condition = exp.or_(condition, exp.and_(self._present(value), outside, copy=False), copy=False)
        return exp.paren(condition, copy=False)

    def _in(self, expr: exp.Expr, stored: Sequence[Any]) -> exp.Expr:
        if not stored:
            return exp.false()
        keys = {canonical(s): s for s in stored if s is not None}
        return exp.In(this=expr.copy(), expressions=[self.bind(s) for s in keys.values()])

    def _datetime(self, value: _Value, op: str, expected: Scalar) -> exp.Expr:
        if op in SUBSTRING or not isinstance(expected, str):
            raise Untranslatable(f"'{op}' on a dateTime")
        try:
            when = datetime.fromisoformat(expected.strip())
        except ValueError:
            raise Untranslatable("a value that is no dateTime") from None  # the cache answers 400
        when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
        column = value.expr.copy()
        if self.write == "sqlite":
            if when.microsecond % 1000:
                raise Untranslatable("a dateTime finer than milliseconds on SQLite")
            column = exp.Anonymous(
                this="strftime", expressions=[exp.Literal.string("%Y-%m-%dT%H:%M:%fZ"), column]
            )
            bound: Any = when.isoformat(timespec="milliseconds").replace("+00:00", "Z")
            match = exp.and_(
                exp.Not(this=exp.Is(this=column.copy(), expression=exp.Null())),
                _operator(op, column, self.bind(bound)),
                copy=False,
            )
            return self._guarded(value, match)
        bound = bind_datetime(when, self.source.dialect)
        return self._guarded(value, _operator(op, column, self.bind(bound)))

    def _string(self, value: _Value, op: str, expected: str) -> exp.Expr:
        case_exact = value.case_exact
        if not case_exact and self.write == "sqlite" and not expected.isascii():
            if any(c.lower() != c or c.upper() != c for c in expected if not c.isascii()):
                raise Untranslatable("a case-insensitive comparison of non-ASCII letters on SQLite")
        column = self._text(value.expr.copy())
        if op in SUBSTRING:
            if self.write == "sqlite" and case_exact:
                return self._sqlite_exact_substring(column, op, expected)
            escaped = expected.replace("!", "!!").replace("%", "!%").replace("_", "!_")
            pattern = {"co": f"%{escaped}%", "sw": f"{escaped}%", "ew": f"%{escaped}"}[op]
            left, right = self._fold(column, case_exact), self._fold(self.bind(pattern), case_exact)
            if self.write == "mysql":
                left, right = _binary(left), _binary(right)
            return exp.Escape(
                this=exp.Like(this=left, expression=right), expression=exp.Literal.string(LIKE_ESCAPE)
            )
        left, right = self._fold(column, case_exact), self._fold(self.bind(expected), case_exact)
        if self.write == "sqlite":
            left = exp.Collate(this=left, expression=exp.var("BINARY"))
        elif self.write == "mysql":
            left, right = _binary(left), _binary(right)
        elif op in ORDERING:  # postgres: code-point order, as the cache compares
            left = exp.Collate(this=left, expression=exp.Identifier(this="C", quoted=True))
        return _operator(op, left, right)

    def _sqlite_exact_substring(self, column: exp.Expr, op: str, expected: str) -> exp.Expr:
        """SQLite's LIKE ignores ASCII case: a caseExact ``co``/``sw``/``ew`` compares substrings."""
        value = self.bind(expected)
        if op == "co":
            found = exp.Anonymous(this="instr", expressions=[column, value])
            return exp.GT(this=found, expression=exp.Literal.number(0))
        length = exp.Length(this=value.copy())
        if op == "sw":
            part = exp.Substring(this=column, start=exp.Literal.number(1), length=length)
        else:
            start = exp.Add(
                this=exp.Sub(this=exp.Length(this=column.copy()), expression=length),
                expression=exp.Literal.number(1),
            )
            part = exp.Substring(this=column, start=start)
        return exp.EQ(this=exp.Collate(this=part, expression=exp.var("BINARY")), expression=value)

    def _fold(self, expr: exp.Expr, case_exact: bool) -> exp.Expr:
        return expr if case_exact else exp.Lower(this=expr)

    def _text(self, expr: exp.Expr) -> exp.Expr:
        """``expr`` as text, as the codec renders a string attribute of any column type. SQLite:
        ``expr || ''`` (what its CAST gives, without the column's collation or affinity)."""
        if self.write == "sqlite":
            return exp.DPipe(this=expr, expression=exp.Literal.string(""))
        return exp.Cast(this=expr, to=_TEXT.copy())

    def _check_value(self, info: Described, node: Compare) -> None:
        """A value the cache would refuse (400) even with no value to compare: the cache answers."""
        if info.type == "dateTime" and isinstance(node.value, str):
            try:
                datetime.fromisoformat(node.value.strip())
            except ValueError:
                raise Untranslatable("a value that is no dateTime") from None

    # -- paths ------------------------------------------------------------------------------

    def _info(self, path: AttrPath, scope: _Scope | None) -> Described:
        if scope is None:
            return self.describe.resolve(path.urn, path.attribute, path.sub)
        if path.sub is not None or path.urn is not None:
            raise Untranslatable("a qualified path inside a value filter")
        return self.describe.resolve(scope.info.urn, scope.info.name, path.attribute)

    def _target(self, path: AttrPath, scope: _Scope | None, compared: bool) -> Any:
        """What ``path`` reaches: a :class:`_Value` (a column), ``(child, position, value)`` (a
        child table's column), or ``_NOTHING``."""
        info = self._info(path, scope)
        if scope is not None:
            if scope.child is not None:
                return self._child_target(scope.child, info, scope.alias)
            return self._slot_value(info, info.sub)
        if not info.known:
            return _NOTHING
        if info.urn == "" and info.name.lower() == "schemas":
            raise Untranslatable("a filter on schemas")
        if info.urn == "" and info.name.lower() == "id":
            if self.codec.dn_ids:
                raise Untranslatable("ids that are DNs")
            return _Value(self.source.column(self.obj.anchor_column), "string", True)
        if info.name.lower() == "meta" and (info.sub or "").lower() not in ("created", "lastmodified"):
            raise Untranslatable(f"a filter on meta.{info.sub or ''}")
        child = self._child(info)
        if child is not None:
            return self._child_target(child, info, None)
        sub = info.sub
        if sub is None and info.type == "complex":
            if "value" not in info.sub_attributes:
                raise Untranslatable("a complex attribute without a value")
            sub = "value"
        return self._slot_value(info, sub)

    def _slot_value(self, info: Described, sub: str | None) -> Any:
        container = self._container(info)
        name, sub_key = info.name.lower(), (sub or "").lower()
        for slot in self.codec.slots:
            attr = slot.attr
            if (slot.extension or "").lower() != container or attr.attribute.lower() != name:
                continue
            if (attr.sub_attribute or "").lower() == sub_key or (sub_key == "value" and slot.complex):
                if attr.multi_valued:
                    raise Untranslatable("a multi-valued attribute bound to columns")
                if not slot.readable:
                    return _NOTHING
                if slot.ident is not None:
                    raise Untranslatable("a reference rendered as a DN")
                return _Value(
                    self.source.column(attr.column),
                    _kind(attr.type if slot.transform is None else "transformed"),
                    self._case_exact(info, sub),
                    slot.transform,
                )
        if any(
            (s.extension or "").lower() == container
            and s.attr.attribute.lower() == name
            and s.attr.multi_valued
            for s in self.codec.slots
        ):
            raise Untranslatable("a multi-valued attribute bound to columns")
        return _NOTHING

    def _case_exact(self, info: Described, sub: str | None) -> bool:
        if sub is not None and info.sub is None:
            return self.describe.resolve(info.urn, info.name, sub).case_exact
        return info.case_exact

    def _container(self, info: Described) -> str:
        if not info.urn or info.urn.lower() == self.obj.schema_urn.lower() or info.name.lower() == "meta":
            return ""
        return info.urn.lower()

    def _child(self, info: Described) -> _Child | None:
        container = self._container(info)
        for index, (multi, slot) in enumerate(zip(self.obj.multi, self.codec.multis, strict=True)):
            if multi.attribute.lower() == info.name.lower() and (slot.extension or "").lower() == container:
                if slot.ident is not str:
                    raise Untranslatable("a reference rendered as a DN")
                return _Child(index, multi, ("value", *slot.extra))
        return None

    def _child_target(self, child: _Child, info: Described, alias: str | None) -> Any:
        sub = (info.sub or "value").lower()
        positions = [i for i, name in enumerate(child.subs) if name.lower() == sub]
        if not positions:
            return _NOTHING
        position = positions[0]
        # ``primary`` is rendered only when true (false is the default clients leave out)
        kind = "flag" if child.subs[position] == "primary" else "string"
        value = _Value(exp.Null(), kind, self._case_exact(info, info.sub or "value"))
        if alias is not None:  # inside the value filter's own EXISTS
            return _Value(self.source.child(child.index, alias, position + 1), kind, value.case_exact)
        return child, position, value

    def _child_value(self, child: _Child, alias: str, position: int, value: _Value) -> _Value:
        return _Value(self.source.child(child.index, alias, position + 1), value.kind, value.case_exact)

    def _complex_slots(self, info: Described) -> list[Any] | None:
        """The readable columns of a single-valued complex attribute (``name``), or None."""
        container = self._container(info)
        slots = [
            s
            for s in self.codec.slots
            if (s.extension or "").lower() == container and s.attr.attribute.lower() == info.name.lower()
        ]
        if any(s.attr.multi_valued for s in slots):
            raise Untranslatable("a multi-valued attribute bound to columns")
        readable = [s for s in slots if s.readable]
        if any(s.transform is not None for s in readable):
            raise Untranslatable("a complex attribute with a transformed sub-attribute")
        return readable or None

    def _dict_exists(self, slots: list[Any]) -> exp.Expr:
        tests = [
            exp.Not(this=exp.Is(this=self.source.column(s.attr.column), expression=exp.Null())) for s in slots
        ]
        return exp.paren(exp.or_(*tests, copy=False), copy=False)

    def _exists(self, child: _Child, alias: str, condition: exp.Expr) -> exp.Expr:
        owner = exp.EQ(
            this=self.source.child(child.index, alias, 0),
            expression=self.source.column(self.obj.anchor_column),
        )
        inner = exp.Select(expressions=[exp.Literal.number(1)]).from_(
            self.source.child_source(child.index, alias), copy=False
        )
        inner.set("where", exp.Where(this=exp.and_(owner, condition, copy=False)))
        return exp.Exists(this=inner)

    # -- sortBy -----------------------------------------------------------------------------

    def order(self, sort: Sort) -> list[exp.Ordered]:
        """ORDER BY terms for ``sortBy``: rows with a value first (in either order), by value."""
        target = self._target(sort.path, None, compared=True)
        if target is _NOTHING:
            return []
        if isinstance(target, tuple):
            raise Untranslatable("sortBy a multi-valued attribute")
        if target.transform is not None or target.kind not in ("string", "number", "boolean"):
            raise Untranslatable(f"sortBy a {target.kind} attribute")
        absent = exp.Case(
            ifs=[exp.If(this=self._present(target), true=exp.Literal.number(0))],
            default=exp.Literal.number(1),
        )
        key: exp.Expr = target.expr.copy()
        if target.kind == "string":
            # SQLite's LOWER() folds ASCII letters only: a sort (unlike a match) may order other
            # letters by their case there, which is better than refusing sortBy=userName
            key = self._fold(self._text(key), target.case_exact)
            if self.write == "sqlite":
                key = exp.Collate(this=key, expression=exp.var("BINARY"))
            elif self.write == "mysql":
                key = _binary(key)
            else:
                key = exp.Collate(this=key, expression=exp.Identifier(this="C", quoted=True))
        return [exp.Ordered(this=absent, desc=False), exp.Ordered(this=key, desc=sort.descending)]


@dataclass(frozen=True)
class _Scope:
    """The attribute a value filter ranges over: a child table (``alias`` is its row) or a
    single-valued complex attribute."""

    info: Described
    child: _Child | None = None
    alias: str | None = None


def _fingerprint(node: Filter | None) -> tuple[Any, ...]:
    """``node`` as a hashable key, walked without recursion, each value with its type (``1``,
    ``1.0`` and ``True`` are equal in Python, but not as filter values)."""
    out: list[Any] = []
    stack: list[Filter | None] = [node]
    while stack:
        top = stack.pop()
        if isinstance(top, And | Or):
            out.append(type(top).__name__)
            stack += [top.right, top.left]
        elif isinstance(top, Not):
            out.append("not")
            stack.append(top.inner)
        elif isinstance(top, ValuePath):
            out.append(("[]", top.path))
            stack.append(top.filter)
        elif isinstance(top, Compare):
            out.append((top.path, top.op, type(top.value).__name__, top.value))
        else:
            out.append(top)
    return tuple(out)


def _chain(node: Filter, kind: type[And] | type[Or]) -> list[Filter]:
    """The operands of a chain of ``kind`` (``a or b or c``), in order, without recursion limits."""
    out: list[Filter] = []
    stack: list[Filter] = [node]
    while stack:
        top = stack.pop()
        if isinstance(top, kind):
            stack.append(top.right)
            stack.append(top.left)
        else:
            out.append(top)
    return out


def _kind(scim_type: str) -> str:
    if scim_type in _NUMBERS:
        return "number"
    if scim_type in _TEXTS:
        return "string"
    return scim_type  # boolean, dateTime, transformed


_TEXT = exp.DataType.build("TEXT")
_BINARY = exp.DataType.build("BINARY")


def _binary(expr: exp.Expr) -> exp.Expr:
    return exp.Cast(this=expr, to=_BINARY.copy())


def _operator(op: str, left: exp.Expr, right: exp.Expr) -> exp.Expr:
    kinds: dict[str, type[exp.Binary]] = {
        "eq": exp.EQ,
        "gt": exp.GT,
        "ge": exp.GTE,
        "lt": exp.LT,
        "le": exp.LTE,
    }
    if op not in kinds:
        raise Untranslatable(f"operator '{op}'")
    return kinds[op](this=left, expression=right)


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _folded(value: Any, case_exact: bool) -> Any:
    if isinstance(value, str):
        return value if case_exact else value.casefold()
    if isinstance(value, bool):
        return value
    return canonical(value)


def _same_scim(read: Any, wanted: Any, case_exact: bool) -> bool:
    return read is not OMIT and read is not None and _folded(read, case_exact) == wanted
