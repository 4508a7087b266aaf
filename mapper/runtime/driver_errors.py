"""What a driver's error means: an outage (503), a value the database refuses (400), a wrong
configuration (authentication, no such database), or which constraint an IntegrityError violated.
The classification reads SQLSTATEs, MySQL error numbers and, where drivers give neither, messages."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, exc

#: errors that mean the database could not be reached or went away (unless a programming error)
OUTAGES = (exc.OperationalError, exc.InterfaceError, exc.TimeoutError, exc.DisconnectionError)


def is_programming_error(error: exc.DBAPIError | exc.SQLAlchemyError) -> bool:
    """SQLite reports a missing table or a syntax error as OperationalError: that is a bug in the
    mapping or schema, not an outage."""
    message = str(getattr(error, "orig", error)).lower()
    return message.startswith(("no such ", "near ", "table ", "incomplete input")) and "locked" not in message


#: SQLSTATE classes of errors a bound value causes, not the database's state: 22 data exception
#: (too long, out of range, NUL in text: psycopg raises DataError already) and 54 program limit
#: exceeded (a value too large for an index row: psycopg raises an OperationalError, which
#: would read as an outage and answer 503, so that clients retry a request that cannot succeed).
_VALUE_SQLSTATE_CLASSES = ("22", "54")

#: MySQL/MariaDB errors a bound value causes that pymysql raises as OperationalError: 1267, 1270
#: and 1271, *Illegal mix of collations*, which is how a comparison of a ``utf8mb3`` column with
#: text it cannot hold (a 4-byte character: an emoji) fails. No row holds such a value. 1292,
#: *Incorrect datetime value*: a ``TIMESTAMP`` column refusing an instant outside 1970-2038 in
#: strict mode (as an outage it would answer 503, and clients retry it for ever).
_VALUE_ERRNOS = (1267, 1270, 1271, 1292)


#: A rule of the database's own refusing the write: PostgreSQL's ``RAISE EXCEPTION`` (P0001, the
#: default of a trigger or function refusing) and ``ASSERT`` (P0004); MySQL/MariaDB's ``SIGNAL``
#: (1644, which pymysql raises as an OperationalError, an outage to the gateway: a 503 that
#: clients retry for ever). SQLite's ``RAISE(ABORT, ...)`` is a constraint error already.
_RULE_SQLSTATES = ("P0001", "P0004")
_RULE_ERRNOS = (1644,)


def refuses_value(error: BaseException) -> bool:
    """Whether the driver's ``error`` says a bound value cannot be stored (the client's fault,
    400) rather than that the database failed (503): a value no column of its type holds, or a
    rule of the database's own (:func:`refused_by_rule`). pymysql already raises DataError for
    MySQL's value errors (1264 out of range, 1366 wrong value, 1406 too long); SQLite has no
    such limits."""
    if refused_by_rule(error):
        return True
    args: tuple[Any, ...] = getattr(error, "args", ())
    if args and isinstance(args[0], int):  # pymysql: (errno, message), its sqlstate a generic HY000
        return args[0] in _VALUE_ERRNOS and not collations_of_sql(args)
    state = getattr(error, "sqlstate", None)
    return isinstance(state, str) and state[:2] in _VALUE_SQLSTATE_CLASSES


#: PostgreSQL 22P05 untranslatable_character: a character the database's encoding has no
#: equivalent for (CJK into a ``LATIN1`` database)
_CHARACTER_SQLSTATES = ("22P05",)


def refuses_characters(error: BaseException) -> bool:
    """Whether the driver's ``error`` (or SQLAlchemy's around it) says a bound string holds
    characters its column's character set cannot store, rather than that it is too long:
    MySQL/MariaDB 1366 *Incorrect string value* (an emoji in a ``utf8mb3`` column, CJK in a
    ``latin1`` one; 1366 also says *Incorrect integer value*, which is not this), 1267/1270/1271
    (*Illegal mix of collations*: such a value compared with the column), PostgreSQL 22P05."""
    orig = driver_error(error)
    args: tuple[Any, ...] = getattr(orig, "args", ())
    if args and isinstance(args[0], int):  # pymysql: (errno, message)
        if args[0] == 1366:
            return len(args) > 1 and str(args[1]).startswith("Incorrect string value")
        return args[0] in (1267, 1270, 1271) and not collations_of_sql(args)
    return getattr(orig, "sqlstate", None) in _CHARACTER_SQLSTATES


#: the collations an *Illegal mix of collations* names, each with its coercibility
_COLLATIONS = re.compile(r"\((\w+),(\w+)\)")


def collations_of_sql(args: tuple[Any, ...]) -> bool:
    """Whether pymysql's ``args`` (errno, message) are an *Illegal mix of collations* (1267, 1270)
    between the mapping's own text alone: every side it names is a column or a routine's variable
    (``IMPLICIT``), none a value (a bound value is ``COERCIBLE``). A procedure comparing its
    ``VARCHAR`` parameter (the database's default collation) with a column of another one
    (WordPress's ``utf8mb4_unicode_520_ci``) fails so for every value, ASCII included: that is the
    mapping's SQL refused, not a client's characters (1271 names no collation: left to the value)."""
    if len(args) < 2 or args[0] not in (1267, 1270):
        return False
    named = _COLLATIONS.findall(str(args[1]))
    return bool(named) and all(how.upper() != "COERCIBLE" for _, how in named)


def refused_by_rule(error: BaseException) -> bool:
    """Whether the driver's ``error`` (or SQLAlchemy's around it) is a trigger's or function's
    refusal of the write (PostgreSQL ``RAISE EXCEPTION``/``ASSERT``, MySQL/MariaDB ``SIGNAL``)."""
    return _coded(error, _RULE_ERRNOS, _RULE_SQLSTATES)


def _coded(error: BaseException, errnos: Collection[int], sqlstates: Collection[str]) -> bool:
    """Whether the driver's error under ``error`` carries one of ``errnos`` (pymysql's
    ``(errno, message)``) or, from a driver with SQLSTATEs (psycopg), one of ``sqlstates``."""
    orig = driver_error(error)
    args: tuple[Any, ...] = getattr(orig, "args", ())
    if args and isinstance(args[0], int):  # pymysql: (errno, message)
        return args[0] in errnos
    return getattr(orig, "sqlstate", None) in sqlstates


#: MySQL/MariaDB 1213: a deadlock, for which InnoDB rolled the whole transaction back
_ROLLED_BACK_ERRNOS = (1213,)
#: SQLSTATE class 40, transaction rollback, but for 40003 (statement completion unknown: in doubt)
_ROLLED_BACK_SQLSTATES = frozenset({"40000", "40001", "40002", "40P01"})


#: PostgreSQL 55P03 lock_not_available (``lock_timeout``), MySQL/MariaDB 1205 lock wait timeout
_LOCK_SQLSTATES = ("55P03",)
_LOCK_ERRNOS = (1205,)


def lock_timed_out(error: BaseException | None) -> bool:
    """Whether ``error`` is a statement that waited out the session's bound on a row lock another
    transaction holds (:attr:`Timeouts.lock <mapper.runtime.watchdog.Timeouts.lock>`)."""
    return error is not None and _coded(error, _LOCK_ERRNOS, _LOCK_SQLSTATES)


def rolled_back(error: BaseException | None) -> bool:
    """Whether ``error`` says the database rolled the whole transaction back to settle a
    conflict with another one, and that it may succeed when run again: SQLSTATE class 40
    (PostgreSQL's 40001 serialization failure, 40P01 deadlock, also when refused at COMMIT;
    not 40003, whose statement may have completed), MySQL/MariaDB's deadlock (1213). Nothing
    of the transaction was kept."""
    return error is not None and _coded(error, _ROLLED_BACK_ERRNOS, _ROLLED_BACK_SQLSTATES)


def no_default(error: BaseException) -> bool:
    """MySQL/MariaDB 1364: an insert left out a NOT NULL column that has no DEFAULT (a create
    without the attribute: see :mod:`mapper.runtime.inserts`), as a bound NULL is 1048."""
    args: tuple[Any, ...] = getattr(error, "args", ())
    return bool(args) and args[0] == 1364


#: What the database says when the source is configured wrongly: SQLSTATE (PostgreSQL: psycopg
#: has none at connect time, so its server message is matched instead), MySQL/MariaDB error number
_CONFIG_SQLSTATES = {
    "28P01": "authentication failed",
    "28000": "authentication failed",
    "3D000": "the database does not exist",
}
_CONFIG_ERRNOS = {
    1044: "access to the database denied",
    1045: "authentication failed",
    1698: "authentication failed",
    1049: "the database does not exist",
}
_CONFIG_MESSAGES = (
    (
        re.compile(r"password authentication failed|no password supplied|role \".*\" does not exist"),
        "authentication failed",
    ),
    (re.compile(r"no pg_hba\.conf entry|pg_hba\.conf rejects"), "authentication failed"),
    (re.compile(r"database \".*\" does not exist"), "the database does not exist"),
)
#: The database refusing the mapping's own SQL, a statement that ran before: the schema changed
#: under the gateway (a column or table renamed or dropped), a privilege was revoked, or the
#: source now points at a read-only server. Not the client's fault (values are bound: no value
#: makes a statement name a missing column) and not an outage that retrying cures by itself:
#: the operator changes the schema or the mapping. So is a mapping that writes a generated column
#: (``GENERATED ALWAYS AS ... STORED``/``VIRTUAL``): every write of its object is refused until the
#: attribute is made import-only (``mapper lint --db`` reports it: MAP315). PostgreSQL
#: SQLSTATEs; MySQL/MariaDB error numbers; SQLite has neither, so :func:`is_programming_error`
#: reads its messages.
#: The reasons follow "database hr: " in the 503's detail and "database hr refuses the mapping's
#: SQL: " in the log: none says "the database" again.
_NO_COLUMN = "the mapping names a column the database does not have"
_NO_TABLE = "the mapping names a table the database does not have"
_PRIVILEGE = "the gateway's user lacks a privilege the mapping needs"
_SYNTAX = "the mapping's SQL is refused as written"
#: the reason :func:`schema_refusal` gives for a write refused by a read-only database or session
READ_ONLY = "the server is read-only"
_GENERATED = "the mapping writes a column the database generates"
#: PostgreSQL's 42804 datatype_mismatch: a parameter typed by its Python value (a datetime for a
#: dateTime attribute) into a column of a type it has no assignment cast to (``bigint``). The
#: driver sends text as untyped, so a client's text never causes it: it is the attribute's type
#: against the column's, every write alike (``mapper lint --db``: MAP318 for times in numbers).
_COLUMN_TYPE = "the mapping writes a value of another type than its column holds"
_COLLATION = "the mapping's SQL compares text of two collations (a routine's variable with a column?)"
_UNSUPPORTED = (
    "the mapping's SQL asks what the database does not support (a row lock through a view that outer-joins?)"
)
_SCHEMA_SQLSTATES = {
    "42703": _NO_COLUMN,
    "42P01": _NO_TABLE,
    "42501": _PRIVILEGE,
    "42601": _SYNTAX,
    "25006": READ_ONLY,
    "428C9": _GENERATED,
    "42804": _COLUMN_TYPE,
    "0A000": _UNSUPPORTED,  # FOR NO KEY UPDATE of a view over a LEFT JOIN: every write of it
}
_SCHEMA_ERRNOS = {
    1054: _NO_COLUMN,
    1146: _NO_TABLE,
    1142: _PRIVILEGE,
    1143: _PRIVILEGE,
    1370: _PRIVILEGE,
    1305: "the mapping names a procedure or function the database does not have",
    1064: _SYNTAX,
    1290: READ_ONLY,
    1792: READ_ONLY,
    1836: READ_ONLY,
    1906: _GENERATED,  # MariaDB
    3105: _GENERATED,  # MySQL
}
_SCHEMA_MESSAGES = (
    (re.compile(r"^no such column|^table \S+ has no column named"), _NO_COLUMN),
    (re.compile(r"^no such table"), _NO_TABLE),
    (re.compile(r"^near \S+: syntax error"), _SYNTAX),
    (re.compile(r"^attempt to write a readonly database"), READ_ONLY),
    (re.compile(r"^cannot (insert into|update) generated column", re.IGNORECASE), _GENERATED),
)


def schema_refusal(error: BaseException) -> tuple[str, str] | None:
    """(reason, detail) when ``error`` is the database refusing the mapping's own SQL (see
    ``_SCHEMA_SQLSTATES``), else None. ``detail`` is the server's first line: it names the column,
    table or privilege, never a bound value."""
    orig = driver_error(error)
    args: tuple[Any, ...] = getattr(orig, "args", ())
    if args and isinstance(args[0], int):  # pymysql: (errno, message)
        reason = _COLLATION if collations_of_sql(args) else _SCHEMA_ERRNOS.get(args[0])
        return (reason, str(args[1]) if len(args) > 1 else "") if reason else None
    message = str(orig).strip()
    detail = message.splitlines()[0] if message else ""
    state = getattr(orig, "sqlstate", None)
    if isinstance(state, str):
        reason = _SCHEMA_SQLSTATES.get(state)
        return (reason, detail) if reason else None
    if type(orig).__module__.startswith("sqlite3"):
        for pattern, found in _SCHEMA_MESSAGES:
            if pattern.search(detail):
                return found, detail
    return None


_OUTAGE_MESSAGES = (
    ("refused", "connection refused"),
    ("name or service not known", "host not found"),
    ("failed to resolve host", "host not found"),
    ("temporary failure in name resolution", "host not found"),
    ("nodename nor servname", "host not found"),
    ("timeout", "timed out"),
    ("timed out", "timed out"),
)


def driver_error(error: BaseException) -> BaseException:
    """The driver's own exception under SQLAlchemy's wrappers (``orig``, then ``__cause__``)."""
    seen: set[int] = set()
    while id(error) not in seen:
        seen.add(id(error))
        inner = getattr(error, "orig", None) or error.__cause__
        if not isinstance(error, exc.SQLAlchemyError) or inner is None:
            return error
        error = inner
    return error


def config_problem(error: BaseException) -> tuple[str, str] | None:
    """(reason, detail) when a PostgreSQL or MySQL/MariaDB ``error`` says the source is configured
    wrongly (authentication refused, no such database), else None. ``detail`` is the server's
    line (it names the user or the database; no driver puts the password in it)."""
    orig = driver_error(error)
    message = str(orig)
    args: tuple[Any, ...] = getattr(orig, "args", ())
    errno = args[0] if args and isinstance(args[0], int) else None  # pymysql: (errno, message)
    if errno is not None and len(args) > 1:
        detail = str(args[1])
    else:  # libpq: "connection to server at ... failed: FATAL:  database "x" does not exist"
        detail = message.rsplit("FATAL:", 1)[-1].strip().splitlines()[0] if message.strip() else ""
    if errno in _CONFIG_ERRNOS:
        return _CONFIG_ERRNOS[errno], detail
    state = getattr(orig, "sqlstate", None)
    if isinstance(state, str) and state in _CONFIG_SQLSTATES:
        return _CONFIG_SQLSTATES[state], detail
    for pattern, reason in _CONFIG_MESSAGES:
        if pattern.search(message):
            return reason, detail
    return None


_MISSING_TABLE = re.compile(
    r"^Table '(?:[^']*\.)?([^'.]+)' doesn't exist$"  # MariaDB/MySQL 1146
    r"|^no such table: (?:\w+\.)?(\S+)$"  # SQLite
    r"|^relation \"(?:[^\"]*\.)?([^\".]+)\" does not exist"  # PostgreSQL 42P01
)


def missing_table(error: BaseException) -> str | None:
    """The table (unqualified, lowercased) a statement failed on because it does not exist."""
    orig = driver_error(error)
    args: tuple[Any, ...] = getattr(orig, "args", ())
    message = str(args[1]) if len(args) > 1 and isinstance(args[0], int) else str(orig)
    found = _MISSING_TABLE.match(message.strip().splitlines()[0] if message.strip() else "")
    return next(g for g in found.groups() if g).lower() if found else None


def outage_reason(error: BaseException) -> str | None:
    """Why the database could not be reached, in our words, when the driver says."""
    if isinstance(error, exc.TimeoutError):
        return "timed out"
    message = str(driver_error(error)).lower()
    for needle, reason in _OUTAGE_MESSAGES:
        if needle in message:
            return reason
    return None


def describe_error(error: BaseException) -> str:
    """The driver's message, which names the problem (refused, timed out) but never the password."""
    orig = getattr(error, "orig", None)
    return (
        f"{type(orig or error).__name__}: {str(orig or error).splitlines()[0] if str(orig or error) else ''}"
    )


def integrity_kind(error: exc.IntegrityError) -> str:
    """What an IntegrityError violated: ``unique``, ``foreign_key``, ``not_null``, ``check``,
    ``datatype`` (a value of the wrong type for a SQLite STRICT table's column) or ``other``."""
    orig = error.orig
    args = getattr(orig, "args", ())
    if args and isinstance(args[0], int):  # pymysql: (errno, message); its sqlstate is a generic 23000
        errno = args[0]
        if errno in (1062, 1586):
            return "unique"
        if errno in (1451, 1452, 1216, 1217):
            return "foreign_key"
        if errno in (1048, 1364):
            return "not_null"
        if errno in (3819, 4025):
            return "check"
        return "other"
    code = getattr(orig, "sqlstate", None)  # psycopg
    if code:
        return {"23505": "unique", "23503": "foreign_key", "23502": "not_null", "23514": "check"}.get(
            code, "other"
        )
    message = str(orig).upper()
    if message.startswith("CANNOT STORE"):  # SQLite STRICT: "cannot store TEXT value in INTEGER column t.c"
        return "datatype"
    for marker, kind in (
        ("UNIQUE", "unique"),
        ("PRIMARY KEY", "unique"),
        ("FOREIGN KEY", "foreign_key"),
        ("NOT NULL", "not_null"),
        ("CHECK", "check"),
    ):
        if marker in message:
            return kind
    return "other"


def as_sqlalchemy(
    connection: Connection, error: Any, sql: str | None, bound: Any, dbapi_connection: Any, cursor: Any
) -> Exception:
    """The driver's ``error`` (raised running ``sql`` on ``connection``) as SQLAlchemy raises it
    (IntegrityError, OperationalError...), so :class:`~mapper.runtime.tx.Tx`'s callers see one
    kind of error; a lost connection is invalidated, as SQLAlchemy does."""
    engine = connection.engine
    dialect = engine.dialect
    disconnect = dialect.is_disconnect(error, dbapi_connection, cursor)
    if disconnect:
        connection.invalidate(error)
    elif refuses_value(error):
        return exc.DataError(sql, bound, error, hide_parameters=engine.hide_parameters)
    elif no_default(error):  # pymysql raises it as an OperationalError, which reads as an outage
        return exc.IntegrityError(sql, bound, error, hide_parameters=engine.hide_parameters)
    return exc.DBAPIError.instance(
        sql,
        bound,
        error,
        dialect.loaded_dbapi.Error,
        hide_parameters=engine.hide_parameters,
        connection_invalidated=disconnect,
        dialect=dialect,
    )


@dataclass(frozen=True, slots=True)
class Refusal:
    """What a driver's refusal names, as identifiers only (never words of its prose or of the
    client's value): the attribute to blame is picked from these (:mod:`mapper.runtime.blame`).

    ``columns``: the columns named, without their table, lowercased; ``key``: the unique key
    MySQL/MariaDB names (``PRIMARY``, or an index, often named after its column); ``parameter``:
    PostgreSQL's position (from 1) of the bound parameter whose text did not convert to the
    column's type (its CONTEXT ``unnamed portal parameter $N``); ``too_long``: the length of the
    ``character varying(N)`` a value overflowed; ``out_of_range``: the integer type (``smallint``,
    ``integer``, ``bigint``) a bound number overflowed. PostgreSQL names no column for the last two.
    ``entry``: a unique key's duplicated value as the database quotes it (PostgreSQL's DETAIL
    ``Key (...)=(...)``, MySQL/MariaDB's ``Duplicate entry '...'``; SQLite quotes none), only to
    tell whether a value the write bound can be in it (:func:`mapper.runtime.blame.unexplained_key`):
    never shown, logged or used to pick an attribute."""

    columns: tuple[str, ...] = ()
    key: str | None = None
    parameter: int | None = None
    too_long: int | None = None
    out_of_range: str | None = None
    entry: str | None = None


_PG_KEY = re.compile(r"^Key \((.+?)\)=\(")  # DETAIL of a unique or foreign key violation
_PG_ENTRY = re.compile(r"^Key \(.+?\)=\((.*)\) already exists\.?$", re.DOTALL)  # a unique one's
_MYSQL_ENTRY = re.compile(r"^Duplicate entry '(.*)' for key '", re.DOTALL)
_PG_PARAMETER = re.compile(r"portal parameter \$(\d+)\b")
_PG_TOO_LONG = re.compile(r"^value too long for type character(?: varying)?\((\d+)\)$")
_PG_OUT_OF_RANGE = re.compile(r"^(smallint|integer|bigint) out of range$")
_MYSQL_COLUMN = re.compile(
    r"for column (?:'([^']+)'|`[^`]*`\.`[^`]*`\.`([^`]+)`)"
    r"|^Column '([^']+)' cannot be null|^Field '([^']+)' doesn't have a default value"
)
_MYSQL_KEY = re.compile(r"for key '(?:[^']*\.)?([^'.]+)'$")
_MYSQL_FOREIGN_KEY = re.compile(r"FOREIGN KEY \(([^)]*)\)")
_SQLITE_COLUMNS = re.compile(
    r"(?:constraint failed: |in \w+ column )([^\s,]+\.[^\s,]+(?:, [^\s,]+\.[^\s,]+)*)$"
)


def refusal(error: exc.DBAPIError) -> Refusal:
    """What ``error`` (a DataError or IntegrityError) names: psycopg's diagnostics, the columns
    a MySQL/MariaDB message quotes, the ``table.column`` s of SQLite's."""
    orig = error.orig
    diag = getattr(orig, "diag", None)
    if diag is not None:  # psycopg
        columns = [diag.column_name] if diag.column_name else []
        key = _PG_KEY.match(diag.message_detail or "")
        if key:
            columns += key.group(1).split(", ")
        parameter = _PG_PARAMETER.search(diag.context or "")
        too_long = _PG_TOO_LONG.match(diag.message_primary or "")
        out_of_range = _PG_OUT_OF_RANGE.match(diag.message_primary or "")
        entry = _PG_ENTRY.match(diag.message_detail or "")
        return Refusal(
            columns=_identifiers(columns, '"'),
            parameter=int(parameter.group(1)) if parameter else None,
            too_long=int(too_long.group(1)) if too_long else None,
            out_of_range=out_of_range.group(1) if out_of_range else None,
            entry=entry.group(1) if entry else None,
        )
    args: tuple[Any, ...] = getattr(orig, "args", ())
    if len(args) > 1 and isinstance(args[0], int):  # pymysql: (errno, message)
        message = str(args[1])
        columns = [next(g for g in m.groups() if g) for m in _MYSQL_COLUMN.finditer(message)]
        foreign = _MYSQL_FOREIGN_KEY.search(message)
        if foreign:
            columns += foreign.group(1).split(", ")
        key = _MYSQL_KEY.search(message) if args[0] in (1062, 1586) else None
        entry = _MYSQL_ENTRY.match(message) if key else None
        return Refusal(
            columns=_identifiers(columns, "`"),
            key=key.group(1).lower() if key else None,
            entry=entry.group(1) if entry else None,
        )
    named = _SQLITE_COLUMNS.search(str(orig))
    if named:  # SQLite: "UNIQUE constraint failed: t.a, t.b"
        return Refusal(columns=_identifiers([n.rsplit(".", 1)[1] for n in named.group(1).split(", ")], '"'))
    return Refusal()


def _identifiers(names: list[str], quote: str) -> tuple[str, ...]:
    """Column names as the plan compares them: unquoted, lowercased, each once."""
    return tuple(dict.fromkeys(n.strip().strip(quote).lower() for n in names if n.strip()))
