"""How the cache keeps records: shapes (slots for the non-NULL columns only), versions worked out
on first read, timestamps as instants, and the full import reading through the driver's cursor."""

from __future__ import annotations

import random
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from functools import partial

import pytest
from sqlalchemy import exc

from mapper.plan import Statement
from mapper.runtime.cache import CacheState
from mapper.runtime.codec import Codec
from mapper.runtime.database import Database
from mapper.runtime.errors import DatabaseUnavailableError
from mapper.runtime.loading import RowForm, driver_pages, fetch, import_all
from mapper.runtime.record import Record, instant, shape
from mapper.runtime.rendering import format_datetime, format_instant, to_scim
from tests.support.databases import HrDatabase
from tests.support.hr import hr_plan
from tests.support.proxy import TcpProxy

pytestmark = pytest.mark.anyio

ROW = (7, "ada", None, "Ada Lovelace", 1735689610123000, None, True)

# -- shapes ---------------------------------------------------------------------------------------


def test_a_record_keeps_only_its_non_null_values_and_gives_back_the_whole_row():
    record = Record(ROW)
    assert record.row == ROW and record.children == ()
    assert type(record).present == (0, 1, 3, 4, 6)
    assert {"_2", "_5"}.isdisjoint(type(record).__slots__)
    assert type(Record((8, "bob", None, "Bob", 1, None, False))) is type(record)  # one class per shape
    assert type(Record((8, "bob", "x", "Bob", 1, None, False))) is not type(record)


def test_children_are_kept_with_the_record():
    children = (("a", "b"), ())
    record = Record(ROW, children)
    assert record.row == ROW and record.children == children
    assert shape(ROW, children).make(ROW, children).children == children
    assert Record(()).row == () and Record((None,)).row == (None,)


def test_same_compares_values_and_children():
    assert Record(ROW).same(shape(ROW).make(ROW))
    assert not Record(ROW).same(Record(ROW[:-1] + (False,)))
    assert not Record(ROW, ((1,),)).same(Record(ROW, ((2,),)))


# -- versions ---------------------------------------------------------------------------------------


def test_the_version_is_a_weak_etag_of_sixteen_hex_digits_kept_after_the_first_read():
    record = Record(ROW)
    assert record._version is None  # nothing worked out until someone reads it
    version = record.version
    assert version.startswith('W/"') and len(version) == 20 and int(version[3:-1], 16) < 2**60
    assert record._version is not None and record.version == version


def test_the_version_is_the_same_for_two_builds_of_the_same_row():
    assert Record(ROW).version == shape(ROW).make(ROW).version == Record(list(ROW)).version
    assert Record(ROW, ((1, 2),)).version == Record(ROW, ((1, 2),)).version


def test_the_version_is_the_same_in_another_process():
    """Two gateway processes (or one after a restart) send the same ETag for the same values:
    nothing salted (str hashes) or identity-based goes into it."""
    code = (
        "from mapper.runtime.record import Record;"
        f"print(Record({ROW!r}).version, Record({ROW!r}, (('g1', 'g2'),)).version)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == [Record(ROW).version, Record(ROW, (("g1", "g2"),)).version]


@pytest.mark.parametrize("column", range(len(ROW)))
def test_the_version_changes_with_any_value(column):
    for other in (None, "changed", 0, ROW[column] if ROW[column] is None else None):
        if other == ROW[column] and type(other) is type(ROW[column]):
            continue
        changed = ROW[:column] + (other,) + ROW[column + 1 :]
        assert Record(changed).version != Record(ROW).version, (column, other)


def test_the_version_keeps_types_apart():
    """Values that look alike in another type (orjson's JSON, or the tagged repr of what has no
    JSON type) give different versions; so do integers past 64 bits (the repr fallback)."""
    values = [
        1, "1", True, 1.0, None, "", Decimal("1"), "Decimal('1')", b"1", "b'1'",
        date(2025, 1, 1), "2025-01-01", datetime(2025, 1, 1), 2**70, str(2**70), 2**70 + 1,
    ]  # fmt: skip
    versions = {Record(ROW[:1] + (value,)).version for value in values}
    assert len(versions) == len(values)
    assert Record((2**70, "a")).version == Record((2**70, "a")).version


def test_the_version_changes_with_the_children():
    versions = {Record(ROW, c).version for c in ((), ((),), (("a",),), (("a", "b"),), (("b",),))}
    assert len(versions) == 5


# -- timestamps -------------------------------------------------------------------------------------

PLUS2 = timezone(timedelta(hours=2))
STAMPS = [
    # SQLite: ISO text as the schemas' defaults write it, and as other writers do
    "2026-11-26T15:02:33.308Z",
    "2026-11-26T15:02:33Z",
    "2026-11-26 15:02:33",
    "2026-11-26T15:02:33.123456+02:00",
    "2026-11-26T15:02:33.120",
    "2026-11-26",
    "1969-12-31T23:59:59.999999Z",
    # PostgreSQL timestamptz: aware datetimes, in UTC or the session's zone
    datetime(2026, 11, 26, 15, 2, 33, 308000, tzinfo=UTC),
    datetime(2026, 11, 26, 17, 2, 33, 5, tzinfo=PLUS2),
    # MariaDB DATETIME(6): naive, in UTC
    datetime(2026, 11, 26, 15, 2, 33, 123456),
    datetime(2026, 11, 26, 15, 2, 33),
]


@pytest.mark.parametrize("value", STAMPS, ids=repr)
def test_an_instant_renders_exactly_as_the_value_it_came_from(value):
    kept = instant(value)
    assert type(kept) is int
    assert format_datetime(kept) == format_datetime(value)
    assert to_scim("dateTime", kept) == to_scim("dateTime", value)


def test_the_instant_formatter_renders_any_moment_as_datetime_does():
    """A seeded sample over datetime's whole range, at microsecond, millisecond and second
    precision, and the edges: the table-driven formatter against the datetime rendering."""
    rnd = random.Random(15)
    first, last = datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
    span = (last - first) // timedelta(microseconds=1)
    moments = [
        first,
        last,
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(1969, 12, 31, 23, 59, 59, 999000, tzinfo=UTC),
    ]
    for unit in (1, 1000, 1_000_000):
        moments += [first + timedelta(microseconds=rnd.randrange(span) // unit * unit) for _ in range(3000)]
    for moment in moments:
        assert format_instant(instant(moment)) == format_datetime(moment)


@pytest.mark.parametrize("value", ["not a time", "", date(2026, 11, 26), None], ids=repr)
def test_what_is_no_timestamp_is_kept_as_it_is(value):
    assert instant(value) is value


def test_instants_keep_the_order_of_time():
    ordered = sorted(STAMPS[:5] + STAMPS[7:], key=lambda v: instant(v))
    moments = [datetime.fromisoformat(format_datetime(v)) for v in ordered]
    assert moments == sorted(moments)


def test_only_timestamps_that_are_only_read_become_instants():
    codec = Codec(hr_plan("sqlite").object("User"), "sqlite")
    columns = codec.obj.columns
    assert [columns[i] for i in RowForm(codec).stamps] == ["created_at", "updated_at"]


def test_a_timestamp_a_statement_binds_keeps_the_drivers_value():
    obj = hr_plan("sqlite").object("User")
    guarded = obj.update.model_copy(update={"params": (*obj.update.params, "updated_at")})  # type: ignore[union-attr]
    form = RowForm(Codec(obj.model_copy(update={"update": guarded}), "sqlite"))
    assert [obj.columns[i] for i in form.stamps] == ["created_at"]


# -- reading from the database -------------------------------------------------------------------------


async def test_the_driver_cursor_reads_what_sqlalchemy_reads(hr_database: HrDatabase):
    obj = hr_plan(hr_database.dialect).object("User")
    database = Database("hr", hr_database.url)
    try:
        for statement, params in ((obj.import_all, {}), (obj.import_page, {"after": 2, "limit": 3})):

            def both(tx, statement=statement, params=params):
                raw = [row for page in driver_pages(tx, statement, params, 2) for row in page]
                return raw, tx.rows(statement, params)

            raw, through_sqlalchemy = await database.run(both)
            assert raw == through_sqlalchemy and raw
            assert [tuple(map(type, r)) for r in raw] == [tuple(map(type, r)) for r in through_sqlalchemy]
    finally:
        database.dispose()


async def test_a_driver_error_is_raised_as_sqlalchemys(hr_database: HrDatabase):
    """As Tx raises it, in an import's snapshot read: a sync turns it into a SyncError, the
    gateway into a not-ready state. (Outside an import the same refusal is the database refusing
    the mapping's SQL: tests/scim/test_app_schema_drift.py.)"""
    missing = Statement(
        sql="SELECT employee_id FROM no_such_table WHERE employee_id > :after", params=("after",)
    )
    database = Database("hr", hr_database.url)
    try:
        with pytest.raises(exc.DBAPIError) as raised:
            await database.run(lambda tx: list(driver_pages(tx, missing, {"after": 0}, 10)), snapshot=True)
        assert "no_such_table" in str(raised.value.orig)
    finally:
        database.dispose()


@pytest.mark.postgres
async def test_a_connection_lost_mid_import_is_invalidated(hr_postgres: HrDatabase):
    """The import's pages go through Tx's connection handling: a connection cut between two pages
    is invalidated (never handed back to the pool), the import fails as an outage, and the next
    one connects afresh."""
    port = int(hr_postgres.url.rsplit(":", 1)[1].split("/", 1)[0])
    proxy = TcpProxy(port).start()
    obj = hr_plan("postgres").object("User")
    database = Database("hr", hr_postgres.url.replace(f":{port}/", f":{proxy.port}/"))
    codec = Codec(obj, database.dialect)
    invalidated: list[bool] = []

    def cut_after_the_first_page(tx):
        try:
            return import_all(
                tx, obj, codec, CacheState(codec), page_size=1, progress_every=10,
                on_page=lambda rows: proxy.set_mode("cut"),
            )  # fmt: skip
        except exc.DBAPIError:
            invalidated.append(tx.connection.invalidated)
            raise

    try:
        with pytest.raises(DatabaseUnavailableError):
            await database.run(cut_after_the_first_page)
        assert invalidated == [True]
        proxy.set_mode("pass")
        again = await database.run(
            partial(import_all, obj=obj, codec=codec, old=CacheState(codec), page_size=1, progress_every=10)
        )
        assert len(again.state.records) > 1
    finally:
        database.dispose()
        proxy.stop()


async def test_a_record_read_alone_equals_the_imported_one(hr_database: HrDatabase):
    """Read-through, writes and the import all keep a row the same way: same values, same version
    (so an ETag does not change when a record is read again), and the same rendering."""
    obj = hr_plan(hr_database.dialect).object("User")
    database = Database("hr", hr_database.url)
    codec = Codec(obj, database.dialect)
    try:
        imported = await database.run(
            partial(import_all, obj=obj, codec=codec, old=CacheState(codec), page_size=2, progress_every=10)
        )
        assert len(imported.state.records) > 3
        for key, record in imported.state.records.items():
            alone = await database.run(partial(fetch, obj=obj, codec=codec, anchor=key))
            assert alone is not None and alone.same(record) and alone.version == record.version
            assert codec.render(alone) == codec.render(record)
            created = codec.render(record)["meta"]["created"]
            assert created.endswith("Z") and datetime.fromisoformat(created).tzinfo is not None
    finally:
        database.dispose()


async def test_a_reimport_of_unchanged_rows_keeps_the_records(hr_database: HrDatabase):
    obj = hr_plan(hr_database.dialect).object("User")
    database = Database("hr", hr_database.url)
    codec = Codec(obj, database.dialect)
    run = partial(import_all, obj=obj, codec=codec, page_size=3, progress_every=10)
    try:
        first = await database.run(partial(run, old=CacheState(codec)))
        hr_database.execute("UPDATE employees SET title = 'Changed' WHERE employee_id = 2")
        second = await database.run(partial(run, old=first.state))
        assert (second.stats.added, second.stats.changed, second.stats.removed) == (0, 1, 0)
        assert all(second.state.records[k] is r for k, r in first.state.records.items() if k != 2)
        assert second.state.records[2].version != first.state.records[2].version
    finally:
        database.dispose()


def test_the_version_of_given_values_stays_what_it_was():
    """ETags a client holds stay valid across an upgrade: the values below are the versions the
    gateway gave before the version's text was made from the digest's hex digits."""
    assert Record(ROW).version == 'W/"06974bca06b48fef"'
    assert Record(ROW, (("g1", "g2"),)).version == 'W/"0f6d2f652e292ca7"'
    record = Record((1, "x", None))
    assert record.version == 'W/"0f2734c65462134e"' == record.version  # computed, then kept
    assert record._version == 0xF2734C65462134E


# -- whether a record holds another's version (Record.holds) ------------------------------------

#: pairs of values ``==`` equates that the version keeps apart (see the test above)
ALIKE = [
    (1, 1.0),
    (1, True),
    (0.0, -0.0),
    (Decimal("1.0"), Decimal("1.00")),
    (datetime(2025, 1, 1, 12, tzinfo=UTC), datetime(2025, 1, 1, 13, tzinfo=timezone(timedelta(hours=1)))),
]


@pytest.mark.parametrize(("cached", "read"), ALIKE)
def test_a_read_equal_to_the_cached_record_but_not_the_same_values_has_another_version(cached, read):
    """A PATCH's write requires the version of the cached record it was applied to, and checks
    it against the row its transaction reads. A row ``==`` the cached one that holds other
    values (another type, a float's sign, a Decimal's exponent, an instant's time zone) has
    another version: the write is refused, as an If-Match of the cached version is."""
    known = Record((*ROW, cached))
    fresh = Record((*ROW, read))
    assert fresh.row == known.row
    assert not fresh.holds(known)
    assert not fresh.matches(known.version)
    assert fresh.version == Record((*ROW, read)).version


@pytest.mark.parametrize(("cached", "read"), ALIKE)
def test_children_equal_to_the_cached_ones_but_not_the_same_values_have_another_version(cached, read):
    assert not Record(ROW, (("g1", read),)).holds(Record(ROW, (("g1", cached),)))
    assert not Record(ROW, ((("e@x", "work", read),),)).holds(Record(ROW, ((("e@x", "work", cached),),)))


def test_a_read_holding_exactly_the_cached_values_holds_its_version_without_a_hash():
    """... and a row that holds exactly the cached one's values holds its version: known without
    working out either (taken, when the cached one's is worked out already)."""
    children = (("g1", 2), (("e@x", "work", True),))
    known = Record(ROW, children)
    fresh = Record(ROW, children)
    assert fresh.holds(known)
    assert fresh._version is None and known._version is None  # neither worked out
    etag = known.version
    fresh = Record(ROW, children)
    assert fresh.holds(known)
    assert fresh._version == known._version and fresh.version == etag == Record(ROW, children).version


def test_a_read_holding_other_values_holds_the_version_only_if_the_hash_says_so():
    assert not Record((*ROW, "b")).holds(Record((*ROW, "a")))
    assert Record((2**70, "a")).holds(Record((2**70, "a")))
