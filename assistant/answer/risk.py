"""The semantic layer of safeguarding: a message's meaning against a bank of crisis messages.

The clear cues (``rules.toml`` [safeguarding]) catch the plain ways of saying it. Young people
say it in many more: "i wont be a problem much longer", "the olders want me to go country",
"he's outside my door with a knife". So the message is also compared, by the bundled embedding
model, with an exemplar bank (``rules/data/safeguarding_exemplars.toml``): 680+ crisis messages
in 15 categories and 600+ ordinary ones (hard-topic questions, everyday worries, complaints,
off-topic messages, entitlement questions), written from public safeguarding guidance.

A message is read whole and in its sentences, so a risk buried after an ordinary question
("how do i apply for the bursary. also i took 20 paracetamol") is read on its own. For each
piece, the score is the mean similarity of its nearest crisis exemplars minus that of its
nearest ordinary ones; the message's score is its highest piece's. Above ``CRISIS`` it is a
crisis; between ``NEAR`` and ``CRISIS`` it is answered normally with the urgent contacts first.
The category is the one most of the nearest crisis exemplars share.

The thresholds were chosen on the exemplar bank alone, leaving each exemplar out of its own
neighbours (``calibrate``); the held-out test set (eval/safeguarding/test_set.toml) only measures.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from assistant.embed import Embedder
from assistant.rules.exemplars import Bank, Neighbours, read_bank

BANK_FILE = "safeguarding_exemplars.toml"
# Calibrated on the exemplar bank alone, each exemplar left out of its own neighbours
# (``calibrate``, 1,302 messages, k = 5): at 0.10, 72.7% of its crisis messages and 0.98% of its
# ordinary ones (chosen to be close in wording) score above; at 0.04, 91.3% and 9.8%. Above NEAR
# the reply is the normal answer with the urgent contacts first, so a miss there still shows help.
CRISIS = 0.10
NEAR = 0.04
# A sentence read on its own is short and says less, so it needs more to be a crisis by itself:
# no ordinary piece of the bank's multi-sentence messages scores 0.16 (0 of 22; 21% of crisis
# pieces do). Prompted by "what age is the children in care council for? my little brother is 9",
# whose second sentence alone scored 0.15 (eval/questions.yaml lo-inv-02). Below it, a piece
# scoring above NEAR still puts the urgent contacts first.
PIECE_CRISIS = 0.16
_PIECES = re.compile(r"(?<=[.!?\n])\s+|\s+(?:also|and also|btw|but|plus)\s+(?=i\b|i'm\b|im\b|my\b|he\b|she\b|they\b)",
                     re.IGNORECASE)


@lru_cache(maxsize=4)
def load_bank(extra: Path | None = None) -> Bank:
    """The shipped bank, plus a council's own ``safeguarding_exemplars.toml`` if it has one."""
    return read_bank(BANK_FILE, ("crisis", "not_crisis"), extra)


Level = str  # "crisis", "near" or "none"
_RANK = {"none": 0, "near": 1, "crisis": 2}


@dataclass(frozen=True)
class Risk:
    """How much a message reads like a crisis, and which kind."""

    level: Level
    score: float  # nearest crisis exemplars' similarity minus nearest ordinary ones'
    category: str | None = None
    piece: str = ""  # the part of the message that scored highest
    by: str = "meaning"  # "cue" when a clear cue matched, "meaning" for the exemplar bank

    @property
    def crisis(self) -> bool:
        return self.level == "crisis"


def pieces(message: str) -> list[str]:
    """The message whole, and each sentence or clause of it that could carry a risk of its own."""
    parts = [p.strip() for p in _PIECES.split(message) if p and len(p.strip()) >= 8]
    return [message, *[p for p in parts if p != message]]


class RiskModel(Neighbours):
    """Nearest neighbours over the safeguarding bank: crisis messages against ordinary ones."""

    def __init__(self, bank: Bank, vectors: np.ndarray, *, crisis: float = CRISIS, near: float = NEAR) -> None:
        super().__init__(bank, vectors)
        self.crisis_threshold, self.near_threshold = crisis, near

    def assess(self, message: str, embed: Callable[[str], np.ndarray]) -> Risk:
        """The risk of the message, read whole and in its pieces: the most serious reading wins."""
        best: Risk | None = None
        for number, piece in enumerate(pieces(message)):
            margin, category = self.score(embed(piece))
            risk = Risk(self._level(margin, whole=number == 0), margin, category, piece)
            if best is None or (_RANK[risk.level], risk.score) > (_RANK[best.level], best.score):
                best = risk
        assert best is not None
        return best

    def _level(self, margin: float, *, whole: bool = True) -> Level:
        if margin >= (self.crisis_threshold if whole else max(self.crisis_threshold, PIECE_CRISIS)):
            return "crisis"
        return "near" if margin >= self.near_threshold else "none"


def bank_vectors(bank: Bank, embedder: Embedder, cache_dir: Path | None, *, prefix: str = "safeguarding") -> np.ndarray:
    """The bank's vectors, from the cache when this model and bank were embedded before."""
    return _vectors(bank, embedder, str(cache_dir) if cache_dir else "", prefix)


_MEMO: dict[tuple[str, str], np.ndarray] = {}


def _vectors(bank: Bank, embedder: Embedder, cache_dir: str, prefix: str) -> np.ndarray:
    key = (bank.digest, embedder.name)
    if key in _MEMO:
        return _MEMO[key]
    path = Path(cache_dir) / f"{prefix}-{_slug(embedder.name)}-{bank.digest}.npy" if cache_dir else None
    vectors = None
    if path is not None and path.is_file():
        try:
            vectors = np.load(path)
        except (OSError, ValueError):
            vectors = None
    if vectors is None or vectors.shape[0] != len(bank.texts):
        vectors = np.asarray(embedder.embed_documents(list(bank.texts)), dtype=np.float32)
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(".tmp.npy")
                np.save(tmp, vectors)
                tmp.replace(path)
            except OSError:
                pass  # a read-only folder: the vectors are kept in memory for this process
    _MEMO[key] = vectors
    return vectors


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-")[:60]
