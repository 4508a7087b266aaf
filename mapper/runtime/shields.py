"""A write's shield against cancellation (:meth:`StoreWrites._write`), at no cost where nothing
can cancel it.

anyio cancels a task only through a cancel scope active in it: a deadline, or a task group's
scope in the tasks it started. A request as uvicorn runs it is a plain asyncio task that enters
none on a write's way (the body's deadline scope, when there is one, has closed by then), so no
anyio cancellation can reach its write; and a native ``Task.cancel()`` passes through anyio's
shield anyway. There, :func:`shielded` gives a context that does nothing instead of a
``CancelScope(shield=True)``, which costs about 10 us of a write's CPU on the event loop (a
backend look-up, the task's state in a weak dictionary, the scope's bookkeeping on entering and
leaving). Wherever a scope is active (a client's deadline, a test's ``move_on_after``, a task
group's task) the write is shielded as before.

Whether a scope is active is read from anyio's own record of each task's innermost scope, a
private name; if a later anyio moves it, every write is shielded as before."""

from __future__ import annotations

import asyncio
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import anyio

_scopes: Any  # each asyncio task's state in anyio, with its innermost cancel scope (anyio 4)
try:
    from anyio._backends._asyncio import _task_states as _scopes
except ImportError:  # pragma: no cover - another anyio: always shield
    _scopes = None

_UNSHIELDED: AbstractContextManager[Any] = nullcontext()


def shielded() -> AbstractContextManager[Any]:
    """A shield from anyio's cancellation for the block it guards (``with shielded():``): a
    ``CancelScope(shield=True)`` when a cancel scope is active in the current task, else a
    context that does nothing (no anyio cancellation can reach the task then)."""
    if _scopes is not None:
        state = _scopes.get(asyncio.current_task())
        if state is None or getattr(state, "cancel_scope", True) is None:
            return _UNSHIELDED
    return anyio.CancelScope(shield=True)
