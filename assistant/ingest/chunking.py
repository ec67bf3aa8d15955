"""Pure: a parsed ``Document`` -> retrieval ``Chunk``s that follow its structure.

- Each table row is its own chunk, with the table's column headers and the
  row's group (e.g. the strategic strand) repeated in its context, so a row
  such as "More care leavers in EET … 52% … 60%" is found and understood alone.
- Prose is split at headings, then packed sentence by sentence up to the
  embedding model's limit; a sentence is never cut.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from assistant.ingest.parsing import TableRow
from assistant.ingest.statements import is_statement, verse_blocks
from assistant.types import Block, Chunk, Document, Span

# Bump when the chunking rules change, so existing indexes are rebuilt.
CHUNKER_VERSION = "10"  # 10: units marked as statements or not (ingest/statements.py)

_ABBREVIATIONS = {"e.g", "i.e", "etc", "no", "vs", "cllr", "dr", "mr", "mrs", "ms", "st", "approx"}
_BOUNDARY = re.compile(r"(?<=[.!?])[\"”’)]?\s+(?=[\"“‘(A-Z0-9£•])")
_BARE = re.compile(r"^(?:https?://\S+|sources?:?)$", re.IGNORECASE)
_NUMBER_ONLY = re.compile(r"^[£$]?\d[\d,.]*%?$")


@dataclass(frozen=True)
class ChunkingOptions:
    max_tokens: int = 220


def sentence_spans(text: str, start: int, end: int) -> list[Span]:
    """Split ``text[start:end]`` into sentence spans (lines first, then sentence ends).

    A line holding only a figure ("57%") is joined to the line after it, which
    says what the figure counts.
    """
    spans: list[Span] = []
    pending: int | None = None
    pos = start
    for line in text[start:end].split("\n"):
        line_start, line_end = pos, pos + len(line)
        pos = line_end + 1
        stripped = line.strip()
        if not stripped:
            continue
        lead = line_start + (len(line) - len(line.lstrip()))
        if pending is None and _NUMBER_ONLY.match(stripped):
            pending = lead
            continue
        begin = pending if pending is not None else lead
        pending = None
        spans.extend(_split_line(text, begin, line_end - (len(line) - len(line.rstrip()))))
    if pending is not None:
        spans.append((pending, end))
    return spans


def _split_line(text: str, start: int, end: int) -> list[Span]:
    out: list[Span] = []
    cursor = start
    for match in _BOUNDARY.finditer(text, start, end):
        before = text[cursor : match.start()].rstrip("\"”’)")
        last_word = re.split(r"\s", before)[-1].rstrip(".!?").lower() if before else ""
        if last_word in _ABBREVIATIONS or len(before.strip()) < 3:
            continue
        out.append((cursor, match.start()))
        cursor = match.end()
    if cursor < end:
        out.append((cursor, end))
    return [(s, e) for s, e in out if text[s:e].strip()]


def chunk_document(
    doc: Document, count_tokens: Callable[[str], int], options: ChunkingOptions | None = None
) -> list[Chunk]:
    """Chunk one document by its headings, table rows and sentences."""
    options = options or ChunkingOptions()
    text = doc.text
    chunks: list[Chunk] = []
    path: list[tuple[int, str]] = []
    pending: list[tuple[Block, list[Span]]] = []

    def section() -> str:
        return " > ".join(t for _, t in path)

    def context() -> str:
        return f"{doc.meta.title} — {section()}" if path else doc.meta.title

    def add(
        kind: str, start: int, end: int, units: list[Span], page: int | None,
        labels: tuple[str, ...] = (), extra: tuple[str, ...] = (),
        label_spans: tuple[Span | None, ...] = (), answerable: tuple[bool, ...] = (),
    ) -> None:
        chunks.append(
            Chunk(
                id=f"{doc.meta.id}:{len(chunks):04d}",
                document_id=doc.meta.id,
                section=section(),
                page=page,
                start=start,
                end=end,
                kind=kind,  # type: ignore[arg-type]
                context="\n".join([context(), *(e for e in extra if e)]),
                units=tuple(units),
                labels=labels,
                label_spans=label_spans,
                answerable=answerable,
            )
        )

    def flush_prose() -> None:
        if not pending:
            return
        budget = options.max_tokens - count_tokens(context())
        units: list[Span] = []
        flags: list[bool] = []
        used = 0
        page = pending[0][0].page
        for block, spans in pending:
            for span in spans:
                cost = count_tokens(text[span[0] : span[1]])
                if units and used + cost > budget:
                    add("prose", units[0][0], units[-1][1], units, page, answerable=tuple(flags))
                    units, flags, used, page = [], [], 0, block.page
                units.append(span)
                flags.append(is_statement(text, span, block, verse=block.start in verse))
                used += cost
        if units:
            add("prose", units[0][0], units[-1][1], units, page, answerable=tuple(flags))
        pending.clear()

    verse = verse_blocks(text, doc.blocks)
    skip_section = False
    for block in doc.blocks:
        if block.kind == "heading":
            flush_prose()
            while path and path[-1][0] >= block.level:
                path.pop()
            title = text[block.start : block.end]
            path.append((block.level, title))
            skip_section = title.strip().lower() in {"contents", "content"}
            continue
        if skip_section:
            continue
        if isinstance(block, TableRow):
            flush_prose()
            if block.role == "row":
                units = [span for cell in block.cells for span in cell]
                labels = _row_labels(block)
                carried = block.first_cell
                if carried and block.header and block.header[0]:
                    carried = f"{block.header[0]}: {carried}"
                spans_of_labels = tuple(
                    block.header_spans[i] if i < len(block.header_spans) else None
                    for i, cell in enumerate(block.cells)
                    for _ in cell
                )
                add("table_row", block.start, block.end, units, block.page, labels, (block.group, carried),
                    spans_of_labels)
            continue
        if _BARE.match(text[block.start : block.end].strip()):
            continue
        if pending and pending[-1][0].page != block.page:
            flush_prose()  # a chunk never spans pages, so its page citation is exact
        pending.append((block, sentence_spans(text, block.start, block.end)))
    flush_prose()
    return chunks


def _row_labels(row: TableRow) -> tuple[str, ...]:
    """One label per unit of a table row: its column header (and group for the first column)."""
    labels: list[str] = []
    for index, cell in enumerate(row.cells):
        header = row.header[index] if index < len(row.header) else ""
        labels.extend([header] * len(cell))
    return tuple(labels)


def embedding_text(chunk: Chunk, doc_text: str) -> str:
    """What the retrievers read: heading context, then the chunk with its table headers."""
    lines = [chunk.context]
    if chunk.kind == "table_row":
        for span, label in zip(chunk.units, chunk.labels, strict=False):
            piece = " ".join(doc_text[span[0] : span[1]].split())
            lines.append(f"{label}: {piece}" if label else piece)
    else:
        lines.append(" ".join(doc_text[chunk.start : chunk.end].split()))
    return "\n".join(lines)
