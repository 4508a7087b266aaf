"""Records and values: rendering, coercion, watermarks, bootstrap. No server needed."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import orjson
import pytest

from mapper.plan import PlanAttribute, PlanSource
from mapper.runtime.codec import Codec
from mapper.runtime.database import bootstrap_sqlite, engine_url, redact, resolve_url
from mapper.runtime.errors import InvalidValueError, SourceUrlError
from mapper.runtime.loading import Watermark, rewind
from mapper.runtime.record import Record
from mapper.runtime.rendering import format_datetime, render_item, to_scim
from mapper.runtime.store import etag_matches
from mapper.runtime.values import coerce
from tests.support.databases import HR
from tests.support.hr import hr_plan


def attr(type: str = "string", path: str = "x") -> PlanAttribute:
    return PlanAttribute(path=path, schema_urn="", attribute=path, column=path, type=type)  # type: ignore[arg-type]


def test_format_datetime_is_rfc3339_utc():
    assert format_datetime("2026-11-26T15:02:33.308Z") == "2026-11-26T15:02:33.308Z"
    assert format_datetime(datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02T03:04:05Z"
    plus2 = timezone(timedelta(hours=2))
    assert (
        format_datetime(datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=plus2)) == "2026-01-02T01:04:05.123456Z"
    )
    assert format_datetime("2026-01-02 03:04:05") == "2026-01-02T03:04:05Z"
    assert format_datetime("0000-00-00 00:00:00") is None  # MySQL's zero date: no value


@pytest.mark.parametrize(
    ("kind", "raw", "expected"),
    [
        ("boolean", True, True),
        ("boolean", "False", False),
        ("boolean", "true", True),
        ("integer", "42", 42),
        ("integer", 7.0, 7),
        ("decimal", "1.50", Decimal("1.50")),
        ("string", 1234, "1234"),
        ("reference", 12, "12"),
    ],
)
def test_coerce_accepts(kind, raw, expected):
    assert coerce(attr(kind), raw, "postgres") == expected


@pytest.mark.parametrize(
    ("kind", "raw"), [("boolean", "yes please"), ("integer", "4x"), ("string", {"a": 1})]
)
def test_coerce_rejects_without_echoing_the_value(kind, raw):
    with pytest.raises(InvalidValueError) as raised:
        coerce(attr(kind, "secretThing"), raw, "sqlite")
    assert raised.value.path == "secretThing" and str(raw) not in str(raised.value)


def test_coerce_datetime_per_dialect():
    a = attr("dateTime")
    assert coerce(a, "2026-01-02T03:04:05+01:00", "sqlite") == "2026-01-02T02:04:05.000Z"
    assert coerce(a, "2026-01-02T03:04:05Z", "mysql") == datetime(2026, 1, 2, 3, 4, 5)
    assert coerce(a, "2026-01-02T03:04:05Z", "postgres") == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_to_scim_values():
    assert to_scim("boolean", 0) is False and to_scim("boolean", "1") is True
    assert to_scim("decimal", Decimal("2.00")) == 2 and to_scim("decimal", Decimal("2.5")) == 2.5
    assert to_scim("string", 5) == "5"


def test_rewind_keeps_the_watermark_format():
    assert rewind("2026-11-26T15:02:33.308Z", timedelta(seconds=5)) == "2026-11-26T15:02:28.308Z"
    assert rewind("2026-11-26 15:02:33", timedelta(seconds=5)) == "2026-11-26 15:02:28"
    assert rewind(datetime(2026, 1, 1, 0, 0, 5), timedelta(seconds=5)) == datetime(2026, 1, 1)
    assert rewind(1_700_000_000, timedelta(seconds=5)) == 1_699_999_995  # seconds since the epoch
    assert rewind(Decimal(41), timedelta(seconds=5)) == Decimal(41)


def test_watermark_rewinds_until_it_has_settled():
    now = [100.0]
    mark = Watermark(timedelta(seconds=5), clock=lambda: now[0])
    mark.reset("2026-01-01T00:00:10.000Z", 100.0)
    since, started, rewound = mark.since()
    assert (since, rewound) == ("2026-01-01T00:00:05.000Z", True)
    mark.done(mark.value, started, rewound)  # read too soon after the mark moved: not settled
    now[0] = 106.0
    since, started, rewound = mark.since()
    assert rewound
    mark.done(mark.value, started, rewound)  # a rewound read 5 s after: settled
    now[0] = 140.0
    assert mark.since()[::2] == ("2026-01-01T00:00:10.000Z", False)
    mark.done("2026-01-01T00:00:40.000Z", 140.0, False)  # moved: rewind again
    assert mark.since()[::2] == ("2026-01-01T00:00:35.000Z", True)


def test_etag_matching():
    assert etag_matches('W/"abc"', 'W/"abc"') and etag_matches('"abc"', 'W/"abc"')
    assert etag_matches('W/"x", W/"abc"', 'W/"abc"') and etag_matches("*", 'W/"abc"')
    assert not etag_matches('W/"abd"', 'W/"abc"')


def test_codec_reads_resources_leniently():
    codec = Codec(hr_plan("sqlite").object("User"), "sqlite")
    values = codec.values(
        {
            "userName": "Mixed.Case",
            "addresses": [
                {"locality": "Home Town", "type": "home"},
                {"locality": "Work Town", "type": "Work"},
            ],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": "12"},
        },
        None,
    )
    assert values["login"] == "Mixed.Case" and values["locality"] == "Work Town"
    assert values["manager_id"] == "12" and values["active"] is True and values["title"] is None
    untyped = codec.values({"userName": "u", "addresses": [{"region": "North", "primary": True}]}, None)
    assert untyped["region"] == "North"  # an untyped primary item stands in for type "work"


ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        ({"userName": "plain", "title": "a\ttab"}, {"login": "plain", "title": "a\ttab"}),
        ({"userName": "Zoë", "title": "Zoë"}, {"login": "Zoë", "title": "Zoë"}),  # not ASCII
        ({"userName": " padded ", "title": "  "}, {"login": " padded ", "title": "  "}),
        ({"userName": "u", "title": None, "nickName": 7}, {"title": None, "nick_name": "7"}),
        ({"userName": "u", "name": {"givenName": "G"}}, {"given_name": "G", "family_name": None}),
        ({"userName": "u", "name": None, ENTERPRISE: None}, {"given_name": None, "department": None}),
        ({"userName": "u", ENTERPRISE: {"manager": "12", "department": "D"}}, {"manager_id": "12"}),
        ({"userName": "u", ENTERPRISE: {"manager": 12}}, {"manager_id": "12"}),  # a bare id
        ({"userName": "u", ENTERPRISE: {"manager": {"value": 12}}}, {"manager_id": "12"}),
        ({"userName": "u", "active": "false"}, {"active": False}),
    ],
)
def test_codec_binds_each_attribute_as_the_client_sent_it(resource, expected):
    """What a create binds, attribute by attribute: text as sent (a tab where control characters
    are allowed, text that is not ASCII, spaces), other types coerced, absent and null as None."""
    values = Codec(hr_plan("sqlite").object("User"), "sqlite").values(resource, None)
    assert {k: values[k] for k in expected} == expected


@pytest.mark.parametrize(
    ("resource", "path", "problem"),
    [
        ({"userName": "   "}, "userName", "is required"),
        ({"userName": ""}, "userName", "is required"),
        ({"title": "t"}, "userName", "is required"),
        ({"userName": None}, "userName", "is required"),
        ({"userName": "tab\there"}, "userName", "control characters"),
        ({"userName": "u", "title": "nul\x00"}, "title", "NUL"),
        ({"userName": "u", "name": "Given Family"}, "name", "expected an object"),
        ({"userName": "u", "title": ["a"]}, "title", "expected a string"),
        ({"userName": "u", ENTERPRISE: {"department": {"x": 1}}}, "department", "expected"),
    ],
)
def test_codec_refuses_what_an_attribute_cannot_take(resource, path, problem):
    with pytest.raises(InvalidValueError) as refused:
        Codec(hr_plan("sqlite").object("User"), "sqlite").values(resource, None)
    assert path in refused.value.path and problem in str(refused.value)


def test_a_replace_writes_back_a_stored_value_the_gateway_would_refuse():
    """A login with a tab, stored by another application, is written back as stored when the
    resource sends it unchanged; an absent ``active`` keeps the stored one."""
    codec = Codec(hr_plan("sqlite").object("User"), "sqlite")
    row = [None] * len(codec.obj.columns)
    row[codec.obj.columns.index("login")] = "old\tlogin"
    row[codec.obj.columns.index("active")] = 0
    values = codec.values({"userName": "old\tlogin", "title": "New"}, tuple(row))
    assert values["login"] == "old\tlogin" and values["title"] == "New" and values["active"] is False
    with pytest.raises(InvalidValueError):
        codec.values({"userName": "new\tlogin"}, tuple(row))


def test_codec_reads_every_sub_attribute_of_child_table_items():
    codec = Codec(hr_plan("sqlite").object("User"), "sqlite")
    emails = codec.multis[0]
    assert emails.extra == ("type", "primary")
    items = codec.items(
        emails,
        {
            "emails": [
                {"value": "w@example.com", "type": "work", "primary": "True"},
                {"value": "h@example.com", "type": "home"},
                {"value": "w@example.com", "type": "work"},  # the same item again: kept once
                "bare@example.com",
            ]
        },
    )
    assert items == [
        ("w@example.com", ("work", True)),
        ("h@example.com", ("home", False)),
        ("bare@example.com", (None, False)),
    ]


def test_a_multis_diff_removes_by_what_its_remove_binds_and_adds_back_what_that_took():
    emails = Codec(hr_plan("sqlite").object("User"), "sqlite").multis[0]
    have = [("w@example.com", "work", 1), ("h@example.com", "home", None)]  # children as read
    assert emails.diff(have, [("h@example.com", "home", False), ("w@example.com", "work", True)]) == ([], [])
    # the remove binds :value alone: moving w@ to "home" removes its row and adds it back
    removes, adds = emails.diff(have, [("w@example.com", "home", True), ("h@example.com", "home", False)])
    assert removes == [{"value": "w@example.com"}]
    assert adds == [{"value": "w@example.com", "type": "home", "primary": True}]
    removes, adds = emails.diff(have, [])
    assert removes == [{"value": "w@example.com"}, {"value": "h@example.com"}] and adds == []


@pytest.mark.parametrize(
    ("emails", "path"),
    [
        ([{"value": "a@x", "primary": True}, {"value": "b@x", "primary": True}], "emails.primary"),
        ([{"value": "a@x", "type": 7}], "emails.type"),
        ([{"value": "a@x", "primary": "maybe"}], "emails.primary"),
        ([{"value": ""}], "emails.value"),
        ([{"value": "a@x", "display": "A"}], "emails.display"),  # no column keeps it: never dropped
        ({"value": "a@x"}, "emails"),
    ],
)
def test_child_table_items_that_cannot_be_stored_are_refused(emails, path):
    codec = Codec(hr_plan("sqlite").object("User"), "sqlite")
    with pytest.raises(InvalidValueError) as raised:
        codec.items(codec.multis[0], {"emails": emails})
    assert raised.value.path == path


def test_record_version_is_stable_and_sensitive_to_changes():
    assert Record((1, "a")).version == Record((1, "a")).version
    assert Record((1, "a")).version != Record((1, "b")).version
    assert Record((1, "a"), ((2, 3),)).version != Record((1, "a"), ((2,),)).version


def test_bootstrap_sqlite_creates_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'sub' / 'hr.db'}"
    assert bootstrap_sqlite(url, [HR / "schema.sql", HR / "sample-data.sql"]) is True
    assert bootstrap_sqlite(url, [HR / "schema.sql"]) is False  # exists: untouched
    connection = sqlite3.connect(tmp_path / "sub" / "hr.db")
    assert connection.execute("SELECT COUNT(*) FROM employees").fetchone() == (20,)
    connection.close()


def test_bootstrap_sqlite_removes_a_half_built_file(tmp_path):
    bad = tmp_path / "bad.sql"
    bad.write_text("CREATE TABLE t (a int); THIS IS NOT SQL;")
    with pytest.raises(sqlite3.Error):
        bootstrap_sqlite(f"sqlite:///{tmp_path / 'x.db'}", [bad])
    assert not (tmp_path / "x.db").exists()


def test_source_urls_come_from_the_environment_then_the_default():
    source = PlanSource(name="hr", dialect="sqlite", url_env="HR_URL", url_default=None)
    assert resolve_url(source, {"HR_URL": "sqlite:///x.db"}) == "sqlite:///x.db"
    assert resolve_url(source.model_copy(update={"url_default": "sqlite:///d.db"}), {}) == "sqlite:///d.db"
    with pytest.raises(SourceUrlError, match="set HR_URL"):
        resolve_url(source, {})


def test_urls():
    assert engine_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    assert engine_url("mysql://u@h/db").drivername == "mysql+pymysql"
    assert "hunter2" not in redact("postgresql://u:hunter2@h/db")


def _render_by_the_row(codec: Codec, record: Record) -> dict:
    """What a record renders as, by the plain loop over the full row that the per-shape
    renderers are compiled from: every step, null columns skipped."""
    row = record.row
    resource = {"schemas": [codec.obj.schema_urn], "id": codec.id_of(row[codec.anchor_index])}
    meta = {"resourceType": codec.obj.name}
    for index, text, convert, key, place in codec._steps:
        value = row[index]
        if value is None:
            continue
        if text is None or type(value) is not str:
            value = convert(value)
        if place is None:
            resource[key] = value
        else:
            place(resource, meta, value)
    for multi_slot, items in zip(codec.multis, record.children, strict=False):
        if items:
            resource[multi_slot.multi.attribute] = [render_item(multi_slot, item) for item in items]
    meta["version"] = record.version
    resource["meta"] = meta
    return resource


FULL_USER = (7, "ada", "x-7", "Ada", "Lovelace", "Ada King", "Ada", "ada", "Countess", "1 Street", "London")
FULL_USER += ("LDN", "N1", "GB", "Maths", 1815, 3, 1, 1735689610123000, "2025-01-01 00:00:10")  # type: ignore[assignment]


def test_the_renderer_of_each_shape_renders_what_the_full_row_does():
    """Compiled per shape (mapper.runtime.rendering.ShapeRenderers): the same keys in the same
    order and the same values, for any set of NULL columns, text columns holding non-text values,
    children, and the shape made past MAX_SHAPES, which keeps every column, NULLs too."""
    import random

    from mapper.runtime.record import _make_shape

    codec = Codec(hr_plan("sqlite").object("User"), "sqlite")
    assert len(FULL_USER) == len(codec.obj.columns)
    shuffle = random.Random(15)
    children = ((("a@x", "work", 1), ("b@x", None, None)), (("555",),))
    for _ in range(200):
        row = tuple(v if shuffle.random() < 0.6 else None for v in FULL_USER)
        row = (7, *row[1:])
        kids = children if shuffle.random() < 0.5 else ()
        record = Record(row, kids)
        rendered = codec.render(record)
        assert list(rendered.items()) == list(_render_by_the_row(codec, record).items())
        assert orjson.dumps(rendered) == orjson.dumps(_render_by_the_row(codec, record))
        every_column = _make_shape(len(row), tuple(range(len(row))), bool(kids))
        whole = every_column.make(row, kids) if kids else every_column.make(row)
        assert orjson.dumps(codec.render(whole)) == orjson.dumps(rendered)


# -- a replace binds an unchanged text value as stored (Codec.values' kept text) ----------------

KEPT_MAP = """
source s {
  dialect sqlite
  url env("KEPT_DATABASE_URL", "sqlite:///kept.db")
}

schema ext "urn:example:scim:schemas:extension:kept:2.0:User" {
  born  dateTime
  score decimal
  level integer
  code  binary
}

object User from s {
  anchor id generated by database
  query userName
  import sql\"\"\"
    SELECT id, login, title, nick, blank, kind, flag, born, score, level, given, family, dept,
           mgr, street, code, formatted
    FROM people
  \"\"\"
  attributes {
    userName                                <-> login   required unique
    title                                   <-> title
    nickName                                <-> nick
    displayName                             <-> blank   null ""
    userType                                <-> kind    map { "a": "b", "b": "a" } else error
    active                                  <-> flag    boolean
    ext.born                                <-> born
    ext.score                               <-> score
    ext.level                               <-> level
    name.givenName                          <-> given
    name.familyName                         <-> family
    enterprise.department                   <-> dept
    enterprise.manager                      <-> mgr     reference User
    addresses[type eq "work"].streetAddress <-> street
    ext.code                                <-> code
    name.formatted                          <-> formatted required
  }

  write table people
}
"""

#: stored values, column by column, that a render and a read do not give back as they were (a
#: value map swapping codes, a flag stored as 1, a dateTime and a day as text, a float, integer
#: text, a blank required value, ``null ""``'s empty text), beside ones that do (CHAR padding,
#: text the gateway would refuse, non-ASCII, None), and values of the wrong type
KEPT_STORED = {
    "login": ["u1", "  ", "\u3000", "tab\there", "Zoë", 7],
    "title": ["Title", "pad   ", "nul\x00", "tab\t", "", None, 42, 1.5, True],
    "nick": ["n", None, "ä"],
    "blank": ["", "shown", None],
    "kind": ["a", "b", "c", None],
    "flag": [1, 0, "1", "true", None],
    "born": ["2024-01-02T03:04:05Z", "2024-01-02 03:04:05", "2024-01-02", None],
    "score": [1.5, 2, "3.25", "nan", None],
    "level": [7, "007", 7.0, None],
    "given": ["G", "", None, "x\x01"],
    "family": ["F", None],
    "dept": ["D", "D  ", None],
    "mgr": [3, "3", None],
    "street": ["1 Main St", None],
    "code": ["YWJj", b"abc", None],
    "formatted": ["G F", "  ", "\u3000", "tab\t", "", None],
}


def _kept_codecs() -> tuple[Codec, Codec]:
    """The codec of ``KEPT_MAP``'s User, and one whose ``values`` takes every attribute through
    the per-attribute code (its kept text recognised nowhere): the behaviour before the shortcut."""
    from mapper.pipeline import load_text

    loaded = load_text(KEPT_MAP, "kept.map", write="sqlite")
    assert loaded.plan is not None, loaded.diagnostics
    obj = loaded.plan.object("User")
    codec, full = Codec(obj, "sqlite"), Codec(obj, "sqlite")
    full._writes = tuple((*entry[:10], None, entry[11]) for entry in full._writes)
    return codec, full


def _outcome(codec: Codec, resource: dict, row: tuple) -> object:
    """What ``values`` gives, each value with its type, or the refusal it raises."""
    try:
        values = codec.values(resource, row)
    except InvalidValueError as error:
        return ("refused", error.path, str(error))
    return {k: (type(v), v) for k, v in values.items()}


def _kept_rows(codec: Codec) -> list[tuple]:
    """Rows of ``KEPT_STORED``: a base row, then that row with one column's value changed."""
    columns = codec.obj.columns
    base = [None] * len(columns)
    for column, stored in KEPT_STORED.items():
        base[columns.index(column)] = stored[0]
    base[columns.index("id")] = 1
    rows = [tuple(base)]
    for column, stored in KEPT_STORED.items():
        for value in stored[1:]:
            row = list(base)
            row[columns.index(column)] = value
            rows.append(tuple(row))
    return rows


def test_kept_text_is_recognised_only_where_it_reads_back_as_stored():
    """The attributes whose unchanged values a replace binds as stored, without the per-attribute
    steps: plain text ones, neither required nor the query attribute, without a transform,
    ``null ""``, reference or a type the value is converted to; a sub-attribute of an object
    too, but no item of a multi-valued one."""
    codec, _ = _kept_codecs()
    kept = {entry[0].path for entry in codec._writes if entry[10] is not None}
    assert kept == {"title", "nickName", "name.givenName", "name.familyName", "department", "code"}


def test_a_replace_binds_what_it_bound_before_the_kept_text_shortcut():
    """For every stored row of ``KEPT_STORED`` (hostile values among them) and every resource a
    replace may give (the row as rendered, as a PATCH applies to it; that render with each
    attribute given back as its stored value, or as a changed one), ``values`` binds the very
    values, of the very types, or refuses with the very error, that the per-attribute code
    does: a transform's code, a flag stored as 1, a dateTime, a float, integer text, a blank
    required value or ``null ""``'s empty text are never taken as stored. Fails when any of
    those is recognised as kept text. The attributes the no-op check then skips
    (``Change.compared``) are those bound as the row's very text or None."""
    codec, full = _kept_codecs()
    compared = 0
    for row in _kept_rows(codec):
        rendered = codec.render(Record(row))
        resources = [rendered]
        for slot in codec.slots:
            if not slot.writable or slot.index is None:
                continue
            for given in (row[slot.index], "changed", None):
                resource = orjson.loads(orjson.dumps(rendered))
                container = resource if slot.extension is None else resource.setdefault(slot.extension, {})
                attr = slot.attr
                if attr.multi_valued:
                    container[attr.attribute] = [{"type": "work", attr.sub_attribute: given}]
                elif attr.sub_attribute:
                    inner = container.get(attr.attribute)
                    container[attr.attribute] = {
                        **(inner if isinstance(inner, dict) else {}),
                        attr.sub_attribute: given,
                    }
                else:
                    container[attr.attribute] = given
                resources.append(resource)
        for resource in resources:
            assert _outcome(codec, resource, row) == _outcome(full, resource, row), (row, resource)
            compared += 1
            try:
                change = codec.change(resource, row)
            except InvalidValueError:
                continue
            # what the no-op check then leaves out holds the row's very value, text or None, so
            # it compares as the same whatever the check (StoreChecks._unchanged)
            assert change.compared is not None
            for slot, _, index in set(codec.compared) - set(change.compared):
                value = change.values[slot.param]
                assert value is row[index] and (value is None or type(value) is str)
    assert compared > 1000
