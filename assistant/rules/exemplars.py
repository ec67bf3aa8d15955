"""Exemplar banks kept as data, and the nearest-neighbour margin that reads a text against one.

A bank (a TOML file in ``rules/data``, extended by a council's own copy) holds texts of a
positive kind (a crisis message, an instruction addressed to an assistant) and a negative kind
(ordinary messages, ordinary council prose). ``Neighbours`` scores a vector: the mean similarity
of its nearest positive exemplars minus that of its nearest negative ones. Safeguarding and small
talk (``answer.risk``, ``answer.conversation``) and the document quarantine
(``ingest.quarantine``) all read texts this way; ``calibrate`` chooses thresholds on a bank
alone, each exemplar left out of its own neighbours.

``KernelRidge`` is a small model on the same vectors: every exemplar weighs in, by how alike it
is, with a weight fitted so that the bank's own labels come out. Safeguarding reads its level by
it (``answer.risk``): on its bank, five-fold, it finds more crisis messages at the same false
alarms than the nearest neighbours do. ``cross_validated`` gives each exemplar the score of a
model fitted without it, for choosing that model's thresholds on the bank alone.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from assistant.errors import ConfigError

# Neighbours averaged on each side: few enough that a rare way of saying it counts.
NEIGHBOURS = 5


@dataclass(frozen=True)
class Bank:
    """The exemplar messages with their labels and categories."""

    texts: tuple[str, ...]
    crisis: np.ndarray  # bool per text
    categories: tuple[str, ...]

    def subset(self, keep: np.ndarray) -> Bank:
        """The bank's exemplars where ``keep`` (a bool per text) is true."""
        return Bank(tuple(t for t, k in zip(self.texts, keep, strict=True) if k), self.crisis[keep],
                    tuple(c for c, k in zip(self.categories, keep, strict=True) if k))

    @property
    def digest(self) -> str:
        joined = "\n".join(f"{c}\t{t}" for c, t in zip(self.categories, self.texts, strict=True))
        return hashlib.sha256(joined.encode()).hexdigest()[:16]


def read_bank(
    file: str, labels: tuple[str, str], extra: Path | None = None, kinds: tuple[str, ...] | None = None,
    *, more: tuple[str, ...] = (),
) -> Bank:
    """An exemplar bank kept as data: the package's ``file`` and ``more`` files, plus a council's
    own copy of ``file`` in ``extra``.

    ``labels`` names the positive and the negative side's tables ("crisis", "not_crisis");
    ``kinds``, if given, are the only categories the positive side may have.
    """
    package = resources.files("assistant.rules").joinpath("data")
    sources = [(f"the package's {name}", package.joinpath(name).read_text(encoding="utf-8")) for name in (file, *more)]
    if extra is not None and (extra / file).is_file():
        sources.append((f"the council's {file}", (extra / file).read_text(encoding="utf-8")))
    texts, positive, categories = [], [], []
    for where, source in sources:
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
        return float(margin), self.category(positive)

    def category(self, positive: np.ndarray) -> str:
        """The category most of the nearest positive exemplars share, from their similarities."""
        nearest = self.positive_rows[np.argpartition(positive, -NEIGHBOURS)[-NEIGHBOURS:]]
        return Counter(self.bank.categories[i] for i in nearest).most_common(1)[0][0]


class KernelRidge:
    """Kernel ridge regression on unit vectors, the two sides weighed equally: +1 for a positive
    exemplar, -1 for a negative one. A text's score is the sum of each exemplar's weight times
    how alike they are (``exp(-gamma * squared distance)``); above 0 it reads as the positive side.
    """

    GAMMA = 1.0  # at 1.0 an exemplar at cosine 0.5 counts 0.37 as much as an identical one
    RIDGE = 0.03  # chosen five-fold on the safeguarding bank (0.01-0.1 were within a point)

    def __init__(self, vectors: np.ndarray, weights: np.ndarray, *, gamma: float = GAMMA) -> None:
        self.vectors = np.asarray(vectors, dtype=np.float32)
        self.weights = np.asarray(weights, dtype=np.float64)
        self.gamma = gamma

    @classmethod
    def fit(cls, vectors: np.ndarray, positive: np.ndarray, *, gamma: float = GAMMA,
            ridge: float = RIDGE) -> KernelRidge:
        vectors = np.asarray(vectors, dtype=np.float32)
        positive = np.asarray(positive, dtype=bool)
        if positive.all() or not positive.any():
            raise ConfigError("An exemplar bank needs messages on both sides to fit its model.")
        kernel = _kernel(vectors @ vectors.T, gamma).astype(np.float64)
        share = positive.mean()
        balance = np.where(positive, 0.5 / share, 0.5 / (1 - share))  # each side counts half
        target = np.where(positive, 1.0, -1.0)
        weights = np.linalg.solve(balance[:, None] * kernel + ridge * np.eye(len(kernel)), balance * target)
        return cls(vectors, weights, gamma=gamma)

    def score_similarities(self, similarities: np.ndarray) -> float:
        """The score of a text from its cosine similarity to every exemplar (computed once by the caller)."""
        return float(_kernel(np.asarray(similarities, dtype=np.float64), self.gamma) @ self.weights)

    def score(self, vector: np.ndarray) -> float:
        return self.score_similarities(np.einsum("ij,j->i", self.vectors, np.asarray(vector, dtype=np.float32)))

    def scores(self, matrix: np.ndarray) -> np.ndarray:
        """The scores of many texts' vectors at once (calibration)."""
        similarities = np.asarray(matrix, dtype=np.float32) @ self.vectors.T
        return _kernel(similarities.astype(np.float64), self.gamma) @ self.weights


def _kernel(similarities: np.ndarray, gamma: float) -> np.ndarray:
    # unit vectors: |a - b|^2 = 2 - 2 cos(a, b)
    return np.exp(-gamma * (2.0 - 2.0 * similarities))


def held_out(vectors: np.ndarray, positive: np.ndarray, *, folds: int = 5,
             seed: int = 0) -> Iterator[tuple[np.ndarray, KernelRidge]]:
    """For each of ``folds`` folds: the rows held out, and a model fitted on the other rows."""
    vectors, positive = np.asarray(vectors, dtype=np.float32), np.asarray(positive, dtype=bool)
    fold = np.random.default_rng(seed).integers(0, folds, len(vectors))
    for number in range(folds):
        yield np.flatnonzero(fold == number), KernelRidge.fit(vectors[fold != number], positive[fold != number])


def cross_validated(vectors: np.ndarray, positive: np.ndarray, *, folds: int = 5, seed: int = 0) -> np.ndarray:
    """Each exemplar's kernel score from a model fitted without it."""
    scores = np.zeros(len(vectors))
    for rows, model in held_out(vectors, positive, folds=folds, seed=seed):
        scores[rows] = model.scores(np.asarray(vectors, dtype=np.float32)[rows])
    return scores


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
