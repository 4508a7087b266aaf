"""The payroll example on PostgreSQL and MariaDB: UUID anchors, an anchor taken from an attribute,
stored procedures (the new anchor found by the query attribute), a change table, a custom
extension schema and a soft delete the import query hides."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from mapper.pipeline import load
from mapper.runtime.database import engine_url
from mapper.runtime.errors import MutabilityError, UniquenessError
from mapper.runtime.gateway import Gateway
from mapper.runtime.loading import scan_anchors
from tests.support.databases import HrDatabase, load_sql, reset_database

pytestmark = pytest.mark.anyio

PAYROLL = Path(__file__).resolve().parents[2] / "examples" / "payroll"
EXT = "urn:example:params:scim:schemas:extension:payroll:2.0:User"
SCHEMAS = {"postgres": "schema.postgres.sql", "mysql": "schema.mysql.sql"}


@pytest.fixture(
    params=[
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ]
)
def payroll_database(request: pytest.FixtureRequest) -> HrDatabase:
    url = request.getfixturevalue(f"{request.param}_url")
    dialect = "postgres" if request.param == "postgres" else "mysql"
    reset_database(url)
    load_sql(url, [PAYROLL / SCHEMAS[dialect]])
    return HrDatabase(request.param, dialect, url)


@pytest.fixture
async def payroll(payroll_database: HrDatabase) -> AsyncIterator[Gateway]:
    plan = load(str(PAYROLL / "payroll.map"), write=payroll_database.dialect)
    gateway = Gateway(plan, environ={"PAYROLL_DATABASE_URL": payroll_database.url}, autosync=False)
    await gateway.start()
    try:
        yield gateway
    finally:
        await gateway.stop()


def worker(login: str, **extra) -> dict:
    resource = {
        "userName": login,
        "name": {"givenName": "Pat", "familyName": "Worker"},
        "emails": [{"type": "work", "value": f"{login}@example.com"}],
        EXT: {"costCenter": "CC-200", "grade": "7"},
    }
    resource.update(extra)
    return resource


async def test_workers_through_procedures(payroll, payroll_database):
    users = payroll.stores["User"]
    created = await users.create(worker("pat.worker"))
    id = created["id"]
    assert len(id) == 36  # a UUID the gateway made
    assert created[EXT] == {"costCenter": "CC-200", "costCenterName": "Engineering", "grade": 7}
    assert created["displayName"] == "Pat Worker"  # computed by the import query
    assert created["active"] is True
    assert await users.get(id) == created
    with pytest.raises(UniquenessError):
        await users.create(worker("PAT.worker"))

    replaced = await users.replace(id, dict(created, active=False, **{EXT: {"costCenter": "CC-100"}}))
    assert replaced["active"] is False and replaced[EXT] == {
        "costCenter": "CC-100",
        "costCenterName": "Headquarters",
    }

    groups = payroll.stores["Group"]
    group = await groups.create(
        {"displayName": "NIGHT-SHIFT", "externalId": "Nights", "members": [{"value": id}]}
    )
    assert group["id"] == "NIGHT-SHIFT" and group["members"] == [{"value": id}]
    dropped = await groups.create(  # on missing drop, the default: left out
        {"displayName": "X", "members": [{"value": "00000000-0000-0000-0000-000000000000"}]}
    )
    assert "members" not in dropped and groups.dangling_dropped == 1
    with pytest.raises(MutabilityError):  # the group's id is its displayName
        await groups.replace("NIGHT-SHIFT", dict(group, displayName="DAY-SHIFT"))
    renamed = await groups.replace("NIGHT-SHIFT", dict(group, externalId="Nights and weekends"))
    assert renamed["externalId"] == "Nights and weekends" and renamed["members"] == [{"value": id}]

    await users.delete(id)  # a soft delete: the import query no longer shows the worker
    assert await users.get(id) is None
    assert payroll_database.execute("SELECT COUNT(*) FROM workers") == [(1,)]
    assert (await groups.get("NIGHT-SHIFT")).get("members") is None


async def test_change_table_delta(payroll, payroll_database):
    users = payroll.stores["User"]
    created = await users.create(worker("first.one"))
    uuid_sql = "gen_random_uuid()" if payroll_database.dialect == "postgres" else "UUID()"
    payroll_database.execute(f"INSERT INTO workers (worker_id, login) VALUES ({uuid_sql}, 'direct.insert')")
    payroll_database.execute("UPDATE workers SET grade = 3 WHERE login = 'first.one'")
    await payroll.sync_delta()
    assert users.lookup("userName", "direct.insert")
    assert users.lookup("id", created["id"])[0][EXT]["grade"] == 3
    payroll_database.execute("DELETE FROM workers WHERE login = 'direct.insert'")
    await payroll.sync_delta()
    assert users.lookup("userName", "direct.insert") == [] and users.count() == 1


async def test_the_anchor_scan_gives_uuid_anchors_as_the_cache_keys_them(payroll):
    """UUIDs come from the driver as UUID objects (PostgreSQL) or text (MariaDB); the scan keys
    them as the cache does, so a delete scan finds nothing missing."""
    users = payroll.stores["User"]
    for name in ("scan.one", "scan.two"):
        await users.create(worker(name))
    scan = partial(scan_anchors, obj=users.obj, page_size=1)  # one anchor per page
    present = await users.database.run(scan, snapshot=True)
    assert present == set(users.cache.state.records) and len(present) == 2
    assert all(type(key) is str for key in present)


async def test_a_change_table_delta_leaves_the_cache_a_full_import_builds(payroll, payroll_database):
    """A change table's objects are read 100 anchors a statement (``delta.by_anchors``): more
    changed workers than one read takes, updated, soft-deleted and removed, and the cache the delta
    leaves is the one a full import builds."""
    users = payroll.stores["User"]
    ids = {name: (await users.create(worker(name)))["id"] for name in ("kept.one", "soft.one", "gone.one")}
    bulk = [uuid.uuid4() for _ in range(150)]
    engine = create_engine(engine_url(payroll_database.url))
    try:
        with engine.begin() as db:
            db.execute(
                text("INSERT INTO workers (worker_id, login, grade) VALUES (:id, :login, :grade)"),
                [
                    {
                        "id": u if payroll_database.dialect == "postgres" else str(u),
                        "login": f"bulk{i}",
                        "grade": i,
                    }
                    for i, u in enumerate(bulk)
                ],
            )
    finally:
        engine.dispose()
    payroll_database.execute("UPDATE workers SET grade = 9 WHERE login IN ('kept.one', 'bulk7')")
    payroll_database.execute("UPDATE workers SET deleted_at = CURRENT_TIMESTAMP WHERE login = 'soft.one'")
    payroll_database.execute("DELETE FROM workers WHERE login IN ('gone.one', 'bulk8')")
    await payroll.sync_delta()
    after_delta = {r["id"]: r for r in map(users.codec.render, users.cache.records())}
    fresh = Gateway(payroll.plan, environ={"PAYROLL_DATABASE_URL": payroll_database.url}, autosync=False)
    await fresh.start()
    try:
        fresh_users = fresh.stores["User"]
        after_full = {r["id"]: r for r in map(fresh_users.codec.render, fresh_users.cache.records())}
    finally:
        await fresh.stop()
    assert after_delta == after_full
    assert (
        len(after_delta) == 150 and ids["soft.one"] not in after_delta and ids["gone.one"] not in after_delta
    )
    assert after_delta[ids["kept.one"]][EXT]["grade"] == 9 and after_delta[str(bulk[7])][EXT]["grade"] == 9
