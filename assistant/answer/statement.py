"""A statement: one sentence, list or table row of a document, with the verbatim spans it quotes.

The small vocabulary every part of answering shares: word overlap between a question and a text, a chunk's own heading,
and a verbatim quote built from spans.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.text.tokens import terms
from assistant.types import Chunk, Span

QUOTE_LIMIT = 400
JOIN = " … "
NUMBER = re.compile(r"£?\d[\d,.]*%?")
# Where a statement's or a message's text breaks into sentences: after an end stop, or at a line.
SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+|\n+")


def sentences(text: str) -> list[str]:
    """The text's sentences (and lines), stripped, without empty ones."""
    return [s.strip() for s in SENTENCE_BREAK.split(text) if s.strip()]


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


def overlap(question_terms: set[str], text: str) -> float:
    """Share of the question's terms that ``text`` has (council words are never question terms)."""
    if not question_terms:
        return 0.0
    return len(question_terms & terms(text)) / len(question_terms)


def own_heading(chunk: Chunk) -> str:
    """The chunk's nearest heading: a sentence under "We are proud parents" is about being proud parents."""
    return chunk.section.rsplit(" > ", 1)[-1]


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
