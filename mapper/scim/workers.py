"""``mapper serve --workers N``: N worker processes share the listening socket, under uvicorn's
own multi-process supervisor (which restarts a worker that dies and stops them all on SIGINT or
SIGTERM). Each worker is a whole gateway: it builds the app as a single ``mapper serve`` does,
imports its own cache, and keeps it coherent with the other workers' writes (and other hosts')
through the source's coherence channel (:mod:`mapper.runtime.coherence`).

uvicorn starts workers with ``multiprocessing``'s spawn and pickles their configuration; ours
pickles as the plan and the settings (:class:`_WorkerConfig`), and each worker
builds its uvicorn configuration and app from them (the protocol class with the header guard is
made per process and could not be pickled)."""

from __future__ import annotations

import socket
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

from mapper.plan import Plan
from mapper.scim.settings import Settings

#: seconds a worker may take to answer the supervisor's health ping before it is replaced (a
#: large import keeps a worker busy; uvicorn's default is 5)
HEALTHCHECK_TIMEOUT = 60


class _WorkerConfig(uvicorn.Config):
    """The supervisor's configuration: the socket and the number of workers. Pickled (to each
    worker) as what rebuilds the full configuration there."""

    def __init__(self, plan: Plan, settings: Settings) -> None:
        super().__init__(
            "mapper.scim.workers:unused",
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            log_config=None,
            log_level=settings.log_level,
            timeout_worker_healthcheck=HEALTHCHECK_TIMEOUT,
        )
        self.recipe = (plan, settings)

    def __reduce__(self) -> tuple[Any, ...]:
        return (worker_config, self.recipe)


def worker_config(plan: Plan, settings: Settings) -> uvicorn.Config:
    """In a worker: its logging, and the configuration of a single ``mapper serve``."""
    from mapper.scim.app import build_app
    from mapper.scim.server import configure_logging, uvicorn_options

    configure_logging(settings.log_level, settings.log_format, process=True)
    return uvicorn.Config(build_app(plan, settings), **uvicorn_options(settings))


def run_workers(plan: Plan, settings: Settings, sock: socket.socket) -> None:
    """Supervise ``settings.workers`` workers on ``sock`` (bound once, by
    :func:`mapper.scim.server.listen`) until stopped."""
    from mapper.scim.exposition import multiprocess_directory

    config = _WorkerConfig(plan, settings)
    with multiprocess_directory():  # the workers' metrics, added up by whichever answers /metrics
        Multiprocess(config, sockets=[sock]).run()
