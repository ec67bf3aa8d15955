"""Pure retrieval logic: query expansion, reciprocal rank fusion, preferring current documents."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from .glossary import Glossary

# Words that ask about the past: the superseded strategy is then preferred.
_PAST = re.compile(
    r"\b(previous|previously|earlier|superseded|used to|originally|back in|back then|"
    r"(?:the )?old (?:\w+ )?(?:strategy|plan|pledge|one|version|document|measures|targets?|figures)|"
    r"2019|2020|2021|2021[-–/]24|2021[-–/]2024|2020/21|last strategy|before the new)\b",
    re.IGNORECASE,
)


_PRESENT = re.compile(
    r"\b(current|currently|now|new|newest|latest|today|at the moment|at present|presently|these days|2025|2025[-–/]28)\b",
    re.IGNORECASE,
)


def asks_about_past(question: str) -> bool:
    """True when the question asks about the earlier (superseded) document."""
    return bool(_PAST.search(question))


def asks_about_present(question: str) -> bool:
    """True when the question names the present ("current", "now", "2025–28") and not the past."""
    return bool(_PRESENT.search(question)) and not asks_about_past(question)


def time_preference(question: str) -> str:
    """"past", "current", or "none" when the question spans both (a comparison)."""
    if asks_about_past(question):
        return "none" if _PRESENT.search(question) else "past"
    return "current"


# Acronyms young people also type in lower case.
_LOWER_OK = frozenset({"EET", "NEET", "UASC", "CICC", "PEP", "SEND", "CAMHS", "IRO"})


def expand_query(question: str, glossary: Glossary) -> tuple[str, str]:
    """Return (dense query, lexical query).

    The dense query has acronyms replaced by their meanings (so "EET" reads as
    "education, employment or training"); the lexical query also gains the everyday-word
    synonyms ("money" -> allowance, bursary…), which BM25 needs and a sentence
    embedding would be diluted by.
    """
    def meaning(match: re.Match[str]) -> str:
        token = match.group(0)
        found = glossary.acronyms.get(token) or glossary.acronyms.get(token.upper())
        # Sentence embeddings read acronyms poorly: "EET" is replaced by its meaning.
        return found if found and (token.isupper() or token.upper() in _LOWER_OK) else token

    dense = re.sub(r"\b[A-Za-z]{2,6}\b", meaning, question)
    lexical = " ".join([question, *glossary.expansions(question)])
    return dense, lexical


# "ambition 24", "measure 14", "principle (c)": staff refer to numbered items by number.
_NUMBERED_REF = re.compile(
    r"\b(?:ambitions?|measures?|pledges?|items?|numbers?|no\.?|rows?|principles?|targets?|strands?|points?)"
    r"\s*#?(\d{1,2})\b(?![-–/%]|\.\d)",
    re.IGNORECASE,
)
_ITEM_NUMBER = re.compile(r"(\d{1,2})\.\s")


def numbered_refs(question: str) -> set[int]:
    """The item numbers a question refers to ("what was ambition 24" -> {24})."""
    return {int(m.group(1)) for m in _NUMBERED_REF.finditer(question)}


def item_number(unit_text: str) -> int | None:
    """The number a list item or table row starts with ("24. Having access…" -> 24)."""
    match = _ITEM_NUMBER.match(unit_text)
    return int(match.group(1)) if match else None


def rrf(rankings: Sequence[tuple[Sequence[str], float]], k: int) -> dict[str, float]:
    """Reciprocal rank fusion: sum of weight / (k + rank) over each ranking (rank from 1)."""
    scores: dict[str, float] = {}
    for ids, weight in rankings:
        for rank, item in enumerate(ids, 1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    return scores


def prefer_status(
    scores: Mapping[str, float], status_of: Mapping[str, str], *, past: bool, penalty: float
) -> dict[str, float]:
    """Down-weight superseded chunks, or current ones when the question asks about the past.

    Documents that have no counterpart (status current, never superseding) are
    left alone when the question asks about the past.
    """
    out = {}
    for item, score in scores.items():
        status = status_of.get(item, "current")
        if past:
            out[item] = score if status == "superseded" else score * penalty * penalty
        else:
            out[item] = score * penalty if status == "superseded" else score
    return out


def top(scores: Mapping[str, float], k: int) -> list[str]:
    """The ``k`` best ids, ties broken by id for determinism."""
    return [item for item, _ in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:k]]
