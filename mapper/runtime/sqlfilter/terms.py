"""The vocabulary of the filter → SQL translation: the verdict :class:`Untranslatable`, what it
asks of the front end's attribute resolver (:class:`Describe`), what a path reaches
(:class:`Value`, :class:`Child`, :class:`Scope`) and the small sqlglot builders every part uses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from sqlglot import exp

from mapper.plan import PlanMulti
from mapper.runtime.keys import Fold
from mapper.runtime.rendering import OMIT
from mapper.runtime.values import canonical
from mapper.scimfilter import AttrPath

FILTERED = "scim_f"  # the alias of the wrapped import
LIKE_ESCAPE = "!"

NUMBERS = frozenset({"integer", "decimal"})
TEXTS = frozenset({"string", "reference", "binary"})
TEXT = exp.DataType.build("TEXT")
BINARY = exp.DataType.build("BINARY")


class Untranslatable(Exception):  # noqa: N818 - a verdict, not a failure: the cache answers instead
    """The filter has a part the database cannot answer exactly; ``reason`` names it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Described(Protocol):
    """What the translation needs to know of an attribute path (the front end's resolver answers
    it: :class:`mapper.scim.attributes.Attribute`)."""

    @property
    def urn(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def sub(self) -> str | None: ...
    @property
    def type(self) -> str: ...
    @property
    def case_exact(self) -> bool: ...
    @property
    def known(self) -> bool: ...
    @property
    def sub_attributes(self) -> tuple[str, ...]: ...


class Describe(Protocol):
    def resolve(self, urn: str | None, attribute: str, sub: str | None = None) -> Described: ...


@dataclass(frozen=True)
class Sort:
    """``sortBy`` (as written) and its direction."""

    path: AttrPath
    descending: bool = False


# ---------------------------------------------------------------------------------------------
# what a path reaches


@dataclass(frozen=True)
class Value:
    """One column (of the wrapped import, or of a child row) holding one SCIM value: ``kind`` is
    how its values compare (``string``, ``number``, ``boolean``, ``dateTime``, ``flag``,
    ``transformed``); ``transform`` maps a stored value to the SCIM value when one sits between
    them."""

    expr: exp.Expr
    kind: str
    case_exact: bool
    transform: Any = None  # mapper.runtime.values.Transform


@dataclass(frozen=True)
class Child:
    """A multi-valued attribute kept in a child table: its import and output columns."""

    index: int
    multi: PlanMulti
    subs: tuple[str, ...]  # "value", then the sub-attributes of the extra columns


@dataclass(frozen=True)
class Scope:
    """The attribute a value filter ranges over: a child table (``alias`` is its row) or a
    single-valued complex attribute."""

    info: Described
    child: Child | None = None
    alias: str | None = None


NOTHING = None  # a path that reaches no value in any resource


def compared_as(scim_type: str) -> str:
    """How values of a SCIM type compare: ``number``, ``string``, or the type itself."""
    if scim_type in NUMBERS:
        return "number"
    if scim_type in TEXTS:
        return "string"
    return scim_type  # boolean, dateTime, transformed


# ---------------------------------------------------------------------------------------------
# sqlglot builders and value helpers


def ident(name: str) -> exp.Identifier:
    """An unquoted identifier (the aliases this translation makes up)."""
    return exp.Identifier(this=name, quoted=False)


def binary(expr: exp.Expr) -> exp.Expr:
    """``expr`` as a binary string (MariaDB: compares code points, keeps spaces and accents)."""
    return exp.Cast(this=expr, to=BINARY.copy())


def operator(op: str, left: exp.Expr, right: exp.Expr) -> exp.Expr:
    """``left op right`` for ``eq`` and the ordering operators; refuses any other."""
    kinds: dict[str, type[exp.Binary]] = {
        "eq": exp.EQ,
        "gt": exp.GT,
        "ge": exp.GTE,
        "lt": exp.LT,
        "le": exp.LTE,
    }
    if op not in kinds:
        raise Untranslatable(f"operator '{op}'")
    return kinds[op](this=left, expression=right)


def folded(value: Any, case_exact: bool, fold: Fold) -> Any:
    """A SCIM value as the cache compares it: strings folded as the database's ``LOWER`` folds
    them (``fold``: :func:`mapper.runtime.keys.folding`) unless caseExact."""
    if isinstance(value, str):
        return fold(value, case_exact)
    if isinstance(value, bool):
        return value
    return canonical(value)


def same_scim(read: Any, wanted: Any, case_exact: bool, fold: Fold) -> bool:
    """Whether a value read through a transform is the (folded) wanted SCIM value."""
    return read is not OMIT and read is not None and folded(read, case_exact, fold) == wanted
