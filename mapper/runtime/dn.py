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

The DN syntax itself (escaping, parsing, templates) is :mod:`mapper.dn`, shared with the checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mapper.dn import Ava, DnError, Rdn, escape_value, parse_dn, plain, split_template
from mapper.plan import PlanDn

__all__ = ["DnError", "DnRenderer", "escape_value", "parse_dn", "split_template"]

_MARK = "\ue000"  # stands for {anchor} while a template is parsed (a private-use character)


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
            if plain(middle):
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
