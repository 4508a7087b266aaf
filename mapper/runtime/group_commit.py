"""Group commit (:class:`GroupCommitter`): concurrent writes to one database share one transaction
and one commit, each write still succeeding or failing on its own; a queued write is bounded by
its deadline."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import anyio

from mapper.runtime.errors import DatabaseUnavailableError
from mapper.runtime.locks import arrived
from mapper.runtime.tx import Tx

if TYPE_CHECKING:
    from mapper.runtime.database import Database

log = logging.getLogger(__name__)

T = TypeVar("T")

#: seconds a committer's thread waits for a write before it ends (as anyio's idle worker
#: threads do): a database nobody writes to holds no thread (and is not kept alive by one)
IDLE = 10.0


@dataclass(frozen=True, slots=True)
class CommitStats:
    """What a database's group committer has done since it was opened: ``batches`` transactions
    (each one commit, or one failed attempt), ``jobs`` writes run in them, ``largest`` the most
    writes one transaction carried."""

    batches: int = 0
    jobs: int = 0
    largest: int = 0


class Job:
    """One write: queued, then taken into a batch, then done with its outcome (``value`` or
    ``error``); ``woken`` once its caller may look (on the caller's event loop, ``loop``)."""

    __slots__ = ("deadline", "error", "fn", "loop", "taken", "value", "woken")

    def __init__(self, fn: Callable[[Tx], Any], deadline: float) -> None:
        self.fn = fn
        self.deadline = deadline  # time.monotonic() by which its caller has an answer
        self.woken = asyncio.Event()  # the gateway runs on asyncio; anyio's Event wraps this one
        self.loop: asyncio.AbstractEventLoop | None = None  # its caller's (None: run by hand)
        self.taken = False
        self.value: Any = None
        self.error: BaseException | None = None


class Turn:
    """The right to run a batch's statements, which one batch at a time holds (:class:`GroupCommitter`):
    a batch on PostgreSQL gives it up (:meth:`leave`) when it sends its COMMIT, so the next batch's
    statements run while that commit is flushed, on a connection of its own; it takes it again
    (:meth:`take`) should it have to run statements after that (its jobs one by one, when the
    commit was refused)."""

    __slots__ = ("_held", "_lock")

    def __init__(self, lock: threading.Lock) -> None:
        self._lock = lock
        self._held = False

    def take(self) -> None:
        if not self._held:
            self._lock.acquire()
            self._held = True

    def leave(self) -> None:
        if self._held:
            self._held = False
            self._lock.release()


class GroupCommitter:
    """Group commit for one database: concurrent writes share one transaction and one commit.

    Writes queue; one thread of the committer's own (started by the first write) takes every
    queued job (up to ``cap``), runs them in arrival order in one transaction
    (:meth:`Database.run_batch`), and commits once. Only then are the batch's callers told (one
    call into their event loop for the whole batch), so a write is acknowledged after its
    commit. Jobs arriving meanwhile queue, and the thread takes them as the next batch as soon as
    it is done, without waiting for the event loop; it is woken only when it found nothing to do.
    (A worker thread per batch, as anyio's ``to_thread`` lends, cost the event loop a hand-off
    and a thread's wake-up for every batch, and left the database idle while the loop got round
    to starting the next one.) The thread holds one of the database's connections at a time:
    the engine's pool has one beside the readers' (:class:`Database`).

    On PostgreSQL two such threads take turns (``lanes``): one batch at a time runs statements
    (it holds the :class:`Turn`), and gives the turn up when it sends its COMMIT, so that the next
    batch's statements run, on another connection, while that COMMIT waits for its flush to disk.
    Statements of two batches never run at once: the next may wait for a row the committing one
    holds, until its COMMIT ends, and the committing one waits for nothing but the disk (unless
    the schema has deferred constraints, whose checks at COMMIT may wait for the next batch: a
    deadlock the database then breaks, as between two gateway processes). Each batch is
    acknowledged after its own COMMIT. Two writes of one object, or of one unique value, are
    never in two batches at once: the store holds their locks until the write is acknowledged.

    A job that raises leaves nothing behind and its caller alone gets the exception; the others
    are unaffected (the batch is rolled back and they run again, each in a savepoint). When the
    commit itself fails, or the connection breaks (or the database rolls the whole transaction
    back), nothing of the batch is kept and every job of it fails. Jobs must not run DDL (MySQL
    commits implicitly before DDL), and must do nothing but their statements: a job may run
    twice.

    Every write is answered within ``Timeouts.statement`` of its arrival: a job still queued then
    is withdrawn and fails as an outage (503), and a batch is bounded by its oldest job's deadline
    (the watchdog breaks its connection when the database does not answer), so a batch stuck on a
    dead connection neither holds its own callers nor the writes queued behind it."""

    def __init__(self, database: Database, cap: int = 64) -> None:
        self.database = database
        self.cap = cap
        #: threads taking turns at batches (see the class's docstring): two where a batch's COMMIT
        #: can wait for its flush while the next batch runs (PostgreSQL), else one
        self.lanes = 2 if database.dialect == "postgresql" else 1
        self.stats = CommitStats()
        #: told each batch's size and duration in seconds (the metrics); None: nobody listens
        self.observe: Callable[[int, float], None] | None = None
        self._reset()

    def _reset(self) -> None:
        """No job queued and no thread (also in a forked child, where none runs)."""
        self._pid = os.getpid()
        self._lock = threading.Lock()  # the queue, ``taken`` and the thread's state
        self._ready = threading.Condition(self._lock)
        self._queue: deque[Job] = deque()
        self._threads: set[threading.Thread] = set()
        self._idle = False  # the thread holding the turn waits for work, and must be woken
        self._turn = threading.Lock()  # see Turn

    @property
    def queued(self) -> int:
        """Jobs waiting for the next batch."""
        return len(self._queue)

    async def submit(self, fn: Callable[[Tx], T]) -> T:
        """Run ``fn`` in the next batch; its value once that batch has committed."""
        since = arrived.get()  # queued behind a write of the same object: that wait counts too
        job = Job(fn, (time.monotonic() if since is None else since) + self.database.timeouts.statement)
        job.loop = asyncio.get_running_loop()
        if self._pid != os.getpid():
            self._reset()
        with self._lock:
            self._queue.append(job)
            if self._idle:
                self._idle = False
                self._ready.notify()
            elif len(self._threads) < self.lanes:
                self._spawn()
        await self._wait(job)
        if job.error is not None:
            raise job.error
        return job.value

    async def _wait(self, job: Job) -> None:
        """Wait until ``job`` is done; a job still queued at its deadline is withdrawn then
        (:meth:`_expire`: one timer, not a cancel scope, for each queued write). A caller
        cancelled while its job is still queued withdraws it; once its batch runs, the job is seen
        through (as a thread that cannot be abandoned) and the cancellation follows."""
        assert job.loop is not None
        timer = job.loop.call_later(job.deadline - time.monotonic(), self._expire, job)
        try:
            await job.woken.wait()
        except anyio.get_cancelled_exc_class():
            with self._lock:
                queued = not job.taken and job.error is None  # not withdrawn at its deadline
                if queued:
                    self._queue.remove(job)
            if queued:
                raise
            with anyio.CancelScope(shield=True):  # its batch runs: bounded by the batch's watchdog
                await job.woken.wait()
            raise
        finally:
            timer.cancel()

    def _expire(self, job: Job) -> None:
        """``job``'s deadline has passed: still queued (not taken into a batch), the batches ahead
        are stuck, and it is withdrawn and fails as an outage; taken, its batch's watchdog bounds
        it."""
        with self._lock:
            if job.taken or job.error is not None:
                return
            self._queue.remove(job)
        job.error = DatabaseUnavailableError(self.database.name)
        log.warning("database %s: a write waited out its bound in the queue", self.database.name)
        job.woken.set()

    def _spawn(self) -> None:
        """Start one more committer thread (under ``_lock``, with a job queued). One that cannot
        start leaves no thread behind for the next write to trust: with no other thread to take
        them, the queued jobs fail as an outage."""
        thread = threading.Thread(target=self._run, name=f"mapper-commit-{self.database.name}", daemon=True)
        self._threads.add(thread)
        try:
            thread.start()
        except BaseException as error:
            self._threads.discard(thread)
            log.error("database %s: a write committer thread could not start: %s", self.database.name, error)
            if not self._threads:
                stranded = list(self._queue)
                self._queue.clear()
                self._strand(stranded, error)

    def _run(self) -> None:
        """A committer's thread: with the turn, a batch of whatever is queued, for as long as it
        is one of its committer's threads and writes keep coming.

        Should the thread itself fail (a fault outside :meth:`Database.run_batch`, which catches
        everything: in the bookkeeping around it), the jobs it took and has not handed back fail
        as an outage (503: their batch may have committed, so the store leaves their objects in
        doubt) at once rather than wait for ever, and another thread takes its place: at once
        when writes are queued, else with the next write."""
        me = threading.current_thread()
        batch: list[Job] = []  # taken from the queue, not yet handed back to their callers
        try:
            while True:
                turn = Turn(self._turn)
                turn.take()
                try:
                    with self._lock:
                        while not self._queue:
                            if me not in self._threads:
                                return
                            self._idle = True
                            if not self._ready.wait(IDLE) and not self._queue and me in self._threads:
                                self._threads.discard(me)  # the next write starts another
                                self._idle = False
                                return
                        if me not in self._threads:
                            return
                        batch = [self._queue.popleft() for _ in range(min(self.cap, len(self._queue)))]
                        for job in batch:
                            job.taken = True
                    self._commit(batch, turn)
                finally:
                    turn.leave()
        except BaseException as error:
            log.exception("database %s: a write committer thread failed", self.database.name)
            self._strand(batch, error)
            with self._lock:
                if me in self._threads:
                    self._threads.discard(me)
                    self._idle = False
                    if self._queue:
                        self._spawn()
            if not isinstance(error, Exception):
                raise

    def _strand(self, jobs: list[Job], error: BaseException) -> None:
        """``jobs`` cannot be seen through (their committer failed): each fails as an outage, its
        caller woken now. One whose batch committed is in doubt to its caller, as after a lost
        COMMIT: the store reads its object again."""
        for job in jobs:
            job.value = None
            job.error = DatabaseUnavailableError(self.database.name, reason="the write committer failed")
            job.error.__cause__ = error
            if job.loop is not None:
                try:
                    job.loop.call_soon_threadsafe(job.woken.set)
                except RuntimeError:  # that loop is closed: nobody waits there any more
                    pass

    def _commit(self, batch: list[Job], turn: Turn) -> None:
        """Run ``batch``, in this thread (holding ``turn`` until its COMMIT is sent), and tell its
        callers."""
        # the oldest write's deadline, but never less than a second to run the batch at all: the
        # watchdog breaks the batch's connection then (a deadline carried as data)
        started = time.monotonic()
        deadline = max(min(job.deadline for job in batch), started + 1.0)
        try:
            self.database.run_batch(batch, deadline, turn)
        except BaseException as error:  # noqa: BLE001 - run_batch catches everything; never strand a job
            for job in batch:
                if job.error is None:
                    job.error = error
        turn.leave()
        with self._lock:
            stats = self.stats
            largest = max(stats.largest, len(batch))
            self.stats = CommitStats(stats.batches + 1, stats.jobs + len(batch), largest)
        duration = time.monotonic() - started
        loops: dict[asyncio.AbstractEventLoop, list[Job]] = {}
        for job in batch:
            if job.loop is not None:
                loops.setdefault(job.loop, []).append(job)
        first, size = True, len(batch)
        for loop, jobs in loops.items():
            try:  # one call into each loop for the whole batch (with the metrics' once)
                loop.call_soon_threadsafe(self._done, jobs, size if first else 0, duration)
                first = False
            except RuntimeError:  # that loop is closed: nobody waits there any more
                pass
        batch.clear()  # handed back: a failure of this thread from here on strands none of them

    def _done(self, jobs: list[Job], size: int, duration: float) -> None:
        """On the callers' event loop: ``jobs``' batch is done."""
        if size and self.observe is not None:
            try:
                self.observe(size, duration)
            except Exception:  # noqa: BLE001 - a failing observer (the metrics) holds no caller back
                log.exception("database %s: the commit batch's observer failed", self.database.name)
        for job in jobs:
            job.woken.set()

    def close(self, timeout: float | None = None) -> None:
        """Stop the committer's threads once their batches (if any) are done; a later write starts
        another. Jobs still queued stay for that one (or their deadline)."""
        with self._lock:
            threads, self._threads = self._threads, set()
            self._idle = False
            self._ready.notify_all()
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join(timeout)
