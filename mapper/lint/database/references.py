"""MAP310: a ``delete row`` that the database will refuse once the object has members or child
rows. The gateway deletes the row of the ``write table`` and relies on the database's ``ON DELETE
CASCADE`` (or ``SET NULL``) for the rows of other tables that point at it (docs/authoring.md,
"Limits"); ``mapper init`` writes a ``FILL IN`` for a membership table without one. This reads
the foreign keys of the tables the mapping itself uses (write tables and the tables of every
import and ``multi`` query) and reports each that points at a hard-deleted object's table with no
delete action, so the first DELETE of a group with members is not the first to find out.

An object whose delete is a statement of its own (``write { delete ... }``: a procedure, say) is
left alone: it may remove the rows itself, as the payroll example's procedure does."""

from __future__ import annotations

from collections.abc import Iterator

import sqlglot
from sqlglot import exp

from mapper.diagnostics import Diagnostic
from mapper.language.model import MappingFile, ObjectType, SqlBlock
from mapper.lint.database.catalog import Catalog
from mapper.lint.database.codes import DELETE_REFERENCED
from mapper.lint.database.schema import object_dialect
from mapper.plan import Plan

#: What a foreign key may do on delete for the referenced row's delete to succeed.
_ALLOWS_DELETE = {"cascade", "set null", "set default"}


def check_references(mapping: MappingFile, catalog: Catalog, plan: Plan | None) -> Iterator[Diagnostic]:
    """MAP310 for each hard-deleted object of ``mapping`` (``plan``: its compiled form, which says
    what a delete does)."""
    if plan is None:
        return
    deletes = {o.name: o.deprovision_delete.action for o in plan.objects}
    referring = sorted({t for obj in mapping.objects for t in _tables(obj, object_dialect(mapping, obj))})
    for obj in mapping.objects:
        writes = obj.writes
        if deletes.get(obj.name.value) != "row" or writes is None or writes.table is None or writes.delete:
            continue
        target = catalog.table(writes.table.value)
        if target is None:
            continue  # MAP301 says so
        span = obj.delete.span if obj.delete is not None else writes.table.span
        for name in referring:
            for key in catalog.foreign_keys(name):
                if str(key.get("referred_table", "")).lower() != target.name.lower():
                    continue
                action = str((key.get("options") or {}).get("ondelete") or "no action").lower()
                if action in _ALLOWS_DELETE:
                    continue
                columns = ", ".join(key.get("constrained_columns") or ())
                yield DELETE_REFERENCED.at(
                    mapping.path,
                    span,
                    f"{obj.name.value} delete: {name}.{columns} references {target.name} with ON DELETE "
                    f"{action.upper()}: the database will refuse to delete a {obj.name.value} that a row "
                    f"of {name} points at",
                    hint=f"declare FOREIGN KEY ({columns}) REFERENCES {target.name} ON DELETE CASCADE "
                    "(or SET NULL), or make the delete soft: 'delete set COLUMN = VALUE'",
                )


def _tables(obj: ObjectType, dialect: str | None) -> Iterator[str]:
    """The tables ``obj`` names: its write table and those its import and multi queries read or
    its multi statements write."""
    if obj.writes is not None and obj.writes.table is not None:
        yield obj.writes.table.value
    blocks: list[object] = [obj.import_sql]
    for multi in obj.multi:
        blocks += [multi.import_sql, multi.add, multi.remove]
    for block in blocks:
        if isinstance(block, SqlBlock):
            yield from _named(block.text, dialect)


def _named(sql: str, dialect: str | None) -> Iterator[str]:
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except sqlglot.errors.SqlglotError:
        return  # the compiler reports SQL it cannot parse
    if not isinstance(tree, exp.Expression):
        return
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    for node in tree.find_all(exp.Table):
        if node.name and node.name.lower() not in ctes:
            yield ".".join(p for p in (node.db, node.name) if p)
