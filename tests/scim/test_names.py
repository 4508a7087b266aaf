"""Canonical names at the edge (:mod:`mapper.scim.names`): a body sent in any case reaches the
store as if spelled as the schemas spell it."""

from __future__ import annotations

from mapper.runtime.codec import Codec
from mapper.scim import names
from mapper.scim.attributes import Resolver
from mapper.scim.paths import AttributePath
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


def test_the_exact_spelling_wins_else_the_first() -> None:
    assert names.resource({"USERNAME": "a", "userName": "b", "username": "c"}, USERS) == {"userName": "b"}
    assert names.resource({"USERNAME": "a", "username": "c"}, USERS) == {"userName": "a"}


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
    assert paths[4] == AttributePath(None, "nickName2", None, "x")  # unknown: as sent
    assert paths[5] == "emails[type eq"  # PATCH refuses it in its turn
