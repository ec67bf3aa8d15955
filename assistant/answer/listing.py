"""Lists in the documents: items with all their sentences, lead-ins, lists led by their heading,
and a section's parts by heading.

Many answers in these documents are lists (the principles, the Board's members, a
Pledge strand's promises), and a list is often only meaningful with what heads it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from assistant.answer.statement import Statement, overlap, own_heading
from assistant.text.tokens import terms
from assistant.types import Chunk, Span


@dataclass(frozen=True)
class Headings:
    """Where the documents' headings are: a list under "Having a voice" is what having a voice
    means; the headings under "The Lewisham Pledge" are its strands."""

    own: dict[str, Span]  # first chunk under a heading -> that heading's span
    parts: dict[str, tuple[Span, ...]]  # first chunk of a section -> its sub-sections' heading spans


def find_headings(chunks: Sequence[Chunk], texts: dict[str, str]) -> Headings:
    """Locate each section's heading just before its first chunk, and group sub-sections under parents."""
    first: dict[tuple[str, str], Chunk] = {}
    own: dict[str, Span] = {}
    for chunk in chunks:
        key = (chunk.document_id, chunk.section)
        if key in first:
            continue
        first[key] = chunk
        heading = own_heading(chunk)
        at = texts[chunk.document_id].rfind(heading, max(0, chunk.start - 400), chunk.start + 1)
        if heading and at >= 0:
            own[chunk.id] = (at, at + len(heading))
    parts: dict[str, list[Span]] = {}
    for (doc, section), chunk in first.items():
        parent = first.get((doc, section.rsplit(" > ", 1)[0])) if " > " in section else None
        if parent is not None and parent.kind == "prose" and chunk.id in own:
            parts.setdefault(parent.id, []).append(own[chunk.id])
    return Headings(own, {k: tuple(v) for k, v in parts.items() if 2 <= len(v) <= LIST_ITEMS_MAX})


def _heading_text(text: str, span: Span) -> str:
    """A heading as an answer's lead-in: "8. The Lewisham Pledge:" reads "The Lewisham Pledge:"."""
    words = re.sub(r"^\d{1,2}\.\s+", "", " ".join(text[span[0] : span[1]].split())).rstrip(":")
    return words if words.endswith("?") else f"{words}:"


def heading_statements(
    chunk: Chunk, text: str, headings: Headings, base: float, scores: list[float], question_terms: set[str],
    rank: int,
) -> list[Statement]:
    """A list that opens a section, led by the section's heading; and a section's parts, by heading.

    A list is scored as its best item, or as the passage as a whole when the question
    names its heading: the items alone ("Make a difference") say little without the
    heading they sit under ("Having a voice").
    """
    out: list[Statement] = []
    heading = headings.own.get(chunk.id)
    units = chunk.units
    if chunk.kind == "prose" and heading and units and _is_item(text, units[0]):
        items = _items(text, units, 0)[:LIST_ITEMS_MAX]
        if len(items) >= 2:
            spans = _item_spans(units, items)
            body = _list_body(_heading_text(text, heading), text, spans)
            lex = overlap(question_terms, f"{body} {chunk.section}")
            pieces = (heading, *spans)
            named = base + 0.35 * overlap(question_terms, chunk.section)
            score = max(named, max(scores[: items[-1][-1] + 1])) + 0.02
            out.append(Statement(chunk.id, chunk.document_id, body, pieces, score, lex, rank))
    parts = headings.parts.get(chunk.id)
    if parts:
        body = _list_body(_heading_text(text, heading) if heading else "", text, parts)
        lex = overlap(question_terms, f"{body} {chunk.section}")
        pieces = ((heading,) if heading else ()) + parts
        out.append(Statement(chunk.id, chunk.document_id, body, pieces, base + 0.35 * lex + 0.02, lex, rank,
                             outline=True))
    return out


_LIST_ASK = re.compile(
    r"\b(what are|which|list|who (is|are) on|members?|membership|include[sd]?|including|principles|strands|"
    r"outcomes|roles?|responsibilit\w*|duties|ways|things|activities|commitments|promises?)\b",
    re.IGNORECASE,
)
LIST_ITEMS_MAX = 12


def _is_item(text: str, span: Span) -> bool:
    bullet = text[max(0, span[0] - 2) : span[0]] == "- "
    return bullet or bool(re.match(r"\d{1,2}\.\s|\([a-z]\)\s", text[span[0] : span[0] + 5]))


def _items(text: str, units: Sequence[Span], start: int) -> list[list[int]]:
    """The list items from ``units[start]`` on, each the unit that opens it and the sentences
    that follow on the same line ("- Quarterly check progress…. Dedicating each meeting to one strand…")."""
    items: list[list[int]] = []
    for j in range(start, len(units)):
        if _is_item(text, units[j]):
            items.append([j])
        elif items and "\n" not in text[units[j - 1][1] : units[j][0]]:
            items[-1].append(j)
        else:
            break
    return items


def _item_spans(units: Sequence[Span], items: list[list[int]]) -> list[Span]:
    """One verbatim span per item, from its first sentence to its last."""
    return [(units[item[0]][0], units[item[-1]][1]) for item in items]


def _list_body(head: str, text: str, spans: Sequence[Span]) -> str:
    """A statement's text for a list: its lead-in (if any), then one "  - " line per item."""
    items = "\n".join(f"  - {' '.join(text[s:e].split())}" for s, e in spans)
    return f"{head}\n{items}" if head else items


def list_statements(
    chunk: Chunk, text: str, scores: list[float], question_terms: set[str], rank: int
) -> list[Statement]:
    """A lead-in and the list items after it (or a run of items) as one statement.

    Many answers in these documents are lists (the principles, the Board's
    members, a Pledge strand's promises); quoting one item of a list answers
    "what are…" questions badly.
    """
    units = chunk.units
    out: list[Statement] = []
    i = 0
    while i < len(units):
        lead = None
        if not _is_item(text, units[i]) and i + 1 < len(units) and _is_item(text, units[i + 1]) and \
                text[units[i][0] : units[i][1]].rstrip().endswith((":", "...", "…")):
            lead, start = i, i + 1
        elif _is_item(text, units[i]):
            start = i
        else:
            i += 1
            continue
        items = _items(text, units, start)
        end = items[-1][-1] + 1 if items else start
        members = [j for item in items[:LIST_ITEMS_MAX] for j in item]
        if len(items) >= 2 or lead is not None:
            picked = ([lead] if lead is not None else []) + members
            item_spans = _item_spans(units, items[:LIST_ITEMS_MAX])
            spans = ([units[lead]] if lead is not None else []) + item_spans
            head = " ".join(text[units[lead][0] : units[lead][1]].split()) if lead is not None else ""
            body = _list_body(head, text, item_spans)
            lex = overlap(question_terms, f"{body} {own_heading(chunk)}")
            # A list is as relevant as the sentence introducing it ("…introduced seven principles.").
            first = picked[0]
            intro = max(scores[max(0, first - 2) : first], default=0.0)
            best = max(max(scores[j] for j in picked), 0.97 * intro)
            out.append(Statement(chunk.id, chunk.document_id, body, tuple(spans), best + 0.02, lex, rank))
        i = max(end, i + 1)
    return out


def _vague_list(statement: Statement, asked: set[str]) -> bool:
    """A list led by a lead-in of a few words that names nothing the question asks about
    ("It explains:" for "what happens when i turn 25", not for "what must the Local Offer explain")."""
    if "\n  - " not in statement.text:
        return False
    head = statement.text.split("\n", 1)[0]
    short = bool(head) and len(head.split()) <= 3 and bool(re.match(r"(It|This|These|They|That|Those)\b", head))
    return short and not terms(head) & asked


def prefer_lists(candidates: list[Statement], question: str) -> list[Statement]:
    """For "what are / who is on / which…" questions, rank whole lists above single items.

    A section's outline (its parts by heading) only answers such a question: "what counts
    as a care leaver?" is not answered by the names of the eligibility section's parts.
    """
    if not _LIST_ASK.search(question):
        # Not asked for a list: a list whose lead-in says nothing ("It explains:") gives way
        # to its own item that answers ("Most support continues until age 25…").
        asked = terms(question)
        kept = [replace(c, score=c.score - 0.05) if _vague_list(c, asked) else c
                for c in candidates if not c.outline]
        return sorted(kept, key=lambda s: (-s.score, s.rank, s.pieces))
    boosted = [
        replace(c, score=c.score + 0.08) if "\n  - " in c.text else c
        for c in candidates
    ]
    return sorted(boosted, key=lambda s: (-s.score, s.rank, s.pieces))
