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

import hashlib
import re
import tomllib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from assistant.embed import Embedder
from assistant.errors import ConfigError

BANK_FILE = "safeguarding_exemplars.toml"
# Neighbours averaged on each side: few enough that a rare way of saying it counts.
NEIGHBOURS = 5
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


@dataclass(frozen=True)
class Bank:
    """The exemplar messages with their labels and categories."""

    texts: tuple[str, ...]
    crisis: np.ndarray  # bool per text
    categories: tuple[str, ...]

    @property
    def digest(self) -> str:
        joined = "\n".join(f"{c}\t{t}" for c, t in zip(self.categories, self.texts, strict=True))
        return hashlib.sha256(joined.encode()).hexdigest()[:16]


def read_bank(
    file: str, labels: tuple[str, str], extra: Path | None = None, kinds: tuple[str, ...] | None = None
) -> Bank:
    """An exemplar bank kept as data: the package's ``file``, plus a council's own copy in ``extra``.

    ``labels`` names the positive and the negative side's tables ("crisis", "not_crisis");
    ``kinds``, if given, are the only categories the positive side may have.
    """
    sources = [resources.files("assistant.rules").joinpath("data", file).read_text(encoding="utf-8")]
    if extra is not None and (extra / file).is_file():
        sources.append((extra / file).read_text(encoding="utf-8"))
    texts, positive, categories = [], [], []
    for number, source in enumerate(sources):
        where = f"the council's {file}" if number else f"the package's {file}"
        try:
            data = tomllib.loads(source)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{where} is not valid TOML ({exc}).") from exc
        for label in labels:
            for category, table in data.get(label, {}).items():
                if kinds is not None and label == labels[0] and category not in kinds:
                    raise ConfigError(f"{where}: [{label}.{category}] is not one of {', '.join(kinds)}.")
                for text in table.get("messages", []):
                    texts.append(" ".join(str(text).split()))
                    positive.append(label == labels[0])
                    categories.append(category)
    return Bank(tuple(texts), np.asarray(positive, dtype=bool), tuple(categories))


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


class Neighbours:
    """Nearest neighbours over an exemplar bank's vectors: its positive side against its negative one."""

    def __init__(self, bank: Bank, vectors: np.ndarray) -> None:
        self.bank = bank
        self.vectors = np.asarray(vectors, dtype=np.float32)
        self.positive_rows = np.flatnonzero(bank.crisis)
        self.negative_rows = np.flatnonzero(~bank.crisis)

    def score(self, vector: np.ndarray, exclude: int | None = None) -> tuple[float, str]:
        """(margin, category) of one vector: the mean similarity of the nearest positive exemplars
        minus that of the nearest negative ones, and the category most of those positives share.
        ``exclude`` leaves one exemplar out (calibration)."""
        # einsum, not BLAS: a multi-threaded BLAS call leaves its threads spinning, and the
        # model's next forward pass then ran 25 ms instead of 14 on this 2-core machine;
        # partition, not sort: the few nearest are all that is needed (4.8 ms -> well under 1).
        sims = np.einsum("ij,j->i", self.vectors, np.asarray(vector, dtype=np.float32))
        if exclude is not None:
            sims[exclude] = -1.0
        positive, negative = sims[self.positive_rows], sims[self.negative_rows]
        margin = np.partition(positive, -NEIGHBOURS)[-NEIGHBOURS:].mean() - np.partition(
            negative, -NEIGHBOURS)[-NEIGHBOURS:].mean()
        nearest = self.positive_rows[np.argpartition(positive, -NEIGHBOURS)[-NEIGHBOURS:]]
        category = Counter(self.bank.categories[i] for i in nearest).most_common(1)[0][0]
        return float(margin), category


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


def calibrate(
    model: Neighbours, thresholds: np.ndarray | None = None
) -> list[tuple[float, float, float]]:
    """(threshold, share of the positive exemplars above it, share of the negative ones), each left out."""
    margins = np.asarray([model.score(model.vectors[i].copy(), exclude=i)[0] for i in range(len(model.bank.texts))])
    rows = []
    for threshold in np.arange(-0.05, 0.15, 0.005) if thresholds is None else thresholds:
        flagged = margins >= threshold
        recall = float(flagged[model.positive_rows].mean())
        false = float(flagged[model.negative_rows].mean())
        rows.append((round(float(threshold), 3), round(recall, 4), round(false, 4)))
    return rows
