"""Pure: spotting immediate risk, off-topic requests and instruction-override attempts.

The cues are data (``rules/data/rules.toml``, extended by a council's ``rules.toml``); this
module only cleans the message and asks the rules.

Safeguarding is decided before anything else, and errs on the side of showing
help: a message that says the writer (or someone with them) is at risk now gets
urgent contacts first. Questions *about* hard topics ("What does the strategy
say about exploitation?") carry no first-person risk and are answered normally.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from assistant.answer.risk import Risk, RiskModel
from assistant.rules import Rules, default_rules
from assistant.text import english
from assistant.text.glossary import Glossary, normalise
from assistant.text.personal import CHAT_WORDS

log = logging.getLogger(__name__)


def assess(
    message: str, rules: Rules | None = None, model: RiskModel | None = None,
    embed: Callable[[str], np.ndarray] | None = None,
) -> Risk:
    """The layered check: a clear cue (rules) is a crisis; a word that only names a danger (a topic
    cue) is at least near the line, and a crisis when the meaning reads it near or above; else the
    meaning decides, and a message that says its writer is not OK (a distress cue) is at least near,
    as is one in another language, which neither the cues nor the model can read.

    Without a model (or a way to embed), only the cues are read.
    """
    group = cue_group(message, rules)
    cue = group is not None
    by_cue = Risk("crisis" if cue else "none", 1.0 if cue else 0.0, group or None, message, "cue")
    risk = by_cue
    if model is not None and embed is not None:
        try:
            risk = model.assess(message, embed)
        except Exception:  # the model failing must never stand between a crisis and help
            log.exception("The meaning of a message could not be read; the clear cues alone decide.")
            risk = by_cue
    if cue:
        # A clear cue says which kind of danger it is ("i can't cope anymore": a mental-health
        # crisis, whatever exemplars the message happens to be nearest), so it chooses the contacts.
        return replace(risk, level="crisis", by="cue", category=group or risk.category)
    if (topic := topic_group(message, rules)) is not None:
        # A word that names a danger ("suicide", "overdose"): the urgent contacts lead whatever
        # the meaning says, and it is a crisis when the meaning reads it at least near the line,
        # or when the meaning could not be read.
        if risk.crisis:
            return risk
        # Near by the crisis bank's reading, not by the distress bank's (upset is no danger).
        level = "crisis" if risk is by_cue or (risk.level == "near" and risk.by != "distress") else "near"
        return replace(risk, level=level, by="cue", category=topic or risk.category)
    if risk.level != "crisis" and (distress := distress_group(message, rules)) is not None:
        # A distress cue says the writer is not OK: the mental-health lines fit, whichever crisis
        # exemplars the rest of the message is nearest.
        return replace(risk, level="near", by="cue", category=distress or risk.category)
    if risk.level != "crisis" and _not_english(message):
        # The cues and the bundled model read English: a message in another language may say
        # anything, so the urgent contacts lead whatever reply it gets.
        return replace(risk, level="near", by="language")
    return risk


def _not_english(message: str) -> bool:
    try:
        return english.not_english(message, CHAT_WORDS)
    except Exception:  # the word list failing must never stand between a message and its reply
        log.exception("Could not tell whether a message is in English; read as English.")
        return False


def distress_group(message: str, rules: Rules | None = None) -> str | None:
    """The group of the first distress cue the message matches ("i feel so low"), else None."""
    return (rules or default_rules()).distress.first_group(_clean(message))


def cue_group(message: str, rules: Rules | None = None) -> str | None:
    """The kind of danger of the first clear cue the message matches ("" if it names none), else None."""
    return (rules or default_rules()).safeguarding.first_group(_clean(message))


def topic_group(message: str, rules: Rules | None = None) -> str | None:
    """The kind of danger of the first word that names one ("suicide", "overdose"), else None."""
    return (rules or default_rules()).safeguarding_topic.first_group(_clean(message))


def is_safeguarding(message: str, rules: Rules | None = None) -> bool:
    """The clear cues alone (when the meaning cannot be read): True when the message says someone
    is at risk now (self-harm, abuse, exploitation, missing, homeless), or names such a danger."""
    rules, text = rules or default_rules(), _clean(message)
    return rules.safeguarding.search(text) or rules.safeguarding_topic.search(text)


def looks_off_topic(message: str, rules: Rules | None = None) -> bool:
    """True for requests with a clear non-care subject (politics, homework, coding, prices...)."""
    return (rules or default_rules()).off_topic.search(message)


def is_injection(message: str, rules: Rules | None = None) -> bool:
    """True when the message tries to override instructions or extract the prompt."""
    return (rules or default_rules()).instructions.search(message)


def mentions_domain(message: str, glossary: Glossary, vocabulary: frozenset[str]) -> bool:
    """True when the message uses a word of the care domain (so it is never off-topic)."""
    words = set(normalise(message).split())
    if words & vocabulary:
        return True
    lowered = f" {normalise(message)} "
    if any(f" {k} " in lowered for k in glossary.synonyms):
        return True
    return any(tok in glossary.acronyms for tok in re.findall(r"\b[A-Z]{2,}\b", message))


def _clean(message: str) -> str:
    """Lower case, straight apostrophes, "sooooo" -> "soo", "u" -> "you", "im" -> "i'm"."""
    text = message.lower().replace("’", "'")
    text = re.sub(r"(.)\1{2,}", r"\1\1", text)  # "sooooo" -> "soo"
    text = re.sub(r"\bu\b", "you", text)
    text = re.sub(r"\bim\b", "i'm", text)
    return " ".join(text.split())
