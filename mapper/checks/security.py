"""Security and consistency of connection URLs, and write-only attributes.

A password written in the mapping file ends up in version control; the message never repeats it.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

from mapper.checks import codes
from mapper.checks.analysis import Analysis
from mapper.checks.scimpaths import Resolved
from mapper.checks.sources import dialect_of
from mapper.diagnostics import Diagnostic
from mapper.language.model import EnvUrl, LiteralUrl, Source

#: URL schemes (before any ``+driver``) that each dialect's databases use.
SCHEMES = {
    "sqlite": ("sqlite",),
    "postgres": ("postgresql", "postgres"),
    "mysql": ("mysql", "mariadb"),
    "tsql": ("mssql",),
    "oracle": ("oracle",),
}


def _url_text(source: Source) -> str | None:
    if isinstance(source.url, LiteralUrl):
        return source.url.value
    if isinstance(source.url, EnvUrl):
        return source.url.default
    return None


def _has_password(url: str) -> bool:
    try:
        return bool(urlsplit(url).password)
    except ValueError:
        return "@" in url and ":" in url.split("@", 1)[0].split("//", 1)[-1]


def check_urls(analysis: Analysis) -> Iterator[Diagnostic]:
    mapping = analysis.mapping
    for source in mapping.sources:
        url = _url_text(source)
        if url is None or source.url is None:
            continue
        name = source.name.value
        var = source.url.var if isinstance(source.url, EnvUrl) else f"{name.upper()}_DATABASE_URL"
        if _has_password(url):
            where = "default URL" if isinstance(source.url, EnvUrl) else "URL"
            yield codes.INLINE_PASSWORD.at(
                mapping.path,
                source.url.span,
                f"the {where} of source '{name}' contains a password",
                f'keep secrets out of the file: write url env("{var}") and set {var} where the gateway runs',
            )
        scheme = url.split(":", 1)[0].split("+", 1)[0].lower() if ":" in url else ""
        dialect = (dialect_of(source.dialect.value) if source.dialect else None) or ""
        if scheme and dialect in SCHEMES and scheme not in SCHEMES[dialect]:
            yield codes.DIALECT_URL_MISMATCH.at(
                mapping.path,
                source.url.span,
                f"source '{name}' has dialect {dialect} but its URL is for '{scheme}'",
                f"a {dialect} URL starts with {' or '.join(s + '://' for s in SCHEMES[dialect])}",
            )


def check_password_attribute(analysis: Analysis) -> Iterator[Diagnostic]:
    for paths in analysis.objects:
        for m, resolved in paths.attributes:
            if (
                isinstance(resolved, Resolved)
                and resolved.attribute.returned == "never"
                and m.direction != "export"
            ):
                yield codes.PASSWORD_IMPORTED.at(
                    analysis.file,
                    m.path.span,
                    f"'{resolved}' is write-only in SCIM and must never be returned",
                    f"map it export-only: {m.path.value} -> {m.column.value}",
                )
