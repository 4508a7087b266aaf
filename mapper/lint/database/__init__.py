"""Checks against a live database (``mapper lint --db URL``), MAP3xx.

Two passes over one connection, with SQLAlchemy (imported only here, so plain ``mapper lint``
needs no driver):

- ``references`` (MAP310): the foreign keys that would refuse a ``delete row``;
- ``schema``: each object's import queries, change table and ``write table`` against the tables
  and columns the inspector sees (every unknown name of an import at once, exactly placed);
- ``prove``: every statement of the plan, compiled for the database's own dialect, prepared by
  the database inside a rolled-back transaction (look-ups, pages, deltas, writes, ``set``
  clauses, ``multi`` statements, procedure calls), so that a lint-clean mapping does not fail
  at run time on a name or a type.

The modules: ``codes`` (MAP3xx), ``catalog`` (the live schema), ``schema``, ``prove``, and
``places`` (positions in the mapping file).
"""

from __future__ import annotations

from dataclasses import dataclass

from mapper.compiler import compile
from mapper.compiler.context import Origin
from mapper.diagnostics import Diagnostic, Severity
from mapper.errors import MapperError
from mapper.language.model import MappingFile
from mapper.lint.database.catalog import Catalog
from mapper.lint.database.codes import CODES, UNPROVEN
from mapper.lint.database.prove import PROVABLE, prove
from mapper.lint.database.references import check_references
from mapper.lint.database.schema import check_schema
from mapper.plan import Plan

__all__ = [
    "CODES",
    "DRIVERS",
    "SETTLED_BY_PROOF",
    "DatabaseCheck",
    "DatabaseError",
    "check_database",
    "merged",
    "run_checks",
]

#: the compiler's warnings a proof of the plan settles: a ``set`` rule's column the import does not
#: select (MAP240, "its existence is not checked here") is in a statement the database prepared,
#: so a column the table lacks is an error there (MAP302) and one it has is no finding
SETTLED_BY_PROOF = frozenset({"MAP240"})

#: The driver for a URL that names none: the ones the project installs. The same choice as the
#: runtime's (``mapper.runtime.database.DRIVERS``), which the language side does not import.
DRIVERS = {
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
}


class DatabaseError(MapperError):
    """The database given with ``--db`` could not be reached or inspected."""


@dataclass(frozen=True)
class DatabaseCheck:
    """The MAP3xx diagnostics of one check, and whether every statement of the plan was proven
    (prepared by the database), which settles the compiler's :data:`SETTLED_BY_PROOF` warnings."""

    diagnostics: list[Diagnostic]
    proven: bool = False


def merged(diagnostics: list[Diagnostic], checked: DatabaseCheck) -> list[Diagnostic]:
    """The mapping's own ``diagnostics`` with the database's, less the warnings the proof settled:
    what ``mapper lint --db`` and the language server's live check both show."""
    kept = [d for d in diagnostics if not (checked.proven and d.code in SETTLED_BY_PROOF)]
    return [*kept, *checked.diagnostics]


def check_database(mapping: MappingFile, url: str, plan: Plan | None = None) -> list[Diagnostic]:
    """Every MAP3xx diagnostic for ``mapping`` against the database at ``url``. ``plan`` is the
    mapping compiled for lint (``None`` when it did not compile: then only the schema pass runs,
    and the compiler's diagnostics say why). Raises :class:`DatabaseError` when the database
    cannot be reached or inspected."""
    return run_checks(mapping, url, plan).diagnostics


def run_checks(mapping: MappingFile, url: str, plan: Plan | None = None) -> DatabaseCheck:
    """:func:`check_database`, saying whether the plan's statements were proven."""
    from sqlalchemy import create_engine, inspect
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception as exc:
        raise DatabaseError(f"--db: not a database URL: {exc}") from exc
    if "+" not in parsed.drivername and parsed.drivername in DRIVERS:
        parsed = parsed.set(drivername=DRIVERS[parsed.drivername])
    shown = parsed.render_as_string(hide_password=True)
    try:
        engine = create_engine(parsed)
    except Exception as exc:
        raise DatabaseError(f"--db {shown}: {exc}") from exc
    try:
        with engine.connect() as connection:
            catalog = Catalog(inspect(connection), connection)
            found = check_schema(mapping, catalog, plan) + list(check_references(mapping, catalog, plan))
            if plan is None or not plan.objects:
                return DatabaseCheck(found)
            dialect = PROVABLE.get(engine.dialect.name)
            if dialect is None:
                unproven = _unproven(mapping, f"{engine.dialect.name} is not a database lint can prove")
                return DatabaseCheck(found + [unproven])
            origins: dict[str, Origin] = {}
            proving, compiled = compile(mapping, write=dialect, origins=origins)
            if proving is None:  # it compiled for lint, but not for this database (MAP208...)
                return DatabaseCheck(
                    found + [_for(d, dialect) for d in compiled if d.severity is Severity.ERROR]
                )
            proven = prove(mapping, proving, origins, engine, catalog)
            return DatabaseCheck(found + _new(proven, found), proven=True)
    except MapperError:
        raise
    except Exception as exc:
        raise DatabaseError(f"--db {shown}: cannot connect or inspect: {_first_line(exc)}") from exc
    finally:
        engine.dispose()


def _new(proven: list[Diagnostic], found: list[Diagnostic]) -> list[Diagnostic]:
    """The prover's diagnostics, less those at a place the schema pass already reported (an unknown
    column of the import fails every statement derived from it) and repeats of each other."""
    seen = {(d.span.line, d.span.col) for d in found}
    out = []
    for d in proven:
        if (d.span.line, d.span.col) not in seen:
            seen.add((d.span.line, d.span.col))
            out.append(d)
    return out


def _for(diagnostic: Diagnostic, dialect: str) -> Diagnostic:
    message = f"compiled for the database's dialect ({dialect}): {diagnostic.message}"
    return diagnostic.model_copy(update={"message": message})


def _unproven(mapping: MappingFile, why: str) -> Diagnostic:
    span = mapping.objects[0].span if mapping.objects else mapping.sources[0].span
    return UNPROVEN.at(mapping.path, span, f"the plan's statements were not proven: {why}")


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
