"""What changed between a strategy and the one it replaced: one side from each, like for like."""

from __future__ import annotations

from assistant.answer import evidence, listing
from assistant.answer.context import AnswerContext
from assistant.answer.statement import Statement
from assistant.retrieve.search import QueryVectors
from assistant.rules import Rules, default_rules


def asks_what_changed(question: str, rules: Rules | None = None) -> bool:
    """Does the message ask how things changed ("what's new", "compared with before")? (rules: [what_changed])"""
    return (rules or default_rules()).what_changed.search(question)


def change_topic(standalone: str, rules: Rules | None = None) -> str:
    """What the comparison is about: the question without its words of change and time."""
    rules = rules or default_rules()
    topic = rules.change_time.sub(" ", rules.what_changed.sub(" ", standalone))
    return " ".join(topic.split()) or standalone


def sides(ctx: AnswerContext, topic: str, vectors: QueryVectors) -> tuple[list[Statement], list[str]] | None:
    """The current document's statement, then the replaced one's, with their headings.

    None when either side has no passage on the topic: the question is then answered normally.
    """
    docs = ctx.index.documents
    old_ids = {m.id for m in docs.values() if m.status == "superseded" and m.superseded_by}
    new_ids = {m.superseded_by for m in docs.values() if m.id in old_ids} - {None}
    chosen: list[Statement] = []
    qterms = ctx.tokens.terms(f"{topic} {' '.join(ctx.glossary.expansions(topic))}")
    qvec = vectors(topic)
    for ids in (new_ids, old_ids):
        passages = ctx.retriever.search(topic, k=3, prefer="none", documents={i for i in ids if i},
                                        vectors=vectors)
        cands = listing.prefer_lists(ctx.statements(passages, qvec, qterms), topic)
        if not cands or (passages[0].similarity < ctx.settings.min_similarity and cands[0].overlap < 0.5):
            return None
        chosen.append(evidence.extend_lead(cands[:1], ctx.index, ctx.chunk_pos)[0])
    headings = []
    for side in chosen:
        meta = docs[side.document_id]
        headings.append(f"**{'Now' if meta.status == 'current' else 'Before'} ({meta.title}):** ")
    return chosen, headings
