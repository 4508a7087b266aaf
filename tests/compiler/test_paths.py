"""SCIM path resolution against the standard schemas and custom ones."""

from __future__ import annotations

import pytest

from mapper.compiler.paths import PathError, SchemaTable, make_resolver
from mapper.diagnostics import Span
from mapper.language.model import Name, SchemaAttribute, SchemaDecl
from mapper.plan import CORE_GROUP, CORE_USER, ENTERPRISE_USER

SPAN = Span(line=1, col=1, end_line=1, end_col=2)
PAYROLL_URN = "urn:example:params:scim:schemas:extension:payroll:2.0:User"


def name(value: str) -> Name:
    return Name(value=value, span=SPAN)


PAYROLL = SchemaDecl(
    alias=name("payroll"),
    urn=name(PAYROLL_URN),
    attributes=(
        SchemaAttribute(name=name("costCenter"), type=name("string"), span=SPAN),
        SchemaAttribute(name=name("grade"), type=name("integer"), span=SPAN),
    ),
    span=SPAN,
)
USER = make_resolver("User", None, SchemaTable.of((PAYROLL,)))


@pytest.mark.parametrize(
    ("text", "urn", "path", "attribute", "sub"),
    [
        ("userName", CORE_USER, "userName", "userName", None),
        ("name.givenName", CORE_USER, "name.givenName", "name", "givenName"),
        ("enterprise.department", ENTERPRISE_USER, "department", "department", None),
        ("enterprise.manager", ENTERPRISE_USER, "manager.value", "manager", "value"),
        (f"{ENTERPRISE_USER}:employeeNumber", ENTERPRISE_USER, "employeeNumber", "employeeNumber", None),
        (f"{ENTERPRISE_USER}:manager.value", ENTERPRISE_USER, "manager.value", "manager", "value"),
        ("payroll.grade", PAYROLL_URN, "grade", "grade", None),
        (f"{PAYROLL_URN}:costCenter", PAYROLL_URN, "costCenter", "costCenter", None),
        ("meta.created", CORE_USER, "meta.created", "meta", "created"),
        ("externalId", CORE_USER, "externalId", "externalId", None),
        ("username", CORE_USER, "userName", "userName", None),
    ],
)
def test_resolves(text: str, urn: str, path: str, attribute: str, sub: str | None) -> None:
    resolved = USER.resolve(text)
    assert (resolved.schema_urn, resolved.path, resolved.attribute, resolved.sub_attribute) == (
        urn,
        path,
        attribute,
        sub,
    )


def test_value_filter() -> None:
    resolved = USER.resolve('emails[type eq "work"].value')
    assert resolved.filter == (("type", "work"),)
    assert resolved.multi_valued and resolved.path == 'emails[type eq "work"].value'
    both = USER.resolve('phoneNumbers[type eq "work" and primary eq "true"].value')
    assert both.filter == (("type", "work"), ("primary", "true"))


def test_types_and_mutability() -> None:
    assert USER.resolve("payroll.grade").type == "integer"
    assert USER.resolve("active").type == "boolean"
    assert USER.resolve("meta.lastModified").mutability == "readOnly"
    assert USER.resolve("externalId").case_exact


def test_group_core_schema() -> None:
    group = make_resolver("Group", None, SchemaTable.of(()))
    assert group.resolve("displayName").schema_urn == CORE_GROUP
    assert group.resolve("members").path == "members.value"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id", "anchor is the id"),
        ("nope", "not an attribute"),
        ("name", "complex"),
        ("name.nope", "no sub-attribute"),
        ('userName[type eq "x"]', "not multi-valued"),
        ('emails[type ne "work"].value', "only"),
        ("urn:example:nothing:2.0:User:x", "unknown schema URN"),
    ],
)
def test_errors(text: str, message: str) -> None:
    with pytest.raises(PathError, match=message):
        USER.resolve(text)
