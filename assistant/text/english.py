"""How often English uses a word: what tells a real word from a typo, slang or a name.

wordfreq's Zipf scale: 3 is once per million words ("pregnant" 4.3, "dentist" 3.6,
"recieve" 2.6, "kwame" 2.7). Its word list loads on the first lookup, not at import.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=4096)
def zipf(word: str) -> float:
    """The word's frequency in English on the Zipf scale (0: English does not know it)."""
    from wordfreq import zipf_frequency

    return float(zipf_frequency(word, "en"))


PLACES = Path(__file__).parent / "data" / "places.txt"


@lru_cache(maxsize=1)
def places() -> frozenset[str]:
    """Places in the UK and Ireland, countries and big cities (``data/places.txt``), lower case."""
    try:
        lines = PLACES.read_text(encoding="utf-8").splitlines()
    except OSError:
        return frozenset()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))
