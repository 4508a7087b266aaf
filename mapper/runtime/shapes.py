"""The shapes of one statement, kept by key: the one bounded cache behind a create's insert
(:class:`~mapper.runtime.inserts.Inserts`, keyed by the absent parameters), a revive's update
(:class:`~mapper.runtime.inserts.Revivals`, the same) and a replace's update
(:class:`~mapper.runtime.decisions.Updates`, keyed by the unchanged ones).

A key is a tuple of parameter names in an order its owner fixes (the plan's, or the SET list's):
cheaper to make and hash than a frozenset, and one tuple per set of names. A shape is made once per
key by the owner's ``make``, and kept until ``limit`` others have been used since (least recently
used first out): the bound is configuration, never what clients send.

The look-up is :func:`functools.lru_cache`'s, whose wrapper is C: a hit is one call, with no
Python frame and no lock (it finds the entry and moves it to the most recent end while holding
the GIL, as an ``OrderedDict``'s ``get`` then ``move_to_end`` did, hashing the key once where
those hashed it twice). Only a miss runs Python: ``make``, under this cache's lock, so that a
shape, and whatever its owner parses once to make shapes, is made by one thread at a time; a
second thread that missed the same key meanwhile makes it again under the lock, and either
result is kept (they are equal).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class ShapeCache(Generic[K, V]):
    """Shapes by key, made by ``make`` on a miss, at most ``limit`` kept (see the module
    docstring). ``find(key)`` is the shape of ``key``: the cached one, or one made now."""

    __slots__ = ("find", "limit", "_cached", "_lock", "_make")

    def __init__(self, make: Callable[[K], V], limit: int) -> None:
        self.limit = limit
        self._make = make
        self._lock = threading.Lock()
        self._cached = functools.lru_cache(maxsize=limit)(self._made)
        #: the shape of a key; an attribute holding the C wrapper itself, so that a hit calls no
        #: Python function (a method here would add a frame to every look-up)
        self.find: Callable[[K], V] = self._cached

    def _made(self, key: K) -> V:
        with self._lock:
            return self._make(key)

    def __len__(self) -> int:
        """How many shapes are kept."""
        return self._cached.cache_info().currsize
