"""Loading the mapping grammar and building the (cached) Lark parser.

The grammar lives in the top-level ``grammar/`` folder of the repository. Wheels ship it as
``mapper/grammar/`` (hatch ``force-include``), so it is read with ``importlib.resources`` first and
from the checkout when the package is an editable install.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from importlib import resources
from pathlib import Path

from lark import Lark, Token

GRAMMAR_FILE = "mapping.lark"

# Comment tokens of the parse running in this context (see ``collect_comments``). Lexer
# callbacks are fixed when the cached parser is built, so they append to whatever list the
# current ``parse`` call installed here.
_comment_sink: ContextVar[list[Token] | None] = ContextVar("mapping_comment_sink", default=None)


def grammar_text(name: str = GRAMMAR_FILE) -> str:
    """The text of ``grammar/<name>``, from the installed package or else from the checkout."""
    packaged = resources.files("mapper").joinpath("grammar", name)
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    checkout = Path(__file__).resolve().parents[2] / "grammar" / name
    return checkout.read_text(encoding="utf-8")


def _collect_comment(token: Token) -> Token:
    sink = _comment_sink.get()
    if sink is not None:
        sink.append(token)
    return token


@functools.lru_cache(maxsize=1)
def mapping_parser() -> Lark:
    """The LALR parser of mapping files (contextual lexer, positions kept)."""
    callbacks: dict[str, Callable[[Token], Token]] = {"COMMENT": _collect_comment}
    return Lark(
        grammar_text(),
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        maybe_placeholders=True,
        lexer_callbacks=callbacks,
    )


@contextlib.contextmanager
def capturing_comments() -> Iterator[list[Token]]:
    """Collect the comment tokens lexed in this context (by ``mapping_parser``) into a list."""
    sink: list[Token] = []
    reset = _comment_sink.set(sink)
    try:
        yield sink
    finally:
        _comment_sink.reset(reset)
