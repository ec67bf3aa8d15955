"""What changed between a strategy and the one it replaced: one side from each, like for like."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from assistant.answer import evidence, listing
from assistant.answer.context import AnswerContext
from assistant.answer.statement import Statement
from assistant.retrieve import fusion
from assistant.retrieve.search import QueryVectors
from assistant.rules import Rules, default_rules

# Each side's best few statements are paired; a pair scores both sides' own scores plus this much
# of how alike the two are, so the same measure, strand or body is set beside itself.
SIDE_CANDIDATES = 6
LIKE_FOR_LIKE = 0.6
SAME_KIND = 0.2
_FIGURE = re.compile(r"\d\s?%|£\s?\d|(?<!^)\b\d{2,}\b")


def asks_what_changed(question: str, rules: Rules | None = None) -> bool:
    """Does the message ask how things changed ("what's new", "compared with before")? (rules: [what_changed])"""
    return (rules or default_rules()).what_changed.search(question)


def spans_both(question: str, periods: fusion.Periods, rules: Rules | None = None) -> bool:
    """Does the question name the replaced document and the current one ("in 2021-24 … in
    2025-28", "the old strategy … the new one"), or both at once ("under each strategy": rules
    [both_documents])? Then it compares them, whatever its words of
    change. ("the new provider … per the 2021-24 strategy" names one: rules [current_document].)"""
    rules = rules or default_rules()
    if rules.both_documents.search(question):
        return True  # "under each strategy", "in both strats"
    past, present = periods.years(question)
    return bool((past or rules.past.search(question)) and (present or rules.current_document.search(question)))


def is_comparison(ctx: AnswerContext, question: str,
                  vectors: Callable[[str], np.ndarray]) -> tuple[bool, float | None]:
    """Does the message ask what changed between the documents? With the change model's score,
    when it was read (None when it was not).

    Naming both documents does. A word of change ("change", "different", "new") does only when
    the message means a comparison (answer/change.py): "can i change my PA" does not.
    """
    if spans_both(question, ctx.retriever.periods, ctx.rules):
        return True, None
    if ctx.change_model is None or not asks_what_changed(question, ctx.rules):
        return False, None
    return ctx.change_model.asks(vectors(question))


def change_topic(standalone: str, rules: Rules | None = None) -> str:
    """What the comparison is about: the question without its words of change and time."""
    rules = rules or default_rules()
    topic = rules.change_time.sub(" ", rules.what_changed.sub(" ", rules.both_documents.sub(" ", standalone)))
    return " ".join(topic.split()) or standalone


def sides(ctx: AnswerContext, topic: str, vectors: QueryVectors) -> tuple[list[Statement], list[str]] | None:
    """The current document's statement, then the replaced one's, with their headings.

    None when either side has no passage on the topic: the question is then answered normally.
    """
    docs = ctx.index.documents
    old_ids = {m.id for m in docs.values() if m.status == "superseded" and m.superseded_by}
    new_ids = {m.superseded_by for m in docs.values() if m.id in old_ids} - {None}
    qterms = ctx.tokens.terms(f"{topic} {' '.join(ctx.glossary.expansions(topic))}")
    qvec = vectors(topic)
    per_side: list[list[Statement]] = []
    for ids in (new_ids, old_ids):
        passages = ctx.retriever.search(topic, k=3, prefer="none", documents={i for i in ids if i},
                                        vectors=vectors)
        cands = listing.prefer_lists(ctx.statements(passages, qvec, qterms), topic)
        # Ranked by fused score, the first passage need not be the closest in meaning: the best one counts.
        if not cands or (max(p.similarity for p in passages) < ctx.settings.min_similarity and cands[0].overlap < 0.5):
            return None
        per_side.append(cands[:SIDE_CANDIDATES])
    pair = like_for_like(ctx, *per_side)
    chosen: list[Statement] = []
    headings: list[str] = []
    for side, cands in zip(pair, per_side, strict=True):
        lead = evidence.extend_lead([side], ctx.index, ctx.chunk_pos)[0]
        meta = docs[side.document_id]
        chosen.append(lead)
        headings.append(f"**{'Now' if meta.status == 'current' else 'Before'} ({meta.title}):** ")
        second = close_second(lead, cands)
        if second is not None:
            chosen.append(second)
            headings.append("")
    return chosen, headings


def close_second(lead: Statement, cands: list[Statement]) -> Statement | None:
    """A side's next statement, when it scores within ``evidence.SECOND_WITHIN`` of the side's own
    and shares as much of the question's words as it does (and at least ``evidence.SECOND_OVERLAP``):
    a comparison of two models ("Signs of Belonging", "Signs of Independence") needs both."""
    for cand in cands:
        if cand.text == lead.text or cand.outline or evidence.repeats(cand, [lead]):
            continue
        if cand.score >= lead.score - evidence.SECOND_WITHIN and cand.overlap >= max(evidence.SECOND_OVERLAP,
                                                                                       lead.overlap):
            return cand
    return None


def like_for_like(ctx: AnswerContext, now: list[Statement], before: list[Statement]) -> tuple[Statement, Statement]:
    """The pair of statements, one a side, that best answers the question and is most alike:
    "It meets four times a year" beside "It meets four times per year", not beside the Board's
    roles; a table's row beside a table's row (a measure beside the measure it replaced)."""
    both = (*now, *before)
    vectors = np.stack([_vector(ctx, s) for s in both])
    alike = vectors[: len(now)] @ vectors[len(now) :].T
    kind = [(ctx.index.chunks[ctx.chunk_pos[s.chunk_id]].kind, bool(_FIGURE.search(s.text))) for s in both]

    def score(ij: tuple[int, int]) -> float:
        i, j = ij
        # A measure beside the measure it replaced: a table row with its figures beside another.
        same_kind = SAME_KIND * (kind[i] == kind[len(now) + j] == ("table_row", True))
        return now[i].score + before[j].score + LIKE_FOR_LIKE * float(alike[i, j]) + same_kind

    best = max(((i, j) for i in range(len(now)) for j in range(len(before))), key=score)
    return now[best[0]], before[best[1]]


def _vector(ctx: AnswerContext, statement: Statement) -> np.ndarray:
    """A statement's vector: a prose sentence's is the build's own (embedded at ingest, the same
    text); a table row, a list or a heading's parts is embedded now, at most 400 characters of it."""
    if len(statement.pieces) == 1 and len(statement.text) <= 400:
        ci = ctx.chunk_pos[statement.chunk_id]
        chunk = ctx.index.chunks[ci]
        if chunk.kind != "table_row" and statement.pieces[0] in chunk.units:
            rows = ctx.unit_pos.get((ci, chunk.units.index(statement.pieces[0])))
            if rows and len(rows) == 1:
                return np.asarray(ctx.index.unit_vectors[rows[0]], dtype=np.float32)
    return ctx.statement_vector(statement.text[:400])
