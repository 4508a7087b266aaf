"""Triggers that announce writes made by other applications (``mapper coherence-ddl MAPPING``).

The gateway announces its own writes; a row changed directly in the database is seen only by the
next delta. Installing these triggers on the tables a mapping writes makes such a change reach
every gateway process within the same bound: on PostgreSQL a ``pg_notify`` on ``mapper_changes``
(one function, one trigger per table), elsewhere a row in the ``mapper_changes`` table. Each names
the object type and the anchor: the object's own table by its anchor column, a child table
(emails, group members) by its owner column, so a membership change announces its group.

Tables and columns come from the plan's own write statements (an UPDATE or DELETE ``WHERE
column = :anchor``, an INSERT binding ``:anchor``), parsed with sqlglot; an object type written
through procedures gets a comment instead. Writes through the gateway fire the triggers too: on
PostgreSQL the function skips sessions whose ``application_name`` starts with ``mapper`` (the
gateway's pool sets it); on SQLite and MariaDB such a write is announced twice, which costs every
other process one more read of that object.
"""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp

from mapper.plan import Plan, Statement
from mapper.runtime.coherence import NAME, TRIGGER_ORIGIN

#: plan dialects (``write=``) to sqlglot's dialect names
_SQLGLOT = {"postgres": "postgres", "sqlite": "sqlite", "mysql": "mysql"}

_PG_FUNCTION = f"""CREATE OR REPLACE FUNCTION {NAME}_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  anchor jsonb;
  fresh jsonb;
  padded boolean;
BEGIN
  -- the gateway announces its own writes (its connections' application_name is mapper)
  IF current_setting('application_name', true) LIKE 'mapper%' THEN
    RETURN NULL;
  END IF;
  -- TG_ARGV[0]: the object type; TG_ARGV[1]: the column holding its anchor, which a CHAR(n)
  -- column holds padded: the gateway reads it without the padding
  SELECT atttypid = 'bpchar'::regtype INTO padded
    FROM pg_attribute WHERE attrelid = TG_RELID AND attname = TG_ARGV[1];
  IF TG_OP <> 'INSERT' THEN
    anchor := CASE WHEN padded THEN to_jsonb(rtrim(to_jsonb(OLD) ->> TG_ARGV[1]))
                   ELSE to_jsonb(OLD) -> TG_ARGV[1] END;
    PERFORM pg_notify('{NAME}', jsonb_build_object('o', '{TRIGGER_ORIGIN}', 'c',
      jsonb_build_array(jsonb_build_array(TG_ARGV[0], anchor, 'u')))::text);
  END IF;
  IF TG_OP <> 'DELETE' THEN
    fresh := CASE WHEN padded THEN to_jsonb(rtrim(to_jsonb(NEW) ->> TG_ARGV[1]))
                  ELSE to_jsonb(NEW) -> TG_ARGV[1] END;
    IF TG_OP = 'INSERT' OR fresh IS DISTINCT FROM anchor THEN
      PERFORM pg_notify('{NAME}', jsonb_build_object('o', '{TRIGGER_ORIGIN}', 'c',
        jsonb_build_array(jsonb_build_array(TG_ARGV[0], fresh, 'u')))::text);
    END IF;
  END IF;
  RETURN NULL;
END
$$;"""


def written_tables(
    plan: Plan, dialect: str, source: str | None = None
) -> tuple[list[tuple[str, str, str]], list[str]]:
    """(table, anchor column, object type) for every table the plan writes (of ``source``'s
    objects only, when given), and the object types whose writes could not be read that way
    (procedures)."""
    found: dict[tuple[str, str, str], None] = {}
    skipped: list[str] = []
    read = _SQLGLOT.get(dialect, dialect)
    for obj in plan.objects:
        if source is not None and obj.source != source:
            continue
        own = [s for s in (obj.update, obj.delete, obj.insert) if s is not None]
        target = next((t for t in (_anchor_column(s, read) for s in own) if t is not None), None)
        if target is None:
            if own:
                skipped.append(obj.name)
        else:
            found[(*target, obj.name)] = None
        for multi in obj.multi:
            for statement in (multi.add, multi.remove):
                child = _anchor_column(statement, read) if statement is not None else None
                if child is not None:
                    found[(*child, obj.name)] = None
                    break
    return list(found), skipped


def _anchor_column(statement: Statement, read: str) -> tuple[str, str] | None:
    """(table, column) a write statement binds ``:anchor`` to, or None (a procedure, or no
    such column)."""
    try:
        tree = sqlglot.parse_one(statement.sql, read=read)
    except sqlglot.errors.ParseError:
        return None
    if isinstance(tree, exp.Insert):
        schema = tree.this
        values = tree.expression
        if not isinstance(schema, exp.Schema) or not isinstance(values, exp.Values) or not values.expressions:
            return None
        columns = [c.name for c in schema.expressions]
        row = values.expressions[0].expressions
        for column, value in zip(columns, row, strict=False):
            if _is_anchor(value):
                return _table(schema.this), column
        return None
    if isinstance(tree, exp.Update | exp.Delete):
        where = tree.args.get("where")
        if where is None:
            return None
        for eq in where.find_all(exp.EQ):
            left, right = eq.this, eq.expression
            if isinstance(left, exp.Column) and _is_anchor(right):
                return _table(tree.this), left.name
            if isinstance(right, exp.Column) and _is_anchor(left):
                return _table(tree.this), right.name
    return None


def _is_anchor(node: exp.Expression) -> bool:
    return isinstance(node, exp.Placeholder) and node.name == "anchor"


def _table(node: exp.Expression) -> str:
    table = node.find(exp.Table) if not isinstance(node, exp.Table) else node
    assert table is not None
    return ".".join(part for part in (table.db, table.name) if part)


def _ident(name: str, dialect: str) -> str:
    quote = "`" if dialect == "mysql" else '"'
    return ".".join(f"{quote}{part}{quote}" for part in name.split("."))


def _slug(*parts: str) -> str:
    return re.sub(r"[^a-z0-9_]", "_", "_".join(parts).lower())[:60]


def trigger_ddl(plan: Plan, dialect: str, source: str | None = None) -> str:
    """The DDL that installs the triggers for ``plan`` on a database of ``dialect`` (``postgres``,
    ``sqlite`` or ``mysql``), as a script; running it again replaces them."""
    if dialect not in _SQLGLOT:
        raise ValueError(f"no coherence triggers for {dialect} (postgres, sqlite or mysql)")
    tables, skipped = written_tables(plan, dialect, source)
    out = [f"-- mapper coherence triggers: writes by other applications announce themselves on {NAME}"]
    out += [f"-- {name}: written through procedures; announce its changes there" for name in skipped]
    if dialect == "postgres":
        out.append(_PG_FUNCTION)
    else:
        from mapper.runtime.coherence.changelog import ddl_for

        out.append(ddl_for("sqlite" if dialect == "sqlite" else "mysql") + ";")
    for table, column, object_type in tables:
        name = _slug(NAME, object_type, table)
        on = _ident(table, dialect)
        if dialect == "postgres":
            out.append(f"DROP TRIGGER IF EXISTS {name} ON {on};")
            out.append(
                f"CREATE TRIGGER {name} AFTER INSERT OR UPDATE OR DELETE ON {on}\n"
                f"  FOR EACH ROW EXECUTE FUNCTION {NAME}_notify('{object_type}', '{column}');"
            )
            continue
        col = _ident(column, dialect)
        for event, rows in (("INSERT", ("NEW",)), ("UPDATE", ("OLD", "NEW")), ("DELETE", ("OLD",))):
            trigger = _slug(name, event[:3])
            announced = f"'upsert', '{TRIGGER_ORIGIN}'"
            values = ",\n    ".join(
                f"('{object_type}', {_json(f'{row}.{col}', dialect)}, {announced})" for row in rows
            )
            insert = f"INSERT INTO {NAME} (object_type, anchor, op, origin) VALUES\n    {values};"
            out.append(f"DROP TRIGGER IF EXISTS {trigger};")
            if dialect == "sqlite":
                out.append(f"CREATE TRIGGER {trigger} AFTER {event} ON {on}\nBEGIN\n  {insert}\nEND;")
            else:  # one statement: no BEGIN ... END, so no DELIMITER for the mysql client
                out.append(f"CREATE TRIGGER {trigger} AFTER {event} ON {on} FOR EACH ROW\n  {insert}")
    return "\n\n".join(out) + "\n"


def _json(value: str, dialect: str) -> str:
    """The anchor as JSON text: SQLite keeps numbers numbers; MariaDB quotes it as a string (the
    gateway reads a string of digits as an integer anchor where anchors are integers)."""
    if dialect == "sqlite":
        return f"json_quote({value})"
    return f"JSON_QUOTE(CAST({value} AS CHAR))"
