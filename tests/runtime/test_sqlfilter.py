"""Filters answered by the database (mapper/runtime/sqlfilter/) against the cache's answers on the
same data, on SQLite, PostgreSQL and MariaDB: the HR example with hostile values added (quotes,
backslashes, LIKE wildcards, unicode, padding, empty strings), and the value-transform and
soft-delete recipes. Every filter is evaluated both ways; the database must give the same
resources, the same total and the same page, or refuse the filter (the cache then answers).
A list of filters must be translated, so a translation that refused everything would fail here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mapper.pipeline import load
from mapper.plan import Plan, Statement
from mapper.runtime.cache import CacheState
from mapper.runtime.codec import Codec
from mapper.runtime.database import Database, bootstrap_sqlite
from mapper.runtime.loading import import_all
from mapper.runtime.sqlfilter import FilterSql, Sort, Untranslatable
from mapper.scim import names
from mapper.scim.attributes import Resolver
from mapper.scim.errors import ScimError
from mapper.scim.filter import matches, parse_filter, validate
from mapper.scim.routes.search import sort as cache_sort
from mapper.scimfilter import And, AttrPath, Compare, Filter, Not, Or, Present, ValuePath
from tests.support.databases import HrDatabase, load_sql, reset_database

ROOT = Path(__file__).resolve().parents[2]
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

#: Values no filter may break: SQL quoting, LIKE wildcards and our LIKE escape, unicode, padding.
HOSTILE = [
    'O\'Brien "the" \\ back',
    "100% _done_",
    "a!b",
    "naïve café",
    "ÉCOLE Über",
    "日本語",
    "emoji 🎉",
    "  padded  ",
    "",
    "MiXeD case",
    "x_y",
    "50%",
]


@dataclass
class World:
    """An object type's plan, its database and the cache's records of it."""

    plan: Plan
    database: Database
    codec: Codec
    records: list[Any]
    resolver: Resolver
    sql: FilterSql

    def cache(self, node: Filter) -> list[str]:
        fold = self.codec.fold  # as the gateway's cache evaluates: strings fold as LOWER does
        return [
            r["id"] for r in map(self.codec.render, self.records) if matches(node, r, self.resolver, fold)
        ]

    def database_ids(
        self, node: Filter | None, sort: Sort | None = None, offset: int = 0, limit: int = 1000
    ) -> tuple[int, list[str]]:
        search = self.sql.query(node, self.resolver, sort=sort, offset=offset, limit=limit)
        total, records = self.database.run_sync(search.run)
        return total, [self.codec.render(r)["id"] for r in records]

    def check(self, node: Filter) -> bool:
        """Whether the database answered ``node`` (as the cache does); False when it refused."""
        try:
            validate(node, self.resolver)
            expected: list[str] | ScimError = self.cache(node)
        except ScimError as error:
            expected = error
        try:
            total, found = self.database_ids(node)
        except Untranslatable:
            return False
        assert not isinstance(expected, ScimError), (node, "the cache refused what the database answered")
        assert (total, found) == (len(expected), expected), node
        return True


def _world(plan: Plan, url: str, name: str = "User") -> Iterator[World]:
    obj = plan.object(name)
    database = Database(obj.source, url)
    codecs = {o.name: Codec(o, database.dialect) for o in plan.objects}
    for codec in codecs.values():
        codec.link(codecs)
    codec = codecs[name]
    full = database.run_sync(
        partial(import_all, obj=obj, codec=codec, old=CacheState(codec), page_size=500, progress_every=10**9)
    )
    try:
        yield World(
            plan,
            database,
            codec,
            list(full.state.records.values()),
            Resolver.for_object(obj, plan.schemas),
            FilterSql(obj, codec, database.dialect),
        )
    finally:
        database.dispose()


def _hostile_rows(db: HrDatabase) -> None:
    for i, value in enumerate(HOSTILE):
        db.execute(
            "INSERT INTO employees (login, external_id, title, display_name, given_name, active, created_at)"
            " VALUES (:login, :external, :title, :display, :given, :active, :created)",
            {
                "login": f"hostile.{i}",
                "external": value or None,
                "title": value,
                "display": value.upper(),
                "given": value if i % 2 else None,
                "active": i % 3 == 0,
                "created": _stamp(
                    db.dialect, datetime(2024, 1 + i % 12, 1 + i, 12, 30, 15, 250000, tzinfo=UTC)
                ),
            },
        )
        db.execute(  # the sample has employees 1..20: this one is 21 + i
            "INSERT INTO employee_emails (employee_id, email_type, address, is_primary)"
            " VALUES (:owner, :type, :address, :primary)",
            {
                "owner": 21 + i,
                "type": [None, "work", "WORK", "home", ""][i % 5],
                "address": value or "blank",
                "primary": i % 2 == 0,
            },
        )


def _stamp(dialect: str, when: datetime) -> Any:
    if dialect == "sqlite":
        return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if dialect == "mysql":
        return when.replace(tzinfo=None)
    return when


@pytest.fixture
def hr(hr_database: HrDatabase) -> Iterator[World]:
    _hostile_rows(hr_database)
    yield from _world(
        load(str(ROOT / "examples" / "hr" / "hr.map"), write=hr_database.dialect), hr_database.url
    )


#: Filters over the whole grammar that the database must answer (not refuse).
TRANSLATED = [
    'title co "engineer"',
    'title sw "Senior"',
    'title ew "ENGINEER"',
    'title eq "senior engineer"',
    'title ne "Senior Engineer"',
    'title gt "m"',
    'title ge "Research"',
    'title lt "D"',
    'title le "Head of Research"',
    "title pr",
    "not (title pr)",
    'title eq ""',
    'title co ""',
    "title eq null",
    "title ne null",
    'title co "%"',
    'title co "_"',
    'title co "!"',
    'title co "\\\\"',
    'title co "\'"',
    'title co "\\""',
    'title eq "  padded  "',
    'title eq "padded"',
    'title co "日本"',
    'title co "🎉"',
    'title sw "100%"',
    'title ew "%"',
    'externalId eq "hr-1001"',
    'externalId eq "HR-1001"',
    'externalId co "R-10"',
    'externalId sw "hr"',
    'externalId ew "01"',
    'externalId gt "hr-1010"',
    'externalId co "MiXeD"',
    'externalId co "mixed"',
    'userName co "."',
    'userName sw "HOSTILE"',
    'displayName co "mixed"',
    'name.givenName sw "A"',
    "name pr",
    "not (name pr)",
    'name[givenName eq "ada"]',
    "name[givenName pr and not (familyName pr)]",
    "active eq true",
    "active eq false",
    "active ne true",
    'active eq "true"',
    'active ne "false"',
    'emails[type eq "work" and value co "example"]',
    'emails[type eq "work"]',
    "emails[not (type pr)]",
    "emails[primary eq true]",
    "emails[primary eq false]",
    "emails[primary ne true]",
    'emails.value co "%"',
    'emails.value ew ".example"',
    'emails.type eq "home"',
    'emails.type ne "work"',
    "emails pr",
    "not (emails pr)",
    'emails eq "ada.lovelace@example.com"',
    "emails.primary eq true",
    'phoneNumbers[type eq "mobile"]',
    'phoneNumbers.value sw "+1 555 02"',
    'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "engineering"',
    'department co "ear"',
    'employeeNumber gt "E1015"',
    'employeeNumber eq "1001"',
    'manager.value eq "5"',
    'manager eq "5"',
    "manager pr",
    'id gt "5"',
    'id co "1"',
    'meta.created gt "2024-03-01T00:00:00Z"',
    'meta.created le "2024-05-04T12:30:15.250Z"',
    'meta.created eq "2024-05-04T12:30:15.25Z"',
    'meta.created ge "2024-05-04T14:30:15.250+02:00"',
    "meta.lastModified pr",
    'zzUnknown eq "x"',
    'zzUnknown ne "x"',
    "zzUnknown pr",
    'title co "engineer" and (active eq false or emails[type eq "home"])',
    'not (title co "engineer" or department eq "Finance") and userName pr',
    'title co "a" or title co "e" or title co "i" or title co "o"',
]

#: Filters the database refuses (the cache answers them, in a worker thread).
REFUSED = [
    'addresses[type eq "work" and locality eq "x"]',
    'addresses.locality co "x"',
    'meta.resourceType eq "User"',
    'schemas eq "urn:ietf:params:scim:schemas:core:2.0:User"',
    'meta.created co "2024"',
    'meta.created gt "not a date"',
    "employeeNumber eq 1001",  # a number with a string attribute: 400, the cache says so
    # valid RFC 3339, but in UTC outside years 1-9999 (was an OverflowError: 500 past search.SMALL)
    'meta.created gt "9999-12-31T23:59:59-05:00"',
    'meta.lastModified lt "0001-01-01T00:00:00+01:00"',
]


def test_the_database_answers_the_grammar_as_the_cache_does(hr: World) -> None:
    refused = [text for text in TRANSLATED if not hr.check(parse_filter(text))]
    if hr.database.dialect == "sqlite":  # LOWER() folds ASCII only there
        refused = [t for t in refused if t not in ('title co "日本"', 'title co "🎉"')]
    assert refused == []


def test_the_database_refuses_what_it_cannot_answer_exactly(hr: World) -> None:
    assert [text for text in REFUSED if hr.check(parse_filter(text))] == []


def test_non_ascii_case_folding(hr: World) -> None:
    node = parse_filter('title co "école"')
    if hr.database.dialect == "sqlite":
        assert not hr.check(node)  # SQLite's LOWER() folds ASCII only: the cache answers
    else:
        assert hr.check(node) and hr.cache(node)


#: Letters whose case the folds disagree on: Python's casefold ('ß' is 'ss', 'İ' is 'i̇'), its
#: lower (final sigma), and the databases' LOWER (ASCII only on SQLite, letter by letter on
#: PostgreSQL), with the filter values that tell them apart
CASE_TRAPS = [
    "Straße",
    "STRASSE",
    "strasse",
    "İstanbul",
    "ISTANBUL",
    "istanbul",
    "ıstanbul",
    "ΟΔΟΣ",
    "οδος",
    "οδοσ",
]
TRAP_FILTERS = [
    ("eq", "strasse"),
    ("eq", "STRASSE"),
    ("eq", "straße"),
    ("eq", "STRAẞE"),
    ("co", "ss"),
    ("co", "ß"),
    ("eq", "istanbul"),
    ("eq", "İSTANBUL"),
    ("eq", "ıstanbul"),
    ("eq", "ISTANBUL"),
    ("co", "İ"),
    ("co", "i"),
    ("eq", "ΟΔΟΣ"),
    ("eq", "οδος"),
    ("eq", "οδοσ"),
    ("co", "ς"),
    ("co", "Σ"),
]


@pytest.fixture
def trapped(hr_database: HrDatabase) -> Iterator[World]:
    for i, value in enumerate(CASE_TRAPS):
        hr_database.execute(
            "INSERT INTO employees (login, title) VALUES (:login, :title)",
            {"login": f"trap.{i}", "title": value},
        )
    yield from _world(
        load(str(ROOT / "examples" / "hr" / "hr.map"), write=hr_database.dialect), hr_database.url
    )


def _lowered_by_database(world: World, op: str, value: str) -> list[str]:
    """The ids of the employees whose title equals (``eq``) or contains (``co``) ``value`` as the
    database's own LOWER decides, asked in plain SQL (not through the filter translation)."""
    title, wanted = "LOWER(title)", "LOWER(:value)"
    if world.database.is_mysql:  # compared by code point, as the filter translation does there
        title, wanted = f"CAST({title} AS BINARY)", f"CAST({wanted} AS BINARY)"
    where = f"{title} = {wanted}" if op == "eq" else f"INSTR({title}, {wanted}) > 0"
    if world.database.dialect == "postgresql" and op == "co":
        where = f"STRPOS({title}, {wanted}) > 0"
    statement = Statement(
        sql=f"SELECT employee_id FROM employees WHERE {where} ORDER BY employee_id", params=("value",)
    )
    return [str(row[0]) for row in world.database.run_sync(lambda tx: tx.rows(statement, {"value": value}))]


def test_the_cache_folds_case_as_the_database_does(trapped: World, request: pytest.FixtureRequest) -> None:
    """A filter the cache answers finds what the database's LOWER finds, no more and no fewer:
    'STRASSE' is not 'Straße', 'İSTANBUL' is 'istanbul' on PostgreSQL (not on SQLite), and the
    final sigma is a letter of its own. (The cache used Python's casefold, so that a filter's
    answer depended on whether the cache or the database gave it.) Not on MariaDB: its LOWER
    lowers letter by letter but knows no capital sharp s, which keys.folding does not model."""
    if trapped.database.is_mysql:  # known, and held to it: this fails until keys.folding models it
        request.applymarker(
            pytest.mark.xfail(strict=True, reason="keys.folding models MariaDB's LOWER as str.lower")
        )
    answered = 0
    for op, value in TRAP_FILTERS:
        node = parse_filter(f'title {op} "{value}"')
        traps = [id for id in trapped.cache(node) if int(id) > 20]
        expected = [id for id in _lowered_by_database(trapped, op, value) if int(id) > 20]
        assert traps == expected, (op, value)
        answered += trapped.check(node)  # where the translation answers too, it agrees
    assert answered  # SQLite's translation refuses non-ASCII letters: the cache answers those


def test_pages_and_totals(hr: World) -> None:
    node = parse_filter("title pr or emails pr")
    everything = hr.cache(node)
    for offset, limit in [(0, 5), (5, 5), (30, 10), (len(everything) - 1, 10), (1000, 10)]:
        assert hr.database_ids(node, offset=offset, limit=limit) == (
            len(everything),
            everything[offset : offset + limit],
        )
    total, page = hr.database_ids(node, limit=0)
    assert (total, page) == (len(everything), [])
    total, page = hr.database_ids(None, limit=3)
    assert total == len(hr.records) and len(page) == 3


def _shouted(node: Filter) -> Filter:
    """``node`` with every name of its paths in upper case."""
    if isinstance(node, Compare | Present):
        p = node.path
        path = AttrPath(p.urn and p.urn.upper(), p.attribute.upper(), p.sub and p.sub.upper())
        return Compare(path, node.op, node.value) if isinstance(node, Compare) else Present(path)
    if isinstance(node, And | Or):
        return type(node)(_shouted(node.left), _shouted(node.right))
    if isinstance(node, Not):
        return Not(_shouted(node.inner))
    assert isinstance(node, ValuePath)
    return ValuePath(AttrPath(None, node.path.attribute.upper()), _shouted(node.filter))


def test_names_in_any_case_reach_the_database_canonical(hr: World) -> None:
    """The gateway makes a filter's names canonical at the edge (:func:`names.filter_paths`): a
    shouted filter becomes the very filter its canonical spelling does, which the database
    answers as the cache does (one statement for both: they have one fingerprint)."""
    known = [t for t in TRANSLATED if "zzUnknown" not in t]
    for text in known:
        canonical = names.filter_paths(parse_filter(text), hr.resolver)
        assert names.filter_paths(_shouted(parse_filter(text)), hr.resolver) == canonical, text
    refused = [t for t in known if not hr.check(names.filter_paths(_shouted(parse_filter(t)), hr.resolver))]
    if hr.database.dialect == "sqlite":  # LOWER() folds ASCII only there
        refused = [t for t in refused if t not in ('title co "日本"', 'title co "🎉"')]
    assert refused == []
    shouted = names.filter_paths(_shouted(parse_filter('NAME.GIVENNAME sw "A"')), hr.resolver)
    assert hr.check(shouted) and hr.cache(shouted) == hr.cache(parse_filter('name.givenName sw "a"'))


@pytest.mark.parametrize("path", ["employeeNumber", "externalId", "active", "title", "name.givenName"])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_by(hr: World, path: str, descending: bool) -> None:
    rendered = [hr.codec.render(r) for r in hr.records]
    expected = [r["id"] for r in cache_sort(rendered, path, descending, hr.resolver)]
    total, found = hr.database_ids(None, sort=Sort(AttrPath.parse_token(path), descending))
    assert (total, found) == (len(expected), expected)
    shouted = names.attr_path(path.upper(), hr.resolver)  # sortBy as the gateway passes it on
    assert hr.database_ids(None, sort=Sort(shouted, descending)) == (total, found)
    assert [r["id"] for r in cache_sort(rendered, shouted, descending, hr.resolver)] == expected


# ------------------------------------------------------------------------------ recipes

RECIPES: dict[str, tuple[str, list[str], list[str]]] = {
    # recipe: (insert, its rows' values, filters the database must answer)
    "inverted_flag": (
        "INSERT INTO accounts (login, title, mail, locked) VALUES (:login, :title, :mail, :flag)",
        ["true", "false"],
        ["active eq true", "active eq false", "active ne true", 'active eq "False"', "active pr"],
    ),
    "status_enum": (
        "INSERT INTO staff (login, title, mail, status) VALUES (:login, :title, :mail, :flag)",
        ["A", "T", "D"],
        ["active eq true", "active eq false", "active ne false", "not (active eq true)", "active pr"],
    ),
    "soft_delete": (
        "INSERT INTO members (login, title, mail, active, deleted_at)"
        " VALUES (:login, :title, :mail, :flag, :gone)",
        ["true", "false"],
        ["active eq true", "active eq false", 'title co "e"', "title pr", 'userName sw "u"'],
    ),
}


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ]
)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """(plan dialect, URL) of an empty scratch database."""
    if request.param == "sqlite":
        return "sqlite", f"sqlite:///{tmp_path / 'recipe.db'}"
    url = request.getfixturevalue(f"{request.param}_url")
    reset_database(url)
    return ("postgres" if request.param == "postgres" else "mysql"), url


@pytest.mark.parametrize("recipe", sorted(RECIPES))
def test_recipes_transforms_and_tombstones(recipe: str, target: tuple[str, str]) -> None:
    dialect, url = target
    schema = (
        ROOT
        / "examples"
        / recipe
        / {"sqlite": "schema.sql", "postgres": "schema.postgres.sql", "mysql": "schema.mysql.sql"}[dialect]
    )
    if dialect == "sqlite":
        bootstrap_sqlite(url, [schema])
    else:
        load_sql(url, [schema])
    insert, flags, texts = RECIPES[recipe]
    db = HrDatabase(recipe, dialect, url)
    for i in range(12):
        flag: Any = flags[i % len(flags)]
        if flag in ("true", "false"):
            flag = flag == "true"
        gone = _stamp(dialect, datetime(2025, 1, 1, tzinfo=UTC)) if i % 4 == 3 else None
        db.execute(
            insert,
            {
                "login": f"user{i}",
                "title": HOSTILE[i % len(HOSTILE)],
                "mail": f"u{i}@x.test",
                "flag": flag,
                "gone": gone,
            },
        )
    plan = load(str(ROOT / "mappings" / f"{recipe}.map"), write=dialect)
    for world in _world(plan, url):
        assert [t for t in texts if not world.check(parse_filter(t))] == []
        if recipe == "soft_delete":  # tombstoned rows are never returned
            assert world.database_ids(None)[0] == len(world.records) == 9
        if recipe == "status_enum":  # 'D' is the tombstone
            assert world.database_ids(None)[0] == len(world.records) == 8


# ------------------------------------------------------------------------------ generated filters

TEXT_PATHS = [
    AttrPath(None, "title"),
    AttrPath(None, "userName"),
    AttrPath(None, "displayName"),
    AttrPath(None, "externalId"),
    AttrPath(None, "name", "givenName"),
    AttrPath(None, "emails", "value"),
    AttrPath(None, "emails", "type"),
    AttrPath(None, "phoneNumbers", "type"),
    AttrPath(ENTERPRISE, "department"),
    AttrPath(None, "employeeNumber"),
    AttrPath(None, "manager", "value"),
    AttrPath(None, "id"),
    AttrPath(None, "zzUnknown"),
]
OPS = ("eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le")
ASCII_HOSTILE = [v for v in HOSTILE if v.isascii()]
texts = st.one_of(
    st.sampled_from(ASCII_HOSTILE + ["engineer", "ENG", "e", "a", "hr-10", "work", "Research", "5", "1"]),
    st.sampled_from(ASCII_HOSTILE).flatmap(
        lambda v: st.integers(0, max(len(v) - 1, 0)).map(lambda i: v[i : i + 2])
    ),
    st.text(alphabet="aAeE%_!\\'\" .-5", max_size=3),
)


@st.composite
def leaf(draw: st.DrawFn) -> Filter:
    kind = draw(st.sampled_from(["text", "text", "text", "bool", "date", "present", "null", "number"]))
    if kind == "bool":
        return Compare(AttrPath(None, "active"), draw(st.sampled_from(["eq", "ne"])), draw(st.booleans()))
    if kind == "date":
        when = datetime(
            2024, draw(st.integers(1, 12)), draw(st.integers(1, 13)), 12, 30, 15, 250000, tzinfo=UTC
        )
        return Compare(
            AttrPath(None, "meta", "created"),
            draw(st.sampled_from(["eq", "ne", "gt", "ge", "lt", "le"])),
            when.isoformat(),
        )
    if kind == "present":
        return Present(draw(st.sampled_from([*TEXT_PATHS, AttrPath(None, "emails"), AttrPath(None, "name")])))
    if kind == "null":
        return Compare(draw(st.sampled_from(TEXT_PATHS)), draw(st.sampled_from(["eq", "ne"])), None)
    if kind == "number":  # digits, quoted: a number itself is 400 with a string attribute
        return Compare(
            draw(st.sampled_from(TEXT_PATHS)), draw(st.sampled_from(OPS)), str(draw(st.integers(0, 20)))
        )
    return Compare(draw(st.sampled_from(TEXT_PATHS)), draw(st.sampled_from(OPS)), draw(texts))


@st.composite
def scoped(draw: st.DrawFn) -> Filter:
    sub = draw(st.sampled_from(["value", "type", "primary", "display"]))
    if draw(st.booleans()):
        return Present(AttrPath(None, sub))
    if sub == "primary":
        return Compare(AttrPath(None, sub), draw(st.sampled_from(["eq", "ne"])), draw(st.booleans()))
    return Compare(AttrPath(None, sub), draw(st.sampled_from(OPS)), draw(texts))


def combined(inner: st.SearchStrategy[Filter]) -> st.SearchStrategy[Filter]:
    return st.recursive(
        inner,
        lambda more: st.one_of(st.builds(And, more, more), st.builds(Or, more, more), st.builds(Not, more)),
        max_leaves=5,
    )


filters = combined(
    st.one_of(leaf(), st.builds(ValuePath, st.just(AttrPath(None, "emails")), combined(scoped())))
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(node=filters)
def test_generated_filters_agree(hr: World, node: Filter) -> None:
    hr.check(node)
