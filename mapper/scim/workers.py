"""``mapper serve --workers N``: N worker processes share the listening socket, under uvicorn's
own multi-process supervisor (which restarts a worker that dies and stops them all on SIGINT or
SIGTERM). Each worker is a whole gateway, of one mapping or of several connectors: it builds the
app as a single ``mapper serve`` does, imports its own caches, and keeps them coherent with the
other workers' writes (and other hosts') through each source's coherence channel
(:mod:`mapper.runtime.coherence`).

A worker starts as a single process does: it answers at once (``/readyz`` 503 with its phase)
while its first import runs in the background, and retries an outage with the same back-off. A
permanent start error (a database that refuses the configuration) is not a crash to restart: the
worker reports it (:func:`_report`, a file the supervisor watches), the supervisor stops every
worker, and ``mapper serve`` exits 5 with that one line. A signal that stopped the supervisor is
raised again once everything is down (SIGTERM: exit 143, SIGINT: 130), as the single process
does.

uvicorn starts workers with ``multiprocessing``'s spawn and pickles their configuration; ours
pickles as the app's recipe (a ``functools.partial`` of :func:`mapper.scim.server.plan_app` or
``hub_app``), the settings and the report's path (:class:`_WorkerConfig`), and each worker builds
its uvicorn configuration and app from them (the protocol class with the header guard is made per
process and could not be pickled)."""

from __future__ import annotations

import functools
import os
import signal
import socket
import tempfile
from pathlib import Path
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess
from uvicorn.supervisors.multiprocess import SIGNALS

from mapper.scim.server import Build, StartError
from mapper.scim.settings import Settings

#: seconds a worker may take to answer the supervisor's health ping before it is replaced (a
#: large import keeps a worker busy; uvicorn's default is 5)
HEALTHCHECK_TIMEOUT = 60
#: the report's name in the supervisor's directory
REPORT = "fatal"


class _WorkerConfig(uvicorn.Config):
    """The supervisor's configuration: the socket and the number of workers. Pickled (to each
    worker) as what rebuilds the full configuration there."""

    def __init__(self, build: Build, settings: Settings, report: str) -> None:
        super().__init__(
            "mapper.scim.workers:unused",
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            log_config=None,
            log_level=settings.log_level,
            timeout_worker_healthcheck=HEALTHCHECK_TIMEOUT,
        )
        self.recipe = (build, settings, report)

    def __reduce__(self) -> tuple[Any, ...]:
        return (worker_config, self.recipe)


def worker_config(build: Build, settings: Settings, report: str) -> uvicorn.Config:
    """In a worker: its logging, and the configuration of a single ``mapper serve`` whose app
    reports a permanent start error to the supervisor."""
    from mapper.scim.server import configure_logging, uvicorn_options

    configure_logging(settings.log_level, settings.log_format, process=True)
    return uvicorn.Config(build(functools.partial(_report, report)), **uvicorn_options(settings))


def _report(path: str, error: Exception) -> None:
    """In a worker: hand the permanent start error to the supervisor. The first worker's report
    stands (written whole, then linked into place); the worker serves on, unready, until the
    supervisor stops it."""
    draft = f"{path}.{os.getpid()}"
    Path(draft).write_text(str(error), encoding="utf-8")
    try:
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        os.unlink(draft)


class _Supervisor(Multiprocess):
    """uvicorn's supervisor, which also stops on a worker's report, and remembers the signal
    that stopped it."""

    def __init__(self, config: uvicorn.Config, sockets: list[socket.socket], report: Path) -> None:
        super().__init__(config, sockets)
        self.report = report
        self.stopped_by: int | None = None

    def keep_subprocess_alive(self) -> None:
        if self.report.exists():  # before a worker's death is seen: never restart a reporter
            self.should_exit.set()
            return
        super().keep_subprocess_alive()

    def handle_int(self) -> None:
        self.stopped_by = self.stopped_by or signal.SIGINT
        super().handle_int()

    def handle_term(self) -> None:
        self.stopped_by = self.stopped_by or signal.SIGTERM
        super().handle_term()

    def failed_to_start(self) -> bool:
        """Whether a worker ended with uvicorn's start-up failure (which stopped the supervisor)."""
        return any(process.exitcode == STARTUP_FAILURE for process in self.processes)


def run_workers(build: Build, settings: Settings, sock: socket.socket) -> Exception | None:
    """Supervise ``settings.workers`` workers serving ``build``'s app on ``sock`` (bound once, by
    :func:`mapper.scim.server.listen`) until stopped. Returns a worker's permanent start error, or
    None after a clean stop; a signal that stopped them is raised again, and a worker's uvicorn
    start-up failure exits 3, as in a single process."""
    from mapper.scim.exposition import multiprocess_directory

    handlers = {sig: signal.getsignal(sig) for sig in SIGNALS}
    with tempfile.TemporaryDirectory(prefix="mapper-serve-") as directory:
        report = Path(directory) / REPORT
        config = _WorkerConfig(build, settings, str(report))
        with multiprocess_directory():  # the workers' metrics, added up by whichever answers /metrics
            supervisor = _Supervisor(config, [sock], report)
            try:
                supervisor.run()
            finally:
                for sig, handler in handlers.items():
                    if handler is not None:  # None: not set from Python; left as uvicorn set it
                        signal.signal(sig, handler)
        fatal = report.read_text(encoding="utf-8") if report.exists() else None
    if supervisor.stopped_by is not None:
        signal.raise_signal(supervisor.stopped_by)  # SIGTERM ends the process; SIGINT raises
    if fatal is not None:
        return StartError(fatal)
    if supervisor.failed_to_start():
        raise SystemExit(STARTUP_FAILURE)
    return None
