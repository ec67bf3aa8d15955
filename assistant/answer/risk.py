"""The semantic layer of safeguarding: a message's meaning against a bank of crisis messages.

The clear cues (``rules.toml`` [safeguarding]) catch the plain ways of saying it. Young people
say it in many more: "i wont be a problem much longer", "the olders want me to go country",
"he's outside my door with a knife". So the message is also compared, by the bundled embedding
model, with an exemplar bank (``rules/data/safeguarding_exemplars.toml``): 1,100+ crisis messages
in 15 categories and 1,000+ ordinary ones (hard-topic questions, everyday worries, complaints,
life events, small talk, off-topic messages, entitlement questions), written by helpers from
public safeguarding guidance.

A message is read whole and in its sentences, so a risk buried after an ordinary question
("how do i apply for the bursary. also i took 20 paracetamol") is read on its own. Each piece
is scored by a kernel ridge model fitted on the bank (``rules.exemplars.KernelRidge``): every
exemplar weighs in by how alike it is, about +1 for a crisis and -1 for an ordinary message. The
message's level is its most serious piece's: at or above ``CRISIS`` a crisis; from ``NEAR`` it is
answered normally with the urgent contacts first. The category is the one most of the five
nearest crisis exemplars share.

The thresholds were chosen on the exemplar bank alone, each exemplar scored by a model fitted
without it (five-fold; ``python -m eval.crisis --calibrate`` prints the table). The held-out test
sets (eval/safeguarding/test_set*.toml) only measure.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from assistant.embed import Embedder
from assistant.rules.exemplars import Bank, KernelRidge, Neighbours, read_bank

BANK_FILE = "safeguarding_exemplars.toml"
# Read on the bank, five-fold, with 1,173 crisis and 1,026 ordinary exemplars (the ordinary ones
# chosen to share words with crises, so they are harder than everyday messages):
# - CRISIS: 80.0% of crisis exemplars score at or above it, and 1.07% of ordinary ones;
# - NEAR: 96.9% of crisis exemplars, and 8.8% of ordinary ones;
CRISIS = 0.40
NEAR = -0.10
# A sentence read on its own is short and says less, so it needs more to be a crisis by itself
# (no ordinary exemplar's later sentence scored above 0.15; 67% of crisis ones reach 0.5), and it
# is near the line only from CRISIS (75% of crisis exemplars' later sentences).
PIECE_CRISIS = 0.5
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
    score: float  # the bank model's score: about +1 for a crisis-like message, -1 for an ordinary one
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
    """The safeguarding bank's model: a kernel ridge score for the level (crisis messages against
    ordinary ones), and the nearest crisis exemplars for the kind of danger."""

    def __init__(self, bank: Bank, vectors: np.ndarray, kernel: KernelRidge | None = None, *,
                 crisis: float = CRISIS, near: float = NEAR, piece: float = PIECE_CRISIS) -> None:
        super().__init__(bank, vectors)
        self.kernel = kernel if kernel is not None else KernelRidge.fit(self.vectors, bank.crisis)
        self.crisis_threshold, self.near_threshold, self.piece_threshold = crisis, near, piece

    def score(self, vector: np.ndarray, exclude: int | None = None) -> tuple[float, str]:
        """(kernel score, the kind most of the nearest crisis exemplars share) of one vector."""
        sims = np.einsum("ij,j->i", self.vectors, np.asarray(vector, dtype=np.float32))
        return self.kernel.score_similarities(sims), self.category(sims[self.positive_rows])

    def assess(self, message: str, embed: Callable[[str], np.ndarray]) -> Risk:
        """The risk of the message, read whole and in its pieces: the most serious reading wins."""
        best: Risk | None = None
        for number, piece in enumerate(pieces(message)):
            score, category = self.score(embed(piece))
            risk = Risk(self._level(score, whole=number == 0), score, category, piece)
            if best is None or (_RANK[risk.level], risk.score) > (_RANK[best.level], best.score):
                best = risk
        assert best is not None
        return best

    def _level(self, score: float, *, whole: bool = True) -> Level:
        if whole:
            crisis, near = self.crisis_threshold, self.near_threshold
        else:  # a piece needs more: its crisis line is higher, and it is near only from the crisis line
            crisis, near = max(self.crisis_threshold, self.piece_threshold), self.crisis_threshold
        if score >= crisis:
            return "crisis"
        return "near" if score >= near else "none"


def risk_model(bank: Bank, embedder: Embedder, cache_dir: Path | None) -> RiskModel:
    """The bank's model, its vectors and fitted weights from the cache when this model and bank
    were embedded and fitted before (fitting 2,200 exemplars takes a few seconds)."""
    kernel = fitted_kernel(bank, embedder, cache_dir)
    return RiskModel(bank, kernel.vectors, kernel)


def fitted_kernel(bank: Bank, embedder: Embedder, cache_dir: Path | None, *,
                  prefix: str = "safeguarding") -> KernelRidge:
    """A kernel ridge model of a bank (its positive side against its negative one), its vectors
    and fitted weights from the cache when this model and bank were embedded and fitted before."""
    vectors = bank_vectors(bank, embedder, cache_dir, prefix=prefix)
    key = f"{KernelRidge.GAMMA}-{KernelRidge.RIDGE}"
    weights = _cached(cache_dir, f"{prefix}-kernel-{key}-{_slug(embedder.name)}-{bank.digest}", len(bank.texts),
                      lambda: KernelRidge.fit(vectors, bank.crisis).weights)
    return KernelRidge(vectors, weights)


def bank_vectors(bank: Bank, embedder: Embedder, cache_dir: Path | None, *, prefix: str = "safeguarding") -> np.ndarray:
    """The bank's vectors, from the cache when this model and bank were embedded before."""
    return _vectors(bank, embedder, str(cache_dir) if cache_dir else "", prefix)


_MEMO: dict[str, np.ndarray] = {}


def _vectors(bank: Bank, embedder: Embedder, cache_dir: str, prefix: str) -> np.ndarray:
    return _cached(Path(cache_dir) if cache_dir else None, f"{prefix}-{_slug(embedder.name)}-{bank.digest}",
                   len(bank.texts),
                   lambda: np.asarray(embedder.embed_documents(list(bank.texts)), dtype=np.float32))


def _cached(cache_dir: Path | None, name: str, rows: int, compute: Callable[[], np.ndarray]) -> np.ndarray:
    """An array kept in memory and in ``cache_dir/name.npy``, computed when neither has it."""
    if name in _MEMO:
        return _MEMO[name]
    path = cache_dir / f"{name}.npy" if cache_dir else None
    array = None
    if path is not None and path.is_file():
        try:
            array = np.load(path)
        except (OSError, ValueError):
            array = None
    if array is None or array.shape[0] != rows:
        array = compute()
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(".tmp.npy")
                np.save(tmp, array)
                tmp.replace(path)
            except OSError:
                pass  # a read-only folder: the array is kept in memory for this process
    _MEMO[name] = array
    return array


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-")[:60]
