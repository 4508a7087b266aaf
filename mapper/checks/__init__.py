"""Semantic checks of a parsed mapping: references, identity, DNs and ids, SCIM paths, writes, security.

Each rule is a plain function ``(Analysis) -> Iterator[Diagnostic]`` in the module of its
concern; ``RULES`` lists them in order and :func:`check` runs them all on one analysis of the
mapping (its SCIM paths resolved once), reporting every problem (never stopping at the first),
sorted by position. Codes and their summaries are in
``mapper.checks.codes``. Unknown columns, SQL errors and write parameters are the compiler's
(MAP2xx), and the live database's are ``mapper lint --db`` (MAP3xx).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from mapper.checks.analysis import Analysis, analyze
from mapper.checks.attributes import check_attributes
from mapper.checks.connector import check_connector
from mapper.checks.dn import check_dn, check_id_source
from mapper.checks.identity import check_anchor, check_query
from mapper.checks.objects import check_objects
from mapper.checks.schemas import check_schemas
from mapper.checks.security import check_password_attribute, check_urls
from mapper.checks.sources import check_sources
from mapper.checks.transforms import check_transforms
from mapper.checks.writes import check_create, check_deprovision, check_stamp, check_writable
from mapper.diagnostics import Diagnostic
from mapper.language.model import MappingFile

Rule = Callable[[Analysis], Iterator[Diagnostic]]

RULES: tuple[Rule, ...] = (
    check_connector,
    check_sources,
    check_schemas,
    check_objects,
    check_anchor,
    check_query,
    check_dn,
    check_id_source,
    check_attributes,
    check_deprovision,
    check_writable,
    check_stamp,
    check_create,
    check_transforms,
    check_urls,
    check_password_attribute,
)


def position(d: Diagnostic) -> tuple[str, int, int, str]:
    return (d.file, d.span.line, d.span.col, d.code)


def check(mapping: MappingFile) -> list[Diagnostic]:
    """Every problem the rules find in ``mapping``, sorted by position."""
    analysis = analyze(mapping)
    return sorted((d for rule in RULES for d in rule(analysis)), key=position)


__all__ = ["RULES", "Rule", "check", "position"]
