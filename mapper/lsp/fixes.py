"""Quick fixes: a diagnostic whose hint says "did you mean 'x'?" offers to write ``x`` over its
range. Only when the range holds one word close to ``x`` (a hint about something else, or a
range wider than the misspelling, offers nothing rather than a wrong edit)."""

from __future__ import annotations

import difflib
import re

from lsprotocol import types

from mapper.lsp.positions import Positions
from mapper.lsp.report import SOURCE

_MEANT = re.compile(r"did you mean '([^'\n]+)'\?")
_WORD = re.compile(r"[^\s{}()\"',]+")
#: How alike the written word and the suggestion must be (difflib's ratio).
SIMILAR = 0.5


def quick_fixes(
    uri: str, positions: Positions, diagnostics: list[types.Diagnostic]
) -> list[types.CodeAction]:
    out: list[types.CodeAction] = []
    for d in diagnostics:
        if d.source != SOURCE:
            continue
        hint = d.data.get("hint") if isinstance(d.data, dict) else None
        meant = _MEANT.search(hint or d.message)
        if meant is None:
            continue
        start, end = positions.offset(d.range.start), positions.offset(d.range.end)
        written = positions.text[start:end]
        suggestion = meant.group(1)
        if not _WORD.fullmatch(written) or written == suggestion:
            continue
        if difflib.SequenceMatcher(None, written.lower(), suggestion.lower()).ratio() < SIMILAR:
            continue
        out.append(
            types.CodeAction(
                title=f"Replace '{written}' with '{suggestion}'",
                kind=types.CodeActionKind.QuickFix,
                diagnostics=[d],
                is_preferred=True,
                edit=types.WorkspaceEdit(changes={uri: [types.TextEdit(range=d.range, new_text=suggestion)]}),
            )
        )
    return out
