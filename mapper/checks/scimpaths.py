"""Resolving a SCIM path as written in a mapping (``emails[type eq "work"].value``,
``enterprise.manager``, ``name.givenName``) against the schemas an object can use.

``resolve`` returns either a :class:`Resolved` path or a :class:`PathProblem` that says what is
wrong and where in the path text, so the checks can point at the offending part.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mapper.checks import codes
from mapper.checks.spans import closest, did_you_mean, inside
from mapper.diagnostics import Code, Diagnostic
from mapper.language.model import MappingFile, Name, ObjectType
from mapper.language.schemas import custom_schema
from mapper.scimschema import (
    COMMON,
    CORE_SCHEMA_OF,
    EXTENSIONS_OF,
    PREFIXES,
    STANDARD_SCHEMAS,
    AttributeDef,
    SchemaDef,
)

SCIM_TYPES = ("string", "boolean", "integer", "decimal", "dateTime", "binary", "reference")

_NAME = r"[A-Za-z$][\w$-]*"
_PATH = re.compile(rf"^(?P<attr>{_NAME})(?:\[(?P<filter>[^\]]*)\])?(?:\.(?P<sub>{_NAME}))?$")
_TERM = re.compile(r'\s*(?P<attr>[A-Za-z$][\w$]*)\s+(?P<op>\S+)\s+"(?P<value>(?:[^"\\]|\\.)*)"\s*')
_AND = re.compile(r"and\s", re.IGNORECASE)


@dataclass(frozen=True)
class Resolved:
    schema: SchemaDef
    attribute: AttributeDef
    sub: AttributeDef | None = None
    filter: tuple[tuple[str, str], ...] = ()

    @property
    def target(self) -> AttributeDef:
        """The attribute whose value the column holds (``value`` for ``emails[...]`` or ``manager``)."""
        return self.sub or self.attribute

    @property
    def multi_valued(self) -> bool:
        return self.attribute.multi_valued

    @property
    def key(self) -> tuple[str, str, str, tuple[tuple[str, str], ...]]:
        """Two paths with equal keys set the same value."""
        sub = self.sub.name.lower() if self.sub else ""
        return (self.schema.urn, self.attribute.name.lower(), sub, tuple(sorted(self.filter)))

    @property
    def read_only(self) -> bool:
        return "readOnly" in (self.attribute.mutability, self.target.mutability)

    def __str__(self) -> str:
        text = self.attribute.name
        if self.filter:
            text += "[" + " and ".join(f'{a} eq "{v}"' for a, v in self.filter) + "]"
        return text + (f".{self.sub.name}" if self.sub else "")


@dataclass(frozen=True)
class PathProblem:
    code: Code
    message: str
    start: int
    end: int
    hint: str | None = None


@dataclass(frozen=True)
class Schemas:
    """What paths of one object type can name: its core schema (unprefixed, with the common
    attributes) and the extensions, by prefix and by URN."""

    core: SchemaDef | None
    prefixes: dict[str, SchemaDef] = field(default_factory=dict)

    @property
    def by_urn(self) -> dict[str, SchemaDef]:
        schemas = list(self.prefixes.values()) + ([self.core] if self.core else [])
        return {s.urn: s for s in schemas}

    def candidates(self) -> list[str]:
        """Every path an attribute map could name, for did-you-mean."""
        out: list[str] = []
        for prefix, schema in [("", self.core), ("", COMMON), *self.prefixes.items()]:
            for a in schema.attributes if schema else ():
                head = f"{prefix}.{a.name}" if prefix else a.name
                out.append(head)
                out.extend(f"{head}.{s.name}" for s in a.sub_attributes)
        return out


def custom_schemas(mapping: MappingFile) -> dict[str, SchemaDef]:
    """The file's custom schemas by alias (the first of two with one alias counts)."""
    return {d.alias.value: custom_schema(d) for d in reversed(mapping.schemas)}


def schemas_of(obj: ObjectType, custom: dict[str, SchemaDef]) -> Schemas:
    core_urn = CORE_SCHEMA_OF.get(obj.name.value)
    core = STANDARD_SCHEMAS.get(core_urn) if core_urn else None
    if obj.schema_alias is not None and obj.schema_alias.value in custom and core is None:
        core = custom[obj.schema_alias.value]
    prefixes = {
        p: STANDARD_SCHEMAS[u] for p, u in PREFIXES.items() if u in EXTENSIONS_OF.get(obj.name.value, ())
    }
    prefixes.update(custom)
    return Schemas(core=core, prefixes=prefixes)


def resolve(path: str, schemas: Schemas) -> Resolved | PathProblem:
    schema, rest_at = _schema_of(path, schemas)
    if isinstance(schema, PathProblem):
        return schema
    rest = path[rest_at:]
    match = _PATH.match(rest)
    if match is None:
        if "[" in rest:
            return PathProblem(
                codes.INVALID_VALUE_FILTER,
                f"malformed value filter in '{path}'",
                rest_at + rest.index("["),
                len(path),
                'write it as attr[sub eq "literal"].sub, e.g. emails[type eq "work"].value',
            )
        return PathProblem(codes.UNKNOWN_PATH, f"malformed SCIM path '{path}'", 0, len(path))
    name = match["attr"]
    attribute = _lookup(name, schema, schemas)
    if attribute is None:
        return _unknown_attribute(path, rest_at, name, schema, schemas)
    if schema is None:
        schema = schemas.core if schemas.core and schemas.core.attribute(name) else COMMON
    filter_: tuple[tuple[str, str], ...] = ()
    if match["filter"] is not None:
        parsed = _filter(match["filter"], rest_at + match.start("filter"), attribute)
        if isinstance(parsed, PathProblem):
            return parsed
        filter_ = parsed
    sub: AttributeDef | None = None
    if match["sub"] is not None:
        sub = attribute.sub(match["sub"])
        if sub is None:
            at = rest_at + match.start("sub")
            if not attribute.sub_attributes:
                return PathProblem(
                    codes.UNKNOWN_PATH,
                    f"'{attribute.name}' has no sub-attributes",
                    at - 1,
                    len(path),
                    f"map '{path[: at - 1]}' itself",
                )
            subs = [s.name for s in attribute.sub_attributes]
            return PathProblem(
                codes.UNKNOWN_PATH,
                f"unknown sub-attribute '{match['sub']}' of '{attribute.name}'",
                at,
                len(path),
                did_you_mean(match["sub"], subs, f"sub-attributes of {attribute.name}"),
            )
    elif attribute.type == "complex":
        sub = attribute.sub("value")
        if sub is None:
            subs = [f"{path}.{s.name}" for s in attribute.sub_attributes]
            return PathProblem(
                codes.COMPLEX_WITHOUT_SUB,
                f"'{attribute.name}' is complex; map one of its sub-attributes",
                0,
                len(path),
                "for example " + ", ".join(subs[:3]),
            )
    return Resolved(schema=schema, attribute=attribute, sub=sub, filter=filter_)


def _schema_of(path: str, schemas: Schemas) -> tuple[SchemaDef | None | PathProblem, int]:
    """The schema a path names explicitly (by URN or prefix) and where the attribute part starts."""
    if path.lower().startswith("urn:"):
        for urn, schema in schemas.by_urn.items():
            if path.lower().startswith(urn.lower() + ":"):
                return schema, len(urn) + 1
        end = path.rfind(":")
        return (
            PathProblem(
                codes.UNKNOWN_PREFIX,
                f"unknown schema URN '{path[:end]}'",
                0,
                end,
                did_you_mean(path[:end], schemas.by_urn, "schemas"),
            ),
            0,
        )
    head, dot, _ = path.partition(".")
    if dot and "[" not in head and head in schemas.prefixes:
        return schemas.prefixes[head], len(head) + 1
    return None, 0


def _lookup(name: str, schema: SchemaDef | None, schemas: Schemas) -> AttributeDef | None:
    if schema is not None:
        return schema.attribute(name)
    found = schemas.core.attribute(name) if schemas.core else None
    return found or COMMON.attribute(name)


def _unknown_attribute(
    path: str, rest_at: int, name: str, schema: SchemaDef | None, schemas: Schemas
) -> PathProblem:
    end = rest_at + len(name)
    if schema is None:
        head, dot, tail = path.partition(".")
        tail_name = re.split(r"[.\[]", tail, maxsplit=1)[0]
        in_extension = [p for p, s in schemas.prefixes.items() if tail_name and s.attribute(tail_name)]
        if dot and (closest(head, schemas.prefixes) or in_extension):
            return PathProblem(
                codes.UNKNOWN_PREFIX,
                f"unknown schema prefix '{head}'",
                0,
                len(head),
                did_you_mean(head, in_extension or list(schemas.prefixes), "prefixes"),
            )
        for prefix, ext in schemas.prefixes.items():
            if ext.attribute(name):
                return PathProblem(
                    codes.UNKNOWN_PATH,
                    f"'{name}' belongs to the {ext.name} extension",
                    0,
                    end,
                    f"did you mean '{prefix}.{path}'?",
                )
        owner = schemas.core.name if schemas.core else "this object"
        tops = [c for c in schemas.candidates() if c.count(".") == (c.split(".")[0] in schemas.prefixes)]
        return PathProblem(
            codes.UNKNOWN_PATH,
            f"unknown SCIM attribute '{name}' for {owner}",
            rest_at,
            end,
            did_you_mean(name, tops, "attributes"),
        )
    return PathProblem(
        codes.UNKNOWN_PATH,
        f"unknown attribute '{name}' in schema {schema.name}",
        rest_at,
        end,
        did_you_mean(name, [a.name for a in schema.attributes], f"attributes of {schema.name}"),
    )


def _filter(text: str, at: int, attribute: AttributeDef) -> tuple[tuple[str, str], ...] | PathProblem:
    if not attribute.multi_valued:
        return PathProblem(
            codes.INVALID_VALUE_FILTER,
            f"value filter on single-valued attribute '{attribute.name}'",
            at - 1,
            at + len(text) + 1,
            "only multi-valued attributes (emails, phoneNumbers, ...) take a [filter]",
        )
    terms: list[tuple[str, str]] = []
    pos = 0
    while True:
        term = _TERM.match(text, pos)
        if term is None or term["op"].lower() != "eq":
            return PathProblem(
                codes.INVALID_VALUE_FILTER,
                f"malformed value filter '[{text}]'",
                at - 1,
                at + len(text) + 1,
                'a mapping\'s value filter is attr eq "literal", joined by "and": [type eq "work"]',
            )
        if attribute.sub(term["attr"]) is None:
            subs = [s.name for s in attribute.sub_attributes]
            return PathProblem(
                codes.UNKNOWN_PATH,
                f"unknown sub-attribute '{term['attr']}' of '{attribute.name}' in value filter",
                at + term.start("attr"),
                at + term.end("attr"),
                did_you_mean(term["attr"], subs, f"sub-attributes of {attribute.name}"),
            )
        terms.append((attribute.sub(term["attr"]).name, term["value"]))  # type: ignore[union-attr]
        pos = term.end()
        if pos == len(text):
            return tuple(terms)
        conj = _AND.match(text, pos)
        if conj is None:
            return PathProblem(
                codes.INVALID_VALUE_FILTER,
                f"malformed value filter '[{text}]'",
                at - 1,
                at + len(text) + 1,
                'only "and" may join the terms of a mapping\'s value filter',
            )
        pos = conj.end()


def problem_at(file: str, name: Name, problem: PathProblem) -> Diagnostic:
    span = inside(name.span, name.value, problem.start, problem.end)
    return problem.code.at(file, span, problem.message, problem.hint)
