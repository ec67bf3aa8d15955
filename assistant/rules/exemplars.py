"""Exemplar banks kept as data, and the nearest-neighbour margin that reads a text against one.

A bank (a TOML file in ``rules/data``, extended by a council's own copy) holds texts of a
positive kind (a crisis message, an instruction addressed to an assistant) and a negative kind
(ordinary messages, ordinary council prose). ``Neighbours`` scores a vector: the mean similarity
of its nearest positive exemplars minus that of its nearest negative ones. Safeguarding and small
talk (``answer.risk``, ``answer.conversation``) and the document quarantine
(``ingest.quarantine``) all read texts this way; ``calibrate`` chooses thresholds on a bank
alone, each exemplar left out of its own neighbours.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections import Counter
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
