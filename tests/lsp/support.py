"""A real LSP client (pygls's) speaking JSON-RPC over stdio to a real ``mapper lsp`` process."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient

#: Seconds a test waits for the server: generous, as the machine is shared (never asserted on).
WAIT = 60.0


class Editor:
    """An editor session with ``mapper lsp``: open and change documents, await diagnostics, ask
    for completion, hover, formatting and definitions."""

    def __init__(self, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> None:
        self.args = args
        self.env = {**os.environ, **(env or {})}
        self.cwd = cwd
        self.client = LanguageClient("mapper-tests", "0")
        self.published: dict[str, list[types.Diagnostic]] = {}
        self.logs: list[str] = []
        self._changed = asyncio.Condition()
        self.versions: dict[str, int] = {}

        async def on_diagnostics(params: types.PublishDiagnosticsParams) -> None:
            await self._on_diagnostics(params)

        def on_log(params: types.LogMessageParams) -> None:
            self.logs.append(params.message)

        self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)(on_diagnostics)
        self.client.feature(types.WINDOW_LOG_MESSAGE)(on_log)

    async def _on_diagnostics(self, params: types.PublishDiagnosticsParams) -> None:
        async with self._changed:
            self.published[params.uri] = params.diagnostics
            self._changed.notify_all()

    async def __aenter__(self) -> Editor:
        await self.client.start_io(
            sys.executable, "-m", "mapper", "lsp", *self.args, env=self.env, cwd=self.cwd
        )
        await asyncio.wait_for(
            self.client.initialize_async(
                types.InitializeParams(capabilities=types.ClientCapabilities(), process_id=os.getpid())
            ),
            WAIT,
        )
        self.client.initialized(types.InitializedParams())
        return self

    async def __aexit__(self, *exc: Any) -> None:
        try:
            await asyncio.wait_for(self.client.shutdown_async(None), WAIT)
            self.client.exit(None)
        finally:
            await asyncio.wait_for(self.client.stop(), WAIT)

    def open(self, path: Path, text: str | None = None) -> str:
        uri = path.resolve().as_uri()
        self.versions[uri] = 1
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id="mapper", version=1, text=path.read_text() if text is None else text
                )
            )
        )
        return uri

    def change(self, uri: str, text: str) -> None:
        self.versions[uri] += 1
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )

    async def diagnostics(
        self, uri: str, until: Callable[[list[types.Diagnostic]], bool] = lambda _: True
    ) -> list[types.Diagnostic]:
        """The diagnostics published for ``uri`` once ``until`` holds for them."""

        async def wait() -> list[types.Diagnostic]:
            async with self._changed:
                while uri not in self.published or not until(self.published[uri]):
                    await self._changed.wait()
                return self.published[uri]

        return await asyncio.wait_for(wait(), WAIT)

    def _doc(self, uri: str) -> types.TextDocumentIdentifier:
        return types.TextDocumentIdentifier(uri=uri)

    async def complete(self, uri: str, line: int, character: int) -> list[types.CompletionItem]:
        result = await asyncio.wait_for(
            self.client.text_document_completion_async(
                types.CompletionParams(
                    text_document=self._doc(uri), position=types.Position(line=line, character=character)
                )
            ),
            WAIT,
        )
        if result is None:
            return []
        return result.items if isinstance(result, types.CompletionList) else list(result)

    async def hover(self, uri: str, line: int, character: int) -> types.Hover | None:
        return await asyncio.wait_for(
            self.client.text_document_hover_async(
                types.HoverParams(
                    text_document=self._doc(uri), position=types.Position(line=line, character=character)
                )
            ),
            WAIT,
        )

    async def format(self, uri: str) -> list[types.TextEdit] | None:
        return await asyncio.wait_for(
            self.client.text_document_formatting_async(
                types.DocumentFormattingParams(
                    text_document=self._doc(uri),
                    options=types.FormattingOptions(tab_size=2, insert_spaces=True),
                )
            ),
            WAIT,
        )

    async def code_actions(self, uri: str, diagnostics: list[types.Diagnostic]) -> list[types.CodeAction]:
        """The code actions for ``diagnostics``, as an editor asks on a squiggle."""
        found = await asyncio.wait_for(
            self.client.text_document_code_action_async(
                types.CodeActionParams(
                    text_document=self._doc(uri),
                    range=diagnostics[0].range,
                    context=types.CodeActionContext(diagnostics=list(diagnostics)),
                )
            ),
            WAIT,
        )
        return [a for a in found or [] if isinstance(a, types.CodeAction)]

    async def definition(self, uri: str, line: int, character: int) -> Any:
        return await asyncio.wait_for(
            self.client.text_document_definition_async(
                types.DefinitionParams(
                    text_document=self._doc(uri), position=types.Position(line=line, character=character)
                )
            ),
            WAIT,
        )


def codes(diagnostics: list[types.Diagnostic]) -> set[str]:
    return {str(d.code) for d in diagnostics}


def position_of(text: str, needle: str, occurrence: int = 0) -> tuple[int, int]:
    """The 0-based line and character where ``needle`` starts (ASCII text)."""
    index = -1
    for _ in range(occurrence + 1):
        index = text.index(needle, index + 1)
    line = text.count("\n", 0, index)
    return line, index - (text.rfind("\n", 0, index) + 1)
