"""Pure: numbers, dates and addresses written out so that a pattern for digits misses them.

Young people write a phone number as "seven seven oh oh nine double oh one two three", a date
of birth as "the nineteenth of august two thousand and six", an email with a space between
every letter ("k e l l y 2 0 0 5 @ h o t m a i l . c o m"). Redaction (``redact``) asks this
module for the spans of such runs; each function returns (start, end) pairs of the original text.
"""

from __future__ import annotations

import re

_UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_TEENS = ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
          "nineteen"]
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
# A digit said aloud: "oh" and "o" are zero; "double" and "triple" repeat the next one.
_DIGIT_WORD = r"(?:zero|oh|o|nought|one|two|three|four|five|six|seven|eight|nine|double|triple|treble)"
_DIGIT_RUN = re.compile(rf"\b{_DIGIT_WORD}\b(?:[\s,.-]+{_DIGIT_WORD}\b)+", re.IGNORECASE)
_REPEATS = frozenset({"double", "triple", "treble"})
# Fewest digits said aloud that make a run personal: a phone, account or case number (a bus
# route or "one or two" is fewer).
MIN_SPOKEN_DIGITS = 5

_ORDINALS = [
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth", "eleventh",
    "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth", "nineteenth",
    "twentieth", "thirtieth",
]
_ORDINAL = (
    rf"(?:(?:twenty|thirty)[\s-]?(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth)"
    rf"|{'|'.join(_ORDINALS)})"
)
_CARDINAL = rf"(?:(?:{'|'.join(_TENS)})(?:[\s-]?(?:{'|'.join(_UNITS[1:])}))?|{'|'.join(_TEENS)}|{'|'.join(_UNITS[1:])})"
_MONTH = (
    r"(?:january|february|march|april|may|june|july|august|september|october|november|december"
    r"|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)"
)
# "two thousand and six", "twenty oh six", "nineteen ninety eight", "two thousand six".
_YEAR_WORDS = (
    rf"(?:two\s+thousand(?:\s+and)?(?:\s+{_CARDINAL})?|(?:nineteen|twenty)\s+(?:oh\s+|o\s+)?{_CARDINAL})"
)
_YEAR = rf"(?:{_YEAR_WORDS}|(?:19|20)\d{{2}}|'?\d{{2}})"
_DAY = rf"(?:{_ORDINAL}|\d{{1,2}}(?:st|nd|rd|th)?)"
# Each with the year in group "year" when one is given.
_SPELLED_DATES = (
    re.compile(rf"\b(?:the\s+)?{_ORDINAL}\s+(?:of\s+)?{_MONTH}\b(?:,?\s+(?P<year>{_YEAR})\b)?", re.IGNORECASE),
    re.compile(rf"\b{_MONTH}\s+(?:the\s+)?{_ORDINAL}\b(?:,?\s+(?P<year>{_YEAR})\b)?", re.IGNORECASE),
    re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH},?\s+(?P<year>{_YEAR_WORDS})\b", re.IGNORECASE),
)
# Single characters with a space between each ("k e l l y 2 0 0 5 @ ..."): six or more.
_SPACED = re.compile(r"(?<!\S)(?:[\w@.+\-_]\s){5,}[\w@.+\-_](?!\S)")


def digit_runs(text: str) -> list[tuple[int, int]]:
    """Runs of digits said in words with at least ``MIN_SPOKEN_DIGITS`` digits."""
    found = []
    for m in _DIGIT_RUN.finditer(text):
        words = re.findall(r"[a-z]+", m.group().lower())
        digits = sum(1 for w in words if w not in _REPEATS) + sum(
            1 if w == "double" else 2 for w in words if w in _REPEATS
        )
        if digits >= MIN_SPOKEN_DIGITS and any(w not in {"o", "one"} for w in words):
            found.append((m.start(), m.end()))
    return found


def dates(text: str) -> list[tuple[int, int, bool]]:
    """Dates with the day said as a word ("the third of july"), or the year in words: with
    whether a year is given (a day and month alone may be an appointment, not a birthday)."""
    return [(m.start(), m.end(), bool(m.group("year"))) for p in _SPELLED_DATES for m in p.finditer(text)]


def spaced(text: str) -> list[tuple[int, int, str]]:
    """Letter-by-letter runs that hide an email ("@") or a number (six or more digits): with its kind."""
    found = []
    for m in _SPACED.finditer(text):
        joined = re.sub(r"\s", "", m.group())
        if "@" in joined:
            found.append((m.start(), m.end(), "email"))
        elif sum(c.isdigit() for c in joined) >= 6:
            found.append((m.start(), m.end(), "number"))
    return found
