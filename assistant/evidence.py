"""Evidence: the sentences, lists and table rows of retrieved passages, scored against a question.

Every statement keeps the verbatim spans (``pieces``) it was taken from, so an
answer can quote and cite exactly what it says. Scoring mixes the question's
similarity to each sentence, its word overlap (with the sentence's own
heading) and the passage's rank.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import Stemmer

from .index import StoredIndex
from .schema import Chunk, Passage, Span

QUOTE_LIMIT = 400
JOIN = " … "
_STEM = Stemmer.Stemmer("english")
_STOP = frozenset(
    """a an the and or of to in on for at by with from is are was were be been being do does did can could
    will would should shall may might must i me my im i'm you your u we our us they them their it its this that
    these those what whats what's which who whom whose when where why how there here if then than so as about
    into out up down over under again any all some no not only own same too very just also get got give tell
    please pls plz know say says said want wanna need much many more most other such am has have had
    lewisham council""".split()
)

_NUMBER = re.compile(r"£?\d[\d,.]*%?")
@dataclass(frozen=True)
class Statement:
    """A candidate sentence or table row, with the verbatim pieces it quotes."""

    chunk_id: str
    document_id: str
    text: str
    pieces: tuple[Span, ...]
    score: float
    overlap: float
    rank: int
    outline: bool = False  # a section's parts by heading: an answer on its own, never a side note


def terms(text: str) -> set[str]:
    """Stemmed content words (for overlap between a question and a statement)."""
    words = [w for w in re.findall(r"[a-z0-9£%]+", text.lower().replace("’", "'")) if w not in _STOP]
    return set(_STEM.stemWords(words))


def overlap(question_terms: set[str], text: str) -> float:
    if not question_terms:
        return 0.0
    return len(question_terms & terms(text)) / len(question_terms)


def own_heading(chunk: Chunk) -> str:
    """The chunk's nearest heading: a sentence under "We are proud parents" is about being proud parents."""
    return chunk.section.rsplit(" > ", 1)[-1]


def statements(
    index: StoredIndex,
    chunk_pos: dict[str, int],
    unit_pos: dict[tuple[int, int], list[int]],
    passages: Sequence[Passage],
    qvec: np.ndarray,
    question_terms: set[str],
    headings: Headings | None = None,
) -> list[Statement]:
    """Score every sentence (prose) and row (tables) of the passages against the question."""
    out: list[Statement] = []
    headings = headings or Headings({}, {})
    for rank, passage in enumerate(passages):
        ci = chunk_pos[passage.chunk_id]
        chunk = index.chunks[ci]
        text = index.texts[chunk.document_id]
        prior = 0.06 * (len(passages) - rank) / len(passages)
        if chunk.kind == "table_row":
            body = row_statement(chunk, text)
            lex = overlap(question_terms, body + " " + chunk.context)
            pieces = row_pieces(chunk, text, question_terms)
            group = group_span(chunk, text) if len(chunk.units) == 1 else None
            if group:
                # A row with no figures ("21. More CYP engaged in hobbies") is explained by its
                # group ("Qualitative measures captured through feedback and audit").
                body = f"{' '.join(text[group[0] : group[1]].split())}: {body}"
                pieces = (group, *pieces)
            out.append(Statement(chunk.id, chunk.document_id, body, pieces, passage.similarity + 0.35 * lex + prior,
                                 lex, rank))
            continue
        scores: list[float] = []
        heading = own_heading(chunk)
        for ui, span in enumerate(chunk.units):
            sentence = " ".join(text[span[0] : span[1]].split())
            rows = unit_pos.get((ci, ui))
            sim = float(np.max(index.unit_vectors[rows] @ qvec)) if rows else passage.similarity
            lex = overlap(question_terms, f"{sentence} {heading}")
            scores.append(0.65 * sim + 0.35 * passage.similarity + 0.35 * lex + prior)
            if len(sentence) < 12 or sentence.endswith((":", "...", "…")):
                continue  # a lead-in ("membership includes:") only makes sense with its list
            out.append(Statement(chunk.id, chunk.document_id, sentence, (span,), scores[-1], lex, rank))
        out.extend(_list_statements(chunk, text, scores, question_terms, rank))
        # A list straight under its heading, or a section's parts, read with the heading.
        out.extend(_heading_statements(chunk, text, headings, passage.similarity + prior, scores, question_terms, rank))
    out.sort(key=lambda s: (-s.score, s.rank, s.pieces))
    return out


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


def _heading_statements(
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
            texts = [" ".join(text[units[item[0]][0] : units[item[-1]][1]].split()) for item in items]
            body = _heading_text(text, heading) + "\n" + "\n".join(f"  - {item}" for item in texts)
            lex = overlap(question_terms, f"{body} {chunk.section}")
            pieces = (heading, *_item_spans(units, items))
            named = base + 0.35 * overlap(question_terms, chunk.section)
            score = max(named, max(scores[: items[-1][-1] + 1])) + 0.02
            out.append(Statement(chunk.id, chunk.document_id, body, pieces, score, lex, rank))
    parts = headings.parts.get(chunk.id)
    if parts:
        lead = _heading_text(text, heading) if heading else ""
        names = [" ".join(text[s:e].split()) for s, e in parts]
        body = (lead + "\n" if lead else "") + "\n".join(f"  - {name}" for name in names)
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
    return text[max(0, span[0] - 2) : span[0]] == "- " or bool(re.match(r"\d{1,2}\.\s|\([a-z]\)\s", text[span[0] : span[0] + 5]))


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


def _list_statements(
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
            spans = ([units[lead]] if lead is not None else []) + _item_spans(units, items[:LIST_ITEMS_MAX])
            texts = [" ".join(text[units[item[0]][0] : units[item[-1]][1]].split()) for item in items[:LIST_ITEMS_MAX]]
            head = " ".join(text[units[lead][0] : units[lead][1]].split()) if lead is not None else ""
            body = (head + "\n" if head else "") + "\n".join(f"  - {item}" for item in texts)
            joined = " ".join([head, *texts])
            lex = overlap(question_terms, f"{joined} {own_heading(chunk)}")
            # A list is as relevant as the sentence introducing it ("…introduced seven principles.").
            first = picked[0]
            intro = max(scores[max(0, first - 2) : first], default=0.0)
            best = max(max(scores[j] for j in picked), 0.97 * intro)
            out.append(Statement(chunk.id, chunk.document_id, body, tuple(spans), best + 0.02, lex, rank))
        i = max(end, i + 1)
    return out


_BACK_REFERENCE = re.compile(r"(It|This|That|These|Those|They|Then|He|She)\b")


def extend_lead(chosen: list[Statement], index: StoredIndex, chunk_pos: dict[str, int]) -> list[Statement]:
    """Let a one-sentence lead carry on to the next sentence of the same line or paragraph,
    and take in the sentence before it when it starts with "It", "This", "They"….

    Plain-language documents put one fact per short sentence ("Staying Put means
    you keep living with your foster carer after 18. The duty lasts until you are
    21."), so the sentence after the best one often holds the figure asked for.
    A title line is read with the title line next to it: "Councillor Edison Huynh"
    above "Cabinet Member for Children and Young People".
    """
    if not chosen or len(chosen[0].pieces) != 1:
        return chosen
    lead = chosen[0]
    chunk = index.chunks[chunk_pos[lead.chunk_id]]
    if chunk.kind != "prose" or lead.pieces[0] not in chunk.units:
        return chosen
    position = chunk.units.index(lead.pieces[0])
    text = index.texts[chunk.document_id]
    start, end = lead.pieces[0]
    body = " ".join(text[start:end].split())
    used = {lead.pieces}
    if position:
        prev_start, prev_end = chunk.units[position - 1]
        previous = " ".join(text[prev_start:prev_end].split())
        # A lead that starts "It means…" needs the sentence before it, which says what "it" is.
        if _BACK_REFERENCE.match(body) and "\n" not in text[prev_end:start] and len(previous) <= 220:
            start, body = prev_start, f"{previous} {body}"
            used.add(((prev_start, prev_end),))
        elif _title_pair(text, (prev_start, prev_end), (start, end)):
            start, body = prev_start, f"{previous}, {body}"
            used.add(((prev_start, prev_end),))
    if position + 1 < len(chunk.units):
        next_start, next_end = chunk.units[position + 1]
        following = " ".join(text[next_start:next_end].split())
        if _title_pair(text, (start, end), (next_start, next_end)):
            end, body = next_end, f"{body}, {following}"
            used.add(((next_start, next_end),))
        elif "\n" not in text[end:next_start] and len(following) <= 300 and not following.endswith(":"):
            end, body = next_end, f"{body} {following}"
            used.add(((next_start, next_end),))
    extended = replace(lead, text=body, pieces=((start, end),))
    return [extended, *(c for c in chosen[1:] if c.pieces not in used)]


def _title_pair(text: str, first: Span, second: Span) -> bool:
    """Two short unpunctuated lines, one under the other: a name and its title, say."""
    def title(span: Span) -> bool:
        line = text[span[0] : span[1]].strip()
        return 0 < len(line) <= 60 and line[-1] not in ".:;?!,"
    return text[first[1] : second[0]] == "\n" and title(first) and title(second)


def prefer_lists(candidates: list[Statement], question: str) -> list[Statement]:
    """For "what are / who is on / which…" questions, rank whole lists above single items.

    A section's outline (its parts by heading) only answers such a question: "what counts
    as a care leaver?" is not answered by the names of the eligibility section's parts.
    """
    if not _LIST_ASK.search(question):
        return [c for c in candidates if not c.outline]
    boosted = [
        replace(c, score=c.score + 0.08) if "\n  - " in c.text else c
        for c in candidates
    ]
    return sorted(boosted, key=lambda s: (-s.score, s.rank, s.pieces))


def prefer_current(candidates: list[Statement], superseded: set[str]) -> list[Statement]:
    """For a question about the present ("the current placement stability measure"), leave out what
    the superseded documents say, unless the current ones say nothing on the question's words."""
    current = [c for c in candidates if c.document_id not in superseded]
    return current if any(c.overlap >= 0.2 for c in current) else candidates


def row_statement(chunk: Chunk, text: str) -> str:
    """A table row as one readable statement: the long cells, then "Header: value" for short ones."""
    parts: list[str] = []
    for span, label in zip(chunk.units, chunk.labels, strict=False):
        piece = " ".join(text[span[0] : span[1]].split())
        if len(piece) <= 40 and label and (_NUMBER.search(piece) or len(piece) <= 25) and not piece[0].isupper():
            parts.append(f"{label}: {piece}")
        elif len(piece) <= 40 and label and _NUMBER.search(piece):
            parts.append(f"{label}: {piece}")
        else:
            parts.append(piece)
    return "; ".join(parts)


def group_span(chunk: Chunk, text: str) -> Span | None:
    """Where the row's group heading (the last line of its context) is in the document, if it has one."""
    lines = chunk.context.split("\n")
    if len(lines) < 2 or not lines[-1].strip():
        return None
    start = text.rfind(lines[-1], 0, chunk.start)
    return (start, start + len(lines[-1])) if start >= 0 else None


def row_pieces(chunk: Chunk, text: str, question_terms: set[str]) -> tuple[Span, ...]:
    """The verbatim pieces a row's quote is made of, within the limit.

    A short value ("52%") is preceded by its column header ("Current position
    (April-2025)"), so the quote says what the figure is and when it was taken.
    """
    units = list(chunk.units)

    def with_label(i: int) -> list[Span]:
        span = units[i]
        label = chunk.label_spans[i] if i < len(chunk.label_spans) else None
        short = span[1] - span[0] <= 40
        return [label, span] if label and short else [span]

    groups = [with_label(i) for i in range(len(units))]

    def size(group: list[Span]) -> int:
        return sum(e - s + len(JOIN) for s, e in group)

    if sum(size(g) for g in groups) <= QUOTE_LIMIT:
        return tuple(span for g in groups for span in g)
    ranked = sorted(
        range(len(units)),
        key=lambda i: (
            -(overlap(question_terms, text[units[i][0] : units[i][1]]) + (0.5 if i == 0 else 0)
              + (0.3 if _NUMBER.search(text[units[i][0] : units[i][1]]) else 0)),
            i,
        ),
    )
    chosen: list[int] = []
    used = 0
    for i in ranked:
        if used + size(groups[i]) <= QUOTE_LIMIT:
            chosen.append(i)
            used += size(groups[i])
    return tuple(span for i in sorted(chosen) for span in groups[i])


def quote(text: str, pieces: Sequence[Span]) -> str:
    """Verbatim pieces, whitespace normalised, joined by " … ", at most 400 characters."""
    parts = [" ".join(text[s:e].split()) for s, e in pieces]
    joined = JOIN.join(p for p in parts if p)
    if len(joined) <= QUOTE_LIMIT:
        return joined
    cut = joined[:QUOTE_LIMIT]
    cut = cut[: cut.rfind(" ")] if " " in cut else cut
    # Never end on half of a join marker.
    return cut.removesuffix(" …").rstrip()
