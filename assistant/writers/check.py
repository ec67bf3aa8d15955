"""The check an LLM answer must pass before it is shown: citations exist, numbers are grounded.

Kept apart from llm.py because it is the guarantee that a model "can never make an
answer less true", so it stays pure (text in, problems out; no model, no I/O) and
can be tested with plain strings.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

# Citation markers: [1], [1, 2], [1; 3] (and [1][2], which is two markers).
_CITE = re.compile(r"\[\s*(\d+(?:\s*[,;]\s*\d+)*)\s*\]")
# A stated number: 2,000 / 57.50 / 18 / £2,000 / 52% / 52 per cent / 300 pounds.
_NUMBER = re.compile(
    r"(?<![A-Za-z\d])(£\s?)?(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(\s?%|\s?per\s?cent\b|\s?pounds\b)?",
    re.IGNORECASE,
)
# "2025-28" and "2020/21" name the year 2028 and 2021 too.
_YEAR_RANGE = re.compile(r"\b(19|20)(\d{2})\s?[-–/]\s?(\d{2})\b")
_LIST_MARK = re.compile(r"^\s*(?:\d+[.)]|[-*•])\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?!\[)|(?<=\])\s+(?=[A-Z\"“(])")
_WORD_NUMBERS = {
    word: str(value)
    for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
} | {"thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "seventy": "70", "eighty": "80",
     "ninety": "90", "hundred": "100"}
_WORD_NUMBER = re.compile(rf"\b({'|'.join(_WORD_NUMBERS)})\b", re.IGNORECASE)


@dataclass(frozen=True)
class Verdict:
    """What became of a model's answer to one plan: the check's verdict, as an explanation shows it.

    ``outcome``: "passed" (the model's answer is shown), "failed" (it broke the check: the
    extractive answer is shown, ``problems`` says why), "unavailable" (the model could not be
    reached: the extractive answer is shown, ``problems`` holds the error) or "not_asked" (the
    plan is not an answer, so no model was asked).
    """

    outcome: Literal["passed", "failed", "unavailable", "not_asked"]
    problems: tuple[str, ...] = ()


def check_answer(text: str, passages: Sequence[str]) -> list[str]:
    """Problems with a model answer; empty means it may be shown.

    ``passages[n - 1]`` is the text of passage [n]. An answer must cite, cite only
    passages that exist, and state only numbers written in what each sentence cites
    (a sentence citing nothing is checked against every passage the answer cites).
    """
    if not text.strip():
        return ["the answer is empty"]
    problems: list[str] = []
    allowed = range(1, len(passages) + 1)
    cited_anywhere = {n for n in cited_numbers(text) if n in allowed}
    bad = sorted({n for n in cited_numbers(text) if n not in allowed})
    if bad:
        listed = ", ".join(f"[{n}]" for n in bad)
        problems.append(f"cites {listed} but only passages [1]-[{len(passages)}] exist")
    if not cited_anywhere:
        problems.append("cites no passage")
        return problems
    grounded = [stated_numbers(p, source=True) for p in passages]
    for sentence in sentences(text):
        cites = {n for n in cited_numbers(sentence) if n in allowed} or cited_anywhere
        known = set().union(*(grounded[n - 1] for n in cites))
        for kind, value, shown in stated_numbers_shown(sentence):
            if not _grounded(kind, value, known):
                where = ", ".join(f"[{n}]" for n in sorted(cites))
                problems.append(
                    f"states {shown!r}, which is not in passage {where}: {sentence.strip()[:120]!r}"
                )
    return problems


def cited_numbers(text: str) -> list[int]:
    """Passage numbers cited in the text, in order."""
    return [int(n) for m in _CITE.finditer(text) for n in re.split(r"\s*[,;]\s*", m.group(1))]


def sentences(text: str) -> list[str]:
    """Lines (bullets), then sentences, each keeping the [n] markers that close it."""
    out: list[str] = []
    for line in text.splitlines():
        line = _LIST_MARK.sub("", line)
        out.extend(s for s in _SENTENCE_END.split(line) if s.strip())
    return out


def stated_numbers_shown(text: str) -> list[tuple[str, str, str]]:
    """(kind, value, as written) for each number stated, ignoring [n] markers."""
    body = _CITE.sub(" ", text)
    return [(_kind(m), _value(m), m.group(0).strip()) for m in _NUMBER.finditer(body)]


def stated_numbers(text: str, *, source: bool = False) -> set[tuple[str, str]]:
    """(kind, value) pairs; for a source passage also years of ranges and numbers in words."""
    found = {(kind, value) for kind, value, _ in stated_numbers_shown(text)}
    if source:
        found |= {("plain", f"{m.group(1)}{m.group(3)}") for m in _YEAR_RANGE.finditer(text)}
        found |= {("plain", _WORD_NUMBERS[m.group(1).lower()]) for m in _WORD_NUMBER.finditer(text)}
    return found


def _kind(match: re.Match[str]) -> str:
    unit = (match.group(4) or "").strip().lower()
    if match.group(1) or unit == "pounds":
        return "money"
    return "percent" if unit else "plain"


def _value(match: re.Match[str]) -> str:
    """The number without thousands separators or trailing decimal zeros ("2,000.00" -> "2000")."""
    whole = match.group(2).replace(",", "")
    decimals = (match.group(3) or "").rstrip("0").rstrip(".")
    return whole + decimals


def _grounded(kind: str, value: str, known: set[tuple[str, str]]) -> bool:
    """A plain number may match any stated form; £ amounts and percentages must match in kind."""
    if kind == "plain":
        return any(v == value for _, v in known)
    return (kind, value) in known
