"""Pure: remove personal data from free text before it is stored or logged.

Emails, UK phone numbers, National Insurance numbers, postcodes, and names
after "my name is" / "I'm called" are replaced by labels such as ``[email]``.
"""

from __future__ import annotations

import re

_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"), "[email]"),
    (re.compile(r"\b[A-Z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D]\b", re.IGNORECASE), "[NI number]"),
    (re.compile(r"(?:\+44\s?|\b0)(?:\d[\s-]?){9,10}\b"), "[phone]"),
    (re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}\b", re.IGNORECASE), "[postcode]"),
    (
        re.compile(
            r"\b(my name is|my name's|i am called|i'm called|im called|call me|this is)\s+"
            r"([A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)?)",
            re.IGNORECASE,
        ),
        r"\1 [name]",
    ),
]


def redact(text: str) -> str:
    """Return ``text`` with personal data replaced by labels."""
    for pattern, label in _RULES:
        text = pattern.sub(label, text)
    return text
