"""The one exception hierarchy of the project. Every error we raise on purpose ends in ``Error``
and derives from :class:`MapperError`, so the CLI and the SCIM front end can tell ours from bugs."""

from __future__ import annotations


class MapperError(Exception):
    """Base of every error the project raises on purpose."""


class MappingError(MapperError):
    """A mapping could not be parsed, checked or compiled. ``diagnostics`` says why, with positions."""

    def __init__(self, diagnostics: list) -> None:  # list[Diagnostic]; kept loose to avoid a cycle
        self.diagnostics = diagnostics
        first = diagnostics[0] if diagnostics else None
        super().__init__(str(first) if first else "invalid mapping")
