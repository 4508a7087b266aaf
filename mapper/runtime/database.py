"""One :class:`Database` per plan source: a SQLAlchemy engine, its statements compiled once, and
the one way the runtime touches it: :meth:`Database.run` runs a blocking function with a
connection in a worker thread, inside a transaction.

Why worker threads: SQLAlchemy Core with psycopg/pymysql/sqlite3 is blocking. A whole unit of
work (every statement of a create, or a whole page of an import) runs in *one*
``anyio.to_thread.run_sync`` call, so a transaction never spans an ``await`` and a connection is
never held while the event loop waits on something else. Each database has its own
``CapacityLimiter`` sized to its pool, so a slow database cannot take the threads of another one
and threads never queue for a pool connection while holding a thread slot.

Writes are committed in groups (:class:`GroupCommitter`): writes that arrive while a transaction
commits wait for the next one, and then run together in *one* transaction, so a burst of writes
costs one commit (one fsync) instead of one each. Each write still succeeds or fails on its own
(when one fails, the others run again, each in a savepoint: :meth:`Database.run_batch`), and is
acknowledged only once its transaction has committed. The batches run in a thread of the
committer's own (two taking turns on PostgreSQL, the next batch's statements running while the
batch before waits for its COMMIT), on connections the pool keeps beside the limiter's.

Its parts live beside it, and are re-exported here: :mod:`~mapper.runtime.urls` (URLs, redaction),
:mod:`~mapper.runtime.sqlite` (bootstrap, PRAGMAs), :mod:`~mapper.runtime.watchdog` (timeouts and
deadlines), :mod:`~mapper.runtime.tx` (:class:`Tx`), :mod:`~mapper.runtime.statements` (the
statements as the driver takes them), :mod:`~mapper.runtime.group_commit` and
:mod:`~mapper.runtime.driver_errors` (what a driver's error means); the engine and its pool
listeners are built by :mod:`~mapper.runtime.engine`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from sqlalchemy import Connection, exc

from mapper.runtime.coherence import NAME as CHANGE_LOG
from mapper.runtime.driver_errors import (
    OUTAGES,
    READ_ONLY,
    config_problem,
    describe_error,
    driver_error,
    integrity_kind,
    is_programming_error,
    lock_timed_out,
    missing_table,
    outage_reason,
    refused_by_rule,
    refuses_value,
    rolled_back,
    schema_refusal,
)
from mapper.runtime.engine import build_engine
from mapper.runtime.errors import (
    ContendedError,
    DatabaseConfigError,
    DatabaseUnavailableError,
    LockedError,
    SqlRefusedError,
)
from mapper.runtime.group_commit import CommitStats, GroupCommitter, Job, Turn
from mapper.runtime.sqlite import bootstrap_sqlite, ended_on_driver, run_on_driver
from mapper.runtime.statements import (
    BINDABLE,
    COMPILED_LIMIT,
    DriverSql,
    Statements,
    bindable,
    bindable_as_number,
)
from mapper.runtime.tx import Quiet, TransactionLost, Tx
from mapper.runtime.urls import DRIVERS, engine_url, redact, resolve_url
from mapper.runtime.watchdog import Timeouts, current, mysql_statement_time, outlived

log = logging.getLogger(__name__)

T = TypeVar("T")

#: the least time, in seconds, between two renewals of the pool after read-only refusals
READ_ONLY_RENEWAL = 1.0

#: re-exported: the rest of the package and the tests import these from here
__all__ = [
    "COMPILED_LIMIT",
    "DRIVERS",
    "CommitStats",
    "Database",
    "DriverSql",
    "GroupCommitter",
    "Timeouts",
    "Tx",
    "bindable",
    "bindable_as_number",
    "bootstrap_sqlite",
    "config_problem",
    "driver_error",
    "engine_url",
    "integrity_kind",
    "outage_reason",
    "redact",
    "refused_by_rule",
    "refuses_value",
    "resolve_url",
]


class Database:
    """The engine of one source. ``dialect`` is the backend name SQLAlchemy reports
    (``sqlite``, ``postgresql``, ``mysql``, ``mariadb``)."""

    def __init__(
        self,
        name: str,
        url: str,
        *,
        pool_size: int = 8,
        max_overflow: int = 4,
        timeouts: Timeouts | None = None,
    ) -> None:
        self.name = name
        self.timeouts = timeouts or Timeouts()
        self.url = engine_url(url)
        self.dialect = self.url.get_backend_name()
        #: how a value is bound: flags as 1/0 where SQL has no boolean type (Oracle before 23),
        #: untyped on PostgreSQL, where a flag may be kept in a number column
        self.convert: Callable[[Any], Any] = BINDABLE.get(self.dialect, bindable)
        self.is_sqlite = self.dialect == "sqlite"
        self.is_mysql = self.dialect in ("mysql", "mariadb")
        # as many threads as pooled connections: a pool that lent out overflow connections would
        # close each one again on return, and reopen it (a SQLite connect runs four PRAGMAs) for
        # the next request. The overflow serves only what runs outside the limiter (pre-ping).
        self.limiter = anyio.CapacityLimiter(pool_size)
        # one write transaction at a time per source, carrying every write that arrived meanwhile;
        # on SQLite (one writer) writes also queue here rather than in sqlite3's busy handler,
        # whose back-off leaves the lock idle between retrying threads
        self.committer = GroupCommitter(self)
        #: the last batch had a write that failed: the next runs each write in a savepoint
        self._guarded = False
        #: called with every write transaction's :attr:`Tx.changes` just before its commit, to
        #: tell the other gateway processes (:mod:`mapper.runtime.coherence`); None: nobody
        self.publish: Callable[[Tx, list[tuple[str, Any, str]]], None] | None = None
        # a pooled connection more than the limiter lends for each of the group committer's threads
        self.engine = build_engine(self, pool_size + self.committer.lanes, max_overflow)
        #: the plan's statements as the driver takes them, compiled once each
        self.statements = Statements(self.engine.dialect, self.convert)
        #: which reads a write cannot change (SQLite: :meth:`Tx.read_back`)
        self.quiet = Quiet()
        self._renewed = -READ_ONLY_RENEWAL  # when the pool last was (:meth:`_renew_sessions`)

    @property
    def commit_stats(self) -> CommitStats:
        """How many write transactions (batches) and writes the group committer has run."""
        return self.committer.stats

    async def run(
        self,
        fn: Callable[[Tx], T],
        *,
        write: bool = False,
        snapshot: bool = False,
        deadline: float | None = None,
    ) -> T:
        """Run ``fn`` in a worker thread with a connection inside a transaction: committed when
        ``fn`` returns, rolled back when it raises.

        A read (``write=False``) has a transaction of its own; ``snapshot`` makes every statement
        of ``fn`` see the same committed state (PostgreSQL REPEATABLE READ; MySQL/MariaDB's default
        already is; a SQLite read transaction is one). A write joins the group committer's next
        batch (see :class:`GroupCommitter`), whose transaction runs in READ COMMITTED on
        PostgreSQL and MariaDB/MySQL (:func:`~mapper.runtime.engine.read_committed_next`): its
        effects are rolled back when it raises, and it returns once they are committed. ``fn``
        must not catch database errors and go on. A read given a ``deadline``
        (:func:`time.monotonic`: a write's, which counts from its arrival) ends by then if that
        comes before its own bound."""
        if write:
            return await self.committer.submit(fn)
        # a snapshot read is an import: bounded by Timeouts.sync, every other read by .statement
        bound = self.timeouts.sync if snapshot else self.timeouts.statement
        if deadline is not None:
            bound = max(0.0, min(bound, deadline - time.monotonic()))
        deadline = time.monotonic() + bound
        with anyio.move_on_after(bound):  # waiting for a thread slot counts against the bound
            return await anyio.to_thread.run_sync(
                self.run_sync, fn, write, snapshot, deadline, limiter=self.limiter
            )
        log.warning("database %s: a read waited out its bound (%.0f s)", self.name, bound)
        raise DatabaseUnavailableError(self.name)

    def run_sync(
        self,
        fn: Callable[[Tx], T],
        write: bool = False,
        snapshot: bool = False,
        deadline: float | None = None,
    ) -> T:
        """``fn`` in one transaction of its own, in the calling thread (``write`` takes SQLite's
        write lock up front). ``deadline`` (:func:`time.monotonic`): when the watchdog breaks its
        connection if it still runs."""
        current.deadline, current.writes = deadline, write
        try:
            with self.engine.connect() as connection:
                if self.is_sqlite and write:
                    connection = connection.execution_options(sqlite_begin="IMMEDIATE")
                if snapshot and self.dialect == "postgresql":
                    connection = connection.execution_options(isolation_level="REPEATABLE READ")
                with connection.begin():
                    if snapshot and self.timeouts.sync != self.timeouts.statement:
                        self._bound_transaction(connection, self.timeouts.sync)
                    tx = Tx(self, connection)
                    value = fn(tx)
                    tx.flush()
                    if tx.changes and self.publish is not None:
                        self.publish(tx, tx.changes)
                    return value
        except OUTAGES as e:
            refused = self._refused_sql(e, snapshot)
            if refused is not None:
                raise refused from e
            outage = self._outage(e)
            if outage is e:
                raise
            raise outage from e
        except exc.DBAPIError as e:
            if outlived(deadline):  # broken by the watchdog mid-way
                raise self._outage(exc.TimeoutError(str(e))) from e
            refused = self._refused_sql(e, snapshot)
            if refused is not None:
                raise refused from e
            raise
        finally:
            current.deadline, current.writes = None, False

    def _bound_transaction(self, connection: Connection, seconds: float) -> None:
        """An import's statements get the sync bound instead of the statement bound: for this
        transaction on PostgreSQL, for the session (until reset at check-in) on MariaDB/MySQL."""
        if self.dialect == "postgresql":
            connection.exec_driver_sql(f"SET LOCAL statement_timeout = {int(seconds * 1000)}")
        elif self.is_mysql:
            connection.info["sync_bound"] = True  # the next checkout restores the statement bound
            mysql_statement_time(connection.connection.dbapi_connection, seconds)

    def run_batch(self, jobs: list[Job], deadline: float | None = None, turn: Turn | None = None) -> None:
        """Run ``jobs`` in order in one write transaction and commit once; in the calling thread.
        Sets each job's outcome and never raises: a job that raises keeps its exception and
        nothing of it is kept; when the transaction cannot go on, every job still without an
        error gets that failure (nothing of the batch was kept).

        The jobs first run without savepoints (a savepoint costs SQLite a copy of every page a
        job changes, and PostgreSQL a subtransaction). When one fails, that transaction is rolled
        back whole, and the others run again in a new one, each in a savepoint of its own
        (:meth:`Tx.run_job`), as does the next batch: failures come in runs (a client retrying a
        refused write), and a replay costs more than the savepoints it saves. When the commit
        itself is refused (a constraint the database checks only then: PostgreSQL's DEFERRABLE
        INITIALLY DEFERRED, SQLite's deferred foreign keys), nothing of the batch was kept and the
        refusal names no job: the jobs run again one per transaction (:meth:`_one_by_one`).

        ``turn``: held by the calling thread while the batch runs statements, left when its COMMIT
        is sent where the next batch may then run (see :class:`GroupCommitter`). Every
        transaction it begins is a write's: READ COMMITTED on MariaDB/MySQL too
        (:meth:`~mapper.runtime.engine.Listeners.checkout`)."""
        current.deadline, current.writes = deadline, True
        try:
            try:
                # the mode this batch runs in: the batch before it may still be finishing in
                # another thread (see ``turn``) and set ``_guarded`` meanwhile; were it read again
                # below, the jobs an unguarded run never reached would neither run nor fail
                guarded = self._guarded
                failed = self._transaction(jobs, guarded=guarded, turn=turn)
                if failed is not None and not guarded:
                    # a job the database rolled back for a conflict (a deadlock's victim) runs
                    # again with the others: it failed on what ran beside it, not on its own
                    again = [job for job in jobs if job is not failed or rolled_back(job.error)]
                    for job in again:
                        job.value = job.error = None  # the rolled-back run's
                    if again:
                        self._transaction(again, guarded=True, turn=turn)
                self._guarded = failed is not None
            except (exc.DBAPIError, TransactionLost) as error:
                if not self._refused_whole(error, jobs):
                    raise
                self._guarded = True
                if turn is not None:  # statements again: after the batch running meanwhile
                    turn.take()
                self._one_by_one(jobs, deadline)
        except BaseException as error:  # noqa: BLE001 - delivered to the jobs it undid
            self._fail(jobs, self._undone(error, deadline))
        finally:
            current.deadline, current.writes = None, False
        for job in jobs:  # what each caller sees of its job's own failure
            if job.error is not None:
                job.error = self._job_error(job.error)

    @staticmethod
    def _refused_whole(error: BaseException, jobs: list[Job]) -> bool:
        """Whether ``error``, which ended a batch's transaction, is the database's answer that it
        kept nothing of it, naming no job, so that the jobs may run again one per transaction: a
        constraint checked at COMMIT (an IntegrityError there: a job's own is caught in it), or
        a transaction rolled back to settle a conflict (PostgreSQL's serialization failure or
        deadlock, at COMMIT or in a statement outside the jobs; a MariaDB deadlock, which also
        ends the savepoints, so that rolling back to one is what fails). A lost connection or
        any other failure is not: that may be an outage, or a COMMIT whose outcome is unknown."""
        if isinstance(error, exc.IntegrityError) or rolled_back(error) or refused_by_rule(error):
            return True
        return isinstance(error, TransactionLost) and any(rolled_back(job.error) for job in jobs)

    def _one_by_one(self, jobs: list[Job], deadline: float | None) -> None:
        """``jobs`` again, each in a transaction of its own, after their batch's commit was
        refused (or rolled back by the database: :meth:`_refused_whole`): the one the constraint
        refuses gets that refusal, the others commit. Every job runs again, one that failed on
        its own too (it may have failed on what a job before it wrote, which is not kept now). A
        job whose own transaction the database rolls back again for a conflict fails alone (503,
        to be retried). A failure that ends the database's answers (an outage) fails the job it
        hit and those after it; those before it are committed and keep their outcome."""
        for number, job in enumerate(jobs):
            job.value = job.error = None  # the refused run's
            try:
                self._transaction([job], guarded=False)
            except (exc.DBAPIError, TransactionLost) as error:
                if not self._refused_whole(error, [job]):  # not this job's own refusal at COMMIT
                    self._fail(jobs[number:], self._undone(error, deadline))
                    return
                job.value = None
                job.error = error if job.error is None else job.error
            except BaseException as error:  # noqa: BLE001 - delivered to the jobs not run yet
                self._fail(jobs[number:], self._undone(error, deadline))
                return

    def _undone(self, error: BaseException, deadline: float | None) -> BaseException:
        """``error``, which undid a transaction, as its jobs see it: a transaction that outlived
        its bound (the watchdog broke its connection) as a timeout."""
        if outlived(deadline) and not isinstance(error, OUTAGES):
            timeout = exc.TimeoutError("the write transaction outlived its bound")
            timeout.__cause__ = error
            return timeout
        return error

    def _transaction(self, jobs: list[Job], *, guarded: bool, turn: Turn | None = None) -> Job | None:
        """``jobs`` in one write transaction, committed; the first that failed, or None. Guarded,
        each runs in a savepoint of its own, and one that fails is rolled back to it, the others
        kept; unguarded, a failure rolls the whole transaction back and the jobs after it do not
        run. ``turn`` is left when the COMMIT is sent (where statements pipeline)."""
        if self.is_sqlite:
            return self._sqlite_transaction(jobs, guarded)
        failed = None
        with self.engine.connect() as connection:
            try:
                with connection.begin() as transaction:
                    tx = Tx(self, connection)
                    failed = tx.run_jobs(jobs, guarded)
                    if failed is not None and not guarded:
                        transaction.rollback()
                        return failed
                    if tx.changes and self.publish is not None:  # in the same transaction
                        self.publish(tx, tx.changes)
                    if tx.pipelines:  # with what is still held
                        tx.commit(turn)
            finally:
                if failed is not None and _read_only(failed.error) and not connection.invalidated:
                    connection.invalidate()  # a read-only session: see _renew_sessions
        return failed

    def _sqlite_transaction(self, jobs: list[Job], guarded: bool) -> Job | None:
        """:meth:`_transaction` on SQLite: its ``BEGIN IMMEDIATE``, COMMIT and ROLLBACK go straight
        to the driver's connection (:func:`~mapper.runtime.sqlite.run_on_driver`,
        :func:`~mapper.runtime.sqlite.ended_on_driver`), as the jobs' statements do, rather than
        through SQLAlchemy's ``Transaction``, whose calls and events were a third of an empty
        batch's CPU. The same statements, in the same order, with the same errors: the COMMIT and
        ROLLBACK are the driver's ``commit()`` and ``rollback()`` SQLAlchemy calls, a failure
        rolls the transaction back and is raised, and the connection still comes from the pool and
        goes back to it through SQLAlchemy (the watchdog's watch, the reset on return)."""
        failed = None
        with self.engine.connect() as connection:
            dbapi_connection = connection.connection.dbapi_connection
            run_on_driver(connection, "BEGIN IMMEDIATE")
            try:
                tx = Tx(self, connection)
                failed = tx.run_jobs(jobs, guarded)
                if failed is not None and not guarded:
                    ended_on_driver(connection, dbapi_connection, commit=False)
                    return failed
                if tx.changes and self.publish is not None:  # in the same transaction
                    self.publish(tx, tx.changes)
                ended_on_driver(connection, dbapi_connection, commit=True)
            except BaseException:
                if not connection.invalidated:  # as SQLAlchemy's Transaction: rolled back, then raised
                    ended_on_driver(connection, dbapi_connection, commit=False)
                raise
            finally:
                if failed is not None and _read_only(failed.error) and not connection.invalidated:
                    connection.invalidate()  # a read-only session: see _renew_sessions
        return failed

    def _fail(self, jobs: list[Job], error: BaseException) -> None:
        """Every job of a batch that was not kept, and has no error of its own, fails with
        ``error``: a lost transaction or an outage as :class:`DatabaseUnavailableError` (one
        each), anything else (a constraint checked at commit) as it is."""
        lost = isinstance(error, TransactionLost)
        cause = error.__cause__ if lost and error.__cause__ is not None else error
        failure = None if lost else self._job_error(cause)
        if lost:
            log.warning("database %s: a write transaction ended early: %s", self.name, describe_error(cause))
        for job in jobs:
            if job.error is None:
                job.value = None
                if failure is None or isinstance(failure, DatabaseUnavailableError):
                    job.error = DatabaseUnavailableError(self.name)
                    job.error.__cause__ = cause
                else:
                    job.error = failure

    def _job_error(self, error: BaseException) -> BaseException:
        """What the caller of a write sees for ``error``: an outage as
        :class:`DatabaseUnavailableError`, anything else as it is. So is a write that found
        the change log missing in a trigger of ``mapper coherence-ddl`` (the table was dropped):
        its channel creates the table again within a poll, as when its own insert finds it gone."""
        if (
            isinstance(error, exc.DBAPIError)
            and not isinstance(error, exc.DataError)
            and refused_by_rule(error)
        ):
            # a deferred trigger's refusal at COMMIT (SQLAlchemy's error, not the statement's
            # DataError: driver_errors.as_sqlalchemy), a pymysql OperationalError: not an outage
            refused = exc.DataError(error.statement, error.params, driver_error(error), hide_parameters=True)
            refused.__cause__ = error
            return refused
        if lock_timed_out(error):  # another transaction holds the row: this write alone fails
            log.warning(
                "database %s: a write waited %.0f s for a row lock another transaction holds: %s",
                self.name,
                self.timeouts.lock,
                describe_error(error),
            )
            locked = LockedError(self.name)
            locked.__cause__ = error
            return locked
        if rolled_back(error):  # a conflict the database settled by undoing the write: retry it
            log.warning("database %s rolled a write back: %s", self.name, describe_error(error))
            contended = ContendedError(self.name)
            contended.__cause__ = error
            return contended
        if isinstance(error, exc.DBAPIError) and missing_table(error) == CHANGE_LOG:
            log.warning("database %s: a write found the change log %s missing", self.name, CHANGE_LOG)
            unavailable = DatabaseUnavailableError(self.name)
            unavailable.__cause__ = error
            return unavailable
        config = self._refused_sql(error)
        if config is not None:
            config.__cause__ = error
            return config
        if isinstance(error, OUTAGES):
            outage = self._outage(error)
            if outage is not error:
                outage.__cause__ = error
            return outage
        return error

    def _refused_sql(self, error: BaseException, snapshot: bool = False) -> SqlRefusedError | None:
        """``error`` as :class:`SqlRefusedError` (logged, one line, no bound value) when it is
        the database refusing the mapping's own SQL: the schema changed under the gateway, a
        privilege was revoked, the server is read-only (:func:`schema_refusal`). Clients get 503
        and retry; the operator fixes the schema or the mapping (``mapper lint --db`` names it).
        Not for an import (``snapshot``): its refusal is its object type's SyncError, which
        ``Store._tracked_read`` names."""
        if snapshot or not isinstance(error, exc.DBAPIError) or missing_table(error) == CHANGE_LOG:
            return None  # the change log missing: its channel creates it again within a poll
        refusal = schema_refusal(error)
        if refusal is None:
            return None
        reason, detail = refusal
        log.warning(
            "database %s refuses the mapping's SQL: %s (%s); check the mapping against it with "
            "mapper lint --db",
            self.name,
            reason,
            detail,
        )
        if reason == READ_ONLY:
            self._renew_sessions()
        return SqlRefusedError(self.name, reason, detail)

    def _renew_sessions(self) -> None:
        """Recycle the pool after a write the database refused as read-only: PostgreSQL applies
        ``ALTER DATABASE/ROLE ... SET default_transaction_read_only`` to new sessions only, so a
        pooled connection opened during a maintenance window refused every write after it ended,
        until the pool recycled it (30 minutes); and one opened before the window kept writing
        through it. Pooled connections are closed as they come back, and the next write opens a
        session with the database's current default. At most once per
        :data:`READ_ONLY_RENEWAL` seconds: a server that stays read-only (a standby) costs a
        reconnect of the pool per interval, not one per refused write; the connection a write
        was refused on is dropped each time (:meth:`_transaction`), so that none refuses twice."""
        now = time.monotonic()
        if now - self._renewed < READ_ONLY_RENEWAL:
            return
        self._renewed = now
        log.info("database %s: pooled connections are renewed after a read-only refusal", self.name)
        self.engine.dispose()

    def _outage(self, error: exc.SQLAlchemyError) -> Exception:
        """``error`` as :class:`DatabaseUnavailableError` (logged), or as its
        :class:`DatabaseConfigError` when the database refuses the source as configured, unless it
        is a programming error that SQLite reports as an OperationalError."""
        if is_programming_error(error):
            return error
        problem = self._config_problem(error)
        if problem is not None:
            reason, detail = problem
            log.warning("database %s refuses the configuration: %s (%s)", self.name, reason, detail)
            return DatabaseConfigError(self.name, reason, detail)
        log.warning("database %s unavailable: %s", self.name, describe_error(error))
        return DatabaseUnavailableError(self.name, reason=outage_reason(error))

    def _config_problem(self, error: BaseException) -> tuple[str, str] | None:
        """(reason, detail) when ``error`` says the source is configured wrongly, else None."""
        database = self.url.database
        if self.is_sqlite:
            if database and database != ":memory:" and not Path(database).exists():
                return "the SQLite file does not exist", f"{database}: create it with --create-schema"
            return None
        return config_problem(error)

    async def probe(self, bound: float) -> bool:
        """Whether the database answers ``SELECT 1`` within ``bound`` seconds (a new or pooled
        connection, under the watchdog). Quiet: the caller logs changes of state."""
        with anyio.move_on_after(bound):
            # not this database's limiter: a busy pool must not read as an unreachable database
            # (the probe takes an overflow connection when every pooled one is lent out)
            return await anyio.to_thread.run_sync(self._probe_sync, time.monotonic() + bound)
        return False

    def _probe_sync(self, deadline: float) -> bool:
        current.deadline = deadline
        try:
            with self.engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1").fetchall()
            return True
        except Exception:  # noqa: BLE001 - any failure means: not reachable now
            return False
        finally:
            current.deadline = None

    def dispose(self) -> None:
        self.committer.close(self.timeouts.statement)
        self.engine.dispose()


def _read_only(error: BaseException | None) -> bool:
    """Whether ``error`` is a write refused because the database or the session is read-only."""
    if error is None:
        return False
    refusal = schema_refusal(error)
    return refusal is not None and refusal[0] == READ_ONLY
