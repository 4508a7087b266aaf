"""A connection inside a transaction, speaking plan statements (:class:`Tx`) on the driver's cursor
(the statements as it takes them: :mod:`mapper.runtime.statements`), a group-commit batch's jobs
and their savepoints (:meth:`Tx.run_job`), and how a write of an
existing object runs (:meth:`Tx.write`: the transaction reads the object, the write decides from
it what to send, the transaction sends it)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import partial
from operator import attrgetter, methodcaller
from typing import TYPE_CHECKING, Any

import sqlglot
from sqlalchemy import Connection, CursorResult, exc
from sqlglot import exp

from mapper.plan import Statement
from mapper.runtime import pgpipeline
from mapper.runtime.decisions import Creation
from mapper.runtime.driver_errors import as_sqlalchemy
from mapper.runtime.errors import PreconditionFailedError
from mapper.runtime.keys import anchor_key
from mapper.runtime.statements import Executed

if TYPE_CHECKING:
    from mapper.runtime.database import Database
    from mapper.runtime.decisions import ObjectWrite, PerRow, Referring, Unclaimed
    from mapper.runtime.group_commit import Job, Turn
    from mapper.runtime.record import Record
    from mapper.runtime.rows import ObjectRead


class TransactionLost(Exception):
    """Raised inside a batch when its transaction ended under it; ``__cause__`` says why."""


class Ahead:
    """The start of a batch's next job, sent where statements pipeline in one pipeline with the
    read-back of the job before it (:meth:`Tx.read_back`), after that job's writes: the next job's
    savepoint (``savepoint``; None: the batch runs without) and what it declares it sends first
    (``opening``: the object a write of an existing object reads, or a create's checks and
    insert). Once sent: what its statements returned (``results``; a create's checks' verdict
    taken), or the error it failed with (``error``: the next job's own failure, not the job that
    carried it)."""

    __slots__ = ("error", "opening", "results", "savepoint")

    def __init__(self, savepoint: str | None, opening: ObjectRead | Creation) -> None:
        self.savepoint = savepoint
        self.opening = opening
        self.results: list[list[tuple[Any, ...]]] = []
        self.error: Exception | None = None


def declared_opening(fn: Callable[[Tx], Any]) -> ObjectRead | Creation | None:
    """What a batch's job sends first, when the job declares it: the object a write of an
    existing object reads (run by :meth:`Tx.write`), a create's checks and insert (run by
    :meth:`Tx.create`, unless its insert's anchor comes back as ``lastrowid``); else None."""
    if type(fn) is partial:
        if fn.func is Tx.write:
            write: ObjectWrite = fn.keywords["write"]
            return write.read
        if fn.func is Tx.create:
            creation: Creation = fn.keywords["creation"]
            return creation if creation.insert[0].returning != "lastrowid" else None
    return None


class Tx:
    """A connection inside a transaction, speaking plan statements.

    :meth:`first`, :meth:`rows`, :meth:`insert` and :meth:`run` hand the statement straight to the
    DB-API cursor (a tenth of the CPU of SQLAlchemy's execution path, which is most of a write's
    cost), and raise SQLAlchemy's exceptions as :meth:`execute` does, so callers see one kind of
    error. :meth:`execute` returns SQLAlchemy's result, for streaming.

    On PostgreSQL, statements go to libpq in pipelines (:mod:`~mapper.runtime.pgpipeline`), and
    those whose outcome the caller does not read (a savepoint, :meth:`send`) are held and go with
    the next statement, so they cost no round trip of their own; :meth:`flush` sends what is still
    held (a write's batch flushes after each write, before it counts as done). Elsewhere they run
    at once."""

    __slots__ = (
        "_ahead",
        "_checks",
        "_given",
        "_held",
        "_next",
        "_pipelining",
        "_quiet",
        "_reader",
        "changes",
        "connection",
        "database",
        "savepoint_sent",
        "statements",
    )

    def __init__(self, database: Database, connection: Connection) -> None:
        self.database = database
        self.statements = database.statements
        self.connection = connection
        #: (object type, anchor key, operation) of each write in this transaction, published to
        #: the other gateway processes before the commit (:attr:`Database.publish`)
        self.changes: list[tuple[str, Any, str]] = []
        # not asked yet (None), where statements may pipeline: only psycopg's connections do
        self._pipelining: bool | None = None if database.dialect == "postgresql" else False
        self._held: list[pgpipeline.Command] = []  # not sent yet
        #: the cursor that :meth:`rows` runs its statements on, one after the other (None: none yet)
        self._reader: Any = None
        #: checks held (:meth:`refuse_held`): (where their commands start in _held, the checks, ...)
        self._checks: list[tuple[int, Sequence[Unclaimed], int, Any]] = []
        #: whether the last :meth:`savepoint` reached the database (False: still held)
        self.savepoint_sent = True
        self._next: Ahead | None = None  # sent with the running job's read-back, for the next job
        self._given: Ahead | None = None  # sent with the job before's read-back, for the running one
        self._ahead: Ahead | None = None  # the next job's start, for the running job's read-back
        #: the schema's version as this transaction found it (:class:`Quiet`); None: not asked yet
        self._quiet: int | None = None

    @property
    def pipelines(self) -> bool:
        """Whether statements go in psycopg pipelines here (see the class's docstring)."""
        if self._pipelining is None:
            dbapi_connection = self.connection.connection.dbapi_connection
            self._pipelining = hasattr(dbapi_connection, "pgconn") and pgpipeline.supported()
        return self._pipelining

    def savepoint(self, name: str) -> None:
        """``SAVEPOINT name``: held for the next statement where statements pipeline (then
        :attr:`savepoint_sent` stays False until it goes), else run now; raises
        :class:`TransactionLost` when it fails here."""
        if self.pipelines:
            self._held.append((pgpipeline.unnamed(f"SAVEPOINT {name}"), None))
            self.savepoint_sent = False
        else:
            savepoint(self.connection, f"SAVEPOINT {name}")

    def run_jobs(self, jobs: list[Job], guarded: bool) -> Job | None:
        """A batch's ``jobs`` in order (:meth:`run_job`), each in a savepoint of its own when
        ``guarded``, each carrying the start of the next where statements pipeline
        (:class:`Ahead`); the first that failed, or None. Unguarded, the jobs after a failure do
        not run: the caller rolls the transaction back."""
        failed = None
        for number, job in enumerate(jobs):
            ahead = None
            if number + 1 < len(jobs) and self.pipelines:  # see Ahead
                opening = declared_opening(jobs[number + 1].fn)
                if opening is not None:
                    ahead = Ahead(f"job{number + 1}" if guarded else None, opening)
            if not self.run_job(job, f"job{number}" if guarded else None, ahead) and failed is None:
                failed = job
                if not guarded:
                    return failed
        return failed

    def run_job(self, job: Job, name: str | None, ahead: Ahead | None = None) -> bool:
        """``job`` in a savepoint of its own, called ``name``, or (``name`` None) in none; sets its
        ``value``, or its ``error`` (as raised: the batch says what its caller sees), and returns
        whether it succeeded. ``ahead``: the next job's savepoint and first read, which this job's
        read-back may carry (:meth:`write`); the next job then starts from what it returned,
        unless this job fails (its rollback undoes what that read saw, and the next job's
        savepoint with it). Without a savepoint a failed job may leave some of its statements
        behind: the caller must then roll the whole transaction back (:meth:`Database.run_batch`
        does, and runs the others again, each in a savepoint). Savepoints go straight to the
        driver (SQLAlchemy's ``begin_nested`` costs more CPU than the job's own statements) and
        are not released: the commit ends them all, and a release would cost PostgreSQL and MySQL
        a round trip per job. On PostgreSQL the savepoint, and the statements the job sends
        without reading their outcome, go with its next statement; whatever is still held is sent
        before the job counts as done. Each job's savepoint has its own name, so rolling back to
        one that never reached the database fails rather than undoing the job before it. A
        savepoint statement that fails means the transaction is gone (the database rolled it
        back: a MySQL deadlock, a full disk, a lost connection): :class:`TransactionLost`."""
        given, self._next = self._next, None
        if given is not None and given.savepoint != name:  # not sent for a job run this way
            given = None
        if given is not None:
            self.savepoint_sent = True  # if any: it went with the job before's read-back
        elif name is not None:
            self.savepoint(name)
        self._given, self._ahead = given, ahead
        noted = len(self.changes)
        try:
            job.value = job.fn(self)
            self.flush()
            self._given = self._ahead = None
        except BaseException as error:  # noqa: BLE001 - the job's own failure, for its caller alone
            job.value = None
            del self.changes[noted:]  # rolled back: nothing to tell the other processes
            job.error = error
            self.discard()
            if self.connection.invalidated:  # the connection broke: the transaction is gone with it
                raise TransactionLost() from error
            if name is not None and self.savepoint_sent:  # else nothing of the job reached the database
                savepoint(self.connection, f"ROLLBACK TO SAVEPOINT {name}")
            return False
        return True

    def write(self, write: ObjectWrite) -> Record | None:
        """Run ``write`` (a batch's job as ``partial(Tx.write, write=...)``): read its object and
        check its preconditions, let it decide from what was read, check the values it must find
        unclaimed (a row of another object refuses the write), send its statements and read the
        object back (sent with them, where statements pipeline, and with the start of the
        batch's next job: :class:`Ahead`). Returns the object as written (None: deleted, or
        hidden by the import query) and notes the change."""
        read = write.read
        given, self._given = self._given, None
        if given is not None and given.opening is read:  # read with the job before's read-back
            if given.error is not None:
                raise given.error
            fresh = self.read_object(read, given.results)
        else:
            fresh = self.read_object(read)
        if fresh is None:
            raise write.gone()
        if write.if_match is not None and not fresh.matches(write.if_match):
            raise PreconditionFailedError()
        if write.expected is not None and not fresh.holds(write.expected):
            raise PreconditionFailedError()
        decided = write.decide(fresh)
        self.refuse_held(decided.unclaimed, read.anchor_index, read.anchor)
        per_row = self._per_row(decided.per_row, decided.referring)
        for statement, params in per_row:  # a delete's ends of memberships: before its row goes
            self.send(statement, params)
        for statement, params in decided.statements:
            self.send(statement, params)
        quiet = not per_row and not decided.referring and self._untouched(read, decided.statements)
        after = self.read_back(read, fresh if quiet else None)
        if after is None and not write.deletes:
            raise write.gone()
        key = read.anchor if after is None else anchor_key(after.row[read.anchor_index])
        self.changed(write.object_type, key, "delete" if after is None else "upsert")
        for referring in decided.referring:  # changed by the database's ON DELETE rule
            for value in referring.found:
                self.changed(referring.object_type, anchor_key(value), "upsert")
        return after

    def create(self, creation: Creation) -> Record:
        """Run ``creation`` (a batch's job as ``partial(Tx.create, creation=...)``): check that no
        row holds its unique values, insert, and go on with the new anchor (its ``finish``: child
        rows, read-back). Where statements pipeline the checks go with the insert, and both may
        have gone with the read-back of the job before (:class:`Ahead`): their verdict and the
        insert's outcome are then taken from what that pipeline returned."""
        given, self._given = self._given, None
        statement, params = creation.insert
        if given is not None and given.opening is creation:
            if given.error is not None:
                raise given.error
            returned = _inserted(statement, given.results[0])
        else:
            self.refuse_held(creation.unclaimed, creation.anchor_index)
            returned = self.insert(statement, params)
        return creation.finish(self, anchor_key(returned) if creation.returns else creation.anchor)

    def _per_row(
        self, per_row: Sequence[PerRow], referring: Sequence[Referring] = ()
    ) -> list[tuple[Statement, Mapping[str, Any]]]:
        """The statements of each :class:`~mapper.runtime.decisions.PerRow`, one per row its
        look-up finds now, and the anchors each of ``referring`` finds, left in its ``found``
        (all look-ups in one round trip where statements pipeline)."""
        if not per_row and not referring:
            return []
        calls = [(p.lookup, p.lookup_params) for p in per_row] + [(r.lookup, r.params) for r in referring]
        found = self.rows_together(calls)
        for r, rows in zip(referring, found[len(per_row) :], strict=True):
            r.found[:] = [row[r.anchor_index] for row in rows]
        return [
            (p.write, {**p.params, "anchor": row[0]})
            for p, rows in zip(per_row, found[: len(per_row)], strict=True)
            for row in rows
        ]

    def refuse_held(self, checks: Sequence[Unclaimed], anchor_index: int, anchor: Any = None) -> None:
        """Raise the error of the first of ``checks`` whose value a row holds, unless it is the
        row of the object ``anchor`` (None: a new object, which holds nothing yet). Where
        statements pipeline, the checks are held and go with the next statement (its pipeline
        raises the error once they are answered, before any failure of a statement after them:
        the job then fails and what ran after them is rolled back with it); elsewhere they run
        now."""
        if not checks:
            return
        if not self.pipelines:
            found = [self.rows(check.statement, check.params) for check in checks]
            _refuse(checks, found, anchor_index, anchor)
            return
        self._checks.append((len(self._held), checks, anchor_index, anchor))
        self._held += [self._command(check.statement, check.params) for check in checks]

    def read_object(
        self, read: ObjectRead, results: list[list[tuple[Any, ...]]] | None = None
    ) -> Record | None:
        """The object ``read`` asks for, or None: its row and each multi's items read together
        (:meth:`rows_together`; ``results``: what they returned, when they were sent already),
        the items again by the row's own anchor when it differs."""
        if results is None:
            results = self.rows_together(read.calls)
        again = read.moved(results[0])
        if again:
            results = [results[0], *self.rows_together(again)]
        return read.record(results)

    def read_back(self, read: ObjectRead, before: Record | None = None) -> Record | None:
        """:meth:`read_object` after a write's statements, the job's last, in one pipeline with
        the start of the batch's next job when there is one (:class:`Ahead`): its savepoint and
        its opening (a read; a create's checks and insert), whose results, or whose own failure
        (a check that found its value held comes first, as for a job's own checks), are kept for
        it. ``before``: the object as this transaction read it before the write, whose child rows
        nothing the write sent can have changed (:meth:`_untouched`): only its row is read again."""
        ahead, self._ahead = self._ahead, None
        if before is not None and not self.pipelines:
            found = self.rows(*read.calls[0])
            return read.form.record(found[0], before.children) if found else None
        if ahead is None or not self.pipelines:
            return self.read_object(read)
        commands = [self._command(statement, params) for statement, params in read.calls]
        own = len(commands)
        if ahead.savepoint is not None:
            commands.append((pgpipeline.unnamed(f"SAVEPOINT {ahead.savepoint}"), None))
        start = len(commands)
        opening = ahead.opening
        checks = opening.unclaimed if isinstance(opening, Creation) else ()
        commands += [self._command(check.statement, check.params) for check in checks]
        commands += [self._command(statement, params) for statement, params in opening.calls]
        outcomes, ahead.error = self._exchange(commands, len(commands) - start)
        theirs = [outcome.fetchall() for outcome in outcomes[start:]]
        if isinstance(opening, Creation) and checks and len(theirs) >= len(checks):
            refused = _refused(checks, theirs[: len(checks)], opening.anchor_index, None)
            if refused is not None:
                ahead.error = refused
        ahead.results = theirs[len(checks) :]
        self._next = ahead
        return self.read_object(read, [outcome.fetchall() for outcome in outcomes[:own]])

    def _untouched(self, read: ObjectRead, sent: Sequence[tuple[Statement, Mapping[str, Any]]]) -> bool:
        """Whether what ``read``'s child statements return cannot have changed since this
        transaction ran them, the write having sent ``sent`` since: on SQLite, whose write
        transaction holds the database's one write lock from its BEGIN, so that only this
        transaction's own statements (and the triggers and foreign-key actions they fire) write,
        when the database's :class:`Quiet` finds that none of those can write a table they read."""
        if not self.database.is_sqlite or len(read.calls) < 2:
            return False
        quiet: Quiet = self.database.quiet
        if self._quiet is None:
            self._quiet = int(self.rows(_SCHEMA_VERSION)[0][0])
        written, children = [s.sql for s, _ in sent], [s.sql for s, _ in read.calls[1:]]
        return quiet.untouched(self, self._quiet, written, children)

    def send(self, statement: Statement, params: Mapping[str, Any] | None = None) -> None:
        """Run a statement for its effect, without its row count: held for the next statement
        where statements pipeline (its failure surfaces there, or at :meth:`flush`)."""
        if not self.pipelines:
            self.run(statement, params)
            return
        self._held.append(self._command(statement, params or {}))

    def flush(self) -> None:
        """Send the statements still held, in one round trip."""
        if self._held:
            self.rows_together(())

    def commit(self, turn: Turn | None = None) -> None:
        """Where statements pipeline: ``COMMIT`` now, in one round trip with the statements still
        held (the connection's own commit then finds no transaction); :class:`TransactionLost`
        when the database rolled the transaction back instead. ``turn`` is left once the COMMIT
        is sent, before its answer (the next batch's statements may run meanwhile)."""
        (outcome,) = self._exchange([(pgpipeline.unnamed("COMMIT"), None)], 0, turn)[0]
        if outcome.status != b"COMMIT":
            raise TransactionLost(f"the commit ended as {outcome.status!r}")

    def discard(self) -> None:
        """Forget the statements still held and the next job's start (their write failed and is
        rolled back)."""
        self._held.clear()
        self._checks.clear()
        self._next = self._given = self._ahead = None

    def changed(self, object_type: str, key: Any, op: str) -> None:
        """Note that this transaction wrote the object ``key`` of ``object_type`` (``op``:
        ``upsert`` or ``delete``), for the other processes (see :mod:`mapper.runtime.coherence`)."""
        if self.database.publish is not None:
            self.changes.append((object_type, key, op))

    def execute(self, statement: Statement, params: Mapping[str, Any] | None = None) -> CursorResult[Any]:
        self.flush()
        given = params or {}
        convert = self.database.convert
        bound = {name: convert(given.get(statement.value_of(name))) for name in statement.params}
        return self.connection.execute(self.statements.compiled(statement), bound)

    def rows(self, statement: Statement, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        rows = self._run(statement, params, _FETCH_ALL)  # pymysql fetches a tuple of rows
        if type(rows) is list and (not rows or type(rows[0]) is tuple):
            return rows
        return [tuple(row) for row in rows]

    def first(self, statement: Statement, params: Mapping[str, Any] | None = None) -> tuple[Any, ...] | None:
        row = self._run(statement, params, _FETCH_ONE)
        return row if row is None or type(row) is tuple else tuple(row)

    def rows_together(
        self, calls: Sequence[tuple[Statement, Mapping[str, Any]]]
    ) -> list[list[tuple[Any, ...]]]:
        """The rows of each ``(statement, params)``, in order: where statements pipeline, sent in
        one pipeline with the statements held, one round trip for all where :meth:`rows` costs one
        each (a write re-reads its object and each multi's items this way); elsewhere one after
        the other."""
        if not self.pipelines:
            return [self.rows(statement, params) for statement, params in calls]
        outcomes = self._pipeline([self._command(statement, params) for statement, params in calls])
        return [outcome.fetchall() for outcome in outcomes]

    def _command(self, statement: Statement, params: Mapping[str, Any]) -> pgpipeline.Command:
        """``statement`` and its values as a pipeline takes them (a name ``params`` lacks is NULL)."""
        driver = self.statements.driver_sql(statement)
        sql = pgpipeline.pg_sql(driver.sql, driver.keys or driver.names, driver.names)
        convert = driver.convert
        return (sql, [convert(params.get(name)) for name in sql.values])

    def _pipeline(self, commands: list[pgpipeline.Command]) -> list[pgpipeline.Outcome]:
        """The held statements and then ``commands`` sent in one pipeline; the outcomes of
        ``commands``. A driver error (the first statement of the pipeline that failed) is raised
        as SQLAlchemy's."""
        outcomes, _ = self._exchange(commands, 0)
        return outcomes

    def _exchange(
        self, commands: list[pgpipeline.Command], spare: int, turn: Turn | None = None
    ) -> tuple[list[pgpipeline.Outcome], Exception | None]:
        """:meth:`_pipeline`, but the failure of one of the last ``spare`` commands (another
        job's) is not raised: it is returned, with the outcomes of the commands before it.
        ``turn``: left once the commands are sent."""
        held, self._held = self._held, []
        checks, self._checks = self._checks, []
        self.savepoint_sent = True  # from here on it may have reached the database
        dbapi_connection: Any = self.connection.connection.dbapi_connection
        sent = [*held, *commands]
        try:
            known = pgpipeline.prepared(self.connection.info)
            outcomes = pgpipeline.run(dbapi_connection, known, sent, None if turn is None else turn.leave)
        except (pgpipeline.Failed, self.database.engine.dialect.loaded_dbapi.Error) as error:
            failed = error if isinstance(error, pgpipeline.Failed) else pgpipeline.Failed(None, error)
            sql, bound, cause = *failed.statement(sent), failed.error  # the statement it is about
            raised = as_sqlalchemy(self.connection, cause, sql, bound, dbapi_connection, None)
            if not self.connection.invalidated:  # a check answered before the failure comes first
                _refuse_answered(checks, failed.ran)
            if failed.index is None or failed.index < len(sent) - spare:
                raise raised from cause
            raised.__cause__ = cause
            return failed.ran[len(held) :], raised
        _refuse_answered(checks, outcomes)
        return outcomes[len(held) :], None

    def pages(self, statement: Statement, params: Mapping[str, Any] | None, size: int) -> Iterator[list[Any]]:
        """The rows of ``statement``, ``size`` at a time, as the driver's cursor returns them
        (tuples, none of SQLAlchemy's per-row work); a full import reads its rows this way."""
        self.flush()
        driver = self.statements.driver_sql(statement)
        with Executed(self.connection, driver.sql, driver.bind(params or {})) as cursor:
            while page := cursor.fetchmany(size):
                yield page

    def run(self, statement: Statement, params: Mapping[str, Any] | None = None) -> int:
        """A statement run for its effect (UPDATE, DELETE, a multi's add or remove, a procedure):
        the number of rows it changed, as the driver reports it."""
        return int(self._run(statement, params, _ROW_COUNT))

    def insert(self, statement: Statement, params: Mapping[str, Any] | None = None) -> Any:
        """An INSERT: the new row's anchor when the statement says how it comes back (its one
        returned value, or the driver's ``lastrowid``), else None."""
        if statement.returning == "lastrowid":
            return self._run(statement, params, _LAST_ROW_ID)
        if statement.returning != "returning":
            self.run(statement, params)
            return None
        return _inserted(statement, self.rows(statement, params))

    def _run(self, statement: Statement, params: Mapping[str, Any] | None, take: Callable[[Any], Any]) -> Any:
        """``take`` of a DB-API cursor that has run ``statement``; a driver's error, running or
        fetching, raised as SQLAlchemy's, as :class:`Executed` does, written out in line: this
        runs for every statement of a write, and the context manager's object and calls cost a
        fifth of the statement's Python. A statement whose rows are all fetched runs on the
        transaction's one reading cursor (``fetchall`` leaves nothing of it open, so the cursor
        may outlive the transaction, and a new cursor per statement cost SQLite a tenth of a
        one-row SELECT); any other gets a cursor of its own, closed before returning, which
        ends what it left open (a ``fetchone``'s statement, the rows of an UPDATE ... RETURNING
        run for its count)."""
        if self._pipelining is not False and self.pipelines:  # PostgreSQL: in a pipeline
            (outcome,) = self._pipeline([self._command(statement, params or {})])
            return take(outcome)
        # the compiled statement and its values without a call each where they can (SQLite's)
        driver = self.statements.by_sql.get(statement.sql) or self.statements.driver_sql(statement)
        sql = driver.sql
        bound = (
            list(map((params or _NO_PARAMS).get, driver.names))
            if driver.plain
            else driver.bind(params or _NO_PARAMS)
        )
        reading = take is _FETCH_ALL
        cursor = self._reader if reading else None
        if cursor is None:
            cursor = self.connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            if reading:
                self._reader = cursor
        try:
            cursor.execute(sql, bound)
            taken = take(cursor)  # fetching may raise too (SQLite steps through rows as they are fetched)
        except BaseException as error:
            if reading:
                self._reader = None
            dbapi_connection = cursor.connection  # pymysql's cursor forgets it when closed
            cursor.close()  # first: a lost connection is closed by the translation (invalidated)
            if isinstance(error, self.connection.engine.dialect.loaded_dbapi.Error):
                raise as_sqlalchemy(self.connection, error, sql, bound, dbapi_connection, cursor) from error
            raise
        if not reading:
            cursor.close()
        return taken


class Quiet:
    """Which reads a SQLite write cannot change, from the schema (per version of it: ``PRAGMA
    schema_version``, which every change of a table, trigger or view moves): a read of child rows
    need not run again after a write whose statements write none of the tables it reads, when no
    trigger's body names one of them (a trigger writes only tables its body names, whatever fires
    it: a chain of triggers, a view's INSTEAD OF trigger) and none has a foreign key whose ON UPDATE
    action could change its rows, nor an ON DELETE action on a table the write may delete from
    (a DELETE or a REPLACE of its own or in a trigger's body, or a table whose constraints
    resolve conflicts by REPLACE). Anything these rules cannot tell (a statement sqlglot does not
    parse, or that is not one INSERT, UPDATE or DELETE of a table of the main schema; a read of a
    view, a virtual table or a table of another schema; a table whose name is not a plain word)
    is read again. The verdicts are kept per set of statements' SQL, up to ``limit``, for one
    schema version."""

    def __init__(self, limit: int = 1024) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._version: int | None = None
        self._verdicts: dict[tuple[tuple[str, ...], tuple[str, ...]], bool] = {}
        self._tables: dict[str, frozenset[str] | None] = {}  # by SQL: what a statement writes or reads

    def untouched(self, tx: Tx, version: int, written: list[str], read: list[str]) -> bool:
        """Whether the statements ``written`` (SQL) cannot change what the statements ``read``
        return, under schema ``version`` (asked by ``tx``, in its transaction, which may run the
        look-ups a new version needs)."""
        key = (tuple(written), tuple(read))
        with self._lock:
            if version == self._version:
                found = self._verdicts.get(key)
                if found is not None:
                    return found
        verdict = self._verdict(tx, written, read)
        with self._lock:
            if version != self._version:
                self._version, self._verdicts = version, {}
            if len(self._verdicts) >= self.limit:
                self._verdicts.clear()
            self._verdicts[key] = verdict
        return verdict

    def _verdict(self, tx: Tx, written: list[str], read: list[str]) -> bool:
        writes = [self._of(sql, writes=True) for sql in written]
        reads = [self._of(sql, writes=False) for sql in read]
        if any(tables is None for tables in writes + reads):
            return False
        wrote = frozenset().union(*writes)  # type: ignore[arg-type]
        reading = frozenset().union(*reads)  # type: ignore[arg-type]
        if wrote & reading or any(not _WORD.fullmatch(table) for table in reading):
            return False
        dbapi_connection = tx.connection.connection.dbapi_connection
        assert dbapi_connection is not None
        cursor = dbapi_connection.cursor()
        try:
            found = cursor.execute("SELECT type, lower(name), sql FROM sqlite_master").fetchall()
            tables = {  # a virtual table may read others (FTS5's external content): left out
                name for kind, name, sql in found if kind == "table" and not _VIRTUAL.match(sql or "")
            }
            if not reading <= tables:  # a view, a virtual, temporary or attached table
                return False
            # the tables whose rows the write may delete (so that an ON DELETE action follows):
            # those a statement of it, or a trigger's body, deletes from or replaces in, and
            # those whose own constraints resolve a conflict by REPLACE
            named: set[str] = set()
            deleted = {
                table
                for sql, tables in zip(written, writes, strict=True)
                if _deletes(sql)
                for table in tables or ()
            }
            for kind, name, sql in found:
                if kind == "trigger":
                    words = _body_words(sql or "")
                    named |= words
                    if _DELETING & words:
                        deleted |= words
                elif kind == "table" and "replace" in _words(sql or ""):
                    deleted.add(name)
            if reading & named:
                return False
            for table in reading:
                for key in cursor.execute(f'PRAGMA foreign_key_list("{table}")').fetchall():
                    on_update, on_delete = str(key[5]).upper(), str(key[6]).upper()
                    if on_update not in _INERT or (
                        on_delete not in _INERT and str(key[2]).lower() in deleted
                    ):
                        return False
        finally:
            cursor.close()
        return True

    def _of(self, sql: str, *, writes: bool) -> frozenset[str] | None:
        """The table an INSERT, UPDATE or DELETE writes (``writes``), or the tables a statement
        names (lower case); None when sqlglot cannot tell."""
        known = self._tables.get(sql, False)
        if known is not False:
            return known  # type: ignore[return-value]
        found: frozenset[str] | None = None
        try:
            trees = [tree for tree in sqlglot.parse(sql, read="sqlite") if tree is not None]
        except (sqlglot.errors.SqlglotError, ValueError):
            trees = []
        if len(trees) == 1:
            tree = trees[0]
            named = [tree.this] if writes else list(tree.find_all(exp.Table))
            if writes and not isinstance(tree, exp.Insert | exp.Update | exp.Delete):
                named = []
            named = [t.this if isinstance(t, exp.Schema) else t for t in named]
            if named and all(isinstance(t, exp.Table) and t.db in ("", "main") for t in named):
                found = frozenset(t.name.lower() for t in named)
        with self._lock:
            if len(self._tables) >= self.limit:
                self._tables.clear()
            self._tables[sql] = found
        return found


def _body_words(sql: str) -> set[str]:
    """The words (lower case) of a trigger's body: of its SQL after the first ``BEGIN``, or all of
    it when there is none."""
    words = _words(sql)
    start = words.index("begin") + 1 if "begin" in words else 0
    return set(words[start:])


def _words(sql: str) -> list[str]:
    return _WORDS.findall(sql.lower())


def _deletes(sql: str) -> bool:
    """Whether a statement may delete rows: a DELETE, or a REPLACE (``REPLACE INTO``, ``INSERT
    OR REPLACE``, ``UPDATE OR REPLACE``), which deletes the rows it conflicts with."""
    return bool(_DELETING.intersection(_words(sql)))


_DELETING = frozenset({"delete", "replace"})
_INERT = ("NO ACTION", "RESTRICT")  # foreign-key actions that change no row


_WORD = re.compile(r"[a-z_][a-z0-9_]*")
_VIRTUAL = re.compile(r"\s*create\s+virtual\b", re.IGNORECASE)
_WORDS = re.compile(r"[a-z0-9_$]+")
_SCHEMA_VERSION = Statement(sql="PRAGMA schema_version")

#: what :meth:`Tx._run` takes of a cursor (C callables: no Python frame per statement)
_FETCH_ALL, _FETCH_ONE = methodcaller("fetchall"), methodcaller("fetchone")
_NO_PARAMS: Mapping[str, Any] = {}
_ROW_COUNT, _LAST_ROW_ID = attrgetter("rowcount"), attrgetter("lastrowid")


def _inserted(statement: Statement, rows: list[tuple[Any, ...]]) -> Any:
    """The new row's anchor an insert returned (``rows``: its one row of one value, as
    ``scalar_one()`` wants), or None when the statement returns none."""
    if statement.returning != "returning":
        return None
    if not rows:
        raise exc.NoResultFound("the insert returned no row")
    if len(rows) > 1 or len(rows[0]) != 1:
        raise exc.MultipleResultsFound("the insert returned more than one value")
    return rows[0][0]


def _refused(
    checks: Sequence[Unclaimed], found: Sequence[Sequence[tuple[Any, ...]]], anchor_index: int, anchor: Any
) -> Exception | None:
    """:meth:`Tx.refuse_held`'s verdict on the rows each check ``found``: the error of the first
    whose value a row of another object holds, else None."""
    for check, rows in zip(checks, found, strict=True):
        if any(anchor is None or anchor_key(row[anchor_index]) != anchor for row in rows):
            return check.error
    return None


def _refuse(
    checks: Sequence[Unclaimed], found: Sequence[Sequence[tuple[Any, ...]]], anchor_index: int, anchor: Any
) -> None:
    """Raise :func:`_refused`'s error, if any."""
    refused = _refused(checks, found, anchor_index, anchor)
    if refused is not None:
        raise refused


def _refuse_answered(
    checks: Sequence[tuple[int, Sequence[Unclaimed], int, Any]], outcomes: Sequence[pgpipeline.Outcome]
) -> None:
    """:func:`_refuse` for the checks held (:meth:`Tx.refuse_held`) that ``outcomes`` (of a pipeline
    from its first command on) answer, in the order they were sent."""
    for start, group, anchor_index, anchor in checks:
        end = start + len(group)
        if end > len(outcomes):
            return
        _refuse(group, [outcome.fetchall() for outcome in outcomes[start:end]], anchor_index, anchor)


def savepoint(connection: Connection, sql: str) -> None:
    """Run a savepoint statement on the driver's connection; raise :class:`TransactionLost` when
    it fails."""
    try:
        dbapi_connection = connection.connection.dbapi_connection
        assert dbapi_connection is not None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(sql)
        finally:
            cursor.close()
    except Exception as error:
        raise TransactionLost() from error
