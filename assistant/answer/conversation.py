"""Small talk: "hi", "thanks", "who are you", "this is useless" get a friendly reply, never a decline.

A message is compared, by the bundled embedding model, with a bank of examples kept as data
(``rules/data/conversation_exemplars.toml``): conversation of six kinds (greeting, thanks,
goodbye, about the assistant, frustration with it, acknowledgement) and messages that are not
small talk (questions about entitlements, staff questions, feelings that need an answer,
greetings or thanks with a question in them, elliptical follow-ups, off-topic requests). The
score is the mean similarity of the nearest conversation examples minus that of the nearest
questions; above ``TALK`` the message is small talk, of the kind most
of its nearest conversation examples share.

Two things keep a real question from being taken for small talk: the threshold is set on the
bank alone so that almost no question example scores above it (``risk.calibrate``), and a message
that uses a word of the care domain ("rent", "PA", "uni") is a question unless it scores above
``SURE_TALK``, which no question example with such a word reaches ("are you a real person" does).
The held-out set ``eval/conversation/test_set.toml`` only measures (``python -m eval.conversation``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from assistant.answer.risk import Bank, Neighbours, bank_vectors, read_bank
from assistant.embed import Embedder

BANK_FILE = "conversation_exemplars.toml"
KINDS = ("greeting", "thanks", "goodbye", "about_assistant", "frustration", "acknowledgement")
# Chosen on the bank alone, each example left out of its own neighbours (``risk.calibrate``, 1,135
# messages, k = 5): the lowest threshold at which at most 1% of the question examples score above
# it. At 0.10, 85.4% of the conversation examples and 0.89% of the question ones do.
TALK = 0.10
# A word of the care domain keeps a message a question, unless the message reads as small talk more
# surely than any question of the bank that uses one: on the bank alone, each example left out of
# its own neighbours, the 393 question examples with a domain word score at most 0.173 ("eet"),
# and 8 of the 25 conversation ones score above 0.20 ("are you a real person", "safe bro thanks").
SURE_TALK = 0.20
# Longer than this, a message says more than small talk does.
MAX_WORDS = 12


@lru_cache(maxsize=4)
def load_bank(extra: Path | None = None) -> Bank:
    """The shipped bank, plus a council's own ``conversation_exemplars.toml`` if it has one."""
    return read_bank(BANK_FILE, ("conversation", "question"), extra, KINDS)


@dataclass(frozen=True)
class Talk:
    """Is the message small talk, of which kind, and by how much."""

    kind: str | None  # one of KINDS, or None for a question
    score: float
    nearest: str = ""  # the kind most of the nearest conversation examples share


class ConversationModel(Neighbours):
    """Nearest neighbours over the conversation bank: small talk against questions."""

    def __init__(self, bank: Bank, vectors: np.ndarray, *, threshold: float = TALK) -> None:
        super().__init__(bank, vectors)
        self.threshold = threshold

    def classify(self, vector: np.ndarray, *, words: int, in_domain: bool) -> Talk:
        margin, kind = self.score(vector)
        is_talk = margin >= (SURE_TALK if in_domain else self.threshold) and words <= MAX_WORDS
        return Talk(kind if is_talk else None, margin, kind)


def conversation_model(embedder: Embedder, cache_dir: Path | None, council_folder: Path | None) -> ConversationModel:
    extra = council_folder if council_folder is not None and (council_folder / BANK_FILE).is_file() else None
    bank = load_bank(extra)
    return ConversationModel(bank, bank_vectors(bank, embedder, cache_dir, prefix="conversation"))
