"""Distinguished names (RFC 4514): an object's DN rendered from the plan's :class:`PlanDn`, and,
for ``id dn``, the anchor read back from a DN the client sends as an id.

- ``template``: ``"CN={anchor},OBJECT=USER"``; each placeholder (``{anchor}`` or a column of the
  import projection) is filled with its value escaped as RFC 4514 §2.4 says, so an anchor
  ``Smith, J`` gives ``CN=Smith\\, J,OBJECT=USER``. The template's own text is a DN already
  (escapes included) and is kept as written, except ``\\{`` and ``\\}``, which are literal braces.
- ``column``: the column's value as it is; ``anchor``: the anchor's text.

Reading a DN back is strict RFC 4514 (no spaces around ``,``, ``+`` or ``=``; escapes and hex
pairs decoded; a ``#hexstring`` value is refused), attribute types compare case-insensitively,
and so do literal values (LDAP's caseIgnoreMatch, as for CN and OU): Entra ID has been seen
sending back ``cn=...``. Only a template whose one placeholder is ``{anchor}``, a whole RDN value,
can lead back to the anchor; ``mapper lint`` reports any other with ``id dn`` (MAP134).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from mapper.plan import PlanDn

Ava = tuple[str, str]  # (attribute type, value)
Rdn = tuple[Ava, ...]

_ESCAPED = frozenset('"+,;<>\\')
_NEEDS_ESCAPE = re.compile(r'["+,;<>\\\x00]')
_SPECIAL = frozenset('"+,;<>\\ #=')
_HEX = frozenset("0123456789abcdefABCDEF")
_TYPE = re.compile(r"([A-Za-z][A-Za-z0-9-]*|(?:0|[1-9][0-9]*)(?:\.(?:0|[1-9][0-9]*))+)=")
_PLACEHOLDER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MARK = "\ue000"  # stands for {anchor} while a template is parsed (a private-use character)


class DnError(ValueError):
    """A string that is not a DN (RFC 4514), or a template that cannot be used as asked."""


def escape_value(value: str) -> str:
    """``value`` as an RDN value (RFC 4514 §2.4): ``" + , ; < > \\`` escaped with a backslash, a
    leading ``#`` or space and a trailing space too, and NUL as ``\\00``."""
    if value and value[0] not in "# " and value[-1] != " " and not _NEEDS_ESCAPE.search(value):
        return value
    out: list[str] = []
    last = len(value) - 1
    for i, char in enumerate(value):
        if char in _ESCAPED or (i == 0 and char in "# ") or (i == last and char == " "):
            out.append("\\" + char)
        elif char == "\x00":
            out.append("\\00")
        else:
            out.append(char)
    return "".join(out)


def parse_dn(text: str) -> tuple[Rdn, ...]:
    """The RDNs of a DN string, each a tuple of (type, value) with escapes decoded. Raises
    :class:`DnError` for anything RFC 4514 does not allow."""
    if text == "":
        return ()
    rdns: list[Rdn] = []
    avas: list[Ava] = []
    i = 0
    while True:
        found = _TYPE.match(text, i)
        if found is None:
            raise DnError(f"expected attribute=value at position {i}")
        value, i = _value(text, found.end())
        avas.append((found.group(1), value))
        if i == len(text):
            rdns.append(tuple(avas))
            return tuple(rdns)
        if text[i] == ",":
            rdns.append(tuple(avas))
            avas = []
        i += 1  # past ',' or '+'


def _value(text: str, i: int) -> tuple[str, int]:
    """The value starting at ``i`` and where it ends (at ``,``, ``+`` or the end)."""
    if i < len(text) and text[i] == "#":
        raise DnError("a #hexstring value is not supported")
    if i < len(text) and text[i] == " ":
        raise DnError("a leading space must be escaped")
    out: list[str] = []
    pending = bytearray()  # consecutive hex pairs: the bytes of UTF-8 characters
    trailing_space = False
    while i < len(text):
        char = text[i]
        if char in ",+":
            break
        if char == "\\":
            pair = text[i + 1 : i + 3]
            if len(pair) == 2 and pair[0] in _HEX and pair[1] in _HEX:
                pending.append(int(pair, 16))
                i += 3
                trailing_space = False
                continue
            if not pair or pair[0] not in _SPECIAL:
                raise DnError(f"invalid escape at position {i}")
            _flush(pending, out)
            out.append(pair[0])
            i += 2
            trailing_space = False
            continue
        if char in '";<>\x00':
            raise DnError(f"{char!r} must be escaped (position {i})")
        _flush(pending, out)
        out.append(char)
        trailing_space = char == " "
        i += 1
    if trailing_space:
        raise DnError("a trailing space must be escaped")
    _flush(pending, out)
    return "".join(out), i


def _flush(pending: bytearray, out: list[str]) -> None:
    if pending:
        try:
            out.append(pending.decode("utf-8"))
        except UnicodeDecodeError:
            raise DnError("hex pairs that are not UTF-8") from None
        pending.clear()


def split_template(template: str) -> list[str | tuple[str]]:
    """A template as literal DN text and ``(placeholder,)`` items. ``\\{`` and ``\\}`` are literal
    braces; every other escape stays as written (it is the DN's own)."""
    parts: list[str | tuple[str]] = []
    literal: list[str] = []
    i = 0
    while i < len(template):
        char = template[i]
        if char == "\\" and template[i + 1 : i + 2] in ("{", "}"):
            literal.append(template[i + 1])
            i += 2
        elif char == "\\":
            literal.append(template[i : i + 2])
            i += 2
        elif char == "{":
            close = template.find("}", i)
            name = template[i + 1 : close] if close > 0 else ""
            if not _PLACEHOLDER.fullmatch(name):
                raise DnError(f"'{template[i:]}' does not start with a placeholder")
            parts.append("".join(literal))
            parts.append((name,))
            literal = []
            i = close + 1
        elif char == "}":
            raise DnError("'}' without a matching '{'")
        else:
            literal.append(char)
            i += 1
    parts.append("".join(literal))
    return [p for p in parts if p != ""]


class DnRenderer:
    """The DN of each object of one type, from its import row; with ``ids``, also the DN of an
    anchor alone (the resource's id) and the anchor of such a DN.

    ``columns`` is the import projection (``plan.columns``), whose order the rows follow."""

    def __init__(self, dn: PlanDn, columns: Sequence[str], anchor_column: str, *, ids: bool = False) -> None:
        self.kind = dn.kind
        index = {c.casefold(): i for i, c in enumerate(columns)}
        self.anchor_index = index[anchor_column.casefold()]
        self.column_index: int | None = None
        # literal text, or the row index of a placeholder (None: a column the import does not
        # select, as an export-only one; it renders empty, and cannot be in an id DN)
        self.parts: list[str | int | None] = []
        if dn.kind == "column" and dn.column is not None:
            self.column_index = index[dn.column.casefold()]
        elif dn.kind == "template" and dn.template is not None:
            for part in split_template(dn.template):
                if isinstance(part, str):
                    self.parts.append(part)
                    continue
                name = part[0].casefold()
                self.parts.append(self.anchor_index if name == "anchor" else index.get(name))
        else:
            self.kind = "anchor"
        self.ids: _IdPattern | None = None
        if ids and self.kind == "template":
            assert dn.template is not None
            self.ids = _IdPattern(dn.template)
        elif ids and self.kind == "column":
            raise DnError("'dn column' cannot give ids: an id must lead back to the anchor")

    def render(self, row: Sequence[Any]) -> str:
        """The DN of the object whose import row is ``row``."""
        if self.kind == "template":
            return "".join(
                part if isinstance(part, str) else "" if part is None else escape_value(_text(row[part]))
                for part in self.parts
            )
        if self.kind == "column":
            assert self.column_index is not None
            return _text(row[self.column_index])
        return _text(row[self.anchor_index])

    def of_anchor(self, anchor: Any) -> str:
        """The DN of the object with this anchor: for a DN made from the anchor alone (ids)."""
        if self.ids is None:
            return _text(anchor)
        return self.ids.render(_text(anchor))

    def anchor_of(self, dn: str) -> str | None:
        """The anchor (as text) of the object a DN id names; None when it is not a DN or does
        not match the template."""
        if self.ids is None:
            return dn or None
        return self.ids.anchor_of(dn)


def _text(value: Any) -> str:
    return "" if value is None else value if isinstance(value, str) else str(value)


def _type_of(ava: Ava) -> str:
    return ava[0]


class _IdPattern:
    """A template whose only placeholder is ``{anchor}``, each a whole RDN value, the rest
    literal: rendered from an anchor and matched against DNs."""

    def __init__(self, template: str) -> None:
        parts = split_template(template)
        others = [p[0] for p in parts if isinstance(p, tuple) and p[0].casefold() != "anchor"]
        if others:
            raise DnError(f"an id DN can only use {{anchor}}, not {{{others[0]}}}")
        if not any(isinstance(p, tuple) for p in parts):
            raise DnError("the DN template does not contain {anchor}")
        self.literals = ["" if isinstance(p, tuple) else p for p in parts]
        marked = "".join(_MARK if isinstance(p, tuple) else p for p in parts)
        rdns = parse_dn(marked)  # DnError: the template is not a strict DN
        self.pattern: list[Rdn] = []
        for rdn in rdns:
            avas: list[Ava] = []
            for type_, value in rdn:
                if _MARK in value and value != _MARK:
                    raise DnError("{anchor} must be a whole RDN value, as in CN={anchor}")
                avas.append((type_.casefold(), value if value == _MARK else value.casefold()))
            self.pattern.append(tuple(sorted(avas, key=_type_of)))
        # the usual case, one {anchor}: the text around it, to read a DN as rendered without parsing
        pieces = marked.split(_MARK)
        self.prefix: str | None = pieces[0] if len(pieces) == 2 else None
        self.suffix: str | None = pieces[1] if len(pieces) == 2 else None
        self.parts = parts

    def render(self, anchor: str) -> str:
        value = escape_value(anchor)
        if self.prefix is not None and self.suffix is not None:
            return self.prefix + value + self.suffix
        return "".join(value if isinstance(p, tuple) else p for p in self.parts)

    def anchor_of(self, dn: str) -> str | None:
        prefix, suffix = self.prefix, self.suffix
        if (
            prefix is not None
            and suffix is not None
            and len(dn) > len(prefix) + len(suffix)
            and dn.startswith(prefix)
            and dn.endswith(suffix)
        ):
            middle = dn[len(prefix) : len(dn) - len(suffix)]
            if middle[0] not in "# " and middle[-1] != " " and not _NEEDS_ESCAPE.search(middle):
                return middle
        try:
            rdns = parse_dn(dn)
        except DnError:
            return None
        if len(rdns) != len(self.pattern):
            return None
        anchor: str | None = None
        for rdn, want in zip(rdns, self.pattern, strict=True):
            if len(rdn) != len(want):
                return None
            have = sorted(((t.casefold(), v) for t, v in rdn), key=_type_of)
            for (type_, value), (want_type, want_value) in zip(have, want, strict=True):
                if type_ != want_type:
                    return None
                if want_value != _MARK:
                    if value.casefold() != want_value:
                        return None
                elif anchor is None:
                    anchor = value
                elif value != anchor:
                    return None
        return anchor or None
