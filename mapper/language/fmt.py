"""The canonical layout of a mapping file: ``format_mapping(mapping) -> str``.

Layout: the ``connector`` line first; 2-space indents; one blank line between top-level blocks;
inside an object the items come in a fixed order, in groups separated by one blank line (anchor,
query, dn, id | import, delta | attributes | each multi | write, create, disable, delete,
tombstone, recreate, stamp); the columns of an attributes or schema block are aligned, as are the
statements of multi and write blocks; SQL bodies are kept verbatim. docs/language.md, "Canonical layout", says
the same for users.

Comments survive: a comment after code on a line stays at the end of that construct's line,
and a comment on its own line goes before the construct that follows it in the source (or
before the closing brace of its block), keeping a blank line written before or after it.

The lines of each construct are :mod:`mapper.language.layout`'s; this module puts the comments
among them and renders the file.
"""

from __future__ import annotations

import bisect

from mapper.language.layout import (
    INDENT,
    Chunk,
    connector_chunks,
    object_chunks,
    schema_chunks,
    source_chunks,
)
from mapper.language.model import Comment, MappingFile, ObjectType, SchemaDecl, Source


def format_mapping(mapping: MappingFile) -> str:
    """The file in canonical layout, comments included; ends with one newline (``\\r\\n`` line
    ends when the file had them)."""
    chunks: list[Chunk] = []
    if mapping.connector is not None:
        chunks.extend(connector_chunks(mapping.connector))
    blocks: list[Source | SchemaDecl | ObjectType] = [*mapping.sources, *mapping.schemas, *mapping.objects]
    blocks.sort(key=lambda block: block.span.offset)
    for block in blocks:
        start = len(chunks)
        if isinstance(block, Source):
            chunks.extend(source_chunks(block))
        elif isinstance(block, SchemaDecl):
            chunks.extend(schema_chunks(block))
        else:
            chunks.extend(object_chunks(block, mapping.text))
        chunks[start].blank_before = start > 0
    chunks.append(Chunk("", 0, len(mapping.text) + 1))  # the end of the file takes final comments
    _attach_comments(chunks, mapping.comments, mapping.text)
    out = _render(chunks, mapping.text)
    if "\r\n" in mapping.text:  # keep Windows line ends, everywhere (SQL bodies included)
        out = out.replace("\r\n", "\n").replace("\n", "\r\n")
    return out


# -- rendering ----------------------------------------------------------------------------------


def _render(chunks: list[Chunk], text: str) -> str:
    lines: list[str] = []
    source = text.split("\n")

    def blank() -> None:
        if lines and lines[-1] != "" and not lines[-1].endswith("{"):
            lines.append("")

    for chunk in chunks:
        if chunk.blank_before:
            blank()
        depth = chunk.depth + 1 if chunk.closing else chunk.depth
        for i, comment in enumerate(chunk.leading):
            if _blank_line_before(source, comment.span.line):
                blank()
            lines.append(INDENT * depth + comment.text)
            if i == len(chunk.leading) - 1 and chunk.anchor is not None and not chunk.closing:
                if _blank_line_between(source, comment.span.line, _line_of(text, chunk.anchor)):
                    blank()
        if not chunk.text:
            continue
        body = INDENT * chunk.depth + chunk.text
        if chunk.trailing:
            body += "  " + chunk.trailing[0].text
        lines.append(body)
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n" if lines else ""


def _attach_comments(chunks: list[Chunk], comments: tuple[Comment, ...], text: str) -> None:
    anchored = sorted((c for c in chunks if c.anchor is not None), key=lambda c: c.anchor or 0)
    anchors = [c.anchor or 0 for c in anchored]
    for comment in comments:
        offset = comment.span.offset
        index = bisect.bisect_right(anchors, offset)  # anchored[index - 1] starts at or before it
        line_start = text.rfind("\n", 0, offset) + 1
        if text[line_start:offset].strip() and index > 0:  # after code: ends that construct's line
            owner = anchored[index - 1]
            # one comment ends a line; earlier ones (a construct written over several lines)
            # move to their own lines before it, in order
            owner.leading.extend(owner.trailing)
            owner.trailing = [comment]
        else:  # on its own line: goes before the construct that follows it
            anchored[index].leading.append(comment)


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _blank_line_before(source: list[str], line: int) -> bool:
    return line >= 2 and not source[line - 2].strip()


def _blank_line_between(source: list[str], first: int, last: int) -> bool:
    return any(not source[n - 1].strip() for n in range(first + 1, min(last, len(source) + 1)))
