"""Lenient resource paths, normalised by the front door (:mod:`mapper.scim.front`) before routing.

Clients are not consistent about case or slashes: Microsoft's test collection requests ``/users``,
``/Users/?filter=...`` and ``/serviceConfiguration``. Before routing, the first segment under the
SCIM root is mapped case-insensitively to its canonical spelling (``/users`` → ``/Users``), aliases
are applied (``serviceConfiguration`` → ``ServiceProviderConfig``), ``.search`` is matched in any
case, and trailing slashes are dropped. Ids and schema URNs after the first segment are untouched.

The ECMA Connector Host's tenant URL shape, ``/ecma2host_{connectorName}/scim``, is served as an
alias of the SCIM root, whatever the connector's name, so that an Entra ID application configured
for the ECMA host keeps working when this gateway replaces it. The root the client used is kept
in the scope (:data:`CLIENT_ROOT_KEY`, set by the front door from :meth:`PathNormaliser.ecma_root`),
so ``meta.location``, ``Location`` and ``$ref`` point back under it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

SEARCH = ".search"
ECMA_PREFIX = "/ecma2host_"
#: The scope key holding the SCIM root path the client used when it is not the base path.
CLIENT_ROOT_KEY = "mapper.root"
_ECMA_ROOT = re.compile(r"/ecma2host_[A-Za-z0-9_.-]+/scim(?=/|$)", re.IGNORECASE)


class PathNormaliser:
    """The canonical form of request paths under ``base_path``, whose first segments are
    ``segments`` (any case) or the keys of ``aliases``."""

    def __init__(
        self, base_path: str, segments: Iterable[str], aliases: Mapping[str, str] | None = None
    ) -> None:
        self.prefix = base_path
        self.folded_prefix = base_path.casefold()
        self.exact = frozenset(segments)
        self.canonical = {s.casefold(): s for s in segments}
        for alias, target in (aliases or {}).items():
            self.canonical[alias.casefold()] = target

    def ecma_root(self, path: str) -> str | None:
        """The ECMA host's root ``path`` starts with (``/ecma2host_HR/scim``), as sent; else None."""
        if path[: len(ECMA_PREFIX)].lower() != ECMA_PREFIX:
            return None
        match = _ECMA_ROOT.match(path)
        return match.group(0) if match is not None else None

    def normalise(self, path: str) -> str:
        """The canonical form of ``path``; ``path`` itself when it is already canonical."""
        if path[: len(ECMA_PREFIX)].lower() == ECMA_PREFIX:
            match = _ECMA_ROOT.match(path)
            if match is not None:
                path = self.prefix + path[match.end() :]
        size = len(self.prefix)
        if path[size : size + 1] != "/" or (
            not path.startswith(self.prefix) and path[:size].casefold() != self.folded_prefix
        ):
            return path
        rest = path[size + 1 :]
        first, sep, tail = rest.partition("/")
        if first in self.exact and not path.endswith("/") and not tail.startswith("."):
            return path  # the common case: already canonical
        rest = rest.rstrip("/")
        first, sep, tail = rest.partition("/")
        first = self.canonical.get(first.casefold(), first)
        if tail.casefold() == SEARCH:
            tail = SEARCH
        canonical = f"{self.prefix}/{first}{sep}{tail}"
        return path if canonical == path else canonical
