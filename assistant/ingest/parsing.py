"""Pure: raw document text -> cleaned text plus structural blocks with offsets.

The seed documents are text exports of PDFs: numbered headings ("10. Measures
of success"), tab-separated tables, and stray HTML (``<p>``, ``<li>``, ``<div
style=…>``) inside table cells. This module removes the markup, keeps list and
table structure, and never changes the words. Every block records its offsets in
the cleaned text, so a quote shown to a user can be checked verbatim against it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from assistant.types import Block, Span

# A tag name starts with a letter: "<8% >70%" in a measures table is text, not markup.
_TAG = re.compile(r"<\s*(/?)\s*([a-zA-Z][a-zA-Z0-9]*)(?:\s[^<>]*)?\s*/?>")
_BLOCK_TAGS = {"p", "li", "div", "br", "ol", "ul", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6"}
_BULLET = re.compile(r"^\s*(?:[-*•✓✔▪●◦]|&#8226;)\s+")
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_ITEM_ROW = re.compile(r"^\d{1,2}\.\s")
_NUMBERED_HEADING = re.compile(r"^(\d{1,2})\.\s+(\S.{0,150})$")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_PAGE_REF = re.compile(r"^\d{1,3}(\s*[-–]\s*\d{1,3})?$")
_WS = re.compile(r"[ \t\u00a0]+")
# A list number glued to the end of the previous item: "money22. Ready" (a lower-case letter
# then 1-2 digits, a full stop, a space and a capital).
_RUN_TOGETHER = re.compile(r"(?<=[a-z])(?=\d{1,2}\.\s[A-Z])")


@dataclass(frozen=True)
class TableRow(Block):
    """A table row block with the table context a reader needs to understand it."""

    role: str = "row"  # header | group | row | contents
    header: tuple[str, ...] = ()
    header_spans: tuple[Span | None, ...] = ()
    group: str = ""
    first_cell: str = ""


@dataclass
class _Builder:
    """Accumulates cleaned text and blocks, tracking offsets."""

    parts: list[str] = field(default_factory=list)
    length: int = 0
    blocks: list[Block] = field(default_factory=list)

    def add(self, text: str) -> Span:
        start = self.length
        self.parts.append(text)
        self.length += len(text)
        return start, self.length

    def text(self) -> str:
        return "".join(self.parts)


def clean_inline(text: str) -> str:
    """Remove markup from one line or cell piece, keeping its words unchanged."""
    text = _MD_LINK.sub(r"\1", text)
    text = _TAG.sub(" ", text)
    text = html.unescape(text)
    text = text.replace("**", "")
    text = re.sub(r"(?<=[.;:,])\*+\s*$", "", text)
    return _WS.sub(" ", text).strip()


def cell_parts(raw: str) -> list[tuple[str, bool]]:
    """Split a raw table cell into its paragraphs and list items.

    Returns ``(text, is_list_item)`` pairs with markup removed.
    """
    pieces: list[tuple[str, bool]] = []
    pos = 0
    in_li = False
    chunks: list[tuple[str, bool]] = []
    for match in _TAG.finditer(raw):
        name = match.group(2).lower()
        if name in _BLOCK_TAGS:
            chunks.append((raw[pos : match.start()], in_li))
            pos = match.end()
            if name == "li":
                in_li = match.group(1) != "/"
    chunks.append((raw[pos:], in_li))
    for chunk, li in chunks:
        bullet = bool(_BULLET.match(chunk))
        # A cell may hold several "• item" bullets on one line, or numbered items the PDF
        # export ran together ("Managing my money22. Ready to look after myself").
        subs = re.split(r"\s+•\s+", chunk) if "•" in chunk else [chunk]
        subs = [piece for sub in subs for piece in _RUN_TOGETHER.split(sub)]
        if len(subs) > 1 and _RUN_TOGETHER.search(chunk):
            li = True
        for sub in subs:
            text = clean_inline(_BULLET.sub("", sub))
            if text:
                pieces.append((text, li or bullet or "•" in chunk))
    return pieces


def parse(segments: Iterable[tuple[int | None, str]], *, markdown: bool = False) -> tuple[str, tuple[Block, ...]]:
    """Parse raw text segments (one per PDF page, or one for the whole file).

    ``markdown`` documents only take ``#`` headings; plain-text exports also
    get numbered headings ("3. Principles and values") and short title lines.
    """
    builder = _Builder()
    state = {"next_number": 1}
    for page, raw in segments:
        _parse_segment(builder, page, raw, markdown=markdown, state=state)
    return builder.text(), tuple(builder.blocks)


def _raw_blocks(raw: str) -> list[tuple[str, list[str]]]:
    """Group raw lines: ('table', rows) runs of tab lines, ('text', lines) paragraphs, ('md', [line])."""
    out: list[tuple[str, list[str]]] = []
    current: list[str] = []
    kind = ""

    def flush() -> None:
        nonlocal current, kind
        if current:
            out.append((kind, current))
        current, kind = [], ""

    for line in raw.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if not line.strip():
            flush()
            continue
        tabbed = "\t" in line.strip("\n") and clean_inline(line.replace("\t", " "))
        line_kind = "table" if tabbed else "text"
        if _MD_HEADING.match(line.strip()):
            flush()
            out.append(("md", [line.strip()]))
            continue
        if line_kind != kind:
            flush()
            kind = line_kind
        current.append(line.rstrip("\n"))
    flush()
    return out


def _is_title_line(lines: list[str]) -> bool:
    """A one-line paragraph that reads like a heading: short, capitalised, unpunctuated."""
    if len(lines) != 1:
        return False
    text = clean_inline(lines[0])
    words = text.split()
    if not text or len(text) > 80 or len(words) > 10:
        return False
    if text[0] in "\"'“‘(" or text[0].isdigit() or not text[0].isupper():
        return False
    if text[-1] in ".,;:!" or _BULLET.match(lines[0]):
        return False
    return any(c.isalpha() for c in text)


def _parse_segment(builder: _Builder, page: int | None, raw: str, *, markdown: bool, state: dict[str, int]) -> None:
    groups = _raw_blocks(raw)
    candidates = [g[0] == "text" and not markdown and _is_title_line(g[1]) for g in groups]
    for i, (kind, lines) in enumerate(groups):
        if kind == "md":
            match = _MD_HEADING.match(lines[0])
            assert match
            _add_heading(builder, page, clean_inline(match.group(2)), len(match.group(1)))
        elif kind == "table":
            _add_table(builder, page, lines)
        else:
            numbered = _NUMBERED_HEADING.match(clean_inline(lines[0])) if len(lines) == 1 and not markdown else None
            if numbered and _accept_numbered(int(numbered.group(1)), state):
                _add_heading(builder, page, clean_inline(lines[0]), 1)
                continue
            lonely = not (i > 0 and candidates[i - 1]) and not (i + 1 < len(candidates) and candidates[i + 1])
            if candidates[i] and lonely and i + 1 < len(groups) and _has_body(groups[i + 1]):
                _add_heading(builder, page, clean_inline(lines[0]), 2)
                continue
            _add_text(builder, page, lines)


def _has_body(group: tuple[str, list[str]]) -> bool:
    """A title line is a heading only when text or a table follows it, not another heading."""
    kind, lines = group
    return kind == "table" or (kind == "text" and not (len(lines) == 1 and _NUMBERED_HEADING.match(lines[0].strip())))


def _accept_numbered(number: int, state: dict[str, int]) -> bool:
    """Numbered headings run 1, 2, 3…; a list item "1. …" inside a section does not."""
    expected = state["next_number"]
    if expected <= number <= expected + 1:
        state["next_number"] = number + 1
        return True
    return False


def _add_heading(builder: _Builder, page: int | None, text: str, level: int) -> None:
    if not text:
        return
    start, end = builder.add(text)
    builder.add("\n\n")
    builder.blocks.append(Block("heading", start, end, level=level, page=page))


def _add_text(builder: _Builder, page: int | None, lines: list[str]) -> None:
    paragraph: list[str] = []

    def flush_paragraph() -> None:
        if paragraph:
            start = builder.length
            for j, text in enumerate(paragraph):
                if j:
                    builder.add("\n")
                builder.add(text)
            builder.blocks.append(Block("paragraph", start, builder.length, page=page))
            builder.add("\n\n")
            paragraph.clear()

    listing = False
    for line in lines:
        if _BULLET.match(line):
            flush_paragraph()
            text = clean_inline(_BULLET.sub("", _BULLET.sub("", line)))  # "- ✓ item": two markers
            if not text:
                continue
            builder.add("- ")
            start, end = builder.add(text)
            builder.add("\n")
            builder.blocks.append(Block("list_item", start, end, page=page))
            listing = True
            continue
        text = clean_inline(line)
        if not text:
            continue
        if listing and re.match(r"^\d{1,2}\.\s|^\([a-z]\)\s", text):
            start, end = builder.add(text)
            builder.add("\n")
            builder.blocks.append(Block("list_item", start, end, page=page))
            continue
        if re.match(r"^\d{1,2}\.\s|^\([a-z]\)\s", text) and (paragraph or len(lines) > 1):
            flush_paragraph()
            start, end = builder.add(text)
            builder.add("\n")
            builder.blocks.append(Block("list_item", start, end, page=page))
            listing = True
            continue
        if listing:
            builder.add("\n")
            listing = False
        paragraph.append(text)
    flush_paragraph()
    if listing:
        builder.add("\n")


def _add_table(builder: _Builder, page: int | None, lines: list[str]) -> None:
    rows = [[cell_parts(cell) for cell in line.split("\t")] for line in lines]
    width = max(len(r) for r in rows)
    for r in rows:
        r.extend([[]] * (width - len(r)))
    flat = [[" ".join(t for t, _ in cell) for cell in r] for r in rows]
    contents = sum(bool(_PAGE_REF.match(r[-1])) for r in flat) >= max(2, len(flat) * 0.6)
    has_header = (
        len(rows) >= 2
        and all(len(c) <= 60 for c in flat[0])
        and sum(bool(c) for c in flat[0]) >= 2
        and not _PAGE_REF.match(flat[0][-1])
    )
    header: tuple[str, ...] = tuple(flat[0]) if has_header else ()
    header_spans: tuple[Span | None, ...] = ()
    group = ""
    carry = ""
    for idx, (cells, texts) in enumerate(zip(rows, flat, strict=True)):
        nonempty = [t for t in texts if t]
        if not nonempty:
            continue
        if contents:
            role = "contents"
        elif idx == 0 and has_header:
            role = "header"
        # A lone first cell is a group heading ("Qualitative measures…"), unless it is a numbered
        # item whose other cells are simply empty ("23. Engagement of more CYP in the CICC").
        elif len(nonempty) == 1 and texts[0] and width >= 3 and len(texts[0]) <= 80 and not _ITEM_ROW.match(texts[0]):
            role = "group"
            group = texts[0]
        else:
            role = "row"
        if role == "row":
            if texts[0]:
                carry = texts[0] if len(texts[0]) <= 60 else carry
            first = texts[0] or carry
        else:
            first = texts[0]
        start = builder.length
        spans: list[tuple[Span, ...]] = []
        for c, cell in enumerate(cells):
            if c:
                builder.add("\t")
            cell_spans: list[Span] = []
            for p, (text, is_item) in enumerate(cell):
                if p:
                    builder.add("\n")
                if is_item:
                    builder.add("- ")
                cell_spans.append(builder.add(text))
            spans.append(tuple(cell_spans))
        end = builder.length
        builder.add("\n")
        if role == "header":
            header_spans = tuple(cell[0] if cell else None for cell in spans)
        builder.blocks.append(
            TableRow(
                "table_row",
                start,
                end,
                page=page,
                cells=tuple(spans),
                role=role,
                header=header,
                header_spans=header_spans if role == "row" else (),
                group=group if role == "row" else "",
                first_cell=first if role == "row" and not texts[0] else "",
            )
        )
    builder.add("\n")
