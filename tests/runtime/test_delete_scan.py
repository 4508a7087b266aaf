"""The delete scan (``deltas.scan_anchors``): every anchor the import query returns, keyed as the
cache keys it, whatever their type (SQLite's integers, text, reals and BLOBs; PostgreSQL's
numeric, text and money), on every database; and a scan whose connection is lost fails its delta
cleanly, the next one succeeding."""

from __future__ import annotations

import sqlite3
from functools import partial
from pathlib import Path

import pytest

from mapper.pipeline import load
from mapper.plan import Statement
from mapper.runtime.database import Tx
from mapper.runtime.deltas import scan_anchors
from mapper.runtime.errors import DatabaseUnavailableError
from mapper.runtime.gateway import Gateway
from mapper.runtime.keys import anchor_key
from tests.support.databases import HrDatabase, load_sql, reset_database
from tests.support.hr import hr_plan

pytestmark = pytest.mark.anyio

ODD_MAP = """\
source app {
  dialect sqlite
  url env("ODD_DATABASE_URL", "sqlite:///odd.db")
}

object User from app {
  anchor code from userName
  query userName

  import sql\"\"\"SELECT code, login FROM things\"\"\"

  attributes {
    userName <- login required unique
  }
}
"""


async def odd_gateway(tmp_path: Path, anchors: list[object]) -> Gateway:
    """A gateway on a SQLite table whose anchor column has no type, holding ``anchors`` as given."""
    path = tmp_path / "odd.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE things (code, login TEXT NOT NULL UNIQUE)")
        connection.executemany(
            "INSERT INTO things VALUES (?, ?)", [(a, f"user{i}") for i, a in enumerate(anchors)]
        )
    connection.close()
    source = tmp_path / "odd.map"
    source.write_text(ODD_MAP, encoding="utf-8")
    gateway = Gateway(load(str(source)), environ={"ODD_DATABASE_URL": f"sqlite:///{path}"}, autosync=False)
    await gateway.start()
    return gateway


async def postgres_gateway(tmp_path: Path, url: str, column_type: str, anchors: list[str]) -> Gateway:
    """The same mapping on a PostgreSQL table whose anchor column is of ``column_type``."""
    reset_database(url)
    values = ", ".join(f"('{a}', 'user{i}')" for i, a in enumerate(anchors))
    schema = tmp_path / "things.sql"
    schema.write_text(
        f"CREATE TABLE things (code {column_type}, login TEXT NOT NULL UNIQUE);\n"
        f"INSERT INTO things VALUES {values};\n",
        encoding="utf-8",
    )
    load_sql(url, [schema])
    source = tmp_path / "odd.map"
    source.write_text(ODD_MAP.replace("dialect sqlite", "dialect postgres"), encoding="utf-8")
    gateway = Gateway(load(str(source)), environ={"ODD_DATABASE_URL": url}, autosync=False)
    await gateway.start()
    return gateway


async def scanned(gateway: Gateway, page_size: int = 2) -> set[object]:
    users = gateway.stores["User"]
    return await users.database.run(partial(scan_anchors, obj=users.obj, page_size=page_size), snapshot=True)


@pytest.mark.parametrize(
    "anchors",
    [
        pytest.param([7, "x7", 10**15, -3, "ünï", 'quo"te,\n', ""], id="integers-and-text"),
        pytest.param([1, 1.0, 0.1 + 0.2, 2.5, "1"], id="reals"),
        pytest.param([1, b"\x00\xff", b"", "1"], id="blobs"),
    ],
)
async def test_sqlite_anchors_of_any_type_are_keyed_as_the_cache_keys_them(
    tmp_path: Path, anchors: list[object]
) -> None:
    gateway = await odd_gateway(tmp_path, anchors)
    try:
        users = gateway.stores["User"]
        present = await scanned(gateway)
        assert present == set(users.cache.state.records)
        assert present == {anchor_key(a) for a in anchors} and len(present) == len(anchors)
    finally:
        await gateway.stop()


async def test_a_delete_scan_of_odd_anchors_removes_only_what_was_deleted(tmp_path: Path) -> None:
    gateway = await odd_gateway(tmp_path, [1, 1.0, "1", 0.1 + 0.2])
    try:
        url = gateway.databases["app"].url.database
        with sqlite3.connect(str(url)) as connection:
            connection.execute("DELETE FROM things WHERE typeof(code) = 'real' AND code = 1")
        connection.close()
        stats = await gateway.stores["User"].sync_delta()  # delta none: the scan alone
        assert stats.removed == 1
        assert set(gateway.stores["User"].cache.state.records) == {1, "1", anchor_key(0.1 + 0.2)}
    finally:
        await gateway.stop()


async def test_the_scan_finds_every_anchor_the_import_finds(hr_database: HrDatabase) -> None:
    gateway = Gateway(
        hr_plan(hr_database.dialect), environ={"HR_DATABASE_URL": hr_database.url}, autosync=False
    )
    await gateway.start()
    try:
        for name in ("User", "Group"):
            store = gateway.stores[name]
            for page_size in (1, 1000):
                present = await store.database.run(
                    partial(scan_anchors, obj=store.obj, page_size=page_size), snapshot=True
                )
                assert present == set(store.cache.state.records) and present
        hr_database.execute("DELETE FROM employees")  # a scan of no row
        await gateway.sync_delta()
        assert gateway.stores["User"].count() == 0
    finally:
        await gateway.stop()


@pytest.mark.parametrize(
    "server",
    [
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ],
)
async def test_a_scan_that_loses_its_connection_fails_and_the_next_delta_succeeds(
    server: str, request: pytest.FixtureRequest
) -> None:
    hr: HrDatabase = request.getfixturevalue(f"hr_{server}")
    gateway = Gateway(hr_plan(hr.dialect), environ={"HR_DATABASE_URL": hr.url}, autosync=False)
    await gateway.start()
    try:
        users = gateway.stores["User"]
        own_pid = Statement(
            sql="SELECT pg_backend_pid()" if server == "postgres" else "SELECT CONNECTION_ID()"
        )
        kill = "SELECT pg_terminate_backend({})" if server == "postgres" else "KILL {}"

        def scan_after_a_kill(tx: Tx) -> set[object]:
            row = tx.first(own_pid)  # the delta's transaction has begun: then its connection goes
            assert row is not None
            hr.execute(kill.format(int(row[0])))
            return scan_anchors(tx, users.obj, 1000)

        with pytest.raises(DatabaseUnavailableError):
            await users.database.run(scan_after_a_kill, snapshot=True)
        hr.execute("DELETE FROM employees WHERE employee_id = 17")
        await gateway.sync_delta()  # a fresh connection: the scan runs and finds the delete
        assert users.lookup("id", "17") == [] and users.lookup("id", "5")
        assert set(users.cache.state.records) == await users.database.run(
            partial(scan_anchors, obj=users.obj, page_size=1000), snapshot=True
        )
    finally:
        await gateway.stop()


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("column_type", "anchors", "keys"),
    [
        # equal numbers of another spelling are two anchors
        pytest.param("numeric", ["1.0", "1", "2.50"], {"1.0", "1", "2.50"}, id="numeric"),
        pytest.param("text", ["a", "A", "é,{}", ""], {"a", "A", "é,{}", ""}, id="text"),
        # psycopg reads money as text
        pytest.param("money", ["5", "7.25"], {"$5.00", "$7.25"}, id="money"),
    ],
)
async def test_postgres_anchors_are_keyed_as_the_cache_keys_them(
    tmp_path: Path,
    postgres_url: str,
    column_type: str,
    anchors: list[str],
    keys: set[str],
) -> None:
    gateway = await postgres_gateway(tmp_path, postgres_url, column_type, anchors)
    try:
        users = gateway.stores["User"]
        present = await scanned(gateway)
        assert present == set(users.cache.state.records) == keys
    finally:
        await gateway.stop()
