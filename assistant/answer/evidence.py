"""Evidence: the sentences, lists and table rows of retrieved passages, scored against a question.

Every statement keeps the verbatim spans (``pieces``) it was taken from, so an
answer can quote and cite exactly what it says. Scoring mixes the question's
similarity to each sentence, its word overlap (with the sentence's own
heading) and the passage's rank. Lists are read in ``listing.py``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from assistant.answer import listing
from assistant.answer.statement import JOIN, NUMBER, QUOTE_LIMIT, Statement, overlap, own_heading, sentences
from assistant.index import StoredIndex
from assistant.text.glossary import Glossary, normalise
from assistant.text.tokens import terms
from assistant.types import Chunk, Passage, Span


def statements(
    index: StoredIndex,
    chunk_pos: dict[str, int],
    unit_pos: dict[tuple[int, int], list[int]],
    passages: Sequence[Passage],
    qvec: np.ndarray,
    question_terms: set[str],
    headings: listing.Headings | None = None,
) -> list[Statement]:
    """Score every sentence (prose) and row (tables) of the passages against the question."""
    out: list[Statement] = []
    headings = headings or listing.Headings({}, {})
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
            if not chunk.is_statement(ui):
                continue  # a title line, a caption, a line of a poem: never an answer on its own
            out.append(Statement(chunk.id, chunk.document_id, sentence, (span,), scores[-1], lex, rank))
        out.extend(listing.list_statements(chunk, text, scores, question_terms, rank))
        # A list straight under its heading, or a section's parts, read with the heading.
        out.extend(listing.heading_statements(
            chunk, text, headings, passage.similarity + prior, scores, question_terms, rank
        ))
    out.sort(key=lambda s: (-s.score, s.rank, s.pieces))
    return out


_BACK_REFERENCE = re.compile(r"(It|This|That|These|Those|They|Then|He|She)\b")
_REFERS = re.compile(r"\b(it|this|that|these|those|they|them)\b", re.IGNORECASE)
# The longest sentence a lead takes in before it, for what the lead leans on ("It …", "… these:").
LEANED_ON_CHARS = 220
# A close second (an answer's, or a comparison side's) scores within this of the statement it
# follows and shares at least this share of the question's words.
SECOND_WITHIN = 0.15
SECOND_OVERLAP = 0.2


# A statement that says what something is: "Corporate parenting is a shared responsibility …",
# "Former relevant child: usually a care leaver …", "Supported lodgings means you live …".
_DEFINES = re.compile(r"^\W*(?P<subject>[^.:;!?\n]{2,60}?)\W*\s(?:is|are|means|refers to|describes)\b"
                      r"|^\W*(?P<named>[^.:;!?\n]{2,60}?):\s")
# How much of the question's own words the defined subject must be, not counting the words that
# ask what something means.
DEFINES_SHARE = 0.5
ASKING_WHAT_IT_MEANS = "mean means meaning meant define definition explain stand plain simple terms words english even"


def definition_first(candidates: list[Statement], asked: set[str]) -> list[Statement]:
    """For a question asking what something means (``asked``: its words, less the words that ask),
    the documents' own definitions of it lead: among the first few statements, the best-scored
    one of each document whose subject is made of the question's words and is at least
    ``DEFINES_SHARE`` of them ("Corporate parenting means …" in the Local Offer, "Corporate
    parenting is a shared responsibility …" in the strategy)."""
    if not asked or not candidates:
        return candidates
    top = candidates[0].score
    defining: dict[str, Statement] = {}
    for cand in candidates[:8]:
        found = _DEFINES.match(cand.text)
        subject = terms(found.group("subject") or found.group("named")) if found else set()
        if subject and subject <= asked and len(subject) >= DEFINES_SHARE * len(asked):
            defining.setdefault(cand.document_id, cand)
    if not defining:
        return candidates
    leads = [replace(c, score=max(c.score, top)) for c in defining.values()]
    return [*leads, *(c for c in candidates if c not in defining.values())]


def extend_lead(chosen: list[Statement], index: StoredIndex, chunk_pos: dict[str, int]) -> list[Statement]:
    """Let a one-sentence lead carry on to the next sentence of the same line or paragraph,
    and take in the sentence before it when it starts with "It", "This", "They"… or when the
    sentence before asks the question it answers.

    Plain-language documents put one fact per short sentence ("Staying Put means
    you keep living with your foster carer after 18. The duty lasts until you are
    21."), so the sentence after the best one often holds the figure asked for.
    A title line is read with the title line next to it: "Councillor Edison Huynh"
    above "Cabinet Member for Children and Young People".
    """
    if not chosen:
        return chosen
    if len(chosen[0].pieces) != 1:
        return _list_with_its_subject(chosen, index, chunk_pos)
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
        # So does one that answers the question before it ("Were you born …? You will have …").
        # A short one that leans on it ("You make it with your PA.") needs it as much.
        leans = _BACK_REFERENCE.match(body) or (len(body.split()) <= 8 and _REFERS.search(body))
        poses = previous.endswith("?") or leans
        if poses and "\n" not in text[prev_end:start] and len(previous) <= LEANED_ON_CHARS:
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
        elif ("\n" not in text[end:next_start] and len(following) <= 300 and not following.endswith(":")
              and chunk.is_statement(position + 1)):
            end, body = next_end, f"{body} {following}"
            used.add(((next_start, next_end),))
    extended = replace(lead, text=body, pieces=((start, end),))
    return [extended, *(c for c in chosen[1:] if c.pieces not in used)]


def _list_with_its_subject(chosen: list[Statement], index: StoredIndex, chunk_pos: dict[str, int]) -> list[Statement]:
    """A list whose lead-in leans on the sentence before it ("Local Authorities must consider these
    whenever …:") takes that sentence in, which says what "these" are ("The Children and Social
    Work Act 2017 introduced seven corporate parenting principles.")."""
    lead = chosen[0]
    chunk = index.chunks[chunk_pos[lead.chunk_id]]
    first = lead.pieces[0]
    if chunk.kind != "prose" or first not in chunk.units or not chunk.units.index(first):
        return chosen
    position = chunk.units.index(first)
    text = index.texts[chunk.document_id]
    lead_in = " ".join(text[first[0]:first[1]].split())
    prev_start, prev_end = chunk.units[position - 1]
    previous = " ".join(text[prev_start:prev_end].split())
    leans = _BACK_REFERENCE.match(lead_in) or _REFERS.search(lead_in)
    if not (leans and lead_in.endswith(":") and previous.endswith(".") and len(previous) <= LEANED_ON_CHARS
            and "\n" not in text[prev_end:first[0]] and chunk.is_statement(position - 1)):
        return chosen
    extended = replace(lead, text=f"{previous} {lead.text}", pieces=((prev_start, prev_end), *lead.pieces))
    return [extended, *(c for c in chosen[1:] if c.pieces != ((prev_start, prev_end),))]


def _title_pair(text: str, first: Span, second: Span) -> bool:
    """Two short unpunctuated lines, one under the other: a name and its title, say."""
    def title(span: Span) -> bool:
        line = text[span[0] : span[1]].strip()
        return 0 < len(line) <= 60 and line[-1] not in ".:;?!,"
    return text[first[1] : second[0]] == "\n" and title(first) and title(second)


def prefer_current(candidates: list[Statement], superseded: set[str]) -> list[Statement]:
    """For a question about the present ("the current placement stability measure"), leave out what
    the superseded documents say, unless the current ones say nothing on the question's words."""
    current = [c for c in candidates if c.document_id not in superseded]
    return current if any(c.overlap >= 0.2 for c in current) else candidates


def prefer_past(candidates: list[Statement], superseded: set[str]) -> list[Statement]:
    """For a question about the past ("and in the previous strategy?"), what the superseded
    documents say, unless they say nothing on the question's words."""
    past = [c for c in candidates if c.document_id in superseded]
    return past if any(c.overlap >= 0.2 for c in past) else candidates


def row_statement(chunk: Chunk, text: str) -> str:
    """A table row as one readable statement: the long cells, then "Header: value" for short ones."""
    parts: list[str] = []
    for span, label in zip(chunk.units, chunk.labels, strict=False):
        piece = " ".join(text[span[0] : span[1]].split())
        short_value = len(piece) <= 40 and label
        if (short_value and (NUMBER.search(piece) or len(piece) <= 25) and not piece[0].isupper()) or (
            short_value and NUMBER.search(piece)
        ):
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
              + (0.3 if NUMBER.search(text[units[i][0] : units[i][1]]) else 0)),
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


# A statement that spells out an acronym a short question is about ("education, employment or
# training" for "What is the EET target?") is about it, however its other words score.
SPELLED_OUT = 0.08


def spelled_out(candidates: list[Statement], question: str, glossary: Glossary) -> list[Statement]:
    """Lift the statements that give, in full, the meaning of an acronym the question uses."""
    meanings = [normalise(glossary.acronyms[a]) for a in glossary.acronyms_in(question)]
    if not meanings:
        return candidates
    lifted = [replace(c, score=c.score + SPELLED_OUT) if any(m in normalise(c.text) for m in meanings) else c
              for c in candidates]
    return sorted(lifted, key=lambda c: (-c.score, c.rank, c.pieces))


# A sentence repeats another when this share of their words is the same (Jaccard, stemmed).
REPEAT_SIMILARITY = 0.5


def _sentence_terms(text: str) -> list[set[str]]:
    return [t for t in (terms(s) for s in sentences(text)) if len(t) >= 3]


def repeats(cand: Statement, chosen: list[Statement]) -> bool:
    """Does the candidate mostly say again what a chosen statement of its document says? A
    document repeats a rule in several sections ("Lewisham's 13-week rule…"); an answer says it once."""
    # Within one document only: two strategies say the same thing with a different chair or figure.
    said = [s for c in chosen if c.document_id == cand.document_id for s in _sentence_terms(c.text)]
    own = _sentence_terms(cand.text)
    if not own or not said:
        return False
    again = sum(any(len(s & t) / len(s | t) >= REPEAT_SIMILARITY for t in said) for s in own)
    return again / len(own) >= 0.5
