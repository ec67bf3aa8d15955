"""Pure metric functions over replies and retrieved passages."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

_NUM = re.compile(r"\d[\d,.]*")


def norm(text: str) -> str:
    return " ".join(text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"').split()).lower()


def numbers(text: str) -> set[str]:
    return {n.rstrip(".,") for n in _NUM.findall(text)}


def first_relevant_rank(relevant: Sequence[bool]) -> int | None:
    return next((i + 1 for i, r in enumerate(relevant) if r), None)


def recall_at(relevant: Sequence[bool], k: int) -> float:
    return 1.0 if any(relevant[:k]) else 0.0


def reciprocal_rank(relevant: Sequence[bool]) -> float:
    rank = first_relevant_rank(relevant)
    return 1.0 / rank if rank else 0.0


def ndcg_at(relevant: Sequence[bool], k: int) -> float:
    gains = [1.0 / math.log2(i + 2) for i, r in enumerate(relevant[:k]) if r]
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(k, max(1, sum(relevant[:k])))))
    return sum(gains) / ideal if ideal else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))
    return ordered[index]


def syllables(word: str) -> int:
    """Vowel-group syllable count (textstat's cmudict needs a download, which is not allowed here)."""
    word = word.lower()
    groups = re.findall(r"[aeiouy]+", word)
    count = len(groups)
    if word.endswith("e") and not word.endswith(("le", "ee")) and count > 1:
        count -= 1
    return max(1, count)


def flesch_reading_ease(text: str) -> float:
    """Flesch reading ease: 206.835 − 1.015 × words/sentence − 84.6 × syllables/word."""
    sentences = [s for s in re.split(r"[.!?\n]+", text) if re.search(r"[A-Za-z]", s)]
    words = re.findall(r"[A-Za-z][A-Za-z'’-]*", text)
    if not sentences or not words:
        return 0.0
    return 206.835 - 1.015 * len(words) / len(sentences) - 84.6 * sum(syllables(w) for w in words) / len(words)
