"""SCIM attribute paths (RFC 7644 §3.5.2 ``PATH``, §3.4.2.5 ``attributes``).

    userName   name.givenName   urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager
    members[value eq "7"]   emails[type eq "work"].value

``parse_path(text)`` returns an :class:`AttributePath` or raises ``invalidPath`` (400). Paths are
parsed with the filter grammar (start rule ``path``), so value filters are full filters. A URN
prefix is everything up to the last colon. Names keep the client's spelling; resolve them with
:class:`mapper.scim.attributes.Resolver` for the canonical one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from mapper.scim.errors import invalid_path
from mapper.scim.filter import AttrPath, Filter, parse


@dataclass(frozen=True)
class AttributePath:
    """``[urn:]attribute[.sub]`` or ``[urn:]attribute[filter][.sub]``.

    ``urn`` is None when the path is unqualified; ``value_filter`` selects values of a
    multi-valued attribute; ``sub_attribute`` is the sub-attribute after the name or the filter.
    ``written`` is the text the client sent, when the names were made canonical
    (:func:`mapper.scim.names.operations`): errors quote the client's own path.
    """

    urn: str | None
    attribute: str
    value_filter: Filter | None = None
    sub_attribute: str | None = None
    written: str | None = field(default=None, compare=False)

    @property
    def attr_path(self) -> AttrPath:
        """The path without its value filter."""
        return AttrPath(self.urn, self.attribute, self.sub_attribute)

    def __str__(self) -> str:
        if self.written is not None:
            return self.written
        text = f"{self.urn}:{self.attribute}" if self.urn else self.attribute
        if self.value_filter is not None:
            text += "[...]"
        return f"{text}.{self.sub_attribute}" if self.sub_attribute else text


CACHED_LENGTH = 256  # longer paths (large value filters) are parsed each time, not remembered


def parse_path(text: str) -> AttributePath:
    """Parse a PATCH ``path`` or one ``attributes=`` entry; raise ``invalidPath`` when malformed.

    Provisioning sends the same few paths over and over (``active``, ``members``,
    ``emails[type eq "work"].value``), and a Lark parse costs about 100 µs; a bounded cache of the
    parsed (immutable) paths answers those in well under a microsecond. Malformed paths raise
    every time and are not remembered."""
    text = text.strip() if isinstance(text, str) else ""
    if len(text) <= CACHED_LENGTH:
        return _parse_cached(text)
    return _parse(text)


@lru_cache(maxsize=1024)
def _parse_cached(text: str) -> AttributePath:
    return _parse(text)


def _parse(text: str) -> AttributePath:
    base, value_filter, after = parse(text, "path", invalid_path)
    if value_filter is not None and base.sub:
        raise invalid_path(f"a value filter applies to an attribute, not to '{base}'")
    return AttributePath(base.urn, base.attribute, value_filter, base.sub or after)


def split_list(text: str) -> list[str]:
    """Split a comma-separated ``attributes=``/``excludedAttributes=`` value, keeping commas
    inside brackets and quoted strings (``emails[type eq "a,b"]``); blanks are dropped."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    quoted = escaped = False
    for char in text:
        if quoted:
            quoted = escaped or char != '"'
            escaped = not escaped and char == "\\"
        elif char == '"':
            quoted = True
        elif char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        elif char == "," and depth <= 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]
