"""The live database behind a mapping, for the language server: which database a document
reads, the ``mapper lint --db`` checks against it, and its tables and columns for completion.

Everything that touches the database blocks, so it runs in worker threads, under a time budget,
one job per database at a time, and its results are cached:

- the checks by (database, text of the document): typing back to an earlier text costs nothing;
- the catalog (tables and their columns) for ``CATALOG_TTL`` seconds;
- a database that timed out or refused is left alone for ``BACKOFF`` seconds.

A SQLite file that does not exist is not reachable (connecting would create it). Secrets never
leave this module: what it reports names the database with its password hidden.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import logging
import os
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from mapper.language.model import EnvUrl, LiteralUrl, MappingFile
from mapper.plan import Plan

if TYPE_CHECKING:
    from mapper.lint.database import DatabaseCheck

log = logging.getLogger(__name__)

_TOP_LEVEL = re.compile(r"^(?:source|schema|object)\b", re.MULTILINE)

T = TypeVar("T")

#: Seconds a database job may take before the server stops waiting for it.
TIMEOUT = 10.0
#: Seconds a database that failed or timed out is left alone before it is tried again.
BACKOFF = 30.0
#: Seconds a catalog (tables and columns) is reused before it is read again.
CATALOG_TTL = 30.0
#: Results of the checks kept, by database and text.
CACHE_SIZE = 32
#: Tables whose columns the catalog reads (the names of all tables are read).
MAX_TABLES = 500
#: Seconds a connection attempt may take (passed to the PostgreSQL and MySQL drivers).
CONNECT_TIMEOUT = 5


@dataclass(frozen=True)
class CatalogSnapshot:
    """The database's tables and views, each with its columns in order (empty past MAX_TABLES)."""

    tables: dict[str, tuple[str, ...]]

    def columns_of(self, name: str) -> tuple[str, ...]:
        lowered = name.rpartition(".")[2].lower()
        for table, columns in self.tables.items():
            if table.lower() == lowered:
                return columns
        return ()


def source_url(mapping: MappingFile, environ: Mapping[str, str]) -> str | None:
    """The one database the document's objects read, as ``mapper serve`` would resolve it (the
    environment variable, else its default, else the literal URL); None when the sources name
    none or several different ones."""
    used = {o.source.value for o in mapping.objects} or {s.name.value for s in mapping.sources}
    urls: set[str] = set()
    for source in mapping.sources:
        if source.name.value not in used or source.url is None:
            continue
        if isinstance(source.url, EnvUrl):
            url = environ.get(source.url.var) or source.url.default
        elif isinstance(source.url, LiteralUrl):
            url = source.url.value
        else:  # pragma: no cover - the model has no other kind
            url = None
        if url:
            urls.add(url)
    return urls.pop() if len(urls) == 1 else None


def sources_of(text: str) -> MappingFile | None:
    """The ``source`` blocks of a file that does not parse as a whole, parsed on their own (the
    database of a file being typed into is still known)."""
    from mapper.language.parser import parse

    starts = [m.start() for m in _TOP_LEVEL.finditer(text)] + [len(text)]
    blocks = [text[a:b] for a, b in zip(starts, starts[1:], strict=False) if text.startswith("source", a)]
    mapping, _ = parse("\n".join(blocks), "<sources>") if blocks else (None, [])
    return mapping


def reachable(url: str) -> bool:
    """Whether connecting to ``url`` can be tried without side effects: a SQLite file must
    already exist (SQLite would create it), and an in-memory database has nothing to check."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - an unparsable URL is simply not a database to check
        return False
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        return database is not None and database not in ("", ":memory:") and Path(database).is_file()
    return True


def with_connect_timeout(url: str) -> str:
    """``url`` with a connection timeout for the drivers that take one in the URL."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if (
        parsed.get_backend_name() in ("postgresql", "mysql", "mariadb")
        and "connect_timeout" not in parsed.query
    ):
        parsed = parsed.update_query_dict({"connect_timeout": str(CONNECT_TIMEOUT)})
    return parsed.render_as_string(hide_password=False)


def shown(url: str) -> str:
    """``url`` with its password hidden."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001
        return "<unparseable url>"


def check(mapping: MappingFile, plan: Plan | None, url: str) -> DatabaseCheck:
    """The ``mapper lint --db`` checks (blocking). Raises DatabaseError when unreachable."""
    from mapper.lint.database import run_checks

    return run_checks(mapping, with_connect_timeout(url), plan)


def read_catalog(url: str) -> CatalogSnapshot:
    """The tables and columns of the database at ``url`` (blocking)."""
    from sqlalchemy import create_engine, inspect
    from sqlalchemy.engine import make_url

    from mapper.lint.database import DRIVERS

    parsed = make_url(with_connect_timeout(url))
    if "+" not in parsed.drivername and parsed.drivername in DRIVERS:
        parsed = parsed.set(drivername=DRIVERS[parsed.drivername])
    engine = create_engine(parsed)
    try:
        with engine.connect() as connection:
            inspector = inspect(connection)
            names = sorted({*inspector.get_table_names(), *inspector.get_view_names()})
            tables: dict[str, tuple[str, ...]] = {}
            for i, name in enumerate(names):
                columns = inspector.get_columns(name) if i < MAX_TABLES else []
                tables[name] = tuple(str(c["name"]) for c in columns)
            return CatalogSnapshot(tables)
    finally:
        engine.dispose()


class LiveDatabase:
    """The database jobs of one language server: at most one running per database, each under
    ``timeout``; ``notify`` is told (in words, without secrets) when a database fails."""

    def __init__(
        self,
        executor: concurrent.futures.Executor,
        notify: Callable[[str], None] = log.info,
        timeout: float = TIMEOUT,
        backoff: float = BACKOFF,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._executor = executor
        self._notify = notify
        self.timeout = timeout
        self.backoff = backoff
        self.environ = os.environ if environ is None else environ
        self._running: dict[str, concurrent.futures.Future[Any]] = {}
        self._down_until: dict[str, float] = {}
        self._checks: OrderedDict[tuple[str, str], DatabaseCheck] = OrderedDict()
        self._catalogs: dict[str, tuple[float, CatalogSnapshot]] = {}

    def url_for(self, mapping: MappingFile | None, override: str | None) -> str | None:
        """The database to check ``mapping`` against: ``override`` (``mapper lsp --db``) or its
        sources' one URL, when it can be tried."""
        url = override or (source_url(mapping, self.environ) if mapping is not None else None)
        return url if url and reachable(url) else None

    def cached_checks(self, url: str, text: str) -> DatabaseCheck | None:
        return self._checks.get((url, _digest(text)))

    async def checks(self, mapping: MappingFile, plan: Plan | None, url: str) -> DatabaseCheck | None:
        """The live checks of ``mapping`` (None when the database could not answer in time)."""
        key = (url, _digest(mapping.text))
        if key in self._checks:
            self._checks.move_to_end(key)
            return self._checks[key]
        found = await self._run(url, check, mapping, plan, url)
        if found is not None:
            self._checks[key] = found
            while len(self._checks) > CACHE_SIZE:
                self._checks.popitem(last=False)
        return found

    async def catalog(self, url: str) -> CatalogSnapshot | None:
        """The database's tables and columns, cached; None when it could not answer in time."""
        cached = self._catalogs.get(url)
        if cached is not None and time.monotonic() - cached[0] < CATALOG_TTL:
            return cached[1]
        snapshot = await self._run(url, read_catalog, url)
        if snapshot is not None:
            self._catalogs[url] = (time.monotonic(), snapshot)
        elif cached is not None:
            return cached[1]
        return snapshot

    async def _run(self, url: str, fn: Callable[..., T], *args: Any) -> T | None:
        if time.monotonic() < self._down_until.get(url, 0.0):
            return None
        running = self._running.get(url)
        if running is not None and not running.done():
            try:  # the previous job on this database first: never two at once
                await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(running)), self.timeout)
            except Exception:  # noqa: BLE001 - its own caller reports it
                return None
        future = self._executor.submit(fn, *args)
        self._running[url] = future
        try:
            return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), self.timeout)
        except TimeoutError:
            self._fail(url, f"no answer within {self.timeout:g}s")
        except Exception as exc:  # noqa: BLE001 - DatabaseError or a driver's error: say so, go on
            self._fail(url, _first_line(exc))
        return None

    def _fail(self, url: str, why: str) -> None:
        self._down_until[url] = time.monotonic() + self.backoff
        self._notify(f"database checks skipped for {self.backoff:g}s: {shown(url)}: {why}")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
