"""Group commit (:class:`GroupCommitter`): concurrent writes to one database share one transaction
and one commit, each write still succeeding or failing on its own; a queued write is bounded by
its deadline."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import anyio.to_thread

from mapper.runtime.errors import DatabaseUnavailableError
from mapper.runtime.locks import arrived
from mapper.runtime.tx import Tx

if TYPE_CHECKING:
    from mapper.runtime.database import Database

log = logging.getLogger(__name__)

T = TypeVar("T")


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
    ``error``). A queued job may be woken to lead the next batch instead (``leads``)."""

    __slots__ = ("deadline", "error", "fn", "leads", "taken", "value", "woken")

    def __init__(self, fn: Callable[[Tx], Any], deadline: float) -> None:
        self.fn = fn
        self.deadline = deadline  # time.monotonic() by which its caller has an answer
        self.woken = asyncio.Event()  # the gateway runs on asyncio; anyio's Event wraps this one
        self.leads = False
        self.taken = False
        self.value: Any = None
        self.error: BaseException | None = None


class GroupCommitter:
    """Group commit for one database: concurrent writes share one transaction and one commit.

    The first write to arrive while no batch runs leads: it takes every queued job (up to
    ``cap``), runs them in a worker thread in arrival order in one transaction
    (:meth:`Database.run_batch`), and commits once. Only then does each job's caller get its
    outcome, so a write is acknowledged after its commit. Jobs arriving meanwhile queue; when
    the batch is done, the first of them is woken to lead the next one (so no caller serves
    other callers' writes for long).

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
        self._queue: deque[Job] = deque()
        self._busy = False  # a batch runs, or a woken leader is about to start one
        self.stats = CommitStats()
        #: told each batch's size and duration in seconds (the metrics); None: nobody listens
        self.observe: Callable[[int, float], None] | None = None

    @property
    def queued(self) -> int:
        """Jobs waiting for the next batch."""
        return len(self._queue)

    async def submit(self, fn: Callable[[Tx], T]) -> T:
        """Run ``fn`` in the next batch; its value once that batch has committed."""
        since = arrived.get()  # queued behind a write of the same object: that wait counts too
        job = Job(fn, (time.monotonic() if since is None else since) + self.database.timeouts.statement)
        self._queue.append(job)
        if self._busy:
            await self._wait(job)
        else:
            self._busy = True
            job.leads = True
        if job.leads:
            # shielded: the batch holds other callers' writes, and its outcome must reach them
            with anyio.CancelScope(shield=True):
                await self._lead()
        if job.error is not None:
            raise job.error
        return job.value

    async def _wait(self, job: Job) -> None:
        """Wait until ``job`` is done or woken to lead; a job still queued at its deadline is
        withdrawn then (:meth:`_expire`: one timer, not a cancel scope, for each queued write). A
        caller cancelled while its job is still queued withdraws it; once its batch runs, the job
        is seen through (as a thread that cannot be abandoned) and the cancellation follows."""
        timer = asyncio.get_running_loop().call_later(job.deadline - time.monotonic(), self._expire, job)
        try:
            await job.woken.wait()
        except anyio.get_cancelled_exc_class():
            if not job.taken:
                if job.error is None:  # still queued (not withdrawn at its deadline)
                    self._queue.remove(job)
                    if job.leads:
                        self._hand_over()
                raise
            with anyio.CancelScope(shield=True):  # its batch runs: bounded by the batch's watchdog
                await job.woken.wait()
            raise
        finally:
            timer.cancel()

    def _expire(self, job: Job) -> None:
        """``job``'s deadline has passed: still queued (not taken into a batch, nor woken to lead
        one), the batches ahead are stuck, and it is withdrawn and fails as an outage; taken, its
        batch's watchdog bounds it."""
        if job.taken or job.woken.is_set():
            return
        self._queue.remove(job)
        job.error = DatabaseUnavailableError(self.database.name)
        log.warning("database %s: a write waited out its bound in the queue", self.database.name)
        job.woken.set()

    async def _lead(self) -> None:
        batch = [self._queue.popleft() for _ in range(min(self.cap, len(self._queue)))]
        for job in batch:
            job.taken = True
        # the oldest write's deadline, but never less than a second to run the batch at all: the
        # watchdog breaks the batch's connection then (a deadline carried as data)
        started = time.monotonic()
        deadline = max(min(job.deadline for job in batch), started + 1.0)
        try:
            await anyio.to_thread.run_sync(
                self.database.run_batch, batch, deadline, limiter=self.database.limiter
            )
        except BaseException as error:  # noqa: BLE001 - run_batch catches everything; never strand a job
            for job in batch:
                if job.error is None:
                    job.error = error
        finally:
            stats = self.stats
            self.stats = CommitStats(
                stats.batches + 1, stats.jobs + len(batch), max(stats.largest, len(batch))
            )
            if self.observe is not None:
                self.observe(len(batch), time.monotonic() - started)
            # the next leader first: woken tasks run in the order they were woken, and the
            # database would idle while this batch's callers render and send their responses
            self._hand_over()
            for job in batch:
                job.leads = False
                job.woken.set()

    def _hand_over(self) -> None:
        """Wake the first queued job to lead the next batch, or stand down when none waits."""
        if self._queue:
            head = self._queue[0]
            head.leads = True
            head.woken.set()
        else:
            self._busy = False
