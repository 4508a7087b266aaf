"""Following a PATCH through the code (issue #12's done-when: "crosses each file at most twice"),
measured by :class:`tests.support.trace.FileTrace` on Entra ID's user update: the request's
functions in the order of their first call, and how many separate stops that makes in each file.

The names a PATCH carries are made canonical at the edge (:mod:`mapper.scim.names`), so the
front end's name handling (names, paths, attributes, the filter evaluator) is met at most twice:
once to resolve the operations, once when a value filter is evaluated (a path seen before is
remembered made canonical, so the resolver is then first met by PATCH's resolution). PATCH resolves every
operation into changes first (:mod:`mapper.scim.patch`, coercing values with
:mod:`mapper.scim.patchvalues`), then applies them (:mod:`mapper.scim.patchtargets`, met again
after a value filter's evaluation). The front door does its way-out work in one place, so the
middleware files are met once on the way in (or, for the audit log, when the handler notes what
it writes) and once on the way out.

The handler (``scim/routes/resources.py``) is met on entry and at its answer: between them it
reads the body (``routes/requests.py``), takes the request's root for the answer's links
(``routes/urls.py``, met again for the resource's location as the answer is built) and looks the
object up (``routes/lookup.py``: after the body is read and the audit log has the type, so that a
bad body is a 400 whatever the id and a 404 or a 503 is logged). Every front-end file is met at
most twice.

A write reads as phases (:mod:`mapper.runtime.store_writes`): the codec encodes the change, the
checks run, the transaction runs the write, and the cache takes the result. A replace is a write
as data (:class:`~mapper.runtime.decisions.ObjectWrite`): the transaction (``runtime/tx.py``)
reads the object it declares, the decision (:mod:`mapper.runtime.decisions`, a pure function of
the record read) says what to send, and the transaction sends it and reads the object back; so
the store is met at the request and when it hands the write over, and the transaction when it
reads and when it writes. A read is one call into the renderer (:mod:`mapper.runtime.rendering`),
which does its own formatting. A unit of work's deadline is data the batch carries: the watchdog
(``runtime/watchdog.py``, a thread of its own) is met when the pool checks the batch's connection
out, to watch it, and when the pool takes it back. The cache (``runtime/cache.py``) is met
when the handler reads the object and when it takes the written record after the commit: whether
another object holds a unique value the write takes is asked of the database, in the transaction
(:func:`mapper.runtime.decisions.unclaimed`), not of the cache, which can lag. Every runtime file
is met at most twice.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.databases import HrDatabase
from tests.support.scim import ENTERPRISE, patch_body, scim_client
from tests.support.trace import FileTrace

pytestmark = pytest.mark.anyio


def user_update(name: str) -> dict[str, Any]:
    """Every kind of path Entra ID sends in a user update, in one PATCH."""
    return patch_body(
        {"op": "Replace", "path": "displayName", "value": f"D. {name}"},
        {"op": "Replace", "path": 'emails[type eq "work"].value', "value": f"{name}@example.com"},
        {"op": "Replace", "path": "name.givenName", "value": name},
        {"op": "Add", "path": f"{ENTERPRISE}:department", "value": f"Unix {name}"},
        {"op": "Replace", "path": "active", "value": "False" if len(name) % 2 else "True"},
    )


async def traced_patch(db: HrDatabase) -> FileTrace:
    """Entra ID's user update followed through the code, after one warming PATCH: what the first
    request of its kind does once (parse the paths, resolve the names, load the grammar) is not
    what following a PATCH meets."""
    with FileTrace() as trace:
        async with scim_client(db) as client:
            assert (await client.patch("/Users/6", json=user_update("Ritchie"))).status_code == 200
            with trace.on():
                response = await client.patch("/Users/6", json=user_update("Dennis"))
    assert response.status_code == 200, response.text
    print(trace.summary())
    return trace


def over_bound(trace: FileTrace, package: str, bounds: dict[str, int]) -> dict[str, int]:
    """The files of ``package`` the traced request crossed more than twice, or more than their
    bound when they have one."""
    return {
        file: count
        for file, count in trace.visits().items()
        if file.startswith(package) and count > bounds.get(file, 2)
    }


async def crossings(db: HrDatabase, package: str, tries: int = 3) -> tuple[dict[str, int], FileTrace]:
    """The files of ``package`` a traced PATCH crossed over their bound, in the first of ``tries``
    traces that crossed none (else the last trace's). The trace keeps the first calls of the
    event loop's thread and the commit thread in one list, in the order they happen: which of
    the committer's first calls and the loop's wake-up comes first is a race (about one trace in
    eight on a loaded machine met ``group_commit.py`` a third time), not a path of the code, and
    a path that crosses a file more often does so in every trace."""
    for _ in range(tries):
        trace = await traced_patch(db)
        over = over_bound(trace, package, {})
        if not over:
            break
    return over, trace


async def test_a_patch_crosses_each_front_end_file_at_most_twice(hr_sqlite: HrDatabase) -> None:
    over, trace = await crossings(hr_sqlite, "scim/")
    assert not over, trace.summary()


async def test_a_patch_crosses_each_runtime_file_at_most_twice(hr_sqlite: HrDatabase) -> None:
    over, trace = await crossings(hr_sqlite, "runtime/")
    assert not over, trace.summary()
