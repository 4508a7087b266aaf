"""``mapper init``: a first mapping, scaffolded from a live database.

It reads the database once (``catalog``), guesses which tables are users, groups, memberships
and child tables and which column holds which SCIM attribute (``guess``, with ``user``,
``columns`` and ``common``, the name tables in ``names``, into a ``draft``), and writes the
mapping in ``mapper fmt``'s layout with a comment beside every guess (``render``). What it
cannot guess is said in a ``FILL IN`` comment or, when no mapping could run at all, in a
:class:`ScaffoldError`.

- ``scaffold(url, schema=None, tables=()) -> Scaffold``: the mapping text and the warnings
  (ambiguous guesses, with their alternatives) for stderr.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePath

from mapper.scaffold.catalog import ScaffoldError, read_database
from mapper.scaffold.guess import guess
from mapper.scaffold.render import render

__all__ = ["Scaffold", "ScaffoldError", "scaffold", "without_password"]


@dataclass(frozen=True)
class Scaffold:
    text: str
    warnings: tuple[str, ...]

    @property
    def fill_in(self) -> int:
        """How many ``FILL IN`` comments the mapping has: what the scaffold could not decide."""
        return self.text.count("# FILL IN:")


def scaffold(url: str, schema: str | None = None, tables: tuple[str, ...] = ()) -> Scaffold:
    """The scaffolded mapping of the database at ``url``. Raises :class:`ScaffoldError` when the
    database cannot be read or has no table that can be the users."""
    from sqlalchemy.engine import make_url

    database = read_database(url, schema, tables)
    parsed = make_url(url)
    source = _source_name(parsed.database, database.dialect)
    env = f"{source.upper()}_DATABASE_URL"
    draft = guess(database)
    default = without_password(url)
    header = [
        f"Scaffolded by `mapper init` from {default}.",
        'Review every "guessed" and "FILL IN" comment, then check it against the database and',
        "replay Entra's provisioning life cycle (docs/authoring.md):",
        f'  mapper lint FILE --db "${env}"',
        "  mapper simulate FILE",
    ]
    if parsed.password or without_password(url) != url:
        header += ["", f"The password is not written here: set {env} to the full URL where the gateway runs."]
    return Scaffold(render(draft, source, env, default, header), tuple(draft.warnings))


def without_password(url: str) -> str:
    """``url`` as written, less its password (and any query parameter that carries a secret)."""
    from sqlalchemy.engine import URL, make_url

    parsed = make_url(url)
    query = {k: v for k, v in parsed.query.items() if not re.search(r"pass|secret|token|key", k, re.I)}
    bare = URL.create(
        parsed.drivername, parsed.username, None, parsed.host, parsed.port, parsed.database, query
    )
    return bare.render_as_string(hide_password=False)


def _source_name(database: str | None, dialect: str) -> str:
    """The source's name, from the database's (a SQLite file's stem): a valid mapping name."""
    base = PurePath(database).stem if dialect == "sqlite" and database else (database or "")
    name = re.sub(r"[^A-Za-z0-9_]+", "_", base).strip("_").lower()
    if not name or not name[0].isalpha():
        name = f"db_{name}" if name else "app"
    return name
