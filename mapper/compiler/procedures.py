"""Stored procedure calls (``call NAME(:a, :b)``) rendered per dialect: ``CALL`` for PostgreSQL and
MySQL, ``EXEC name :a, :b`` for SQL Server, an anonymous PL/SQL block for Oracle. SQLite has no
stored procedures (MAP208)."""

from __future__ import annotations

from collections.abc import Collection

from sqlglot.errors import SqlglotError

from mapper.compiler import codes, sqltext, statements  # statements imports this module: used at call time
from mapper.compiler.context import Context
from mapper.compiler.dialects import render_call
from mapper.compiler.hints import suggest
from mapper.language.model import ProcedureCall
from mapper.plan import Statement


def call(
    ctx: Context, node: ProcedureCall, known: Collection[str], what: str, elsewhere: Collection[str] = ()
) -> Statement | None:
    """The plan statement for ``node``, or ``None`` after reporting why there is none: a
    parameter this call is never given is MAP230 when other statements are (``elsewhere``),
    else MAP206."""
    ok = True
    if ctx.write == "sqlite":
        ctx.error(
            codes.SQLITE_PROCEDURE,
            f"{what}: SQLite has no stored procedures, so 'call {node.name.value}' cannot run",
            node.span,
            hint='write the statement as sql"""...""" or use \'write table\'',
        )
        ok = False
    for param in node.params:
        if param.value not in known and param.value in elsewhere:
            listed = ", ".join(f":{name}" for name in sorted(known))
            ctx.error(
                codes.UNBOUND_PARAMETER,
                f"{what}: ':{param.value}' is never bound in this call",
                param.span,
                hint=f"this call binds only {listed}" if listed else "this call binds no parameters",
            )
            ok = False
        elif param.value not in known:
            ctx.error(
                codes.UNKNOWN_PARAMETER,
                f"{what}: unknown parameter ':{param.value}'",
                param.span,
                hint=suggest(param.value, known, "parameters"),
            )
            ok = False
    if not ok:
        return None
    try:
        name = sqltext.table_name(node.name, ctx.read)
        sql = render_call(name, tuple(p.value for p in node.params), ctx.write)
    except SqlglotError as err:
        ctx.error(
            codes.SQL_SYNTAX, f"{what}: '{node.name.value}' is not a procedure name: {err}", node.name.span
        )
        return None
    return statements.make_statement(ctx, sql, node.span, what)
