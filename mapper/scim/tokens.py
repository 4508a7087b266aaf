"""Bearer tokens as configured: ``MAPPER_TOKEN`` (comma-separated) and token files (one per line),
each entry a bare token or ``label:token``. Parsing only: no Starlette, so the settings (which the
CLI imports to declare its arguments) can hold credentials. :mod:`mapper.scim.auth` checks them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from mapper.errors import MapperError


class TokenConfigError(MapperError):
    """A token file could not be read, or a token entry is malformed."""


@dataclass(frozen=True)
class Credential:
    """One accepted bearer token and the label that names its client."""

    label: str
    token: bytes

    def __repr__(self) -> str:  # never show the secret, even in a traceback
        return f"Credential(label={self.label!r}, token=<hidden>)"


def parse_credentials(entries: Iterable[str]) -> tuple[Credential, ...]:
    """Turn ``label:token`` or bare ``token`` entries into credentials; bare tokens are labelled
    ``client-1``, ``client-2``... in order. Blank entries and ``#`` comments are skipped."""
    credentials: list[Credential] = []
    for raw in entries:
        entry = raw.strip()
        if not entry or entry.startswith("#"):
            continue
        label, sep, token = entry.partition(":")
        if not sep:
            label, token = f"client-{len(credentials) + 1}", entry
        label, token = label.strip(), token.strip()
        if not token:
            raise TokenConfigError(f"token entry for client {label!r} has an empty token")
        credentials.append(Credential(label=label or f"client-{len(credentials) + 1}", token=token.encode()))
    return tuple(credentials)


def load_credentials(tokens: Iterable[str] = (), token_file: str | None = None) -> tuple[Credential, ...]:
    """All credentials from token strings (``MAPPER_TOKEN`` items) and an optional token file."""
    entries = list(tokens)
    if token_file:
        try:
            entries += Path(token_file).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise TokenConfigError(f"cannot read token file {token_file}: {exc.strerror or exc}") from exc
    return parse_credentials(entries)
