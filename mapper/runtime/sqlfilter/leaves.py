"""The leaves of a translated filter: one column's value present, or compared with a filter value,
as the cache evaluator (:mod:`mapper.scim.filter`) would answer it. Every leaf is two-valued
(``col IS NOT NULL AND ...``), so ``not`` above it is exact under SQL's three-valued logic."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlglot import exp

from mapper.runtime.keys import folding
from mapper.runtime.record import FIRST_SECOND, LAST_SECOND, instant
from mapper.runtime.sqlfilter.terms import (
    LIKE_ESCAPE,
    TEXT,
    Described,
    Untranslatable,
    Value,
    binary,
    folded,
    operator,
    same_scim,
)
from mapper.runtime.values import bind_datetime, canonical
from mapper.scimfilter import ORDERING, SUBSTRING, Compare, Scalar, as_bool


class Leaves:
    """Builds the leaves of one filter in sqlglot dialect ``write`` (``dialect``: SQLAlchemy's
    backend name); ``bind`` makes a placeholder for a value."""

    def __init__(self, write: str, dialect: str, bind: Callable[[Any], exp.Expr]) -> None:
        self.write = write
        self.dialect = dialect
        self.bind = bind
        self.fold_value = folding(dialect)  # a value map's SCIM values compare as the cache's filters do

    def present(self, value: Value) -> exp.Expr:
        """``value`` has a value: not null, and not ``""`` for a string."""
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
            return self.among(expr, [stored for _, stored in plan.pairs])
        if value.kind == "flag":
            return exp.and_(present, exp.EQ(this=expr.copy(), expression=self.bind(True)), copy=False)
        if value.kind == "string":
            length = exp.Length(this=self.text(expr.copy()))
            return exp.and_(present, exp.GT(this=length, expression=exp.Literal.number(0)), copy=False)
        return present

    def matches(self, value: Value, info: Described, node: Compare) -> exp.Expr:
        """``eq`` (``ne`` is its negation) or an ordering or substring operator, two-valued."""
        op, expected = node.op, node.value
        if value.transform is not None:
            return self._mapped(value, op, expected)
        kind = value.kind
        if kind == "flag":
            return self.present(value) if op == "eq" and as_bool(expected) is True else exp.false()
        if kind == "boolean" or isinstance(expected, bool):
            if kind != "boolean":
                raise Untranslatable("a boolean compared with a non-boolean attribute")
            wanted = as_bool(expected)
            if wanted is None or op != "eq":
                return exp.false()
            return self._guarded(value, exp.EQ(this=value.expr.copy(), expression=self.bind(wanted)))
        if info.type == "dateTime" and kind == "dateTime":
            return self._datetime(value, op, expected)
        if info.type == "dateTime" and kind == "epoch":
            return self._epoch(value, op, expected)
        if kind == "number":
            if not isinstance(expected, int | float) or op in SUBSTRING:
                raise Untranslatable(f"'{op}' with a non-number on a number attribute")
            return self._guarded(value, operator(op, value.expr.copy(), self.bind(expected)))
        if kind != "string":
            raise Untranslatable(f"comparing a {kind} attribute")
        if not isinstance(expected, str):  # the cache refuses it (400): a string is quoted
            raise Untranslatable("a number compared with a string attribute")
        return self._guarded(value, self._string(value, op, expected))

    def _guarded(self, value: Value, match: exp.Expr) -> exp.Expr:
        return exp.and_(self.present(value), match, copy=False)

    def _mapped(self, value: Value, op: str, expected: Scalar) -> exp.Expr:
        transform = value.transform
        if transform.kind == "not":
            wanted = as_bool(expected)
            if op != "eq" or wanted is None:
                if op == "eq":
                    return exp.false()
                raise Untranslatable(f"'{op}' on an inverted flag")
            stored = transform.write(wanted)
            return exp.and_(
                self.present(value), exp.EQ(this=value.expr.copy(), expression=self.bind(stored)), copy=False
            )
        plan = transform.attr.transform
        if op != "eq":
            raise Untranslatable(f"'{op}' on a value map")
        if expected is None:
            return exp.false()
        case_exact = transform.attr.case_exact
        wanted = (
            as_bool(expected)
            if transform.attr.type == "boolean"
            else folded(expected, case_exact, self.fold_value)
        )
        if wanted is None:
            return exp.false()
        # the stored values that read as the wanted SCIM value (each reads as its first pairing)
        declared = [stored for _, stored in plan.pairs if stored is not None]
        hits = [s for s in declared if same_scim(transform.read(s), wanted, case_exact, self.fold_value)]
        condition = self.among(value.expr, hits)
        if plan.otherwise == "value" and same_scim(plan.default, wanted, case_exact, self.fold_value):
            # any stored value the map does not declare reads as the default
            outside = exp.not_(self.among(value.expr, declared), copy=False) if declared else exp.true()
            condition = exp.or_(condition, exp.and_(self.present(value), outside, copy=False), copy=False)
        return exp.paren(condition, copy=False)

    def among(self, expr: exp.Expr, stored: Sequence[Any]) -> exp.Expr:
        """``expr IN (...)`` the stored values, each bound once (false when there are none)."""
        if not stored:
            return exp.false()
        keys = {canonical(s): s for s in stored if s is not None}
        return exp.In(this=expr.copy(), expressions=[self.bind(s) for s in keys.values()])

    @staticmethod
    def _moment(op: str, expected: Scalar) -> datetime:
        """The instant a dateTime comparison names, in UTC."""
        if op in SUBSTRING or not isinstance(expected, str):
            raise Untranslatable(f"'{op}' on a dateTime")
        try:
            when = datetime.fromisoformat(expected.strip())
        except ValueError:
            raise Untranslatable("a value that is no dateTime") from None  # the cache answers 400
        try:
            return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
        except OverflowError:  # 9999-12-31T23:59:59-05:00 is in year 10000 in UTC
            raise Untranslatable("a dateTime outside the years 1 to 9999 in UTC") from None

    def _epoch(self, value: Value, op: str, expected: Scalar) -> exp.Expr:
        """A dateTime kept as seconds since the epoch in an integer column, compared as the cache
        compares it (:func:`mapper.runtime.record.instant`: the seconds times a million, and no
        value outside the years 1 to 9999): in integers, so exact on every database, where a
        timestamp's comparison (SQLite's ``strftime``, MariaDB's text) finds nothing or the wrong
        rows."""
        micros = instant(self._moment(op, expected))
        column = value.expr.copy()
        within = exp.Between(
            this=column.copy(), low=exp.Literal.number(FIRST_SECOND), high=exp.Literal.number(LAST_SECOND)
        )
        scaled = exp.Mul(this=column, expression=exp.Literal.number(1_000_000))
        return self._guarded(value, exp.and_(within, operator(op, scaled, self.bind(micros)), copy=False))

    def _datetime(self, value: Value, op: str, expected: Scalar) -> exp.Expr:
        when = self._moment(op, expected)
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
                operator(op, column, self.bind(bound)),
                copy=False,
            )
            return self._guarded(value, match)
        bound = bind_datetime(when, self.dialect)
        return self._guarded(value, operator(op, column, self.bind(bound)))

    def _string(self, value: Value, op: str, expected: str) -> exp.Expr:
        case_exact = value.case_exact
        if not case_exact and self.write == "sqlite" and not expected.isascii():
            if any(c.lower() != c or c.upper() != c for c in expected if not c.isascii()):
                raise Untranslatable("a case-insensitive comparison of non-ASCII letters on SQLite")
        column = self.text(value.expr.copy())
        if op in SUBSTRING:
            if self.write == "sqlite" and case_exact:
                return self._sqlite_exact_substring(column, op, expected)
            escaped = expected.replace("!", "!!").replace("%", "!%").replace("_", "!_")
            pattern = {"co": f"%{escaped}%", "sw": f"{escaped}%", "ew": f"%{escaped}"}[op]
            left, right = self.fold(column, case_exact), self.fold(self.bind(pattern), case_exact)
            if self.write == "mysql":
                left, right = binary(left), binary(right)
            return exp.Escape(
                this=exp.Like(this=left, expression=right), expression=exp.Literal.string(LIKE_ESCAPE)
            )
        left, right = self.fold(column, case_exact), self.fold(self.bind(expected), case_exact)
        if self.write == "sqlite":
            left = exp.Collate(this=left, expression=exp.var("BINARY"))
        elif self.write == "mysql":
            left, right = binary(left), binary(right)
        elif op in ORDERING:  # postgres: code-point order, as the cache compares
            left = exp.Collate(this=left, expression=exp.Identifier(this="C", quoted=True))
        return operator(op, left, right)

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

    def fold(self, expr: exp.Expr, case_exact: bool) -> exp.Expr:
        """``LOWER(expr)`` unless caseExact."""
        return expr if case_exact else exp.Lower(this=expr)

    def text(self, expr: exp.Expr) -> exp.Expr:
        """``expr`` as text, as the codec renders a string attribute of any column type. SQLite:
        ``expr || ''`` (what its CAST gives, without the column's collation or affinity)."""
        if self.write == "sqlite":
            return exp.DPipe(this=expr, expression=exp.Literal.string(""))
        return exp.Cast(this=expr, to=TEXT.copy())


def check_value(info: Described, node: Compare) -> None:
    """A value the cache would refuse (400) even with no value to compare: the cache answers."""
    if info.type == "dateTime" and isinstance(node.value, str):
        try:
            datetime.fromisoformat(node.value.strip())
        except ValueError:
            raise Untranslatable("a value that is no dateTime") from None
