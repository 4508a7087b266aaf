"""Kept for tests written against it: the SCIM app tests' helpers are
:mod:`tests.support.scim` (new tests import them from there)."""

from __future__ import annotations

from tests.support.scim import (
    BASE,
    CORE_GROUP,
    CORE_USER,
    ENTERPRISE,
    ERROR,
    HR_MAP,
    LIST,
    PATCH_OP,
    TOKEN,
    new_user,
    patch_body,
    scim_client,
    settings_for,
)

__all__ = [
    "BASE",
    "CORE_GROUP",
    "CORE_USER",
    "ENTERPRISE",
    "ERROR",
    "HR_MAP",
    "LIST",
    "PATCH_OP",
    "TOKEN",
    "new_user",
    "patch_body",
    "scim_client",
    "settings_for",
]
