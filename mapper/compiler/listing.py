"""A plan's SQL as readable text: every statement under a comment header naming where it sits in
the plan, with its parameters and how an insert returns its anchor. Used by the golden tests;
a CLI can print it to show what a mapping will run."""

from __future__ import annotations

from collections.abc import Iterator

from mapper.plan import Plan, PlanObject, Statement

_READS = ("import_all", "import_first_page", "import_page", "by_anchor", "by_query")
_WRITES = ("insert", "update", "delete")


def list_statements(plan: Plan) -> Iterator[tuple[str, Statement]]:
    """Every statement of ``plan`` with a dotted label (``User.delta.query``), in plan order."""
    for obj in plan.objects:
        yield from _object_statements(obj)


def _object_statements(obj: PlanObject) -> Iterator[tuple[str, Statement]]:
    for name in (*_READS, *_WRITES):
        stmt = getattr(obj, name)
        if stmt is not None:
            yield f"{obj.name}.{name}", stmt
    for name in ("query", "max_sequence", "tombstoned", "by_anchors"):
        stmt = getattr(obj.delta, name)
        if stmt is not None:
            yield f"{obj.name}.delta.{name}", stmt
    for label, rule in (("disable", obj.disable), ("deprovision_delete", obj.deprovision_delete)):
        if rule.statement is not None:
            yield f"{obj.name}.{label}", rule.statement
    if obj.tombstone is not None:
        for name in ("find", "revive"):
            stmt = getattr(obj.tombstone, name)
            if stmt is not None:
                yield f"{obj.name}.tombstone.{name}", stmt
    for multi in obj.multi:
        for name in ("load", "load_for_anchor", "load_for_anchors", "add", "remove"):
            stmt = getattr(multi, name)
            if stmt is not None:
                yield f"{obj.name}.multi.{multi.attribute}.{name}", stmt


def render(plan: Plan) -> str:
    """The listing of ``plan``'s SQL."""
    blocks = []
    for label, stmt in list_statements(plan):
        lines = [f"-- {label}"]
        if stmt.params:
            lines.append(f"-- params: {', '.join(stmt.params)}")
        if stmt.renamed:
            lines.append(f"-- renamed: {', '.join(f'{new} <- {value}' for new, value in stmt.renamed)}")
        if stmt.returning:
            lines.append(f"-- returning: {stmt.returning}")
        lines.append(stmt.sql)
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"
