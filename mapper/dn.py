"""Distinguished names as text (RFC 4514): the one place their syntax is written.

Both sides of the pipeline read DNs: the checks (``mapper.checks.dn``) point at what is wrong in a
mapping's DN template, by position; the runtime (``mapper.runtime.dn``) renders an object's DN and
reads a DN id back to its anchor. Both use the character classes, attribute-type pattern and
escapes defined here, so what lint accepts is what the gateway reads.

- :func:`escape_value`: a value as an RDN value (RFC 4514 §2.4).
- :func:`escape_length`: how long the escape starting at a backslash is, or None when invalid.
- :func:`parse_dn`: a DN's RDNs, escapes decoded; strict (no spaces around separators, no
  ``#hexstring``).
- :func:`split_template`: a ``dn`` template as literal text and ``{placeholder}`` items.
"""

from __future__ import annotations

import re

Ava = tuple[str, str]  # (attribute type, value)
Rdn = tuple[Ava, ...]

#: characters escaped with a backslash anywhere in a value (§2.4); NUL is written ``\\00``
ESCAPED = frozenset('"+,;<>\\')
#: characters that may follow a backslash (§3: ``escaped = DQUOTE / special / ...``)
SPECIAL = frozenset('"+,;<>\\ #=')
HEX = frozenset("0123456789abcdefABCDEF")
#: an attribute type: a name (``CN``) or a numeric OID without leading zeros (``2.5.4.3``)
TYPE = re.compile(r"[A-Za-z][A-Za-z0-9-]*|(?:0|[1-9][0-9]*)(?:\.(?:0|[1-9][0-9]*))+")
#: a ``{placeholder}``'s name in a DN template
PLACEHOLDER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

_NEEDS_ESCAPE = re.compile(r'["+,;<>\\\x00]')
_TYPE_EQUALS = re.compile(rf"({TYPE.pattern})=")


class DnError(ValueError):
    """A string that is not a DN (RFC 4514), or a template that cannot be used as asked."""


def escape_value(value: str) -> str:
    """``value`` as an RDN value (RFC 4514 §2.4): ``" + , ; < > \\`` escaped with a backslash, a
    leading ``#`` or space and a trailing space too, and NUL as ``\\00``."""
    if plain(value):
        return value
    out: list[str] = []
    last = len(value) - 1
    for i, char in enumerate(value):
        if char in ESCAPED or (i == 0 and char in "# ") or (i == last and char == " "):
            out.append("\\" + char)
        elif char == "\x00":
            out.append("\\00")
        else:
            out.append(char)
    return "".join(out)


def plain(value: str) -> bool:
    """Whether ``value`` (not empty) is its own RDN value: nothing in it needs escaping."""
    return bool(value) and value[0] not in "# " and value[-1] != " " and not _NEEDS_ESCAPE.search(value)


def escape_length(text: str, i: int, also: str = "") -> int | None:
    """The length of the escape at ``text[i]`` (a backslash): 2 for ``\\,`` and the other
    specials (and the characters in ``also``), 3 for a hex pair (``\\2C``); None when what
    follows the backslash is neither."""
    pair = text[i + 1 : i + 3]
    if len(pair) == 2 and pair[0] in HEX and pair[1] in HEX:
        return 3
    if pair and (pair[0] in SPECIAL or pair[0] in also):
        return 2
    return None


def parse_dn(text: str) -> tuple[Rdn, ...]:
    """The RDNs of a DN string, each a tuple of (type, value) with escapes decoded. Raises
    :class:`DnError` for anything RFC 4514 does not allow."""
    if text == "":
        return ()
    rdns: list[Rdn] = []
    avas: list[Ava] = []
    i = 0
    while True:
        found = _TYPE_EQUALS.match(text, i)
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
            length = escape_length(text, i)
            if length is None:
                raise DnError(f"invalid escape at position {i}")
            if length == 3:
                pending.append(int(text[i + 1 : i + 3], 16))
            else:
                _flush(pending, out)
                out.append(text[i + 1])
            i += length
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
            if not PLACEHOLDER.fullmatch(name):
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
