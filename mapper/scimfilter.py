"""The SCIM filter AST (RFC 7644 §3.4.2.2): frozen nodes, shared by the front end, which parses
filters into them and evaluates them against resources (:mod:`mapper.scim.filter`), and the
runtime, which translates them into SQL over an object's import (:mod:`mapper.runtime.sqlfilter`).
Plain frozen data; no parsing, no HTTP and no database here.

Paths are as written (not yet canonical): resolving them is the caller's business.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Scalar = str | int | float | bool | None

ORDERING = frozenset({"gt", "ge", "lt", "le"})
SUBSTRING = frozenset({"co", "sw", "ew"})


@dataclass(frozen=True)
class AttrPath:
    """``[urn:]attribute[.sub]`` as written (not yet canonical); ``urn`` is None when unqualified."""

    urn: str | None
    attribute: str
    sub: str | None = None

    def __str__(self) -> str:
        text = f"{self.attribute}.{self.sub}" if self.sub else self.attribute
        return f"{self.urn}:{text}" if self.urn else text

    @classmethod
    def parse_token(cls, text: str) -> AttrPath:
        """Split an ATTRPATH token: the URN ends at the last colon, the sub-attribute at the dot."""
        urn, _, rest = str(text).rpartition(":")
        attribute, _, sub = rest.partition(".")
        return cls(urn or None, attribute, sub or None)


@dataclass(frozen=True)
class Compare:
    path: AttrPath
    op: str  # eq ne co sw ew gt ge lt le, lower case
    value: Scalar


@dataclass(frozen=True)
class Present:
    path: AttrPath


@dataclass(frozen=True)
class And:
    left: Filter
    right: Filter


@dataclass(frozen=True)
class Or:
    left: Filter
    right: Filter


@dataclass(frozen=True)
class Not:
    inner: Filter


@dataclass(frozen=True)
class ValuePath:
    """``attr[filter]``: some value of the multi-valued ``attr`` satisfies ``filter``, whose paths
    name sub-attributes of ``attr``."""

    path: AttrPath
    filter: Filter


Filter = Compare | Present | And | Or | Not | ValuePath


def as_bool(value: Any) -> bool | None:
    """A filter value read as a boolean (``true``/``false`` as strings too, in any case), or None.
    The cache's evaluator and the SQL translation read values alike through it."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None
