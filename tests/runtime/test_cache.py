"""The cache of one object type (mapper/runtime/cache.py): records by anchor key, look-ups by the
query attribute and unique attributes, and syncs that never undo a write made while they read.
The records are the HR example's, imported from a real SQLite file by a real gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from mapper.runtime.cache import Cache, CacheState, SyncStats
from mapper.runtime.gateway import Gateway
from mapper.runtime.record import Record
from tests.support.databases import HrDatabase
from tests.support.hr import hr_plan

pytestmark = pytest.mark.anyio


@pytest.fixture
async def users(hr_sqlite: HrDatabase) -> AsyncIterator[Cache]:
    """The User cache of a started gateway over the HR sample data (20 users)."""
    gateway = Gateway(hr_plan("sqlite"), environ={"HR_DATABASE_URL": hr_sqlite.url}, autosync=False)
    await gateway.start()
    try:
        yield gateway.stores["User"].cache
    finally:
        await gateway.stop()


def renamed(cache: Cache, record: Record, user_name: str) -> Record:
    """``record`` with another userName (the query attribute)."""
    row = list(record.row)
    row[cache.codec.query.index] = user_name  # type: ignore[index]
    return Record(row, record.children)


def user_name_key(cache: Cache, user_name: str) -> str:
    return cache.codec.fold(user_name, cache.codec.query.attr.case_exact)


async def test_records_are_found_by_key_and_by_user_name_ignoring_case(users: Cache) -> None:
    assert len(users) == 20 == len(users.records())
    record = users.get(5)
    assert record is not None and users.codec.key(record) == 5
    user_name = users.codec.render(record)["userName"]
    assert users.find("userName", user_name_key(users, user_name.upper())) == 5
    assert users.find("userName", user_name_key(users, "nobody")) is None
    assert users.find("title", "anything") is None  # not an indexed attribute
    assert users.get(999) is None


async def test_a_put_replaces_the_record_and_its_index_entries(users: Cache) -> None:
    record = users.get(5)
    assert record is not None
    old_name = users.codec.render(record)["userName"]
    users.put(renamed(users, record, "Renamed.Five"))
    assert users.find("userName", user_name_key(users, "renamed.five")) == 5
    assert users.find("userName", user_name_key(users, old_name)) is None
    assert len(users) == 20


async def test_a_written_put_drops_a_record_filed_under_a_user_name_the_database_gave_another(
    users: Cache,
) -> None:
    """A write gave user 5 user 6's name in a transaction that found no other row holding it: 6
    no longer does (it was renamed or deleted behind the gateway's back), so the cache drops it
    rather than keep two holders."""
    five, six = users.get(5), users.get(6)
    assert five is not None and six is not None
    name = users.codec.render(six)["userName"]
    users.put(renamed(users, five, name.upper()), written=True)
    assert users.find("userName", user_name_key(users, name)) == 5
    assert users.get(6) is None and len(users) == 19


async def test_a_put_without_that_proof_keeps_both_holders_of_a_user_name(users: Cache) -> None:
    """Read from the database without a uniqueness check (a read-through, a delta), user 5 holds
    user 6's name: the database may hold one value in several rows, so both are kept, filed
    together, and neither is found by the one-key look-up of the cached read."""
    five, six = users.get(5), users.get(6)
    assert five is not None and six is not None
    name = users.codec.render(six)["userName"]
    users.put(renamed(users, five, name.upper()))
    folded = user_name_key(users, name)
    assert len(users) == 20 and users.find("userName", folded) is None
    assert users.state.holders(folded) == [5, 6] and users.state.shared_rows() == 2
    five = users.get(5)
    assert five is not None
    users.put(five, written=True)  # a write that left the value as it was checked nothing
    assert users.state.holders(folded) == [5, 6]
    users.remove(5)  # one holder left: a plain entry again
    assert users.find("userName", folded) == 6 and not users.state.shared


async def test_the_holders_of_a_shared_user_name_go_one_by_one(users: Cache) -> None:
    """Renaming or removing one of three holders leaves the others found: the index never loses
    a key whose record still holds the value."""
    records = [users.get(k) for k in (3, 4, 5)]
    assert all(r is not None for r in records)
    for record in records:
        assert record is not None
        users.put(renamed(users, record, "Shared.Name"))
    folded = user_name_key(users, "shared.name")
    assert users.state.holders(folded) == [3, 4, 5]
    four = users.get(4)
    assert four is not None
    users.put(renamed(users, four, "Own.Name"))
    assert users.state.holders(folded) == [3, 5]
    assert users.find("userName", user_name_key(users, "own.name")) == 4
    users.remove(3)
    assert users.state.holders(folded) == [5] and users.find("userName", folded) == 5


async def test_a_remove_drops_the_record_and_its_index_entries(users: Cache) -> None:
    record = users.get(5)
    assert record is not None
    user_name = users.codec.render(record)["userName"]
    users.remove(5)
    users.remove(5)  # twice is harmless
    assert users.get(5) is None and len(users) == 19
    assert users.find("userName", user_name_key(users, user_name)) is None


async def test_another_key_owning_a_value_keeps_its_index_entry(users: Cache) -> None:
    """A value moved from one record to another stays found at the new owner when the old
    owner's record is replaced or removed afterwards."""
    five, six = users.get(5), users.get(6)
    assert five is not None and six is not None
    name_of_five = users.codec.render(five)["userName"]
    users.put(renamed(users, six, name_of_five))  # 6 takes 5's userName
    users.remove(5)
    assert users.find("userName", user_name_key(users, name_of_five)) == 6


async def test_a_swap_keeps_the_writes_made_while_the_sync_read(users: Cache) -> None:
    before = {users.codec.key(r): r for r in users.records()}
    users.begin_tracking()
    users.put(renamed(users, before[5], "written.meanwhile"))
    users.remove(6)
    fresh = CacheState(users.codec)  # what the sync read: the rows as they were before the writes
    for record in before.values():
        fresh.put(record)
    users.swap(fresh)
    assert users.state is fresh
    changed = users.get(5)
    assert changed is not None and users.codec.render(changed)["userName"] == "written.meanwhile"
    assert users.get(6) is None and len(users) == 19
    assert users.end_tracking() == {}  # swap ended the tracking


async def test_apply_counts_changes_and_skips_keys_written_meanwhile(users: Cache) -> None:
    five, seven, eight = users.get(5), users.get(7), users.get(8)
    assert five is not None and seven is not None and eight is not None
    users.begin_tracking()
    users.put(renamed(users, seven, "written.meanwhile"))
    new = renamed(users, five, "new.user")
    row = list(new.row)
    row[users.codec.anchor_index] = 100
    added = Record(row, new.children)
    stats = SyncStats()
    users.apply(
        [renamed(users, five, "changed.by.delta"), renamed(users, seven, "stale.read"), eight, added],
        [9, 12345],
        stats,
    )
    tracked = users.end_tracking()
    assert list(tracked) == [7]
    assert (stats.rows, stats.added, stats.changed, stats.removed) == (6, 1, 1, 1)
    assert users.codec.render(users.get(5))["userName"] == "changed.by.delta"  # type: ignore[arg-type]
    assert users.codec.render(users.get(7))["userName"] == "written.meanwhile"  # type: ignore[arg-type]
    assert users.get(100) is not None and users.get(9) is None
    assert users.find("userName", user_name_key(users, "new.user")) == 100
