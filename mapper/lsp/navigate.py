"""Go-to-definition and formatting, on the document's model.

Definition: from ``reference User`` (in an attribute map or a ``multi``) to ``object User``; from
``object X from hr`` to ``source hr``; from ``object X schema core`` to ``schema core``. When the
document does not parse, the name under the cursor is looked up as ``object NAME`` in the text.

Formatting: ``mapper fmt``'s formatter, on a document that parses without errors.
"""

from __future__ import annotations

import re

from mapper.diagnostics import has_errors
from mapper.language.fmt import format_mapping
from mapper.language.model import Span
from mapper.language.transform import LineIndex
from mapper.lint.lint import LintResult
from mapper.lsp.hover import word_at


def definition(result: LintResult, offset: int) -> Span | None:
    mapping = result.mapping
    if mapping is not None:
        objects = {o.name.value: o.name.span for o in mapping.objects}
        sources = {s.name.value: s.name.span for s in mapping.sources}
        schemas = {s.alias.value: s.alias.span for s in mapping.schemas}
        for obj in mapping.objects:
            uses = [(m.reference, objects) for m in obj.attributes]
            uses += [(m.reference, objects) for m in obj.multi]
            uses += [(obj.source, sources), (obj.schema_alias, schemas)]
            for name, table in uses:
                if name is not None and name.span.offset <= offset <= name.span.end_offset:
                    return table.get(name.value)
        return None
    word = word_at(result.text, offset)
    if word is None:
        return None
    found = re.search(rf"^[ \t]*object[ \t]+({re.escape(word[0])})\b", result.text, re.MULTILINE)
    return LineIndex(result.text).span(found.start(1), found.end(1)) if found else None


def formatted(result: LintResult) -> str | None:
    """The document in ``mapper fmt``'s layout; None when it has syntax errors (formatting a
    model built past an error would drop text, as ``mapper fmt`` refuses to)."""
    from mapper.language.parser import parse

    mapping, diagnostics = parse(result.text, result.path)
    if mapping is None or has_errors(diagnostics):
        return None
    return format_mapping(mapping)
