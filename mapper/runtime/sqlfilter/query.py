"""The statements of a translated filter, and running them: :class:`FilterSql` wraps the import
(:mod:`.wrapped`), puts the condition and ``sortBy`` of :mod:`.condition` around it, keeps the
statements of recent filters, and renders the matching rows through the codec."""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlglot import exp

from mapper.plan import PlanObject
from mapper.runtime.codec import Codec
from mapper.runtime.keys import anchor_key
from mapper.runtime.loading import RowForm
from mapper.runtime.record import Record
from mapper.runtime.sqlfilter.condition import Condition
from mapper.runtime.sqlfilter.terms import FILTERED, Describe, Sort, Untranslatable
from mapper.runtime.sqlfilter.wrapped import Wrapped
from mapper.runtime.tx import Tx
from mapper.scimfilter import And, Compare, Filter, Not, Or, ValuePath

LIMIT, OFFSET = "scim_limit", "scim_offset"
#: The most values one statement binds on SQLite: a flat OR of that many comparisons stays within
#: its expression depth (SQLITE_MAX_EXPR_DEPTH, 1000)
SQLITE_TERMS = 400
#: Filters whose statements a translation keeps (each at most --max-filter-length long).
REMEMBERED = 128


class FilterSql:
    """The filter → SQL translation of one object type on one database (``dialect``: SQLAlchemy's
    backend name). Built once per store; :meth:`query` is safe to call from worker threads."""

    def __init__(self, obj: PlanObject, codec: Codec, dialect: str) -> None:
        self.obj = obj
        self.codec = codec
        self.dialect = dialect
        self.wrapped = Wrapped(obj, dialect)
        self.write = self.wrapped.write
        self._columns_sql = ", ".join(self.wrapped.column(n).sql(dialect=self.write) for n in obj.columns)
        self._remembered: OrderedDict[tuple[Any, ...], tuple[str, str, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

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
        # the columns known to keep seconds since the epoch translate apart (RowForm.epoch)
        epoch = len(RowForm.of(self.codec).epoch)
        key = (fingerprint(node), repr(sort), id(describe), limit is None, offset == 0, epoch)
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

        build = Condition(self.wrapped, self.codec, describe, bind)
        condition = build.filter(node, None) if node is not None else None
        if self.write == "sqlite" and len(params) > SQLITE_TERMS:
            raise Untranslatable(f"more than {SQLITE_TERMS} values on SQLite (its expression depth limit)")
        render = self.wrapped.render
        where = f" WHERE {render(condition)}" if condition is not None else ""
        order = build.order(sort) if sort is not None else []
        order.append(exp.Ordered(this=self.wrapped.column(self.obj.anchor_column), desc=False))
        source = f"FROM ({self.wrapped.import_sql}) AS {FILTERED}"
        ordered = render(exp.Order(expressions=order)).strip()
        page = f"SELECT {self._columns_sql} {source}{where} {ordered}"
        if limited:
            page += f" LIMIT :{LIMIT}"
        if offset:
            page += f" OFFSET :{OFFSET}"
        return page, f"SELECT COUNT(*) {source}{where}", params

    def records(self, tx: Tx, fetched: list[tuple[Any, ...]]) -> list[Record]:
        """Records of fetched import rows, with their children read for those anchors only."""
        codec, wrapped = self.codec, self.wrapped
        anchors = [anchor_key(row[codec.anchor_index]) for row in fetched]
        per_multi: list[dict[Any, list[tuple[Any, ...]]]] = []
        for index in range(len(self.obj.multi)):
            grouped: dict[Any, list[tuple[Any, ...]]] = defaultdict(list)
            for chunk in _chunks(anchors, 500):
                alias = "scim_c"
                names = [f"scim_a{i}" for i in range(len(chunk))]
                select = exp.Select(
                    expressions=[
                        wrapped.child(index, alias, p) for p in range(len(self.obj.multi[index].columns))
                    ]
                ).from_(wrapped.child_source(index, alias), copy=False)
                owner = wrapped.child(index, alias, 0)
                select.set(
                    "where", exp.Where(this=exp.In(this=owner, expressions=[exp.var(f":{n}") for n in names]))
                )
                bound = {n: tx.database.convert(a) for n, a in zip(names, chunk, strict=True)}
                for item in tx.connection.execute(text(wrapped.render(select)), bound):
                    grouped[anchor_key(item[0])].append(tuple(item))
            per_multi.append(grouped)
        form = RowForm.of(codec)
        out = []
        for row, anchor in zip(fetched, anchors, strict=True):
            children = form.children([grouped.get(anchor, ()) for grouped in per_multi])
            out.append(form.record(row, children))
        return out


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


def fingerprint(node: Filter | None) -> tuple[Any, ...]:
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
