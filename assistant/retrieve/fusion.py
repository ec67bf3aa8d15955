"""Pure retrieval logic: query expansion, reciprocal rank fusion, preferring current documents."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from assistant.rules import Rules, default_rules
from assistant.text.glossary import Glossary
from assistant.types import DocumentMeta

# Words that ask about the past or the present are rules (``rules.toml``: [past], [present]);
# which years name them comes from the manifest (``Periods``).
# A year, or the start of a period or financial year: "2021", "2021-24", "2021–2024", "2020/21".
_YEAR = re.compile(r"\b((?:19|20)\d{2})(?:\s?[-–/]\s?(?:\d{4}|\d{2}))?\b")
_PERIOD_START = re.compile(r"(?:19|20)\d{2}")


@dataclass(frozen=True)
class Periods:
    """Which years name a superseded document (the past) and which a current one (the present).

    Read from the manifest: a document names its year of publication and the first year of its
    period. The few years before the earliest superseded document name the past too (its
    baselines, "2019/20"); a number further back is an amount ("the 2000 bursary"), not a year.
    With no superseded document, no year names the past.
    """

    past: frozenset[int] = frozenset()
    present: frozenset[int] = frozenset()

    @classmethod
    def from_documents(cls, documents: Iterable[DocumentMeta]) -> Periods:
        documents = list(documents)
        past = {y for d in documents if d.status == "superseded" for y in _named_years(d)}
        present = {y for d in documents if d.status == "current" for y in _named_years(d)} - past
        return cls(frozenset(past), frozenset(present))

    def years(self, question: str) -> tuple[bool, bool]:
        """(names the past, names the present) by the years the question mentions."""
        found = [int(m.group(1)) for m in _YEAR.finditer(question)]
        earliest = min(self.past, default=None)
        past = any(
            y in self.past or (earliest is not None and earliest - BASELINE_YEARS <= y < earliest) for y in found
        )
        return past, any(y in self.present for y in found)


NO_PERIODS = Periods()
# How far before a strategy its baseline figures reach ("2019/20" for a 2021-24 strategy).
BASELINE_YEARS = 5


def _named_years(meta: DocumentMeta) -> set[int]:
    start = _PERIOD_START.search(meta.period)
    return {meta.published, *([int(start.group(0))] if start else [])}


def asks_about_past(question: str, periods: Periods = NO_PERIODS, rules: Rules | None = None) -> bool:
    """True when the question asks about the earlier (superseded) document."""
    return (rules or default_rules()).past.search(question) or periods.years(question)[0]


def names_present(question: str, periods: Periods = NO_PERIODS, rules: Rules | None = None) -> bool:
    return (rules or default_rules()).present.search(question) or periods.years(question)[1]


def asks_about_present(question: str, periods: Periods = NO_PERIODS, rules: Rules | None = None) -> bool:
    """True when the question names the present ("current", "now", "2025–28") and not the past."""
    return names_present(question, periods, rules) and not asks_about_past(question, periods, rules)


def time_preference(question: str, periods: Periods = NO_PERIODS, rules: Rules | None = None) -> str:
    """"past", "current", or "none" when the question spans both (a comparison)."""
    if asks_about_past(question, periods, rules):
        return "none" if names_present(question, periods, rules) else "past"
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
