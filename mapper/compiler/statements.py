"""Turning sqlglot expressions and the explicit SQL of a mapping into plan statements: render in
the target dialect (MAP207 when that is impossible), check that every ``:name`` is one the
runtime binds (MAP206), and list the parameters in order of first use."""

from __future__ import annotations

from collections.abc import Collection
from typing import Literal

from sqlglot import exp

from mapper.compiler import codes, procedures, sqltext
from mapper.compiler.context import Context
from mapper.compiler.dialects import find_text_parameters, rename_binds, render_noting
from mapper.compiler.hints import suggest
from mapper.diagnostics import Span
from mapper.language.model import ProcedureCall, SqlBlock
from mapper.plan import Statement

Returning = Literal["returning", "lastrowid", "query"] | None


def render_statement(
    ctx: Context,
    expression: exp.Expr,
    span: Span,
    what: str,
    returning: Returning = None,
    verbatim: str | None = None,
) -> Statement | None:
    """``expression`` rendered for the target dialect, or ``None`` after reporting MAP207.
    ``verbatim`` is the SQL as written, used when sqlglot cannot regenerate a statement it read
    in the very dialect it is to be written in (``EXEC`` in T-SQL, for one).

    The expression is consumed: the generator may rewrite it, so callers pass a tree of their
    own that they do not use afterwards."""
    try:
        with sqltext.quiet_sqlglot():
            sql, placeholders, opaque = render_noting(expression, ctx.write)
    except Exception as err:  # UnsupportedError, or a bug in sqlglot's generator: never escapes
        if verbatim is not None and ctx.read == ctx.write:
            return make_statement(ctx, verbatim.strip(), span, what, returning)
        ctx.error(
            codes.UNTRANSPILABLE,
            f"{what}: cannot be written in {ctx.write}: {err}",
            span,
            hint=f"rewrite the SQL with constructs {ctx.write} also has",
        )
        return None
    params = find_text_parameters(sql)
    if not opaque:
        stray = set(params) - placeholders
        if stray:  # a safety net: the generators escape colons in literals and quoted names
            ctx.error(
                codes.UNTRANSPILABLE,
                f"{what}: in {ctx.write}, {', '.join(sorted(stray))} would be read as a :parameter",
                span,
                hint="rename what reads as ':name' in the SQL",
            )
            return None
    return make_statement(ctx, sql, span, what, returning)


def make_statement(ctx: Context, sql: str, span: Span, what: str, returning: Returning = None) -> Statement:
    """The plan statement for ``sql`` rendered in the target: parameters the target cannot take as
    binds renamed (``dialects.rename_binds``), its parameters listed, and its origin recorded."""
    sql, renamed = rename_binds(sql, ctx.write)
    ctx.record(sql, span, what)
    return Statement(sql=sql, params=find_text_parameters(sql), returning=returning, renamed=renamed)


def parse_statement(ctx: Context, block: SqlBlock, what: str) -> exp.Expr | None:
    """The single statement of ``block`` (MAP201 when it does not parse, MAP212 when it holds
    more or fewer than one)."""
    parsed = sqltext.parse(ctx, block, what)
    if parsed is None:
        return None
    if len(parsed) != 1:
        ctx.error(
            codes.WRITE_NOT_ONE_STATEMENT,
            f"{what}: expected one SQL statement, found {len(parsed)}",
            block.span,
        )
        return None
    return parsed[0]


def check_parameters(
    ctx: Context,
    block: SqlBlock,
    expression: exp.Expr,
    known: Collection[str],
    what: str,
    elsewhere: Collection[str] = (),
) -> bool:
    """Report every placeholder of ``block`` that is positional (MAP214), that names something
    this statement is never given although other statements are (MAP230: it would be NULL at run
    time), or that names nothing at all (MAP206)."""
    ok = True
    if any(not p.this for p in expression.find_all(exp.Placeholder)):
        ctx.error(
            codes.UNNAMED_PARAMETER,
            f"{what}: positional parameters are not supported",
            block.span,
            hint="name every parameter, e.g. :anchor or :login",
        )
        ok = False
    for param in sqltext.find_parameters(block, ctx.read):
        if param.name not in known and param.name in elsewhere:
            ctx.error(
                codes.UNBOUND_PARAMETER,
                f"{what}: ':{param.name}' is never bound in this statement",
                sqltext.locate(block, param.start, param.end),
                hint=bindable_hint(known),
            )
            ok = False
        elif param.name not in known:
            ctx.error(
                codes.UNKNOWN_PARAMETER,
                f"{what}: unknown parameter ':{param.name}'",
                sqltext.locate(block, param.start, param.end),
                hint=suggest(param.name, known, "parameters"),
            )
            ok = False
    return ok


def bindable_hint(known: Collection[str]) -> str:
    """The hint of MAP230: what the statement can bind."""
    listed = ", ".join(f":{name}" for name in sorted(known))
    return f"this statement binds only {listed}" if listed else "this statement binds no parameters"


def explicit(
    ctx: Context,
    node: SqlBlock | ProcedureCall,
    known: Collection[str],
    what: str,
    insert: str | None = None,
    elsewhere: Collection[str] = (),
) -> Statement | None:
    """An explicit write (``sql\"\"\"...\"\"\"`` or ``call``) checked and rendered for the target.

    ``insert`` is set for an object's insert: ``"generated"`` when the database generates the
    anchor, else ``"known"``. A procedure insert is always looked up afterwards
    (``returning="query"``); an SQL insert of a generated anchor hands it back with its own
    RETURNING/OUTPUT clause, else through lastrowid (MySQL) or the look-up.
    """
    if isinstance(node, ProcedureCall):
        called = procedures.call(ctx, node, known, what, elsewhere)
        return called.model_copy(update={"returning": "query"}) if called and insert else called
    expression = parse_statement(ctx, node, what)
    if expression is None:
        return None
    if isinstance(expression, exp.Command) and ctx.read != ctx.write:
        ctx.error(
            codes.UNTRANSPILABLE,
            f"{what}: sqlglot reads this statement only as opaque text, so it cannot be"
            f" transpiled from {ctx.read} to {ctx.write}",
            node.span,
            hint="write a statement sqlglot understands, or use 'call' for a stored procedure",
        )
        return None
    if isinstance(expression, exp.Query):
        ctx.error(
            codes.WRITE_NOT_ONE_STATEMENT,
            f"{what}: expected a data-changing statement, not a query",
            node.span,
        )
        return None
    if not check_parameters(ctx, node, expression, known, what, elsewhere):
        return None
    returning: Returning = None
    if insert == "generated":
        returning = (
            "returning"
            if expression.args.get("returning")
            else "lastrowid"
            if ctx.write == "mysql"
            else "query"
        )
    return render_statement(ctx, expression, node.span, what, returning, verbatim=node.text)
