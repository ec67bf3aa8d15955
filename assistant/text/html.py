"""Pure: HTML -> the Markdown-like text that ``parsing.parse`` reads.

Headings become ``#`` lines, list items ``- `` lines, table rows tab-separated
cells, and scripts, styles and navigation are dropped, so an HTML page goes
through the same structure-aware path as every other document.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_SKIP = {"script", "style", "nav", "header", "footer", "noscript", "template", "svg"}
_BREAK = {"p", "div", "section", "article", "main", "br", "ul", "ol", "table", "blockquote", "dl", "dt", "dd"}


class _Converter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.skip = 0
        self.cells: list[str] | None = None
        self.prefix = ""

    def _flush(self) -> None:
        text = " ".join("".join(self.current).split())
        if text:
            self.lines.append(self.prefix + text)
        self.current = []
        self.prefix = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
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
        if not self.skip:
            self.current.append(data)


def html_to_text(markup: str) -> str:
    """Convert an HTML page to structured plain text (headings, lists, tab tables)."""
    converter = _Converter()
    converter.feed(markup)
    converter.close()
    converter._flush()
    return "\n".join(converter.lines)


# Raw HTML inside Markdown or text: what a browser would never show as words (a script, a style,
# a comment) goes with its content. Other tags stay: the parser reads some (a text export's <p>,
# <table>), and answers are rendered with raw HTML disabled, so they can never run.
_HIDDEN = re.compile(r"<(script|style|template|noscript|iframe|object|svg)\b[^>]*>.*?</\1\s*>|<!--.*?-->",
                     re.IGNORECASE | re.DOTALL)
_UNCLOSED = re.compile(r"<(script|style|template|noscript|iframe|object|svg)\b.*", re.IGNORECASE | re.DOTALL)


def strip_markup(text: str) -> str:
    """Text without the raw HTML a reader never sees: hidden elements and comments, with their content."""
    text = _HIDDEN.sub(" ", text)
    return _UNCLOSED.sub(" ", text)  # an unclosed <script> hides the rest, as in a browser
