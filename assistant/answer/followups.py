"""A turn's input, checked, and follow-ups made standalone.

Follow-ups are resolved deterministically from the user's earlier turns: "And
in the previous strategy?" after a question about the EET target becomes a
question about the EET target in the previous strategy. A question with a
topic of its own is left alone, so a new topic is not polluted by the old one.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any

from assistant.answer import gates as specifics
from assistant.errors import InputError
from assistant.rules import Rules, default_rules
from assistant.text.personal import CHAT_WORDS
from assistant.text.tokens import STEMMER, TOKENS, Tokens

AUDIENCES = ("care_leaver", "staff")
def clean_question(question: Any, limit: int | None) -> str:
    """Strip control characters and check length (unless ``limit`` is None); raise InputError with
    what to do."""
    if not isinstance(question, str):
        raise InputError("The question must be text.")
    text = "".join(ch for ch in question if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    text = " ".join(text.split())
    if not text:
        raise InputError("The question is empty. Type a question, for example: 'What help can I get with rent?'")
    if limit is not None and len(text) > limit:
        raise too_long(len(text), limit)
    return text


def too_long(length: int, limit: int) -> InputError:
    return InputError(f"The question is {length} characters long; the limit is {limit}. Please shorten it.")


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


def is_follow_up(question: str, tokens: Tokens = TOKENS, rules: Rules | None = None) -> bool:
    """Does the question lean on an earlier one ("and in the previous strategy?", "who leads it?")?

    The cues are rules ([follow_start], [refers_back], [new_topic], [which_time], [words]).
    """
    rules = rules or default_rules()
    asks = rules.question_words
    glue = _stemmed(rules.discourse_words | CHAT_WORDS)  # "what if its like 11 at night tho": tho names nothing
    if rules.new_topic.search(question):
        return False
    # Which strategy or when ("in the 2021-24 version?") is not a subject of its own.
    untimed = " ".join(w for w in re.findall(r"[\w'’-]+", question) if not rules.which_time.fullmatch(w))
    content = [w for w in tokens.terms(untimed) if w not in asks and w not in glue]
    # The words that name a subject, not only the kind of fact wanted ("phone number", "what age").
    subject = [w for w in content if w in tokens.terms(specifics.without_kind_words(untimed, rules))]
    if rules.follow_start.search(question.strip()):
        # "And what's the phone number for the leaving care team?" names its own subject.
        return len(content) <= 5 and len(subject) <= 2
    if rules.refers_back.search(question) and len(content) <= 3:
        return True
    # "till what age?", "how much a week?": a few words that only name the kind of fact wanted.
    return len(content) <= 1 or (len(content) <= 3 and not subject)


def resolve(question: str, earlier: list[str], tokens: Tokens = TOKENS, rules: Rules | None = None) -> str:
    """Make a follow-up standalone by adding the topic words of the previous question."""
    topic = ""
    for turn in earlier:
        leans = is_follow_up(turn, tokens, rules) or (bool(topic) and is_aside(turn, tokens))
        topic = turn if not leans else f"{turn} {topic_words(topic, tokens, rules)}".strip()
    if not topic or not is_follow_up(question, tokens, rules):
        return question
    return f"{question} ({topic_words(topic, tokens, rules)})"


def is_aside(turn: str, tokens: Tokens = TOKENS) -> bool:
    """A message that asks nothing and names nothing ("i'm 19 btw", "ok so"): the topic carries on past it."""
    if "?" in turn:
        return False
    chat = _stemmed(CHAT_WORDS)
    return not [w for w in tokens.terms(turn) if len(w) > 1 and not w.isdigit() and w not in chat]


def topic_words(question: str, tokens: Tokens = TOKENS, rules: Rules | None = None) -> str:
    """What a question is about, to carry into a follow-up: not which strategy or when, which
    the follow-up says for itself ("And in the previous strategy?")."""
    rules = rules or default_rules()
    words = re.findall(r"[A-Za-z0-9£%'-]+", question)
    kept = [
        w for w in words
        if not tokens.is_stop(w) and w.lower() not in rules.question_words and not rules.which_time.fullmatch(w)
    ]
    return " ".join(kept)


@functools.lru_cache(maxsize=8)
def _stemmed(words: frozenset[str]) -> frozenset[str]:
    return frozenset(STEMMER.stemWords(sorted(words)))
