"""One turn of a conversation: validate, safeguard, resolve follow-ups, retrieve, answer.

Follow-ups are resolved deterministically from the user's earlier turns: "And
in the previous strategy?" after a question about the EET target becomes a
question about the EET target in the previous strategy. A question with a
topic of its own is left alone, so a new topic is not polluted by the old one.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from . import answering, evidence, listing, retrieval, safety, specifics
from .errors import InputError, LLMUnavailable
from .schema import Reply
from .statement import STEMMER, STOP_WORDS, Statement, terms

if TYPE_CHECKING:
    from .pipeline import Assistant

log = logging.getLogger(__name__)
AUDIENCES = ("care_leaver", "staff")
_FOLLOW_START = re.compile(
    r"^(and|also|what about|how about|what abt|wot about|and what|and how|and who|same for|what was it|"
    r"what were they|is that|was that|does that|did that|so|ok so|then)\b",
    re.IGNORECASE,
)
_ANAPHORA = re.compile(r"\b(it|that|this|they|them|those|these|there|he|she|his|her|its|one)\b", re.IGNORECASE)
_CHANGE = re.compile(
    r"\b(chang\w*|differen\w*|compar\w*|vs\.?|versus|what'?s new|whats new|new in|updated?|now and before|"
    r"then and now|still the same|same as before)\b",
    re.IGNORECASE,
)
_QUESTION_WORDS = frozenset("what who when where why how which is are does do did can could was were".split())
_WHICH_TIME = re.compile(
    r"(current|currently|now|today|latest|new|newer|previous|old|older|earlier|before|then|strateg(y|ies)|"
    r"version|(19|20)\d{2}([-–/]\d{2,4})?)", re.IGNORECASE,
)


def clean_question(question: Any, limit: int) -> str:
    """Strip control characters and check length; raise InputError with what to do."""
    if not isinstance(question, str):
        raise InputError("The question must be text.")
    text = "".join(ch for ch in question if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    text = " ".join(text.split())
    if not text:
        raise InputError("The question is empty. Type a question, for example: 'What help can I get with rent?'")
    if len(text) > limit:
        raise InputError(
            f"The question is {len(text)} characters long; the limit is {limit}. Please shorten it."
        )
    return text


def check_audience(audience: str) -> str:
    if audience not in AUDIENCES:
        raise InputError(f"Unknown audience {audience!r}: use one of {', '.join(AUDIENCES)}.")
    return audience


def user_turns(history: list[dict[str, str]], max_turns: int) -> list[str]:
    """The earlier user messages, oldest first (validated)."""
    if not isinstance(history, list):
        raise InputError("history must be a list of {role, content} messages.")
    turns: list[str] = []
    for number, item in enumerate(history, 1):
        if not isinstance(item, dict) or item.get("role") not in ("user", "assistant") or not isinstance(
            item.get("content"), str
        ):
            raise InputError(
                f"history item {number} must be {{'role': 'user' or 'assistant', 'content': text}}."
            )
        if item["role"] == "user" and item["content"].strip():
            turns.append(" ".join(item["content"].split())[:2000])
    return turns[-max_turns:] if max_turns else []


# Conversation glue that carries no topic ("ok thanks, different thing: ...").
_DISCOURSE = frozenset(
    STEMMER.stemWords("ok okay thanks thank cool forget diff different thing another question new topic else".split())
)


def is_follow_up(question: str) -> bool:
    """Does the question lean on an earlier one ("and in the previous strategy?", "who leads it?")?"""
    if re.search(r"\b(forget (that|it)|diff(erent)? (thing|question|topic)|new (question|topic)|another (thing|question))\b",
                 question, re.IGNORECASE):
        return False
    # Which strategy or when ("in the 2021-24 version?") is not a subject of its own.
    untimed = " ".join(w for w in re.findall(r"[\w'’-]+", question) if not _WHICH_TIME.fullmatch(w))
    content = [w for w in terms(untimed) if w not in _QUESTION_WORDS and w not in _DISCOURSE]
    if _FOLLOW_START.search(question.strip()):
        # "And what's the phone number for the leaving care team?" names its own subject:
        # the words that only ask for a kind of fact ("phone number") do not count.
        subject = [w for w in content if w in terms(specifics.without_kind_words(untimed))]
        return len(content) <= 5 and len(subject) <= 2
    if _ANAPHORA.search(question) and len(content) <= 3:
        return True
    return len(content) <= 1


def resolve(question: str, earlier: list[str]) -> str:
    """Make a follow-up standalone by adding the topic words of the previous question."""
    topic = ""
    for turn in earlier:
        topic = turn if not is_follow_up(turn) else f"{turn} {topic_words(topic)}".strip()
    if not topic or not is_follow_up(question):
        return question
    return f"{question} ({topic_words(topic)})"


def topic_words(question: str) -> str:
    """What a question is about, to carry into a follow-up: not which strategy or when, which
    the follow-up says for itself ("And in the previous strategy?")."""
    words = re.findall(r"[A-Za-z0-9£%'-]+", question)
    kept = [
        w for w in words
        if w.lower() not in STOP_WORDS and w.lower() not in _QUESTION_WORDS and not _WHICH_TIME.fullmatch(w)
    ]
    return " ".join(kept)


def answer_turn(bot: Assistant, question: str, history: list[dict[str, str]], audience: str) -> Reply:
    """Answer one message (the body of ``Assistant.ask``)."""
    s = bot.settings
    audience = check_audience(audience)
    text = clean_question(question, s.max_question_chars)
    earlier = user_turns(history, s.max_history_turns)

    if safety.is_safeguarding(text):
        return _safeguarding(bot, text, audience)
    if safety.is_injection(text):
        return answering.make_reply("off_topic", answering.off_topic_text(audience, s), question=text)

    standalone = resolve(text, earlier)
    if _CHANGE.search(text) and _has_superseded(bot):
        reply = _what_changed(bot, text, standalone, audience)
        if reply is not None:
            return reply

    passages = bot.search(standalone, k=s.retrieval_k)
    best = max((p.similarity for p in passages), default=0.0)
    in_domain = safety.mentions_domain(standalone, bot.glossary, bot.vocabulary)
    if (not in_domain and best < s.off_topic_similarity) or (
        safety.looks_off_topic(text) and best < s.min_similarity + 0.15
    ):
        return answering.make_reply("off_topic", answering.off_topic_text(audience, s), question=text,
                                    standalone_question=standalone)
    qterms = terms(f"{standalone} {' '.join(bot.glossary.expansions(standalone))}")
    qvec = np.asarray(bot.embedder.embed_query(standalone), dtype=np.float32)
    candidates = bot.statements(passages, qvec, qterms)
    candidates = listing.prefer_lists(candidates, standalone)
    if retrieval.asks_about_present(standalone):
        candidates = evidence.prefer_current(candidates, _superseded(bot))
    chosen = select(candidates)
    lead_overlap = chosen[0].overlap if chosen else 0.0
    if not chosen or (best < s.min_similarity and lead_overlap < 0.5):
        return _decline(bot, text, standalone, audience, None)
    lexicon = bot.lexicon
    missing = specifics.missing_kind(standalone, chosen, lexicon)
    if missing:
        chosen = specifics.rescue(missing, standalone, chosen, candidates, lexicon)
        missing = specifics.missing_kind(standalone, chosen, lexicon)
    if missing:
        return _decline(bot, text, standalone, audience, missing)
    thing = specifics.missing_thing(standalone, chosen, lexicon) or specifics.unstated_year(
        standalone, chosen, lexicon
    )
    if thing:
        return _decline(bot, text, standalone, audience, None, thing)
    chosen = evidence.extend_lead(chosen, bot.index, bot._chunk_pos)
    composed = answering.compose(chosen, bot.index, audience, bot.glossary, s)
    reply = Reply("answered", composed.text, composed.citations, question=text, standalone_question=standalone)
    if s.llm_backend != "none":
        return _with_llm(bot, reply, passages, audience)
    return reply


def select(candidates: list[Statement], limit: int = 4) -> list[Statement]:
    """The lead statement and close seconds, without repeats."""
    if not candidates:
        return []
    lead = candidates[0]
    chosen = [lead]
    for cand in candidates[1:]:
        if len(chosen) >= limit:
            break
        if cand.score < lead.score - 0.15 or cand.overlap < 0.2 or cand.outline:
            continue
        if any(cand.text == c.text or _within(cand, c) or _within(c, cand) for c in chosen):
            continue
        chosen.append(cand)
    return chosen


def _within(inner: Statement, outer: Statement) -> bool:
    """Is every piece of ``inner`` inside a piece of ``outer`` (a sentence of a quoted list item)?"""
    return inner.chunk_id == outer.chunk_id and all(
        any(s <= start and end <= e for s, e in outer.pieces) for start, end in inner.pieces
    )


def _decline(
    bot: Assistant, text: str, standalone: str, audience: str, kind: str | None, thing: str | None = None
) -> Reply:
    return answering.make_reply(
        "not_found", answering.not_found_text(audience, bot.settings, kind, thing), question=text,
        standalone_question=standalone,
    )


def _safeguarding(bot: Assistant, text: str, audience: str) -> Reply:
    """Urgent contacts first; then, if the documents clearly help, one cited pointer."""
    body = answering.safeguarding_text(bot.settings, audience)
    citations = []
    passages = bot.search(text, k=3)
    if passages and passages[0].similarity >= bot.settings.min_similarity + 0.1:
        qvec = np.asarray(bot.embedder.embed_query(text), dtype=np.float32)
        cands = bot.statements(passages[:2], qvec, terms(text))
        if cands:
            composed = answering.compose(cands[:1], bot.index, audience, bot.glossary, bot.settings)
            citations = composed.citations
            lead = composed.text.split("\n\n")[0]
            body += f"\n\n**From the council's documents:** {lead}"
    return Reply("safeguarding", body, citations, question=text, standalone_question=text)


def _superseded(bot: Assistant) -> set[str]:
    return {m.id for m in bot.index.documents.values() if m.status == "superseded"}


def _has_superseded(bot: Assistant) -> bool:
    return bool(_superseded(bot))


def _what_changed(bot: Assistant, text: str, standalone: str, audience: str) -> Reply | None:
    """Answer "what changed" side by side: the current document, then the one it replaced."""
    topic = _CHANGE.sub(" ", standalone)
    topic = re.sub(r"\b(now|then|before|previous|old|new|current|strategy|strategies|since)\b", " ", topic, flags=re.I)
    topic = " ".join(topic.split()) or standalone
    docs = bot.index.documents
    old_ids = {m.id for m in docs.values() if m.status == "superseded" and m.superseded_by}
    new_ids = {m.superseded_by for m in docs.values() if m.id in old_ids} - {None}
    sides = []
    qterms = terms(f"{topic} {' '.join(bot.glossary.expansions(topic))}")
    qvec = np.asarray(bot.embedder.embed_query(topic), dtype=np.float32)
    for ids in (new_ids, old_ids):
        passages = bot.search(topic, k=3, prefer="none", documents={i for i in ids if i})
        cands = listing.prefer_lists(bot.statements(passages, qvec, qterms), topic)
        if not cands or (passages[0].similarity < bot.settings.min_similarity and cands[0].overlap < 0.5):
            return None
        sides.append(evidence.extend_lead(cands[:1], bot.index, bot._chunk_pos)[0])
    headings = []
    for side in sides:
        meta = docs[side.document_id]
        headings.append(f"**{'Now' if meta.status == 'current' else 'Before'} ({meta.title}):** ")
    composed = answering.compose(sides, bot.index, audience, bot.glossary, bot.settings, headings=headings)
    # The heading already names the superseded document; drop the repeated provenance.
    body = re.sub(r"In the [^:]+, since replaced by the [^:]+: ", "", composed.text)
    return Reply("answered", body, composed.citations, question=text, standalone_question=standalone)


def _with_llm(bot: Assistant, reply: Reply, passages: list[Any], audience: str) -> Reply:
    from .llm import llm_answer

    try:
        checked = llm_answer(bot, reply, passages, audience)
    except LLMUnavailable as exc:
        log.warning("LLM answer not used: %s", exc)
        return reply
    return checked or reply


def stream_turn(bot: Assistant, question: str, history: list[dict[str, str]], audience: str) -> Iterator[str | Reply]:
    """Yield the answer text in pieces, then the final Reply."""
    if bot.settings.llm_backend != "none":
        from .llm import stream_llm_turn

        yield from stream_llm_turn(bot, question, history, audience)
        return
    reply = answer_turn(bot, question, history, audience)
    for piece in re.findall(r"\S+\s*|\s+", reply.text):
        yield piece
    yield reply
