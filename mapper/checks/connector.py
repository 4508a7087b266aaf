"""The connector a file is served as: a declared name that fits a URL path segment and the ECMA
Connector Host's ``/ecma2host_{name}/scim`` (MAP117), and, across the files served together
(``mapper serve DIR``, ``mapper lint DIR``), one name per file (MAP118)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from mapper.checks import codes
from mapper.checks.analysis import Analysis
from mapper.checks.spans import inside
from mapper.diagnostics import Diagnostic, Span
from mapper.language.model import MappingFile
from mapper.plan import CONNECTOR_NAME, CONNECTOR_NAME_RULE, connector_name

_NOT_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


def check_connector(analysis: Analysis) -> Iterator[Diagnostic]:
    declared = analysis.mapping.connector
    if declared is None or CONNECTOR_NAME.fullmatch(declared.name.value):
        return
    value = declared.name.value
    # the first character that does not fit (the first one must be a letter or a digit)
    bad = next((i for i in range(len(value)) if not CONNECTOR_NAME.fullmatch("a"[:i] + value[i])), 0)
    span = inside(declared.name.span, value, bad, bad + 1, quoted=True) if value else declared.name.span
    fixed = _NOT_NAME.sub("-", value).strip("-_.")
    hint = f"a connector name holds {CONNECTOR_NAME_RULE}"
    message = (
        f"connector name {value!r} cannot be served at /{value}/scim/v2 or /ecma2host_{value}/scim"
        if value
        else "connector name is empty"
    )
    suggestion = f'{hint}: connector "{fixed}"?' if fixed and CONNECTOR_NAME.fullmatch(fixed) else hint
    yield codes.INVALID_CONNECTOR_NAME.at(analysis.mapping.path, span, message, suggestion)


def check_served_together(mappings: Sequence[MappingFile]) -> list[Diagnostic]:
    """MAP118 for each file whose connector name (declared, else its file name; case aside) an
    earlier file of ``mappings`` already has: they are served together, so each needs its own."""
    first: dict[str, MappingFile] = {}
    found: list[Diagnostic] = []
    for mapping in mappings:
        declared = mapping.connector
        name = connector_name(None if declared is None else declared.name.value, mapping.path)
        earlier = first.setdefault(name.casefold(), mapping)
        if earlier is mapping:
            continue
        why = (
            "its file name"
            if earlier.connector is None
            else f"declared at {earlier.path}:{earlier.connector.span.line}:{earlier.connector.name.span.col}"
        )
        declared_earlier = None if earlier.connector is None else earlier.connector.name.value
        taken = connector_name(declared_earlier, earlier.path)
        message = f"connector {name!r} is taken: {earlier.path} is served as {taken!r} too ({why})"
        if declared is None:
            span = Span(line=1, col=1, end_line=1, end_col=1)
            hint = f'this file is served under its file name; declare another: connector "{name}-2"'
        else:
            span = declared.name.span
            hint = "files served together need a connector name each; rename one"
        found.append(codes.DUPLICATE_CONNECTOR.at(mapping.path, span, message, hint))
    return found
