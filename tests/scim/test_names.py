"""Canonical names at the edge (:mod:`mapper.scim.names`): a body sent in any case reaches the
store as if spelled as the schemas spell it."""

from __future__ import annotations

import gc
import weakref

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mapper.runtime.codec import Codec
from mapper.scim import filtershape, names
from mapper.scim.attributes import MAX_PATHS, Resolver
from mapper.scim.errors import ScimError
from mapper.scim.filter import parse_filter
from mapper.scim.paths import AttributePath
from mapper.scimfilter import And, AttrPath, Compare, Filter, Not, Or, Present, ValuePath
from tests.support.hr import hr_plan
from tests.support.scim import ENTERPRISE

PLAN = hr_plan("sqlite")
USERS = Resolver.for_object(PLAN.object("User"), PLAN.schemas)


def test_a_body_in_any_case_takes_the_canonical_names() -> None:
    body = {
        "USERNAME": "Mixed.Case",
        "Name": {"GivenName": "Ada", "familyname": "L"},
        "EMAILS": [{"Value": "w@example.com", "TYPE": "work", "Primary": "True"}],
        ENTERPRISE.upper(): {"Department": "bob", "Manager": {"Value": "SuzzyQ"}},
        "nickname2": "unknown names stay as sent",
    }
    assert names.resource(body, USERS) == {
        "userName": "Mixed.Case",
        "name": {"givenName": "Ada", "familyName": "L"},
        "emails": [{"value": "w@example.com", "type": "work", "primary": "True"}],
        ENTERPRISE: {"department": "bob", "manager": {"value": "SuzzyQ"}},
        "nickname2": "unknown names stay as sent",
    }


def test_one_name_in_two_cases_is_ambiguous() -> None:
    """It used to keep the exact spelling, else the first: a value the client also sent was lost."""
    with pytest.raises(ScimError, match="'USERNAME' and 'userName' name the same attribute"):
        names.resource({"USERNAME": "a", "userName": "b", "username": "c"}, USERS)
    with pytest.raises(ScimError, match="'Value' and 'value' in 'manager' name the same attribute"):
        names.resource({ENTERPRISE: {"manager": {"Value": "1", "value": "2"}}}, USERS)
    assert names.resource({"nick": "a", "NICK": "b"}, USERS) == {"nick": "a", "NICK": "b"}  # unknown: ignored


BODY = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
    "userName": "bjensen",
    "name": {"givenName": "Barbara", "familyName": "Jensen"},
    "emails": [{"type": "work", "value": "b@example.com"}, {"value": "h@example.com", "primary": True}],
    ENTERPRISE: {"department": "Sales", "manager": {"value": "7"}},
    "active": True,
    "nickname2": "unknown",
}


def _flipped(value: object, flips: st.DataObject) -> object:
    """``value`` with each object key in a case the test draws."""
    if isinstance(value, list):
        return [_flipped(item, flips) for item in value]
    if not isinstance(value, dict):
        return value
    spell = st.sampled_from([str.upper, str.lower, str.title, str])
    return {flips.draw(spell)(key): _flipped(inner, flips) for key, inner in value.items()}


@given(flips=st.data())
def test_a_spelling_remembered_gives_what_resolving_it_gives(flips: st.DataObject) -> None:
    """What each spelling becomes is remembered on the type's resolver: a body in any case, sent
    to a resolver that has seen others or none, takes the names the schemas give it."""
    body = _flipped(BODY, flips)
    assert isinstance(body, dict)
    expected = names._resource(body, Resolver.for_object(PLAN.object("User"), PLAN.schemas))
    assert names.resource(body, USERS) == expected == names.resource(body, USERS)
    assert names.resource(body, Resolver.for_object(PLAN.object("User"), PLAN.schemas)) == expected
    assert expected["name"] == BODY["name"] and expected[ENTERPRISE] == BODY[ENTERPRISE]


def test_a_remembered_spelling_beside_another_of_its_name_is_still_ambiguous() -> None:
    resolver = Resolver.for_object(PLAN.object("User"), PLAN.schemas)
    names.resource({"userName": "a", ENTERPRISE: {"manager": {"value": "1"}}}, resolver)
    with pytest.raises(ScimError, match="'userName' and 'USERNAME' name the same attribute"):
        names.resource({"userName": "a", "USERNAME": "b"}, resolver)
    with pytest.raises(ScimError, match="'value' and 'VALUE' in 'manager' name the same attribute"):
        names.resource({ENTERPRISE: {"manager": {"value": "1", "VALUE": "2"}}}, resolver)


def test_names_a_client_makes_up_are_not_remembered() -> None:
    """Only the schemas' attributes are remembered (their spellings are few); a client's own
    names are its to choose, and would grow the memory without bound."""
    resolver = Resolver.for_object(PLAN.object("User"), PLAN.schemas)
    names.resource(BODY, resolver)
    known = len(resolver.names)
    for i in range(100):
        names.resource({f"x{i}": 1, "name": {f"sub{i}": 1}, ENTERPRISE: {f"y{i}": 1}}, resolver)
    assert len(resolver.names) == known


def test_the_codec_reads_a_body_normalised_at_the_edge() -> None:
    codec = Codec(PLAN.object("User"), "sqlite")
    body = names.resource(
        {
            "USERNAME": "Mixed.Case",
            "addresses": [
                {"Locality": "Home Town", "type": "home"},
                {"locality": "Work Town", "Type": "Work"},
            ],
            ENTERPRISE: {"Manager": "12"},
            "Emails": [{"value": "w@example.com", "type": "work", "Primary": "True"}],
        },
        USERS,
    )
    values = codec.values(body, None)
    assert values["login"] == "Mixed.Case" and values["locality"] == "Work Town"
    assert values["manager_id"] == "12" and values["active"] is True
    assert codec.items(codec.multis[0], body) == [("w@example.com", ("work", True))]


def test_patch_operations_in_any_case() -> None:
    body = {"operations": [{"OP": "Add", "Path": "title", "VALUE": "Boss"}, "not an operation"]}
    ops = names.operations(body, USERS)
    assert ops == [{"op": "Add", "path": AttributePath(None, "title"), "value": "Boss"}, "not an operation"]
    assert names.operations({"Operations": {"op": "add"}}, USERS) == {"op": "add"}  # PATCH refuses it
    assert names.operations({}, USERS) is None


def test_patch_paths_take_the_canonical_names_and_keep_the_clients_text() -> None:
    ops = names.operations(
        {
            "Operations": [
                {"op": "replace", "path": "NAME.GIVENNAME"},
                {"op": "add", "path": f"{ENTERPRISE.lower()}:DEPARTMENT"},
                {"op": "add", "path": ENTERPRISE.upper()},
                {"op": "add", "path": 'EMAILS[type eq "work"].VALUE'},
                {"op": "add", "path": "nickName2.x"},
                {"op": "add", "path": "emails[type eq"},
            ]
        },
        USERS,
    )
    paths = [op["path"] for op in ops]
    assert paths[0] == AttributePath(None, "name", None, "givenName") and str(paths[0]) == "NAME.GIVENNAME"
    assert paths[1] == AttributePath(ENTERPRISE, "department")
    assert paths[2] == AttributePath(*ENTERPRISE.rsplit(":", 1))  # a whole extension
    assert (paths[3].attribute, paths[3].sub_attribute, str(paths[3])) == (
        "emails",
        "value",
        "EMAILS[...].VALUE",
    )
    assert paths[3].value_filter == Compare(AttrPath(None, "type"), "eq", "work")
    assert paths[4] == AttributePath(None, "nickName2", None, "x")  # unknown: as sent
    assert paths[5] == "emails[type eq"  # PATCH refuses it in its turn


def test_a_patch_value_filter_takes_the_canonical_names() -> None:
    (op,) = names.operations(
        {"Operations": [{"op": "remove", "path": 'Emails[TYPE eq "Work"].Value'}]}, USERS
    )
    assert op["path"] == AttributePath(None, "emails", Compare(AttrPath(None, "type"), "eq", "Work"), "value")
    assert str(op["path"]) == "Emails[...].Value"  # errors quote the client's names


def test_patch_paths_are_remembered_with_their_type_and_go_with_it() -> None:
    """A PATCH path is remembered made canonical on its type's resolver, bounded, and never keeps
    a resolver alive: one built by an earlier app (a test, a restarted gateway) was once held,
    with its mapping, by a process-wide cache keyed by it."""
    resolver = Resolver.for_object(PLAN.object("User"), PLAN.schemas)
    body = {"Operations": [{"op": "replace", "path": 'EMAILS[type eq "work"].VALUE'}]}
    (first,) = names.operations(body, resolver)
    (again,) = names.operations(body, resolver)
    assert again["path"] is first["path"] and list(resolver.paths) == ['EMAILS[type eq "work"].VALUE']
    for i in range(MAX_PATHS + 10):  # any number of distinct paths: the oldest are dropped
        names.operations({"Operations": [{"op": "add", "path": f"x{i}"}]}, resolver)
    assert len(resolver.paths) == MAX_PATHS and f"x{MAX_PATHS + 9}" in resolver.paths
    gone = weakref.ref(resolver)
    del resolver
    gc.collect()
    assert gone() is None


# ---------------------------------------------------------------------------- filters and sortBy

CANONICAL_FILTERS = [
    ('USERNAME eq "x"', 'userName eq "x"'),
    ('urn:ietf:params:scim:schemas:core:2.0:user:UserName eq "x"', 'userName eq "x"'),
    ('NAME.GIVENNAME sw "A"', 'name.givenName sw "A"'),
    ('Emails[TYPE eq "work" and not (Value co "x")]', 'emails[type eq "work" and not (value co "x")]'),
    ("emails.PRIMARY eq true", "emails.primary eq true"),
    ('Department eq "R"', f'{ENTERPRISE}:department eq "R"'),
    (f'{ENTERPRISE.upper()}:MANAGER.VALUE eq "7"', f'{ENTERPRISE}:manager.value eq "7"'),
    ('META.LASTMODIFIED gt "2020"', 'meta.lastModified gt "2020"'),
    ('ID eq "1" or EXTERNALID pr', 'id eq "1" or externalId pr'),
    # the values are the evaluator's (caseExact), never rewritten
    ('userName eq "MiXeD"', 'userName eq "MiXeD"'),
]

#: unknown names stay as written (the evaluator finds no value); parsed for a type, they are
#: invalidFilter (tests/scim/test_app_unknown_filter_attributes.py)
UNKNOWN_FILTERS = [
    ('NoSuch eq "x" and Name.NoSub pr', 'NoSuch eq "x" and Name.NoSub pr'),
    ('Emails[NoSub eq "x"]', 'emails[NoSub eq "x"]'),
    ("urn:x:Y:title pr", "urn:x:Y:title pr"),
]


@pytest.mark.parametrize(("text", "canonical"), CANONICAL_FILTERS, ids=[t for t, _ in CANONICAL_FILTERS])
def test_filter_paths_take_the_canonical_names(text: str, canonical: str) -> None:
    assert names.filter_paths(parse_filter(text), USERS) == parse_filter(canonical)
    assert filtershape.parse(text, resolver=USERS) == parse_filter(canonical)  # once per shape
    assert filtershape.parse(text, resolver=USERS) == parse_filter(canonical)


@pytest.mark.parametrize(("text", "canonical"), UNKNOWN_FILTERS, ids=[t for t, _ in UNKNOWN_FILTERS])
def test_unknown_filter_paths_stay_as_written_and_are_invalid_for_the_type(text: str, canonical: str) -> None:
    assert names.filter_paths(parse_filter(text), USERS) == parse_filter(canonical)
    assert names.unknown_attribute(names.filter_paths(parse_filter(text), USERS), USERS) is not None
    for _ in range(2):
        with pytest.raises(ScimError) as refused:
            filtershape.parse(text, resolver=USERS)
        assert refused.value.scim_type == "invalidFilter"


def test_a_canonical_path_resolves_to_the_same_attribute() -> None:
    for text, _ in CANONICAL_FILTERS[:9]:
        node = parse_filter(text)
        while isinstance(node, And | Or):
            node = node.left
        assert isinstance(node, Compare | Present | ValuePath)
        canonical = names.attr_path(str(node.path), USERS)
        written = USERS.resolve(node.path.urn, node.path.attribute, node.path.sub)
        assert USERS.resolve(canonical.urn, canonical.attribute, canonical.sub) == written


def test_sort_by_takes_the_canonical_names() -> None:
    assert names.attr_path("NAME.FAMILYNAME", USERS) == AttrPath(None, "name", "familyName")
    assert names.attr_path("EmployeeNumber", USERS) == AttrPath(ENTERPRISE, "employeeNumber")
    assert names.attr_path("nickName2", USERS) == AttrPath(None, "nickName2")


def _mangled(node: Filter, flips: st.DataObject) -> Filter:
    """``node`` with every name of its paths in a case hypothesis picks."""

    def name(text: str | None) -> str | None:
        return text and "".join(c.upper() if flips.draw(st.booleans()) else c.lower() for c in text)

    def path(p: AttrPath) -> AttrPath:
        return AttrPath(name(p.urn), name(p.attribute) or "", name(p.sub))

    if isinstance(node, Compare):
        return Compare(path(node.path), node.op, node.value)
    if isinstance(node, Present):
        return Present(path(node.path))
    if isinstance(node, And | Or):
        return type(node)(_mangled(node.left, flips), _mangled(node.right, flips))
    if isinstance(node, Not):
        return Not(_mangled(node.inner, flips))
    assert isinstance(node, ValuePath)
    return ValuePath(path(node.path), _mangled(node.filter, flips))


@given(index=st.integers(0, 8), flips=st.data())
def test_any_case_gives_the_one_canonical_filter(index: int, flips: st.DataObject) -> None:
    text, canonical = CANONICAL_FILTERS[index]
    assert names.filter_paths(_mangled(parse_filter(text), flips), USERS) == parse_filter(canonical)
