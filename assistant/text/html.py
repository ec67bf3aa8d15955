"""Pure: HTML -> the Markdown-like text that ``parsing.parse`` reads.

Headings become ``#`` lines, list items ``- `` lines, table rows tab-separated
cells, and scripts, styles and navigation are dropped, so an HTML page goes
through the same structure-aware path as every other document.

Documents are data, never instructions: what a reader of the page would never see (a script, a
comment, an element hidden by the ``hidden`` attribute, ``aria-hidden``, or a style such as
``display:none``, ``font-size:0`` or white text on no background) is dropped with its content,
and ``hidden_spans`` names each such part, so the ingest report can say where it was.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_SKIP = {"script", "style", "nav", "header", "footer", "noscript", "template", "svg"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
# Styles that make text invisible to a reader. White text counts only when no background is set
# (the 2021-24 strategy's banner is white on green, and is read).
_INVISIBLE_STYLE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*(hidden|collapse)|opacity\s*:\s*0(\.0+)?\s*(;|$)"
    r"|font-size\s*:\s*0+(\.0+)?\s*(px|pt|em|rem|%)?\s*(;|$)|(text-indent|left|top)\s*:\s*-\d{3,}"
    r"|(height|width|max-height)\s*:\s*0+(px)?\s*;.*overflow\s*:\s*hidden",
    re.IGNORECASE,
)
_WHITE = r"(white|#fff(fff)?\b|rgba?\(\s*255\s*,\s*255\s*,\s*255\s*[,)]|transparent)"
_WHITE_TEXT = re.compile(r"(^|[;\s])color\s*:\s*" + _WHITE, re.IGNORECASE)
_BACKGROUND = re.compile(r"background(-color)?\s*:\s*([^;]+)", re.IGNORECASE)


def hidden_reason(attrs: dict[str, str | None]) -> str | None:
    """Why an element with these attributes is invisible to a reader, or None if it is seen."""
    attrs = {k.lower(): v or "" for k, v in attrs.items()}
    if "hidden" in attrs:
        return "hidden element (hidden attribute)"
    if attrs.get("aria-hidden", "").strip().lower() == "true":
        return "hidden element (aria-hidden)"
    style = attrs.get("style", "")
    found = _INVISIBLE_STYLE.search(style)
    if found:
        return f"hidden element (style {' '.join(found.group(0).split())})"
    colour = attrs.get("color", "")
    background = _BACKGROUND.search(style)
    on_white = background is None or re.match(_WHITE, background.group(2).strip(), re.IGNORECASE)
    if (_WHITE_TEXT.search(style) or re.match(_WHITE, colour.strip(), re.IGNORECASE)) and on_white:
        return "white text on a white page"
    return None


_BREAK = {"p", "div", "section", "article", "main", "br", "ul", "ol", "table", "blockquote", "dl", "dt", "dd"}


class _Converter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.skip = 0
        self.cells: list[str] | None = None
        self.prefix = ""
        self.hidden: str | None = None  # the tag of the hidden element being skipped
        self.hidden_depth = 0

    def _flush(self) -> None:
        text = " ".join("".join(self.current).split())
        if text:
            self.lines.append(self.prefix + text)
        self.current = []
        self.prefix = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.hidden is not None:
            self.hidden_depth += tag == self.hidden
            return
        if tag not in _VOID and hidden_reason(dict(attrs)):
            self.hidden, self.hidden_depth = tag, 1
            return
        if tag in _SKIP:
            self.skip += 1
        elif self.skip:
            return
        elif tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            self._flush()
            self.lines.append("")
            self.prefix = "#" * int(tag[1]) + " "
        elif tag == "li" and self.cells is None:
            self._flush()
            self.prefix = "- "
        elif tag == "tr":
            self._flush()
            self.cells = []
        elif tag in {"td", "th"} and self.cells is not None:
            self.current = []
        elif self.cells is not None and tag in {"p", "li", "br", "div"}:
            self.current.append(" ")
        elif tag in _BREAK and self.cells is None:
            self._flush()
            self.lines.append("")

    def handle_endtag(self, tag: str) -> None:
        if self.hidden is not None:
            self.hidden_depth -= tag == self.hidden
            if self.hidden_depth <= 0:
                self.hidden = None
            return
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
        elif self.skip:
            return
        elif tag in {"td", "th"} and self.cells is not None:
            self.cells.append(" ".join("".join(self.current).split()))
            self.current = []
        elif tag == "tr" and self.cells is not None:
            if any(self.cells):
                self.lines.append("\t".join(self.cells))
            self.cells = None
        elif tag == "table":
            self.lines.append("")
        elif tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            self._flush()
            self.lines.append("")
        elif (tag in _BREAK or tag == "li") and self.cells is None:
            self._flush()
            if tag != "li":
                self.lines.append("")

    def handle_data(self, data: str) -> None:
        if not self.skip and self.hidden is None:
            self.current.append(data)


def html_to_text(markup: str) -> str:
    """Convert an HTML page to structured plain text (headings, lists, tab tables)."""
    converter = _Converter()
    converter.feed(markup)
    converter.close()
    converter._flush()
    return "\n".join(converter.lines)


# Raw HTML inside Markdown or text: what a browser would never show as words (a script, a style,
# a comment, an element hidden by an attribute or a style) goes with its content. Other tags stay:
# the parser reads some (a text export's <p>, <table>), and answers are rendered with raw HTML
# disabled, so they can never run.
_HIDDEN_TAGS = ("script", "style", "template", "noscript", "iframe", "object", "svg")
_HIDDEN = re.compile(r"<(script|style|template|noscript|iframe|object|svg)\b[^>]*>.*?</\1\s*>|<!--.*?(-->|$)",
                     re.IGNORECASE | re.DOTALL)
_UNCLOSED = re.compile(r"<(script|style|template|noscript|iframe|object|svg)\b.*", re.IGNORECASE | re.DOTALL)
_OPEN_TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9]*)\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>")
_ATTR = re.compile(r"([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s\"'>]+))?")


def _attributes(text: str) -> dict[str, str | None]:
    return {m.group(1): None if m.group(2) is None else m.group(2).strip("\"'") for m in _ATTR.finditer(text)}


def hidden_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, reason) of each part of raw markup a reader never sees, in the order found.

    Scripts, styles and the like, comments, and elements hidden by an attribute or a style
    (to the element's matching end tag, nested elements of its kind counted).
    """
    spans: list[tuple[int, int, str]] = []
    for match in _HIDDEN.finditer(text):
        what = "comment" if match.group(0).startswith("<!--") else f"{match.group(1).lower()} element"
        spans.append((match.start(), match.end(), what))
    unclosed = _UNCLOSED.search(_HIDDEN.sub(lambda m: " " * len(m.group(0)), text))
    if unclosed:
        spans.append((unclosed.start(), len(text), f"unclosed {unclosed.group(1).lower()} element"))
    for match in _OPEN_TAG.finditer(text):
        if any(a <= match.start() < b for a, b, _ in spans):
            continue
        tag = match.group(1).lower()
        reason = None if tag in _VOID or tag in _HIDDEN_TAGS else hidden_reason(_attributes(match.group(2)))
        if reason:
            spans.append((match.start(), _element_end(text, tag, match.end()), reason))
    return sorted(spans)


def _element_end(text: str, tag: str, pos: int) -> int:
    """Where the element opened just before ``pos`` ends: after its matching end tag (or the text's end)."""
    depth = 1
    for match in re.finditer(rf"<(/?){tag}\b[^>]*>", text[pos:], re.IGNORECASE):
        depth += -1 if match.group(1) else 1
        if depth == 0:
            return pos + match.end()
    return len(text)


def strip_markup(text: str) -> str:
    """Text without the raw HTML a reader never sees: hidden elements and comments, with their content."""
    out, cursor = [], 0
    for start, end, _ in hidden_spans(text):
        if start < cursor:
            continue  # inside a part already removed
        out.append(text[cursor:start])
        out.append(" ")
        cursor = end
    out.append(text[cursor:])
    return "".join(out)
