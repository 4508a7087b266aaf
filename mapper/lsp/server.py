"""The language server (``mapper lsp``): the linter, completion, hover, formatting,
go-to-definition and quick fixes for mapping files, over stdio, built on pygls.

The server is assembled explicitly in ``build_server``: one ``MappingServer`` holds the state
(the last lint of each open document, the live database jobs), and ``build_server`` lists the
LSP methods it answers. Nothing blocks the event loop: the lint of a document runs in a worker
thread after ``DEBOUNCE`` seconds without a change, completion, hover and formatting in another,
and the ``--db`` checks in others under a time budget (``mapper.lsp.live``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlparse

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from mapper.diagnostics import Diagnostic
from mapper.language.model import MappingFile
from mapper.lint import lint_text
from mapper.lint.lint import LintResult
from mapper.lint.render import tool_version
from mapper.lsp import complete, fixes, hover, navigate
from mapper.lsp.live import LiveDatabase, sources_of
from mapper.lsp.positions import Positions
from mapper.lsp.report import to_lsp_all
from mapper.pipeline import ordered

log = logging.getLogger(__name__)

#: Seconds without a change before a document is linted again.
DEBOUNCE = 0.25
#: Seconds the first publication of a lint waits for the database checks, so that their
#: diagnostics do not blink out and back while typing; after that the linter's are published
#: alone and the database's follow when they come.
DATABASE_GRACE = 0.8


@dataclass(frozen=True)
class Options:
    """``mapper lsp``'s options: ``db`` checks every document against this database instead of
    its sources' (``None``: the sources'); ``live`` turns the database off altogether."""

    db: str | None = None
    live: bool = True
    environ: Mapping[str, str] | None = None
    debounce: float = DEBOUNCE


@dataclass
class Document:
    """What the server knows of one open document: its last lint, and the last one that parsed
    (completion reads the objects of a file that is being typed into through it)."""

    uri: str
    result: LintResult | None = None
    parsed: LintResult | None = None
    published: tuple[Diagnostic, ...] = ()
    task: asyncio.Task[None] | None = None


class MappingServer:
    """The state of one server and its handlers (bound methods, registered in ``build_server``)."""

    def __init__(self, server: LanguageServer, options: Options) -> None:
        self.server = server
        self.options = options
        self.documents: dict[str, Document] = {}
        self.lint_pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="mapper-lint")
        self.request_pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="mapper-request")
        self.database_pool = concurrent.futures.ThreadPoolExecutor(2, thread_name_prefix="mapper-db")
        self.live = LiveDatabase(self.database_pool, notify=self.say, environ=options.environ)

    # helpers ----------------------------------------------------------------------------------

    def say(self, message: str) -> None:
        log.info("%s", message)
        try:
            self.server.window_log_message(
                types.LogMessageParams(type=types.MessageType.Info, message=message)
            )
        except Exception:  # noqa: BLE001 - not connected: the log has it
            log.debug("no client to tell: %s", message)

    @property
    def encoding(self) -> str:
        chosen = self.server.server_capabilities.position_encoding
        return str(chosen) if chosen else types.PositionEncodingKind.Utf16

    def text(self, uri: str) -> str:
        return self.server.workspace.get_text_document(uri).source

    def positions(self, uri: str) -> Positions:
        return Positions(self.text(uri), self.encoding)

    def document(self, uri: str) -> Document:
        return self.documents.setdefault(uri, Document(uri))

    def database_url(self, mapping: MappingFile | None) -> str | None:
        if not self.options.live:
            return None
        return self.live.url_for(mapping, self.options.db)

    # diagnostics ------------------------------------------------------------------------------

    def did_open(self, params: types.DidOpenTextDocumentParams) -> None:
        self.schedule(params.text_document.uri, delay=0.0)

    def did_change(self, params: types.DidChangeTextDocumentParams) -> None:
        self.schedule(params.text_document.uri, delay=self.options.debounce)

    def did_save(self, params: types.DidSaveTextDocumentParams) -> None:
        self.schedule(params.text_document.uri, delay=0.0)

    def did_close(self, params: types.DidCloseTextDocumentParams) -> None:
        doc = self.documents.pop(params.text_document.uri, None)
        if doc is not None and doc.task is not None:
            doc.task.cancel()
        self.server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[])
        )

    def schedule(self, uri: str, delay: float) -> None:
        doc = self.document(uri)
        if doc.task is not None:
            doc.task.cancel()
        doc.task = asyncio.get_running_loop().create_task(self.lint(uri, delay))

    async def lint(self, uri: str, delay: float) -> None:
        """Lint ``uri`` after ``delay`` seconds; publish the linter's diagnostics, and the live
        database's when its database is reachable."""
        await asyncio.sleep(delay)
        try:
            await self._lint(uri)
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug: keep serving, and say so where the user looks
            log.exception("linting %s failed", uri)
            self.say(f"mapper lsp: linting {uri} failed; see the server's log")

    async def _lint(self, uri: str) -> None:
        text = self.text(uri)
        result = await self.lint_now(uri, text)
        url = self.database_url(result.mapping)
        if url is None or result.mapping is None:
            self.publish(uri, text, result.diagnostics)
            return
        from mapper.lint.database import merged

        cached = self.live.cached_checks(url, text)
        if cached is not None:
            self.publish(uri, text, ordered(merged(result.diagnostics, cached)))
            return
        checking = asyncio.ensure_future(self.live.checks(result.mapping, result.plan, url))
        done, _ = await asyncio.wait({checking}, timeout=DATABASE_GRACE)
        if not done:
            self.publish(uri, text, result.diagnostics)
        found = await checking
        if self.text(uri) == text:
            shown = result.diagnostics if found is None else merged(result.diagnostics, found)
            self.publish(uri, text, ordered(shown))

    async def lint_now(self, uri: str, text: str) -> LintResult:
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(self.lint_pool, lint_text, text, path_of(uri))
        doc = self.document(uri)
        doc.result = result
        if result.mapping is not None:
            doc.parsed = result
        return result

    async def current(self, uri: str) -> LintResult:
        """The lint of the document as it is now (from the last lint when the text is the same)."""
        doc = self.document(uri)
        text = self.text(uri)
        if doc.result is not None and doc.result.text == text:
            return doc.result
        return await self.lint_now(uri, text)

    def publish(self, uri: str, text: str, diagnostics: list[Diagnostic]) -> None:
        doc = self.document(uri)
        doc.published = tuple(diagnostics)
        self.server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=uri, diagnostics=to_lsp_all(diagnostics, Positions(text, self.encoding))
            )
        )

    # requests ---------------------------------------------------------------------------------

    async def completion(self, params: types.CompletionParams) -> types.CompletionList:
        uri = params.text_document.uri
        positions = self.positions(uri)
        offset = positions.offset(params.position)
        doc = self.document(uri)
        if doc.parsed is None:
            await self.current(uri)
        parsed = doc.parsed.mapping if doc.parsed is not None else None
        url = self.database_url(parsed or sources_of(positions.text))
        catalog = await self.live.catalog(url) if url is not None else None
        loop = asyncio.get_running_loop()
        items = await loop.run_in_executor(
            self.request_pool, complete.complete, positions, offset, parsed, catalog
        )
        return types.CompletionList(is_incomplete=False, items=items)

    async def hover(self, params: types.HoverParams) -> types.Hover | None:
        uri = params.text_document.uri
        result = await self.current(uri)
        positions = self.positions(uri)
        offset = positions.offset(params.position)
        doc = self.document(uri)
        published = list(doc.published) or result.diagnostics
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self.request_pool, hover.hover, positions, offset, result, published
        )

    async def formatting(self, params: types.DocumentFormattingParams) -> list[types.TextEdit] | None:
        uri = params.text_document.uri
        result = await self.current(uri)
        loop = asyncio.get_running_loop()
        formatted = await loop.run_in_executor(self.request_pool, navigate.formatted, result)
        if formatted is None or formatted == result.text:
            return [] if formatted is not None else None
        return [types.TextEdit(range=Positions(result.text, self.encoding).whole(), new_text=formatted)]

    async def definition(self, params: types.DefinitionParams) -> types.Location | None:
        uri = params.text_document.uri
        result = await self.current(uri)
        positions = Positions(result.text, self.encoding)
        span = navigate.definition(result, positions.offset(params.position))
        if span is None:
            return None
        return types.Location(uri=uri, range=positions.range(span))

    def code_action(self, params: types.CodeActionParams) -> list[types.CodeAction]:
        uri = params.text_document.uri
        return fixes.quick_fixes(uri, self.positions(uri), list(params.context.diagnostics))

    def shutdown(self, params: Any = None) -> None:
        for doc in self.documents.values():
            if doc.task is not None:
                doc.task.cancel()
        self.lint_pool.shutdown(wait=False, cancel_futures=True)
        self.request_pool.shutdown(wait=False, cancel_futures=True)
        self.database_pool.shutdown(wait=False, cancel_futures=True)


def path_of(uri: str) -> str:
    """The file path of a ``file:`` URI (diagnostics name their file by it), else the URI."""
    parsed = urlparse(uri)
    return unquote(parsed.path) if parsed.scheme == "file" else uri


def build_server(options: Options | None = None) -> tuple[LanguageServer, MappingServer]:
    """A language server with every feature registered, and its state."""
    server = LanguageServer(
        "mapper", tool_version(), text_document_sync_kind=types.TextDocumentSyncKind.Incremental
    )
    state = MappingServer(server, options or Options())
    features: tuple[tuple[str, Any, Any], ...] = (
        (types.TEXT_DOCUMENT_DID_OPEN, None, state.did_open),
        (types.TEXT_DOCUMENT_DID_CHANGE, None, state.did_change),
        (types.TEXT_DOCUMENT_DID_SAVE, None, state.did_save),
        (types.TEXT_DOCUMENT_DID_CLOSE, None, state.did_close),
        (
            types.TEXT_DOCUMENT_COMPLETION,
            types.CompletionOptions(trigger_characters=complete.TRIGGERS),
            state.completion,
        ),
        (types.TEXT_DOCUMENT_HOVER, None, state.hover),
        (types.TEXT_DOCUMENT_FORMATTING, None, state.formatting),
        (types.TEXT_DOCUMENT_DEFINITION, None, state.definition),
        (
            types.TEXT_DOCUMENT_CODE_ACTION,
            types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]),
            state.code_action,
        ),
        (types.SHUTDOWN, None, state.shutdown),
    )
    for method, method_options, handler in features:
        server.feature(method, method_options)(_plain(handler))
    return server, state


def _plain(method: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``method`` as a plain function: pygls marks its handlers with attributes, which a bound
    method cannot take."""
    if inspect.iscoroutinefunction(method):

        async def call_async(params: Any) -> Any:
            return await method(params)

        return call_async

    def call(params: Any) -> Any:
        return method(params)

    return call


def serve_stdio(options: Options | None = None) -> None:
    """Serve the Language Server Protocol on stdin and stdout until the client exits."""
    server, _ = build_server(options)
    server.start_io()
