"""Which attribute a database refusal (a DataError, an IntegrityError) is about.

The evidence is structured, never a word found in prose: the statement that failed (the gateway
sent it, and it knows which), the columns the driver names as identifiers, PostgreSQL's
position of the parameter that did not convert (:class:`~mapper.runtime.driver_errors.Refusal`),
and each statement's own ``column = :param`` pairs. A failure in a multi's ``add`` or ``remove``
is that multi's, never a main-row attribute's. When nothing identifies the attribute the path is
empty, and the caller says so: a false blame sends an operator to the wrong attribute, an
imprecise message only leaves the choice to them.

Two pieces of evidence narrow a value too long (PostgreSQL names no column): an update binds
every column, but a value as the row already holds it (``current``) fits its column, so only the
changed ones are candidates; and the anchor of ``anchor COLUMN from PATH`` is the value of PATH,
so a refusal of the anchor's column is PATH's."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import sqlglot
from sqlalchemy import exc
from sqlglot import exp

from mapper.plan import PlanMulti, PlanObject, Statement, dialect_of
from mapper.runtime.driver_errors import Refusal, refusal
from mapper.runtime.record import Row
from mapper.runtime.slots import Slot

#: a plan statement as its driver runs it (``Statements.driver_sql(statement).sql``)
DriverText = Callable[[Statement], str]

_PYFORMAT = re.compile(r"%%|%\(([^)]+)\)[sbt]")
_INTEGER_LIMITS = {"smallint": 2**15, "integer": 2**31, "bigint": 2**63}


@dataclass(frozen=True, slots=True)
class Blamed:
    """The attribute a refusal is about. ``path``: an attribute path (``userName``,
    ``phoneNumbers.type``, ``phoneNumbers``), empty when nothing identifies it. ``multi``: the
    multi whose child table refused (its ``add`` or ``remove`` failed), else None. ``own_item``:
    the unique key the multi's item violated includes the owner's column, so the row it collides
    with is another item of the same resource."""

    path: str
    multi: PlanMulti | None = None
    own_item: bool = False
    #: when ``path`` is empty: the attributes one of which it is, as far as the evidence narrows
    #: them (two changed values both too long for the type PostgreSQL names), else empty
    candidates: tuple[str, ...] = ()


def blame(
    error: exc.DBAPIError,
    obj: PlanObject,
    slots: Iterable[Slot],
    dialect: str,
    text: DriverText,
    current: Row | None = None,
) -> Blamed:
    """The attribute of ``obj`` that ``error`` is about; ``slots`` are its mapped attributes,
    ``current`` the row the write replaces (None for a create)."""
    said = refusal(error)
    failed = error.statement or ""
    for multi in obj.multi:
        for statement in (multi.add, multi.remove):
            if statement is not None and text(statement) == failed:
                return _in_multi(multi, statement, said, error, dialect)
    if any(s is not None and text(s) in failed for m in obj.multi for s in (m.add, m.remove)):
        return Blamed("")  # several statements failed together, a multi's among them: which one?
    path, candidates = _in_row(obj, tuple(slots), said, error, dialect, text, current)
    return Blamed(path, candidates=candidates)


def _in_multi(
    multi: PlanMulti, statement: Statement, said: Refusal, error: exc.DBAPIError, dialect: str
) -> Blamed:
    pairs = assignments(statement, dialect)
    named = _named(said, error, pairs, {}, {})
    subs = [p for p in named if p in ("value", *multi.sub_attributes, "type", "display", "primary")]
    unique = isinstance(error, exc.IntegrityError) and said.columns
    if unique and len(subs) > 1:  # a key of several of its columns: the multi as a whole
        subs = []
    path = f"{multi.attribute}.{subs[0]}" if subs else multi.attribute
    return Blamed(path, multi, own_item=bool(unique) and "anchor" in named)


def _in_row(
    obj: PlanObject,
    slots: tuple[Slot, ...],
    said: Refusal,
    error: exc.DBAPIError,
    dialect: str,
    text: DriverText,
    current: Row | None,
) -> tuple[str, tuple[str, ...]]:
    """The path of the main-row attribute ``error`` names, or '' and the paths of the
    attributes it may be (several bound values overflow the type it names), in the order bound."""
    writable = {s.param: s for s in slots if s.writable}
    # ``anchor COLUMN from PATH``: the anchor is PATH's value, and a refusal of it PATH's
    source = next((s for s in writable.values() if s.attr.path == obj.anchor_attribute), None)
    alias = {"anchor": source.param} if source is not None and obj.anchor_generation == "attribute" else {}
    pairs = {s.attr.target_column.lower(): s.param for s in writable.values() if s.attr.target_column}
    soft = obj.tombstone
    revive, find = (soft.revive, soft.find) if soft is not None else (None, None)
    for statement in (obj.insert, obj.update, obj.disable.statement, revive):
        if statement is not None:
            pairs.update(assignments(statement, dialect))
    failed = error.statement or ""
    # a look-up by value: ":value" is the value of the attribute it looks up
    lookups = [(obj.by_query, obj.query_attribute), (find, obj.query_attribute)]
    lookups += [(u.lookup, u.attribute) for u in obj.by_unique]
    looked_up = next((path for s, path in lookups if s is not None and text(s) == failed), None)
    value_param = next((s.param for s in slots if s.attr.path == looked_up), None)
    # a value as the row holds it fits its column, and an update's anchor is the row's own key
    kept: dict[str, Any] = {}
    if current is not None and isinstance(error.params, Mapping):
        kept = {s.param: s.value(current) for s in slots if s.index is not None}
        kept["anchor"] = error.params.get("anchor")
    named = _named(said, error, pairs, kept, alias)
    if looked_up is not None and not named and isinstance(error, exc.DataError):
        named = ["value"]  # its one bound value (MariaDB's 1267 for a utf8mb3 column names none)
    for param in named:
        if looked_up is not None and param == "value":
            param = value_param or param
        slot = writable.get(param) or writable.get(next((s for s in writable if s.lower() == param), ""))
        if slot is not None:
            return slot.attr.path, ()
    if not named and (said.too_long is not None or said.out_of_range is not None):
        several = _overflowing(said, error.params, set(pairs.values()), kept, alias, every=True)
        paths = [writable[p].attr.path for p in several if p in writable]
        if len(paths) == len(several) > 1:
            return "", tuple(dict.fromkeys(paths))
    return "", ()


def _named(
    said: Refusal,
    error: exc.DBAPIError,
    pairs: Mapping[str, str],
    kept: Mapping[str, Any],
    alias: Mapping[str, str],
) -> list[str]:
    """The parameters the evidence names, best first: PostgreSQL's parameter position, then the
    columns the statements set from parameters (``pairs``; a column none sets from one was not
    the client's to fill), MySQL's key when it is such a column's name, and last, when PostgreSQL
    names no column, the one bound value that overflows the type it names, of those not bound as
    the row holds them (``kept``). A parameter that stands for another (``alias``) is named as it."""
    named: list[str] = []
    if said.parameter is not None:
        placeholders = list(
            dict.fromkeys(m.group(1) for m in _PYFORMAT.finditer(error.statement or "") if m.group(1))
        )
        if 0 < said.parameter <= len(placeholders):  # psycopg numbers %(name)s by first use
            named.append(placeholders[said.parameter - 1])
    named += [pairs[column] for column in said.columns if column in pairs]
    if said.key is not None and said.key in pairs:
        named.append(pairs[said.key])
    if not named and (said.too_long is not None or said.out_of_range is not None):
        named += _overflowing(said, error.params, set(pairs.values()), kept, alias)
    return list(dict.fromkeys(alias.get(name, name) for name in named))


def _overflowing(
    said: Refusal,
    bound: Any,
    assigned: set[str],
    kept: Mapping[str, Any],
    alias: Mapping[str, str],
    every: bool = False,
) -> list[str]:
    """The one parameter a column is set to whose value is longer than ``too_long``, or outside
    the integer type ``out_of_range`` names, and is not bound as the row holds it (``kept``: it
    fits there); none when not exactly one is (``every``: all of them). A parameter that stands
    for another (``alias``: the anchor of ``anchor COLUMN from PATH`` for PATH's) counts as that
    one."""
    if not isinstance(bound, Mapping):
        return []
    found = []
    for name, value in bound.items():
        if name not in assigned or (name in kept and kept[name] == value):
            continue
        if said.too_long is not None and isinstance(value, str) and len(value) > said.too_long:
            found.append(name)
        limit = _INTEGER_LIMITS.get(said.out_of_range or "")
        if limit and isinstance(value, int) and not isinstance(value, bool) and not -limit <= value < limit:
            found.append(name)
    found = list(dict.fromkeys(alias.get(name, name) for name in found))
    return found if every or len(found) == 1 else []


def unexplained_key(
    error: exc.IntegrityError, obj: PlanObject, slots: Iterable[Slot], dialect: str
) -> str | None:
    """The unique key a refusal (``error``, a unique violation :func:`blame` found no attribute
    of; or a foreign key's violation, whose columns PostgreSQL and MariaDB name and SQLite does
    not) is of, as the database names it (``(code)``, or MySQL/MariaDB's ``'ux_code'``), when no
    value the write bound explains it: none of the key's columns is one that a statement of
    ``obj`` sets from a parameter, or a mapped attribute's column, and the duplicated value the
    database quotes holds none of the values the failed statement bound (SQLite quotes none: its
    columns decide). The mapping's own SQL then broke the key (a ``create set`` constant, a
    procedure's or a write block's own value), whatever the client sends. None when a bound
    value may explain it, or when the evidence does not tell (a key naming no column, as
    SQLite's on an expression; a value the database quotes in a form not comparable here)."""
    said = refusal(error)
    named = said.columns or ((said.key,) if said.key is not None else ())
    if not named:
        return None
    fed = {s.attr.target_column.lower() for s in slots if s.writable and s.attr.target_column}
    soft = obj.tombstone
    for statement in (obj.insert, obj.update, obj.disable.statement, soft.revive if soft else None):
        if statement is not None:
            fed.update(fed_columns(statement, dialect))
    if any(column in fed for column in named):
        return None
    if said.entry is not None:
        bound = error.params
        if not isinstance(bound, Mapping):
            return None
        entry = said.entry.casefold()
        for value in bound.values():
            if value is None:
                continue
            if isinstance(value, bytes | bytearray | memoryview):
                return None  # quoted in a form of the database's own
            text = str(int(value) if isinstance(value, bool) else value).casefold()
            if text == entry or (text and text in entry):
                return None
    elif not said.columns:
        return None
    return f"({', '.join(said.columns)})" if said.columns else f"'{said.key}'"


def _assigned(statement: Statement, dialect: str) -> Iterator[tuple[str, exp.Expression]]:
    """``(column, value)`` for each column ``statement`` sets (``INSERT INTO t (c) VALUES (v)`` or
    ``SELECT v``, ``UPDATE t SET c = v``), the column lowercased; nothing when sqlglot cannot read
    it (a procedure's call)."""
    try:
        trees = sqlglot.parse(statement.sql, read=dialect_of(dialect) or dialect)
    except (sqlglot.errors.SqlglotError, ValueError):
        return
    for tree in (t for t in trees if t is not None):
        for insert in tree.find_all(exp.Insert):
            schema, source = insert.this, insert.expression
            if not isinstance(schema, exp.Schema):
                continue
            rows = source.expressions if isinstance(source, exp.Values) else [source]
            for row in rows:
                if isinstance(row, exp.Tuple | exp.Select):
                    for column, value in zip(schema.expressions, row.expressions, strict=False):
                        yield column.name.lower(), value
        for update in tree.find_all(exp.Update):
            for set_ in update.expressions:
                if isinstance(set_, exp.EQ):
                    yield set_.this.name.lower(), set_.expression


@lru_cache(maxsize=256)
def fed_columns(statement: Statement, dialect: str) -> frozenset[str]:
    """The columns ``statement`` sets to a value computed from a parameter (a bare ``:p``, or
    ``LOWER(:p)``), lowercased; empty when sqlglot cannot read it (a procedure's call)."""
    return frozenset(
        c for c, value in _assigned(statement, dialect) if value.find(exp.Placeholder) is not None
    )


@lru_cache(maxsize=256)
def assignments(statement: Statement, dialect: str) -> dict[str, str]:
    """``{column: parameter}`` for each column ``statement`` sets to a bare parameter (``INSERT
    INTO t (c) VALUES (:p)`` or ``SELECT :p``, ``UPDATE t SET c = :p``), lowercased columns; the
    parameters as the values they bind (``Statement.value_of``). Empty when sqlglot cannot read it."""
    pairs: dict[str, str] = {}
    for column, value in _assigned(statement, dialect):
        if isinstance(value, exp.Placeholder):
            pairs.setdefault(column, statement.value_of(value.name))
    return pairs
