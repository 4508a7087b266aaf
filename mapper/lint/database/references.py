"""MAP310: a ``delete row`` that the database will refuse once the object has members or child
rows. The gateway's delete derived from ``write table`` removes, before the row, the rows of the
object's own multis and of the multis naming it (docs/authoring.md, "Limits"), with each multi's
``remove``; the rows of any other table that point at it are the database's to cascade. This
reads the foreign keys of the tables the mapping itself uses (write tables and the tables of
every import and ``multi`` query), and of every other table of the object's schema, and reports
each that points at a hard-deleted object's table with no delete action, unless its table is one
such a ``remove`` deletes from (a ``DELETE``: a remove that updates, or a procedure, may leave the
row), so the first DELETE of a group with members is not the first to find out.

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
        removed = _removed(mapping, obj)
        for name in [*referring, *_others(catalog, writes.table.value, referring)]:
            if name.lower() in removed:
                continue  # the gateway removes the rows pointing at the object first
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


def _others(catalog: Catalog, target: str, known: list[str]) -> list[str]:
    """The tables of ``target``'s schema the mapping does not use that have foreign keys, which
    may point at it too."""
    schema = target.rpartition(".")[0]
    used = {name.lower() for name in known}
    return [name for name in catalog.tables_with_keys(schema or None) if name.lower() not in used]


def _removed(mapping: MappingFile, obj: ObjectType) -> set[str]:
    """The tables (lower case) whose rows a delete of ``obj`` removes before its row: those the
    ``remove`` of each of its multis deletes from, and of each multi of its database naming it
    (:class:`mapper.runtime.decisions.Deletion`)."""
    dialect = object_dialect(mapping, obj)
    removes = [m.remove for m in obj.multi]
    for other in mapping.objects:
        if other.source.value == obj.source.value:
            removes += [m.remove for m in other.multi if m.reference and m.reference.value == obj.name.value]
    found = set()
    for remove in removes:
        if isinstance(remove, SqlBlock):
            tree = _parsed(remove.text, dialect)
            if isinstance(tree, exp.Delete) and isinstance(tree.this, exp.Table):
                found.add(".".join(p for p in (tree.this.db, tree.this.name) if p).lower())
    return found


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


def _parsed(sql: str, dialect: str | None) -> exp.Expression | None:
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except sqlglot.errors.SqlglotError:
        return None  # the compiler reports SQL it cannot parse
    return tree if isinstance(tree, exp.Expression) else None


def _named(sql: str, dialect: str | None) -> Iterator[str]:
    tree = _parsed(sql, dialect)
    if tree is None:
        return
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    for node in tree.find_all(exp.Table):
        if node.name and node.name.lower() not in ctes:
            yield ".".join(p for p in (node.db, node.name) if p)
