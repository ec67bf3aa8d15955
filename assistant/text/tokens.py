"""The one tokeniser of answering: stemmed content words, without stop words.

The council's own name is a stop word too: every passage of its documents says "Lewisham"
(or "Camden"), so the name says nothing about which passage is on a question's topic.
``Tokens.for_council("Lewisham Council")`` adds it; the generic ``TOKENS`` has none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import Stemmer

STEMMER = Stemmer.Stemmer("english")
STOP_WORDS = frozenset(
    """a an the and or of to in on for at by with from is are was were be been being do does did can could
    will would should shall may might must i me my im i'm you your u we our us they them their it its this that
    these those what whats what's which who whom whose when where why how there here if then than so as about
    into out up down over under again any all some no not only own same too very just also get got give tell
    please pls plz know say says said want wanna need much many more most other such am has have had
    someone somebody something anyone anybody anything everyone everybody everything nobody nothing
    none else whatever whoever during
    council""".split()
)
# Words that say how much, how sure or how vaguely, never what about: "is it really free",
# "how much help do i actually get", "that kind of thing"; nor does "go" ("if i go into supported
# lodgings" is about supported lodgings). A question's topic leaves them out
# (answer/gates.py: Lexicon.topic), though the documents use some of them once or twice.
FILLER_WORDS = frozenset(
    """really actually basically honestly literally seriously genuinely truly properly totally completely
    absolutely definitely probably maybe perhaps surely certainly apparently obviously exactly roughly
    quite pretty super even still already ever anyway anyways like kinda sorta kind sort thing things
    stuff bit lot lots go goes going went gone""".split()
)
# A year, a span of years or a d/m/y date ("2020", "2025-28", "2020/21", "31/03/25"): what dates a
# fact or a chart, not a figure of its own (ingest/statements.py, answer/gates.py).
YEAR_OR_DATE = re.compile(r"\b(19|20)\d{2}(\s?[-–/]\s?\d{2,4})?\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b")
# Words of a council's name that name no place ("London Borough of Lewisham").
_NAME_WORDS = frozenset("council borough london city county metropolitan district royal the of and".split())


@dataclass(frozen=True)
class Tokens:
    """Stop words and stemming, with the council's place name among the stop words."""

    stop_words: frozenset[str] = STOP_WORDS
    place_words: frozenset[str] = frozenset()

    @classmethod
    def for_council(cls, council_name: str) -> Tokens:
        place = frozenset(w for w in words(council_name) if w not in _NAME_WORDS)
        return cls(STOP_WORDS | place, place)

    def terms(self, text: str) -> set[str]:
        """Stemmed content words (for overlap between a question and a statement)."""
        return set(_terms(self, text))

    def is_stop(self, word: str) -> bool:
        return word.lower() in self.stop_words


# The documents' statements are read again at every question: their terms are kept (a few MB at most).
TERMS_KEPT = 4096


@lru_cache(maxsize=TERMS_KEPT)
def _terms(tokens: Tokens, text: str) -> frozenset[str]:
    kept = [w for w in re.findall(r"[a-z0-9£%]+", text.lower().replace("’", "'")) if w not in tokens.stop_words]
    return frozenset(STEMMER.stemWords(kept))


def words(text: str) -> list[str]:
    """Lower-case words of ``text`` (letters and digits)."""
    return re.findall(r"[a-z0-9]+", text.lower())


TOKENS = Tokens()
terms = TOKENS.terms
