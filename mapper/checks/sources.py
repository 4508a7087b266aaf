"""Sources: a known dialect, a URL, unique names, and objects that read from declared sources."""

from __future__ import annotations

from collections.abc import Iterator

from mapper.checks import codes
from mapper.checks.analysis import Analysis
from mapper.checks.spans import did_you_mean
from mapper.diagnostics import Diagnostic
from mapper.plan import DIALECT_ALIASES as ALIASES
from mapper.plan import DIALECTS, dialect_of

__all__ = ["ALIASES", "DIALECTS", "MISSPELLINGS", "check_sources", "dialect_of"]

#: Spellings people try that are not accepted; the hint says which to write.
MISSPELLINGS = {
    "pg": "postgres",
    "psql": "postgres",
    "sql_server": "tsql",
    "sqlite3": "sqlite",
    "oracledb": "oracle",
}


def check_sources(analysis: Analysis) -> Iterator[Diagnostic]:
    mapping = analysis.mapping
    file = mapping.path
    seen: dict[str, int] = {}
    for source in mapping.sources:
        name = source.name
        if name.value in seen:
            yield codes.DUPLICATE_SOURCE.at(
                file,
                name.span,
                f"source '{name.value}' is declared twice",
                f"the first is at line {seen[name.value]}; rename one",
            )
        else:
            seen[name.value] = name.span.line
        if source.dialect is None:
            yield codes.MISSING_DIALECT.at(
                file, name.span, f"source '{name.value}' has no dialect", f"add one of: {', '.join(DIALECTS)}"
            )
        elif dialect_of(source.dialect.value) is None:
            word = source.dialect.value
            alias = MISSPELLINGS.get(word.lower())
            hint = (
                f"did you mean '{alias}'? ({word} is written '{alias}')"
                if alias
                else did_you_mean(word, DIALECTS, "dialects")
            )
            yield codes.UNKNOWN_DIALECT.at(file, source.dialect.span, f"unknown dialect '{word}'", hint)
        if source.url is None:
            var = f"{name.value.upper()}_DATABASE_URL"
            yield codes.MISSING_URL.at(
                file, name.span, f"source '{name.value}' has no url", f'add url env("{var}")'
            )
    used = {obj.source.value for obj in mapping.objects}
    for obj in mapping.objects:
        if obj.source.value not in seen:
            yield codes.UNKNOWN_SOURCE.at(
                file,
                obj.source.span,
                f"object {obj.name.value} reads from unknown source '{obj.source.value}'",
                did_you_mean(obj.source.value, seen, "sources")
                or "declare it: source NAME { dialect ... url ... }",
            )
    for source in mapping.sources:
        if source.name.value not in used and seen.get(source.name.value) == source.name.span.line:
            yield codes.UNUSED_SOURCE.at(
                file, source.name.span, f"source '{source.name.value}' is not used by any object"
            )
