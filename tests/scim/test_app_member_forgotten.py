"""A read of a group that began before one of its members was deleted, and lands in the cache
after the delete dropped that member from the cached groups, must not bring the member back.

Found with two ``mapper serve`` processes on one PostgreSQL database: process B added user X to
group G while process A deleted X. B committed first; A's DELETE waited for it, then cascaded the
membership. Meanwhile A read G again on B's notice: it read the membership (A's cascade not
committed yet), and put G in its cache after A's delete had already dropped X from the cached
groups. A then served G with a member the database no longer held, for good (a delta does not
see it: the membership's delete touched G before A's read). Here the same interleaving is made
deterministic in one process: the group's read is held between its transaction and the cache
(its database's ``run`` returns only when the test says so) while the user is deleted."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from tests.support.databases import HrDatabase
from tests.support.scim import scim_client

pytestmark = pytest.mark.anyio


class _Held:
    """A store's database whose reads return only once ``go`` is set (``read`` is set when one
    has read): the real database otherwise."""

    def __init__(self, database: Any) -> None:
        self._database = database
        self.read = anyio.Event()
        self.go = anyio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._database, name)

    async def run(self, *args: Any, **kwargs: Any) -> Any:
        result = await self._database.run(*args, **kwargs)
        self.read.set()
        await self.go.wait()
        return result


async def test_a_group_read_before_a_member_was_deleted_does_not_bring_it_back(
    hr_database: HrDatabase,
) -> None:
    async with scim_client(hr_database) as client:
        groups = client.state["gateway"].stores["Group"]  # type: ignore[attr-defined]
        # user 6 joins group 3 behind this process's back (another process's committed add)
        hr_database.execute("INSERT INTO group_members (group_id, employee_id) VALUES (3, 6)")
        held = _Held(groups.database)
        groups.database = held  # the group's reads only; the user's delete runs as ever
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(groups.reread, [3])  # as on that process's notice
            await held.read.wait()  # it has read group 3 with user 6
            assert (await client.delete("/Users/6")).status_code == 204
            held.go.set()
        groups.database = held._database
        stored = hr_database.execute("SELECT employee_id FROM group_members WHERE group_id = 3")
        assert sorted(row[0] for row in stored) == [3, 9, 10, 12, 18]
        served = (await client.get("/Groups/3")).json()
        assert sorted(int(m["value"]) for m in served["members"]) == [3, 9, 10, 12, 18]
        listed = (await client.get("/Groups", params={"filter": 'members.value eq "6"'})).json()
        assert listed["totalResults"] == 0
