"""DNs at run time: RFC 4514 escaping and parsing, templates rendered from rows, and ids read
back to anchors. No database."""

from __future__ import annotations

import random

import pytest

from mapper.checks.dn import id_problems, problems
from mapper.dn import DnError, escape_value, parse_dn
from mapper.plan import PlanDn
from mapper.runtime.dn import DnRenderer

USER = PlanDn(kind="template", template="CN={anchor},OBJECT=USER")
COLUMNS = ("id", "login", "department")

TRICKY = [
    ("Smith, J", r"Smith\, J"),
    ("a+b", r"a\+b"),
    ('say "hi"', r"say \"hi\""),
    ("back\\slash", r"back\\slash"),
    ("<x>;", r"\<x\>\;"),
    ("#1", r"\#1"),
    ("a#1", "a#1"),
    (" lead", r"\ lead"),
    ("trail ", r"trail\ "),
    (" ", r"\ "),
    ("mid dle", "mid dle"),
    ("nul\x00", r"nul\00"),
    ("a=b", "a=b"),
    ("Zoë 😀 東京", "Zoë 😀 東京"),
    ("", ""),
]


@pytest.mark.parametrize(("value", "escaped"), TRICKY)
def test_escape_value_is_rfc4514_section_2_4(value: str, escaped: str) -> None:
    assert escape_value(value) == escaped


def test_an_anchor_that_needs_escaping_renders_and_reads_back() -> None:
    dn = DnRenderer(USER, COLUMNS, "id", ids=True)
    assert dn.of_anchor("Smith, J") == r"CN=Smith\, J,OBJECT=USER"
    assert dn.anchor_of(r"CN=Smith\, J,OBJECT=USER") == "Smith, J"
    assert dn.of_anchor(42) == "CN=42,OBJECT=USER"
    assert dn.anchor_of("CN=42,OBJECT=USER") == "42"


@pytest.mark.parametrize(("value", "escaped"), [t for t in TRICKY if t[0]])
def test_tricky_anchors_round_trip(value: str, escaped: str) -> None:
    dn = DnRenderer(USER, COLUMNS, "id", ids=True)
    rendered = dn.of_anchor(value)
    assert rendered == f"CN={escaped},OBJECT=USER"
    assert parse_dn(rendered) == ((("CN", value),), (("OBJECT", "USER"),))
    assert dn.anchor_of(rendered) == value


def test_random_strings_round_trip() -> None:
    rng = random.Random(4514)
    alphabet = ' ,+"\\<>;#=\x00abcXYZ019é€😀\t\n{}'
    dn = DnRenderer(
        PlanDn(kind="template", template="UID={anchor},OU=People+O=Acme,DC=example"), COLUMNS, "id", ids=True
    )
    for _ in range(3000):
        value = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
        rendered = dn.of_anchor(value)
        assert parse_dn(rendered)[0] == (("UID", value),), repr(value)
        assert dn.anchor_of(rendered) == value, repr(value)


@pytest.mark.parametrize(
    ("text", "rdns"),
    [
        ("CN=1,OBJECT=USER", ((("CN", "1"),), (("OBJECT", "USER"),))),
        ("cn=a+uid=b,dc=x", ((("cn", "a"), ("uid", "b")), (("dc", "x"),))),
        (r"CN=\C3\A9t\C3\A9,O=x", ((("CN", "été"),), (("O", "x"),))),
        (r"CN=\2C\20", ((("CN", ", "),),)),
        ("2.5.4.3=x", ((("2.5.4.3", "x"),),)),
        ("CN=", ((("CN", ""),),)),
        ("CN=a=b", ((("CN", "a=b"),),)),
        ("", ()),
    ],
)
def test_parse_dn(text: str, rdns: tuple) -> None:
    assert parse_dn(text) == rdns


@pytest.mark.parametrize(
    "text",
    [
        "CN=1, OBJECT=USER",  # RFC 4514 has no spaces around separators
        "CN = 1",
        "CN=1 ,O=x",
        "CN= 1",
        "CN=a;b",
        'CN="a"',
        "CN=a<b",
        "CN=#04024869",  # a BER hexstring
        r"CN=\q",
        "CN=a\\",
        r"CN=\C3",  # half a UTF-8 character
        "CN=1,,O=x",
        "CN=1,",
        "=1",
        "1CN=x",
        "2=x",  # an OID has at least one dot
        "01.2=x",
        "CN",
        "CN=a\x00",
        "C N=x",
    ],
)
def test_parse_dn_is_strict(text: str) -> None:
    with pytest.raises(DnError):
        parse_dn(text)


@pytest.mark.parametrize(
    "dn",
    [
        "cn=7,object=user",
        "Cn=7,oBJECT=User",
        r"CN=\37,OBJECT=USER",
        "CN=7,OBJECT=USER",
    ],
)
def test_types_and_literal_values_match_case_insensitively(dn: str) -> None:
    assert DnRenderer(USER, COLUMNS, "id", ids=True).anchor_of(dn) == "7"


def test_the_anchor_keeps_its_case() -> None:
    assert DnRenderer(USER, COLUMNS, "id", ids=True).anchor_of("cn=AbC,object=user") == "AbC"


@pytest.mark.parametrize(
    "dn",
    [
        "7",
        "CN=7",
        "CN=7,OBJECT=GROUP",
        "CN=7,OBJECT=USER,DC=x",
        "UID=7,OBJECT=USER",
        "CN=7+UID=8,OBJECT=USER",
        "CN=7, OBJECT=USER",
        "CN=,OBJECT=USER",
        "CN=7,OBJECT=USER ",
        "CN=7%2COBJECT%3DUSER",
        "CN=7\\",
        "",
    ],
)
def test_ids_that_name_nothing(dn: str) -> None:
    assert DnRenderer(USER, COLUMNS, "id", ids=True).anchor_of(dn) is None


def test_a_multi_valued_rdn_matches_in_any_order() -> None:
    template = PlanDn(kind="template", template="CN={anchor}+O=Acme,DC=example")
    dn = DnRenderer(template, COLUMNS, "id", ids=True)
    assert dn.of_anchor("x") == "CN=x+O=Acme,DC=example"
    assert dn.anchor_of("O=acme+CN=x,DC=example") == "x"


def test_the_anchor_twice_must_agree() -> None:
    template = PlanDn(kind="template", template="CN={anchor},UID={anchor}")
    dn = DnRenderer(template, COLUMNS, "id", ids=True)
    assert dn.anchor_of(dn.of_anchor("a, b")) == "a, b"
    assert dn.anchor_of("CN=a,UID=b") is None


def test_render_fills_columns_escaped_and_keeps_template_escapes() -> None:
    template = PlanDn(kind="template", template=r"CN={anchor},OU={Department},O=Smith\, Sons \{HQ\}")
    dn = DnRenderer(template, COLUMNS, "id")
    assert dn.render((5, "jdoe", "R+D, Labs")) == r"CN=5,OU=R\+D\, Labs,O=Smith\, Sons {HQ}"
    assert dn.render((5, "jdoe", None)) == r"CN=5,OU=,O=Smith\, Sons {HQ}"


def test_render_column_and_anchor_kinds() -> None:
    row = (5, "CN=jdoe,DC=x", "Sales")
    assert DnRenderer(PlanDn(kind="column", column="login"), COLUMNS, "id").render(row) == "CN=jdoe,DC=x"
    anchor = DnRenderer(PlanDn(kind="anchor"), COLUMNS, "id", ids=True)
    assert anchor.render(row) == "5"
    assert anchor.of_anchor(5) == "5" and anchor.anchor_of("5") == "5"


def test_a_placeholder_the_import_does_not_select_renders_empty() -> None:
    template = PlanDn(kind="template", template="CN={anchor},OU={password}")
    assert DnRenderer(template, COLUMNS, "id").render((5, "x", "y")) == "CN=5,OU="


@pytest.mark.parametrize(
    ("dn", "reason"),
    [
        (PlanDn(kind="column", column="login"), "dn column"),
        (PlanDn(kind="template", template="CN={anchor},OU={department}"), "only use {anchor}"),
        (PlanDn(kind="template", template="CN=u{anchor},OBJECT=USER"), "whole RDN value"),
        (PlanDn(kind="template", template="CN={anchor}, OBJECT=USER"), "expected attribute=value"),
        (PlanDn(kind="template", template="CN=x,OBJECT=USER"), "does not contain"),
    ],
)
def test_templates_that_cannot_give_ids(dn: PlanDn, reason: str) -> None:
    with pytest.raises(DnError, match=reason):
        DnRenderer(dn, COLUMNS, "id", ids=True)


@pytest.mark.parametrize(
    "template",
    [
        "CN={anchor},OBJECT=USER",
        "cn={Anchor},dc=example",
        "CN={anchor}+UID={anchor},DC=x",
        r"CN={anchor},O=Smith\, Sons",
        r"CN={anchor},O=\{HQ\}",
        r"CN={anchor},O=\C3\A9",
        "2.5.4.3={anchor},DC=example",
        "CN={anchor},OU={department}",
        "CN=u{anchor},OBJECT=USER",
        "CN={anchor}, OBJECT=USER",
        "CN={anchor} ,OBJECT=USER",
        "CN={anchor},OBJECT=USER\\ ",
        "CN={anchor},OBJECT=USER ",
        "CN={anchor},OU=#x",
        r"CN={anchor},OU=\q",
        "2={anchor},DC=example",
        "CN={anchor},OU=a=b",
    ],
)
def test_lint_and_runtime_agree_on_id_templates(template: str) -> None:
    assert problems(template, list(COLUMNS)) == []  # a valid DN template for `dn`
    try:
        DnRenderer(PlanDn(kind="template", template=template), COLUMNS, "id", ids=True)
        usable = True
    except DnError:
        usable = False
    assert (id_problems(template) == []) == usable
