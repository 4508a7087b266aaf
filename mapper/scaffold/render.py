"""A :class:`~mapper.scaffold.draft.Draft` as mapping text, in ``mapper fmt``'s layout.

- ``render(draft, source, url) -> str``: writes the text plainly, then parses it and runs it
  through the formatter, so the layout is the formatter's by construction (one way to lay out a
  mapping). The comments say what was guessed and what to fill in.

SQL names are quoted only where they must be (not lower case, or a reserved word), in the
dialect's own quotes.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping

from mapper.language.fmt import format_mapping
from mapper.language.parser import parse
from mapper.scaffold.draft import Draft, Multi, ObjectDraft

#: words that cannot be a bare column or table name in at least one of the three dialects
RESERVED = frozenset(
    """
    all alter analyse analyze and any array as asc asymmetric authorization between binary both by
    call case cast change check collate column condition constraint convert create cross
    current_date current_role current_time current_timestamp current_user database default
    delete desc describe distinct div do drop else end except exists explain false fetch for
    foreign freeze from full grant group having ilike in index initially inner insert intersect
    interval into is isnull join key keys kill lateral leading left like limit load localtime
    localtimestamp lock long match mod natural not notnull null of offset on only option or order
    outer over overlaps partition placing primary range rank read references release rename
    repeat require returning right rlike row rows schema select separator session_user set show
    signed similar some sql symmetric system_user table tablesample then to trailing trigger true
    union unique update usage use user using values variadic verbose when where window with write
    """.split()
)
BARE = re.compile(r"[a-z_][a-z0-9_]*")
WIDTH = 88  # a SELECT list wraps beyond this


def quote(name: str, dialect: str) -> str:
    if BARE.fullmatch(name) and name not in RESERVED:
        return name
    if dialect == "mysql":
        return "`" + name.replace("`", "``") + "`"
    return '"' + name.replace('"', '""') + '"'


def comment(text: str, indent: str = "") -> list[str]:
    """``text`` as comment lines of at most 100 columns; continuation lines indented two more."""
    width = 100 - len(indent) - 2
    return [
        f"{indent}# {line}".rstrip()
        for line in textwrap.wrap(
            text, width, subsequent_indent="  ", break_long_words=False, break_on_hyphens=False
        )
    ] or [f"{indent}#"]


def render(draft: Draft, source: str, env: str, default_url: str, header: list[str]) -> str:
    """The mapping file for ``draft``, formatted."""
    q = _Quoter(draft.dialect, draft.schema)
    lines = [f"# {h}".rstrip() for h in header]
    for note in draft.notes:
        lines += ["#", *comment(note)]
    lines += [
        "",
        f"source {source} {{",
        f"  dialect {draft.dialect}",
        f'  url env("{env}", "{_escape(default_url)}")',
        "}",
    ]
    for obj in draft.objects:
        lines += [""] + _object(obj, source, q)
    text = "\n".join(lines) + "\n"
    mapping, diagnostics = parse(text, "<init>")
    if mapping is None:  # a bug here, not a problem of the database: show what was written
        raise AssertionError(f"mapper init wrote a mapping that does not parse: {diagnostics}\n{text}")
    return format_mapping(mapping)


class _Quoter:
    def __init__(self, dialect: str, schema: str | None) -> None:
        self.dialect = dialect
        self.schema = schema

    def __call__(self, name: str) -> str:
        return quote(name, self.dialect)

    def table(self, name: str) -> str:
        bare = quote(name, self.dialect)
        return f"{quote(self.schema, self.dialect)}.{bare}" if self.schema else bare

    def write_table(self, name: str) -> str:
        return f"{self.schema}.{name}" if self.schema else name


def _object(obj: ObjectDraft, source: str, q: _Quoter) -> list[str]:
    lines = [line for note in obj.notes for line in comment(note)]
    anchor = obj.table.primary_key[0]
    lines += [
        f"object {obj.name} from {source} {{",
        f"  anchor {anchor} {obj.anchor}",
        f"  query {obj.query}",
        "",
    ]
    lines += _select(obj.selected, q.table(obj.table.name), q, obj.millis)
    conditions = [f"{q(obj.kind[0])} = '{obj.kind[1]}'"] if obj.kind is not None else []
    if obj.scope is not None:
        conditions.append(f"{q(obj.scope[0])} = {obj.scope[1]}")
    if conditions:
        lines.insert(-1, f"    WHERE {' AND '.join(conditions)}")
    if obj.delta:
        lines.append(f"  delta watermark {obj.delta}")
    lines += ["", "  attributes {"]
    for a in obj.attributes:
        for note in a.note.splitlines():
            lines += comment(note, "    ")
        column = f"not {a.column}" if a.negated else a.column
        lines.append(f"    {a.path} {a.arrow} {column} {a.tail}".rstrip())
    if obj.unmapped:
        lines.append("    # Not mapped, nor selected: to map one, add its column to the import's SELECT,")
        lines.append("    # uncomment its line and write the SCIM attribute in place of PATH.")
        lines += [f"    # {u}" for u in obj.unmapped]
    lines.append("  }")
    for multi in obj.multis:
        lines += [""] + _multi(multi, q)
    lines += ["", f"  write table {q.write_table(obj.table.name)}"]
    if obj.create:
        lines += [line for note in obj.create_notes for line in comment(note, "  ")]
        lines.append(f"  create set {', '.join(obj.create)}")
    if obj.disable:
        lines.append(f"  disable set {obj.disable}")
    lines.append(f"  delete {obj.delete}")
    if obj.tombstone:
        lines.append(f"  tombstone {_sql(obj.tombstone)}")
    if obj.recreate:
        lines.append(f"  recreate revive set {obj.revive}" if obj.revive else "  recreate revive")
    if obj.stamp:
        lines.append(f"  stamp {obj.stamp}")
    lines.append("}")
    return lines


def _select(columns: list[str], table: str, q: _Quoter, millis: Mapping[str, str]) -> list[str]:
    rows: list[str] = []
    current = "SELECT "
    divide = "DIV" if q.dialect == "mysql" else "/"  # whole seconds: MySQL's / gives a decimal
    for i, column in enumerate(columns):
        item = q(column) if column not in millis else f"{q(millis[column])} {divide} 1000 AS {q(column)}"
        item += "," if i < len(columns) - 1 else ""
        if len(current) + len(item) > WIDTH and current.strip() not in ("SELECT", ""):
            rows.append(current.rstrip())
            current = "       "
        current += item + " "
    rows.append(current.rstrip())
    return ['  import sql"""', *(f"    {r}" for r in rows), f"    FROM {table}", '  """']


def _multi(multi: Multi, q: _Quoter) -> list[str]:
    table = q.table(multi.table)
    owner, value = q(multi.owner), q(multi.value)
    selected = [owner, value] + [q(c) if c == alias else f"{q(c)} AS {q(alias)}" for c, alias in multi.extra]
    if multi.kind is not None:
        selected.append(f"'{multi.kind}' AS type")
    inserted = [owner, value] + [q(c) for c, _ in multi.extra] + [q(c) for c in multi.stamped]
    binds = [":anchor", ":value"] + [f":{_sub(alias)}" for _, alias in multi.extra]
    binds += ["CURRENT_TIMESTAMP"] * len(multi.stamped)
    inserted += [q(c) for c, _ in multi.fixed]
    binds += [v for _, v in multi.fixed]
    header = (
        f"  multi {multi.attribute}" + (f" reference {multi.reference}" if multi.reference else "") + " {"
    )
    lines = [line for note in multi.note.splitlines() for line in comment(note, "  ")]
    which = f"{owner} = :anchor AND {value} = :value"
    if multi.ended is not None:  # a row kept when the membership ends, and revived by an add
        ended, now = q(multi.ended[0]), multi.ended[1]
        inserted.append(ended)
        binds.append("0")
        again = (
            f"ON DUPLICATE KEY UPDATE {ended} = 0"
            if q.dialect == "mysql"
            else f"ON CONFLICT ({owner}, {value}) DO UPDATE SET {ended} = 0"
        )
        return lines + [
            header,
            "    import " + _sql(f"SELECT {', '.join(selected)} FROM {table} WHERE {ended} = 0"),
            '    add sql"""',
            f"      INSERT INTO {table} ({', '.join(inserted)}) VALUES ({', '.join(binds)})",
            f"      {again}",
            '    """',
            '    remove sql"""',
            f"      UPDATE {table} SET {ended} = {now}",
            f"      WHERE {which} AND {ended} = 0",
            '    """',
            "  }",
        ]
    return lines + [
        header,
        "    import " + _sql(f"SELECT {', '.join(selected)} FROM {table}"),
        "    add " + _sql(f"INSERT INTO {table} ({', '.join(inserted)}) VALUES ({', '.join(binds)})"),
        "    remove " + _sql(f"DELETE FROM {table} WHERE {which}"),
        "  }",
    ]


def _sql(text: str) -> str:
    """A one-line SQL block; a space before the closing quotes when the SQL ends with a quote."""
    return 'sql"""' + text + (' """' if text.endswith('"') else '"""')


def _sub(alias: str) -> str:
    """The sub-attribute a selected column fills: ``type`` for email_type, ``primary`` for is_primary."""
    lowered = alias.lower()
    return next(s for s in ("type", "primary", "display") if s in lowered)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')
