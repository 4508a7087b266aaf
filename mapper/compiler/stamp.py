"""``stamp COLUMN [= VALUE]``: the column every write of the gateway sets to the time of the write.

A gateway is a writer like any other: when nothing else maintains the column that ``delta
watermark`` reads and ``meta.lastModified`` shows (no trigger, no ``ON UPDATE CURRENT_TIMESTAMP``),
its own writes must set it, or another process's delta never sees them and ``lastModified`` stays
at the creation time. The stamp is one more ``column = VALUE`` pair in every statement the
compiler derives that writes the row: the insert and the update of ``write table``, and each
``set`` rule (``disable set``, ``delete set``, ``recreate revive set``), so a soft delete and a
revive move the watermark too. ``VALUE`` is parsed like a ``set`` value (a bare SQL word, or
``sql\"\"\"...\"\"\"``); by default it is ``CURRENT_TIMESTAMP`` rendered in the target dialect, with
microseconds on MySQL/MariaDB (``CURRENT_TIMESTAMP(6)``: a ``DATETIME(6)`` column keeps them, a
``DATETIME`` one drops them as its own default does). The mapping's own statements (``write { }``,
procedures) cannot be stamped: the checks refuse ``stamp`` there (MAP187).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from mapper.compiler import codes
from mapper.compiler.context import Context
from mapper.compiler.deprovision import set_assignments
from mapper.compiler.projection import Projection
from mapper.language.model import Assignment, Name, ObjectType


@dataclass(frozen=True)
class Stamped:
    """The write table's column a derived write stamps, and the value it is set to."""

    column: exp.Identifier
    value: exp.Expr

    def pair(self) -> tuple[exp.Identifier, exp.Expr]:
        return self.column.copy(), self.value.copy()

    def sets(self, column: exp.Identifier) -> bool:
        """Whether ``column`` is the stamped one (then a statement writing it is not stamped again)."""
        return column.name.lower() == self.column.name.lower()


def now(write: str) -> exp.Expr:
    """The time of the write in ``write``: ``CURRENT_TIMESTAMP``, with microseconds on MySQL."""
    if write == "mysql":
        return exp.CurrentTimestamp(this=exp.Literal.number(6))
    return exp.CurrentTimestamp()


def compile_stamp(
    ctx: Context, obj: ObjectType, projection: Projection, table: exp.Table | None
) -> Stamped | None:
    """The object's stamp, or None when it has none, has no write table to stamp (MAP187, the
    checks'), or failed (reported)."""
    stamp = obj.stamp
    if stamp is None or table is None:
        return None
    name = stamp.column.value
    output = projection.output(name)
    if output is not None and projection.target_column(output, table) is None:
        code = codes.EXPRESSION_NOT_WRITABLE if output.column is None else codes.FOREIGN_COLUMN_NOT_WRITABLE
        ctx.error(
            code,
            f"{obj.name.value} stamp: the import's '{output.name}' is not a column of the write table "
            f"{table.name}",
            stamp.column.span,
            hint=f"stamp a column of {table.name} itself (its last-modified time)",
        )
        return None
    written = stamp.value or Assignment(
        column=stamp.column,
        value=None,
        expression=Name(value="CURRENT_TIMESTAMP", span=stamp.column.span),
        span=stamp.span,
    )
    found = set_assignments(ctx, (written,), projection, table, f"{obj.name.value} stamp")
    if found is None:
        return None
    column, value = found[0]
    return Stamped(column, value if stamp.value is not None else now(ctx.write))
