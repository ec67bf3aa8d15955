"""A turn's input, checked, and follow-ups made standalone.

Follow-ups are resolved deterministically from the user's earlier turns: "And
in the previous strategy?" after a question about the EET target becomes a
question about the EET target in the previous strategy. A question with a
topic of its own is left alone, so a new topic is not polluted by the old one.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from assistant.answer import gates as specifics
from assistant.errors import InputError
from assistant.text.tokens import STEMMER, TOKENS, Tokens

AUDIENCES = ("care_leaver", "staff")
_FOLLOW_START = re.compile(
    r"^(and|also|what about|how about|what abt|wot about|and what|and how|and who|same for|what was it|"
    r"what were they|is that|was that|does that|did that|so|ok so|then)\b",
    re.IGNORECASE,
)
_ANAPHORA = re.compile(r"\b(it|that|this|they|them|those|these|there|he|she|his|her|its|one)\b", re.IGNORECASE)
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


# "Forget that, different question: ..." starts a new topic.
_NEW_TOPIC = re.compile(
    r"\b(forget (that|it)|diff(erent)? (thing|question|topic)|new (question|topic)|another (thing|question))\b",
    re.IGNORECASE,
)
# Conversation glue that carries no topic ("ok thanks, different thing: ...").
_DISCOURSE = frozenset(
    STEMMER.stemWords("ok okay thanks thank cool forget diff different thing another question new topic else".split())
)


def is_follow_up(question: str, tokens: Tokens = TOKENS) -> bool:
    """Does the question lean on an earlier one ("and in the previous strategy?", "who leads it?")?"""
    if _NEW_TOPIC.search(question):
        return False
    # Which strategy or when ("in the 2021-24 version?") is not a subject of its own.
    untimed = " ".join(w for w in re.findall(r"[\w'’-]+", question) if not _WHICH_TIME.fullmatch(w))
    content = [w for w in tokens.terms(untimed) if w not in _QUESTION_WORDS and w not in _DISCOURSE]
    if _FOLLOW_START.search(question.strip()):
        # "And what's the phone number for the leaving care team?" names its own subject:
        # the words that only ask for a kind of fact ("phone number") do not count.
        subject = [w for w in content if w in tokens.terms(specifics.without_kind_words(untimed))]
        return len(content) <= 5 and len(subject) <= 2
    if _ANAPHORA.search(question) and len(content) <= 3:
        return True
    return len(content) <= 1


def resolve(question: str, earlier: list[str], tokens: Tokens = TOKENS) -> str:
    """Make a follow-up standalone by adding the topic words of the previous question."""
    topic = ""
    for turn in earlier:
        topic = turn if not is_follow_up(turn, tokens) else f"{turn} {topic_words(topic, tokens)}".strip()
    if not topic or not is_follow_up(question, tokens):
        return question
    return f"{question} ({topic_words(topic, tokens)})"


def topic_words(question: str, tokens: Tokens = TOKENS) -> str:
    """What a question is about, to carry into a follow-up: not which strategy or when, which
    the follow-up says for itself ("And in the previous strategy?")."""
    words = re.findall(r"[A-Za-z0-9£%'-]+", question)
    kept = [
        w for w in words
        if not tokens.is_stop(w) and w.lower() not in _QUESTION_WORDS and not _WHICH_TIME.fullmatch(w)
    ]
    return " ".join(kept)
