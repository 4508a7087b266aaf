"""The HR example as the runtime tests use it: its compiled plan for a dialect, and a new user as
a client would send it."""

from __future__ import annotations

from typing import Any

from mapper.pipeline import load
from mapper.plan import CORE_USER, ENTERPRISE_USER, Plan
from tests.support.databases import HR

HR_MAP = HR / "hr.map"


def hr_plan(dialect: str) -> Plan:
    """The compiled HR mapping, for ``dialect`` (sqlite, postgres or mysql)."""
    return load(str(HR_MAP), write=dialect)


def new_user(login: str, **extra: Any) -> dict[str, Any]:
    resource = {
        "schemas": [CORE_USER, ENTERPRISE_USER],
        "userName": login,
        "name": {"givenName": "New", "familyName": "Person"},
        "displayName": "New Person",
        "emails": [{"type": "work", "value": f"{login}@example.com", "primary": True}],
        "active": True,
        ENTERPRISE_USER: {"department": "Engineering", "manager": {"value": "2"}},
        "roles": [{"value": "ignored"}],  # not mapped: ignored
    }
    resource.update(extra)
    return resource
