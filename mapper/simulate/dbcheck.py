"""Read-only checks of the database behind a mapping, through the plan's own statements.

Rows are read with the plan's ``by_anchor`` and ``by_query`` (the import projection) and child
rows with each multi-valued attribute's ``load_for_anchor``; values are always bound parameters,
never pasted into SQL. Each check runs in its own short transaction, so it sees what the gateway
committed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import anyio
import sqlglot
from sqlalchemy import inspect
from sqlalchemy.exc import NoSuchTableError
from sqlglot import exp

from mapper.plan import Plan, PlanObject, Statement, dialect_of
from mapper.runtime.database import Database, Tx, resolve_url
from mapper.runtime.dn import DnRenderer
from mapper.simulate.model import ObjectModel, TargetModel, attribute_key

Row = dict[str, Any]


def as_bool(value: Any) -> bool | None:
    """A boolean column's value as a bool (SQLite and MySQL store 0/1; some schemas use text)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value)
    text = str(value).strip().casefold()
    if text in ("1", "true", "t", "y", "yes"):
        return True
    if text in ("0", "false", "f", "n", "no"):
        return False
    return None


class DbCheck:
    """The databases of a plan's sources, opened for reading."""

    def __init__(self, plan: Plan, environ: Mapping[str, str]) -> None:
        self.plan = plan
        self.reads = 0  # how many checks ran: the report marks the steps that read the database
        self.databases = {
            source.name: Database(source.name, resolve_url(source, environ), pool_size=1)
            for source in plan.sources
        }

    def close(self) -> None:
        for database in self.databases.values():
            database.dispose()

    async def _rows(self, obj: PlanObject, statement: Statement, params: dict[str, Any]) -> list[Row]:
        def read(tx: Tx) -> list[tuple[Any, ...]]:
            return tx.rows(statement, params)

        database = self.databases[obj.source]
        self.reads += 1
        return [dict(zip(obj.columns, row, strict=False)) for row in await database.run(read)]

    async def row(self, obj: PlanObject, anchor: Any) -> Row | None:
        """The object's row in the import projection (``by_anchor``), or None."""
        rows = await self._rows(obj, obj.by_anchor, {"anchor": anchor})
        return rows[0] if rows else None

    async def row_by_query(self, obj: PlanObject, value: str) -> Row | None:
        """The row whose query attribute equals ``value`` (``by_query``), or None."""
        rows = await self._rows(obj, obj.by_query, {"value": value})
        return rows[0] if rows else None

    async def sized(self, model: TargetModel) -> TargetModel:
        """``model`` knowing how many characters each column its objects write holds, so that
        the values the simulator makes up fit (a VARCHAR(20) login takes no 45-character name)."""

        async def one(found: ObjectModel | None) -> ObjectModel | None:
            if found is None or found.plan is None:
                return found
            return found.with_lengths(await self.column_lengths(found.plan))

        return TargetModel(users=await one(model.users), groups=await one(model.groups))

    async def column_lengths(self, obj: PlanObject) -> dict[str, int]:
        """The declared length of each column of the table ``obj``'s derived insert writes
        (``VARCHAR(20)``: 20), by lower-cased name; empty when its writes are the mapping's own
        statements or procedures, whose columns the plan does not name."""
        database = self.databases[obj.source]
        if obj.insert is None:
            return {}
        try:
            insert = sqlglot.parse_one(obj.insert.sql, read=dialect_of(database.dialect))
        except sqlglot.errors.SqlglotError:
            return {}
        table = insert.find(exp.Table) if isinstance(insert, exp.Insert) else None
        if table is None:
            return {}

        # PostgreSQL folds an unquoted name to lower case (``Teams`` is ``teams``), and
        # SQLAlchemy's inspector takes a mixed-case name as quoted: it found no table ``Teams``
        # and the simulator stopped with a traceback
        fold = database.dialect == "postgresql"
        name = table.name.lower() if fold and not table.this.quoted else table.name
        db = table.args.get("db")
        schema = (db.name.lower() if fold and not db.quoted else db.name) if db else None

        def read() -> dict[str, int]:
            try:
                columns = inspect(database.engine).get_columns(name, schema=schema)
            except NoSuchTableError:  # a table the mapping's own statements create, or a view
                return {}
            lengths = ((c["name"].lower(), getattr(c["type"], "length", None)) for c in columns)
            return {name: length for name, length in lengths if isinstance(length, int)}

        return await anyio.to_thread.run_sync(read)

    def id_of(self, obj: PlanObject, anchor: Any) -> str:
        """The SCIM id of the ``obj`` with this anchor: the anchor's text, or with ``id dn`` its DN."""
        return DnRenderer(obj.dn, obj.columns, obj.anchor_column, ids=obj.id_source == "dn").of_anchor(anchor)

    def with_ids(self, obj: PlanObject, row: Row) -> Row:
        """``row`` with each reference column (``manager.value``) holding the referenced object's
        SCIM id rather than its anchor, to compare with what SCIM shows."""
        out = dict(row)
        for attr in obj.attributes:
            target = next((o for o in self.plan.objects if o.name == attr.reference), None)
            if target is not None and out.get(attr.column) is not None:
                out[attr.column] = self.id_of(target, out[attr.column])
        return out

    async def children(self, obj: PlanObject, attribute: str, anchor: Any) -> set[str]:
        """The values of a multi-valued attribute's child rows (``load_for_anchor``), as text, or
        as the referenced objects' SCIM ids for a reference (group members)."""
        multi = next((m for m in obj.multi if m.attribute.casefold() == attribute.casefold()), None)
        if multi is None:
            return set()

        def read(tx: Tx) -> list[tuple[Any, ...]]:
            return tx.rows(multi.load_for_anchor, {"anchor": anchor})

        self.reads += 1
        rows = await self.databases[obj.source].run(read)
        target = next((o for o in self.plan.objects if o.name == multi.reference), None)
        return {
            str(row[1]) if target is None else self.id_of(target, row[1])
            for row in rows
            if row[1] is not None
        }


def column_of(obj: PlanObject, key: str) -> str | None:
    """The projection column holding the attribute with this key (see :mod:`.model`)."""
    for attr in obj.attributes:
        if attr.attribute.casefold() == "emails" and attr.filter and ("type", "work") not in attr.filter:
            continue
        if attribute_key(attr.schema_urn, attr.attribute, attr.sub_attribute, attr.multi_valued) == key:
            return attr.column
    return None
