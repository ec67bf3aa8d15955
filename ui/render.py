"""Pure formatting for the app: Markdown for contacts, answers and source cards.

No Streamlit here, so tests can check what people will read without running
the app, and the pages stay short. Everything returns plain strings or small
frozen dataclasses.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from assistant.config import Contact
from assistant.types import Citation

from . import messages

# Characters that change the meaning of Markdown in Streamlit ($ starts LaTeX maths).
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+\-.!|$~])")
# "Call 116 123", "call 0800 731 2864", "Call 999": the number after a call verb.
_CALL = re.compile(r"\b((?:call|ring|phone)\s+)((?:\+44\s?)?\d[\d ]{1,14}\d)\b", re.IGNORECASE)
_NHS = re.compile(r"\b(NHS )(111)\b")
_TEXT_TO = re.compile(r"\b(text\s+)([A-Z]+)(\s+to\s+)(\d{4,6})\b", re.IGNORECASE)
_EMAIL = re.compile(r"(?<![\w.+-])([\w.+-]+@[\w-]+(?:\.[\w-]+)+)")
_MARKER = re.compile(r"\[(\d{1,2})\]")
_HEADING = re.compile(r"^(#{1,6})(\s)", re.MULTILINE)
_IMAGE = re.compile(r"^\s*!\[([^\]]*)\]\(([^)\s]*)\)\s*$", re.MULTILINE)


def escape_markdown(text: str) -> str:
    """Show ``text`` literally: document quotes and typed questions are not Markdown."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def safe_answer(text: str) -> str:
    """An answer's Markdown with dollar signs kept literal (Streamlit would read them as maths)."""
    return text.replace("\\$", "$").replace("$", "\\$")


def linkify(text: str) -> str:
    """Make phone numbers tappable (tel:), text numbers sms:, and e-mail addresses mailto: links.

    People on a phone, possibly in crisis, should be one tap from calling.
    """

    def call(m: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", m.group(2))
        return f"{m.group(1)}[{m.group(2)}](tel:{digits})"

    text = _CALL.sub(call, text)
    text = _NHS.sub(r"\1[\2](tel:111)", text)
    text = _TEXT_TO.sub(
        lambda m: f"{m.group(1)}{m.group(2)}{m.group(3)}[{m.group(4)}](sms:{m.group(4)})", text
    )
    return _EMAIL.sub(r"[\1](mailto:\1)", text)


def contact_lines(contacts: Iterable[Contact]) -> str:
    """A Markdown list of contacts, name first, with tappable numbers."""
    lines = []
    for c in contacts:
        when = f" — {c.when}" if c.when else ""
        lines.append(f"- **{c.name}**: {linkify(c.detail)}{when}")
    return "\n".join(lines)


def help_panel(
    urgent: Sequence[Contact], council: Sequence[Contact], council_name: str
) -> str:
    """The "Need help now?" panel: danger line, then urgent contacts, then the council's."""
    parts = [messages.HELP_DANGER]
    if urgent:
        parts += [messages.HELP_URGENT_HEADING, contact_lines(urgent)]
    if council:
        parts += [
            messages.HELP_COUNCIL_HEADING.format(council=council_name),
            contact_lines(council),
        ]
    return "\n\n".join(parts)


def reply_markdown(status: str, text: str, advice_contact: str) -> str:
    """The body of an answer as shown: tappable contacts, and who to ask when we can't help."""
    body = linkify(safe_answer(text))
    if status == "off_topic":
        body += "\n\n" + messages.ASK_INSTEAD.format(advice=advice_contact)
    return body


def markers(text: str) -> list[int]:
    """The citation numbers ``[n]`` used in an answer, in order of first use."""
    return list(dict.fromkeys(int(n) for n in _MARKER.findall(text)))


def superseded_label(replacement_title: str | None) -> str:
    """The badge text for a superseded source; the words carry the meaning, not the colour."""
    if replacement_title:
        return messages.SUPERSEDED.format(title=replacement_title)
    return messages.SUPERSEDED_UNKNOWN


def badge_markdown(label: str) -> str:
    """A highlighted line with an icon: it wraps on a phone, and its words carry the meaning."""
    return f":orange-background[:material/history: {escape_markdown(label)}]"


def replacement_title(documents: Mapping[str, Any], document_id: str) -> str | None:
    """The title of the document that replaced ``document_id``, read from the index."""
    meta = documents.get(document_id)
    newer_id = getattr(meta, "superseded_by", None)
    newer = documents.get(newer_id) if newer_id else None
    return getattr(newer, "title", None)


@dataclass(frozen=True)
class SourceCard:
    """What one source card shows, in reading order."""

    number: int
    title: str
    where: str
    badge: str | None
    quote: str
    link_label: str
    url: str

    @property
    def heading(self) -> str:
        return f"**[{self.number}] {escape_markdown(self.title)}**"

    @property
    def quote_markdown(self) -> str:
        """The verbatim quote as a Markdown block quote, every character literal."""
        lines = [escape_markdown(line) for line in self.quote.splitlines() if line.strip()]
        return "\n".join(f"> {line}  " for line in lines) or "> …"


def source_card(citation: Citation, documents: Mapping[str, Any]) -> SourceCard:
    """The card for one citation: title, section and page, superseded badge, quote, link."""
    where = messages.SOURCE_SECTION.format(section=citation.section) if citation.section else ""
    if citation.page:
        page = messages.SOURCE_PAGE.format(page=citation.page)
        where = f"{where}, {page}" if where else page[0].upper() + page[1:]
    badge = (
        superseded_label(replacement_title(documents, citation.document_id))
        if citation.superseded
        else None
    )
    return SourceCard(
        number=citation.number,
        title=citation.document_title,
        where=where,
        badge=badge,
        quote=citation.quote,
        link_label=messages.SOURCE_LINK.format(title=citation.document_title),
        url=citation.source_url,
    )


def demote_headings(markdown: str, levels: int) -> str:
    """Push every Markdown heading down ``levels`` (h1 -> h3 for levels=2), so a report
    shown inside a page keeps that page's single h1 and its outline."""
    return _HEADING.sub(lambda m: "#" * min(6, len(m.group(1)) + levels) + m.group(2), markdown)


@dataclass(frozen=True)
class ReportPiece:
    """Part of a Markdown report: text, or an image with its alt text and relative path."""

    kind: str  # "text" or "image"
    text: str  # the Markdown, or the image's alt text
    path: str = ""


def split_images(markdown: str) -> list[ReportPiece]:
    """A report cut at its image lines, in order, so each chart is drawn where the report puts
    it, with the report's own alt text (Markdown can't show a local image)."""
    pieces: list[ReportPiece] = []
    at = 0
    for m in _IMAGE.finditer(markdown):
        if markdown[at : m.start()].strip():
            pieces.append(ReportPiece("text", markdown[at : m.start()]))
        pieces.append(ReportPiece("image", m.group(1).strip(), m.group(2)))
        at = m.end()
    if markdown[at:].strip():
        pieces.append(ReportPiece("text", markdown[at:]))
    return pieces


def figure_html(png: bytes, alt: str) -> str:
    """A PNG as an HTML figure with real alt text (st.image leaves ``alt`` empty, which screen
    readers can't use) and the same words as a visible caption."""
    data = base64.b64encode(png).decode("ascii")
    text = html.escape(alt, quote=True)
    return (
        f'<figure style="margin:0"><img src="data:image/png;base64,{data}" alt="{text}" '
        f'style="max-width:100%;height:auto"><figcaption>{text}</figcaption></figure>'
    )


def markdown_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """A Markdown table (its text wraps; st.table's scroll box can't be reached by keyboard)."""
    if not rows:
        return ""
    columns = list(rows[0])

    def cell(value: Any) -> str:
        return escape_markdown(" ".join(str(value).split())) or " "

    lines = ["| " + " | ".join(cell(c) for c in columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row.get(c, "")) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def stage_text(stage: str, done: int, total: int) -> tuple[str, float]:
    """A progress callback's values as a label and a 0..1 fraction."""
    fraction = min(1.0, max(0.0, done / total)) if total else 0.0
    return messages.STAGE.format(stage=stage, done=done, total=total), fraction

