"""DN templates: LDAP style (RFC 4514), with ``{anchor}``, and placeholders that name columns.

The ECMA Connector Host rejects anything else with "Invalid LDAP style DN", its most common
support case: a UPN (``{anchor}@contoso.com``) or a bare ``{anchor}`` where a DN belongs.
A DN is RDNs separated by commas; an RDN is ``type=value`` (several joined by ``+``), where the
type is a name (``CN``, ``OU``, ``DC``, ``OBJECT``...) or a numeric OID.

``id dn`` makes the DN the SCIM id, so a client's id must lead back to the anchor: the template's
only placeholder is ``{anchor}``, a whole RDN value, and the DN is strict RFC 4514 (no spaces
around separators, valid escapes), as ``mapper.runtime.dn`` reads it (MAP134): both take the
syntax from :mod:`mapper.dn`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from mapper.checks import codes
from mapper.checks.analysis import Analysis
from mapper.checks.spans import closest, did_you_mean, inside
from mapper.diagnostics import Code, Diagnostic
from mapper.dn import PLACEHOLDER, TYPE, escape_length
from mapper.language.model import Name, ObjectType

# lenient (MAP130): a numeric OID with leading zeros or one component is still a type; 'id dn'
# needs the strict RFC 4514 form (mapper.dn.TYPE, MAP134)
_LOOSE_TYPE = re.compile(r"^(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)*)$")
_MUST_ESCAPE = '"<>;'


@dataclass(frozen=True)
class DnProblem:
    code: Code
    message: str
    start: int
    end: int
    hint: str | None = None


def check_dn(analysis: Analysis) -> Iterator[Diagnostic]:
    mapping = analysis.mapping
    for obj in mapping.objects:
        if obj.dn is None or obj.dn.kind != "template" or obj.dn.value is None:
            continue
        template: Name = obj.dn.value
        for problem in problems(template.value, _columns(obj), obj.name.value):
            span = inside(template.span, template.value, problem.start, problem.end, quoted=True)
            yield problem.code.at(mapping.path, span, problem.message, problem.hint)


def _columns(obj: ObjectType) -> list[str]:
    """The columns a placeholder may name: those the import reads (an export-only column renders
    empty) and the anchor's."""
    columns = [m.column.value for m in obj.attributes if m.direction != "export"]
    return columns + ([obj.anchor.column.value] if obj.anchor else [])


def problems(template: str, columns: list[str], object_name: str = "User") -> list[DnProblem]:
    """Everything wrong with a DN template, by position in ``template``."""
    holes, found = _placeholders(template)
    if found:
        return found
    out: list[DnProblem] = []
    known = {c.lower() for c in columns} | {"anchor"}
    for start, end in holes:
        name = template[start + 1 : end - 1]
        if name.lower() not in known:
            out.append(
                DnProblem(
                    codes.DN_UNKNOWN_PLACEHOLDER,
                    f"unknown DN placeholder '{{{name}}}'",
                    start,
                    end,
                    _placeholder_hint(name, columns),
                )
            )
    if not any(template[s + 1 : e - 1].lower() == "anchor" for s, e in holes):
        out.append(
            DnProblem(
                codes.DN_WITHOUT_ANCHOR,
                "the DN template does not contain {anchor}",
                0,
                len(template),
                f"a DN must name one object for good: {_example(object_name)}",
            )
        )
    # Fill each placeholder with a plain value of the same width, so positions stay put.
    filled = list(template)
    for start, end in holes:
        filled[start:end] = "x" * (end - start)
    out.extend(_structure("".join(filled), template, object_name))
    return out


def _placeholder_hint(name: str, columns: list[str]) -> str:
    """Did you mean, among names that would work as placeholders: ``anchor`` and the columns
    that are written the way a placeholder must be (``{straße}`` is not one)."""
    usable = list({c.lower(): c for c in columns if PLACEHOLDER.fullmatch(c)}.values())
    best = closest(name, ["anchor", *usable])
    listing = did_you_mean("", usable, "placeholders are {anchor} and the imported columns") or (
        "the only placeholder this object has is {anchor}"
    )
    return f"did you mean '{best}'? ({listing})" if best else listing


def _placeholders(template: str) -> tuple[list[tuple[int, int]], list[DnProblem]]:
    holes: list[tuple[int, int]] = []
    i = 0
    while i < len(template):
        c = template[i]
        if c == "\\":
            i += 2
            continue
        if c == "}":
            return holes, [_brace("'}' without a matching '{'", i, i + 1)]
        if c == "{":
            close = template.find("}", i + 1)
            reopen = template.find("{", i + 1)
            if close < 0 or 0 <= reopen < close:
                return holes, [_brace("'{' is never closed", i, i + 1)]
            if not PLACEHOLDER.fullmatch(template[i + 1 : close]):
                return holes, [
                    DnProblem(
                        codes.DN_UNKNOWN_PLACEHOLDER,
                        f"'{template[i : close + 1]}' is not a placeholder",
                        i,
                        close + 1,
                        "a placeholder is {anchor} or {column}; escape a literal brace as \\{",
                    )
                ]
            holes.append((i, close + 1))
            i = close + 1
            continue
        i += 1
    return holes, []


def _brace(message: str, start: int, end: int) -> DnProblem:
    return DnProblem(
        codes.DN_UNBALANCED_BRACE, message, start, end, "write placeholders as {anchor} or {column}"
    )


def _split(text: str, sep: str, start: int = 0) -> list[tuple[int, str]]:
    """Split on unescaped ``sep``, keeping where each part starts."""
    parts: list[tuple[int, str]] = []
    begin, i = 0, 0
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == sep:
            parts.append((start + begin, text[begin:i]))
            begin = i + 1
        i += 1
    parts.append((start + begin, text[begin:]))
    return parts


def _structure(filled: str, template: str, object_name: str) -> Iterator[DnProblem]:
    if "=" not in filled:
        yield _not_a_dn(template, object_name)
        return
    for rdn_at, rdn in _split(filled, ","):
        for at, atv in _split(rdn, "+", rdn_at):
            lead = len(atv) - len(atv.lstrip())
            at, atv = at + lead, atv.strip()
            original = template[at : at + len(atv)]
            if not atv:
                yield DnProblem(
                    codes.DN_NOT_LDAP,
                    "invalid LDAP style DN: empty RDN",
                    max(at - 1, 0),
                    at,
                    "remove the extra ',' or '+'",
                )
                continue
            type_, eq, value = atv.partition("=")
            if not eq:
                yield DnProblem(
                    codes.DN_NOT_LDAP,
                    f"invalid LDAP style DN: '{original}' is not attr=value",
                    at,
                    at + len(atv),
                    f"every RDN is attr=value, e.g. {_example(object_name)}",
                )
            elif not _LOOSE_TYPE.match(type_.strip()):
                yield DnProblem(
                    codes.DN_NOT_LDAP,
                    f"invalid LDAP style DN: '{type_.strip()}' is not an attribute type",
                    at,
                    at + len(type_),
                    "an attribute type is a name such as CN, OU, DC or a numeric OID",
                )
            elif not value.strip():
                yield DnProblem(
                    codes.DN_NOT_LDAP,
                    f"invalid LDAP style DN: '{original}' has no value",
                    at,
                    at + len(atv),
                    f"give it a value, e.g. {_example(object_name)}",
                )
            else:
                yield from _unescaped(value, at + len(type_) + 1)


def _unescaped(value: str, at: int) -> Iterator[DnProblem]:
    i = 0
    while i < len(value):
        if value[i] == "\\":
            i += 2
            continue
        if value[i] in _MUST_ESCAPE:
            yield DnProblem(
                codes.DN_NOT_LDAP,
                f"invalid LDAP style DN: '{value[i]}' must be escaped in a value",
                at + i,
                at + i + 1,
                f"write it as \\{value[i]}",
            )
            return
        i += 1


def _not_a_dn(template: str, object_name: str) -> DnProblem:
    user, at, domain = template.partition("@")
    if at and "." in domain:
        dcs = ",".join(f"DC={part}" for part in domain.split("."))
        hint = f"that is a user principal name, not a DN: write it as CN={user},OU={object_name}s,{dcs}"
    else:
        hint = f"write it as {_example(object_name)}"
    return DnProblem(
        codes.DN_NOT_LDAP,
        f"invalid LDAP style DN '{template}': a DN is attr=value pairs separated by commas",
        0,
        len(template),
        hint,
    )


def _example(object_name: str) -> str:
    return f"CN={{anchor}},OU={object_name}s,DC=contoso,DC=com"


def check_id_source(analysis: Analysis) -> Iterator[Diagnostic]:
    mapping = analysis.mapping
    code = codes.INVALID_ID_SOURCE
    for obj in mapping.objects:
        word = obj.id_source
        if word is None or word.value == "anchor":
            continue
        if word.value != "dn":
            hint = did_you_mean(word.value, ["anchor", "dn"], "'id' takes")
            yield code.at(mapping.path, word.span, f"unknown id source '{word.value}'", hint)
            continue
        example = f'dn "CN={{anchor}},OBJECT={obj.name.value.upper()}"'
        if obj.dn is None:
            message = "'id dn' needs a DN: the object has no 'dn'"
            hint = f"add {example}, the ECMA host's autogenerated DN"
            yield code.at(mapping.path, word.span, message, hint)
        elif obj.dn.kind == "column":
            message = "'id dn' cannot use 'dn column': an id must lead back to the anchor"
            yield code.at(mapping.path, obj.dn.span, message, f"use a template, e.g. {example}")
        elif obj.dn.kind == "template" and obj.dn.value is not None:
            template = obj.dn.value
            for problem in id_problems(template.value):
                span = inside(template.span, template.value, problem.start, problem.end, quoted=True)
                yield problem.code.at(mapping.path, span, problem.message, problem.hint)


def id_problems(template: str) -> list[DnProblem]:
    """Why a template (valid for ``dn``) cannot give ids, by position; MAP13x problems are left
    to :func:`problems`."""
    holes, found = _placeholders(template)
    if found:
        return []
    out: list[DnProblem] = []
    anchors = []
    for start, end in holes:
        name = template[start + 1 : end - 1]
        if name.lower() == "anchor":
            anchors.append((start, end))
            continue
        out.append(
            _id_problem(
                f"'id dn' needs a DN whose only placeholder is {{anchor}}, not '{{{name}}}'",
                start,
                end,
                f"an id must lead back to the anchor: take {{{name}}} out of the DN, or use 'id anchor'",
            )
        )
    filled = list(template)
    for start, end in holes:
        filled[start:end] = "x" * (end - start)
    for rdn_at, rdn in _split("".join(filled), ","):
        for at, atv in _split(rdn, "+", rdn_at):
            type_, eq, value = atv.partition("=")
            if not eq or not type_.strip():
                continue  # not attr=value: MAP130
            value_at = at + len(type_) + 1
            if type_ != type_.strip() or value.startswith(" ") or _unescaped_trailing_space(value):
                out.append(
                    _id_problem(
                        "'id dn' needs a strict RFC 4514 DN: no spaces around ',', '+' or '='",
                        at,
                        at + len(atv),
                        "remove the spaces, e.g. CN={anchor},OBJECT=USER",
                    )
                )
                continue
            if not TYPE.fullmatch(type_) and _LOOSE_TYPE.match(type_):
                out.append(
                    _id_problem(
                        f"'id dn' needs a strict RFC 4514 DN: '{type_}' is not an attribute type",
                        at,
                        at + len(type_),
                        "a type is a name such as CN, or an OID with dots and no leading zeros (2.5.4.3)",
                    )
                )
                continue
            inner = [(s, e) for s, e in anchors if value_at <= s and e <= value_at + len(value)]
            if inner and inner != [(value_at, value_at + len(value))]:
                out.append(
                    _id_problem(
                        "'id dn' needs {anchor} as the whole value of an RDN",
                        at,
                        at + len(atv),
                        "write it as CN={anchor}, with any fixed text in another RDN",
                    )
                )
            elif not inner:
                out.extend(_literal_value(template[value_at : value_at + len(value)], value_at))
    return out


def _unescaped_trailing_space(value: str) -> bool:
    if not value.endswith(" "):
        return False
    backslashes = len(value[:-1]) - len(value[:-1].rstrip("\\"))
    return backslashes % 2 == 0


def _literal_value(value: str, at: int) -> Iterator[DnProblem]:
    """A fixed RDN value of an id DN: no ``#hexstring``, and only RFC 4514 escapes."""
    if value.startswith("#"):
        yield _id_problem("'id dn' cannot read a value that starts with '#'", at, at + 1, "write it as \\#")
        return
    i = 0
    while i < len(value):
        if value[i] == "\\":
            length = escape_length(value, i, also="{}")  # \{ and \} are the template's own
            if length is None:
                yield _id_problem(
                    f"'{value[i : i + 2]}' is not an RFC 4514 escape",
                    at + i,
                    at + i + 2,
                    'escape only , + " \\ < > ; # = and a space, or write a byte as \\XX',
                )
                return
            i += length
            continue
        i += 1


def _id_problem(message: str, start: int, end: int, hint: str) -> DnProblem:
    return DnProblem(codes.INVALID_ID_SOURCE, message, start, end, hint)
