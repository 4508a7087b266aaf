"""Custom schemas: unique aliases and URNs, well-formed URNs, unique attributes with SCIM types,
and each declared schema used somewhere."""

from __future__ import annotations

from collections.abc import Iterator

from mapper.checks import codes
from mapper.checks.analysis import Analysis
from mapper.checks.scimpaths import SCIM_TYPES, Resolved
from mapper.checks.spans import did_you_mean
from mapper.diagnostics import Diagnostic
from mapper.language.model import Name
from mapper.scimschema import STANDARD_SCHEMAS


def check_schemas(analysis: Analysis) -> Iterator[Diagnostic]:
    mapping, file = analysis.mapping, analysis.file
    aliases: dict[str, int] = {}
    urns: dict[str, int] = {}
    for decl in mapping.schemas:
        alias, urn = decl.alias, decl.urn
        if alias.value in aliases:
            yield codes.DUPLICATE_SCHEMA.at(
                file,
                alias.span,
                f"schema alias '{alias.value}' is declared twice",
                f"the first is at line {aliases[alias.value]}",
            )
        aliases.setdefault(alias.value, alias.span.line)
        if not urn.value.lower().startswith("urn:"):
            yield codes.INVALID_SCHEMA_URN.at(
                file,
                urn.span,
                f"schema URN '{urn.value}' does not start with 'urn:'",
                f'for example "urn:example:params:scim:schemas:extension:{alias.value}:2.0:User"',
            )
        elif urn.value in STANDARD_SCHEMAS:
            yield codes.DUPLICATE_SCHEMA.at(
                file,
                urn.span,
                f"schema '{alias.value}' redeclares the standard schema {urn.value}",
                "standard schemas are built in; declare only your own",
            )
        elif urn.value.lower() in urns:
            yield codes.DUPLICATE_SCHEMA.at(
                file,
                urn.span,
                f"schema URN '{urn.value}' is declared twice",
                f"the first is at line {urns[urn.value.lower()]}",
            )
        urns.setdefault(urn.value.lower(), urn.span.line)
        names: dict[str, int] = {}
        for attribute in decl.attributes:
            key = attribute.name.value.lower()
            if key in names:
                yield codes.DUPLICATE_SCHEMA_ATTRIBUTE.at(
                    file,
                    attribute.name.span,
                    f"attribute '{attribute.name.value}' is declared twice in schema '{alias.value}'",
                    f"the first is at line {names[key]}",
                )
            names.setdefault(key, attribute.name.span.line)
            yield from check_type_word(file, attribute.type)
    yield from _unused(analysis)


def check_type_word(file: str, word: Name) -> Iterator[Diagnostic]:
    if word.value not in SCIM_TYPES:
        yield codes.UNKNOWN_TYPE.at(
            file,
            word.span,
            f"unknown type '{word.value}'",
            did_you_mean(word.value, SCIM_TYPES, "SCIM types"),
        )


def _unused(analysis: Analysis) -> Iterator[Diagnostic]:
    used: set[str] = set()
    for paths in analysis.objects:
        if paths.obj.schema_alias is not None:
            used.add(paths.obj.schema_alias.value)
        resolved = [r for _, r in paths.attributes] + [r for _, r in paths.multi]
        used_urns = {r.schema.urn for r in resolved if isinstance(r, Resolved)}
        used.update(d.alias.value for d in analysis.mapping.schemas if d.urn.value in used_urns)
    for decl in analysis.mapping.schemas:
        if decl.alias.value not in used:
            yield codes.UNUSED_SCHEMA.at(
                analysis.file,
                decl.alias.span,
                f"schema '{decl.alias.value}' is declared but not used",
                f"map its attributes as {decl.alias.value}.ATTR, or remove it",
            )
