"""How often English uses a word: what tells a real word from a typo, slang or a name.

wordfreq's Zipf scale: 3 is once per million words ("pregnant" 4.6, "dentist" 3.9,
"recieve" 2.8, "kwame" 2.7). Its word list loads on the first lookup, not at import, and is kept
compactly (``wordlist.SortedWords``); redaction reads the same one.
"""

from __future__ import annotations

import gc
import re
from functools import cache, lru_cache
from pathlib import Path

from assistant.text.tokens import STOP_WORDS
from assistant.text.wordlist import SortedWords

# The word caches hold at most this many words each (a long-running server reads every message).
WORD_CACHE = 8192


@cache
def english_words() -> SortedWords:
    """wordfreq's English list (its "best", the large one), each word with its bucket: a word in
    bucket ``i`` has the frequency ``10 ** (-i / 100)``. Kept compactly: wordfreq's own dict of
    321,000 words took ~39 MB in every process that redacts."""
    from wordfreq import available_languages, read_cBpack

    buckets = read_cBpack(available_languages("best")["en"])
    english = SortedWords((word, i) for i, bucket in enumerate(buckets) for word in bucket)
    del buckets
    gc.collect()  # the parse's leftovers: the process keeps ~12 MB more without (measured)
    return english


@lru_cache(maxsize=WORD_CACHE)
def zipf(word: str) -> float:
    """``wordfreq.zipf_frequency(word, "en")``, computed as wordfreq computes it (tokens, digits,
    rounding) from ``english_words()`` instead of wordfreq's dict (``tests/test_redact.py`` compares)."""
    import math

    from wordfreq import cB_to_freq, freq_to_zipf, zipf_to_freq
    from wordfreq.numbers import digit_freq, smash_numbers
    from wordfreq.tokens import lossy_tokenize

    minimum = zipf_to_freq(0.0)
    tokens = lossy_tokenize(word, "en")
    if not tokens:
        return round(freq_to_zipf(minimum), 2)
    english = english_words()
    one_over_result = 0.0
    for token in tokens:
        smashed = smash_numbers(token)
        bucket = english.get(smashed)
        if bucket is None:
            return round(freq_to_zipf(minimum), 2)
        freq = cB_to_freq(-bucket)
        if smashed != token:
            freq *= digit_freq(token)
        one_over_result += 1.0 / freq
    unrounded = max(1.0 / one_over_result, minimum)
    freq = round(unrounded, math.floor(-math.log(unrounded, 10)) + 3)
    return round(freq_to_zipf(freq), 2)


PLACES = Path(__file__).parent / "data" / "places.txt"


def read_list(path: Path) -> list[str]:
    """A word list of the package's data: one entry a line, ``#`` comments; none if it cannot be read."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def read_places(path: Path = PLACES) -> list[str]:
    """A gazetteer file (``data/places.txt``: places in the UK and Ireland, countries, big cities),
    one lower-case place a line; none if it cannot be read."""
    return read_list(path)


@lru_cache(maxsize=1)
def places() -> frozenset[str]:
    """The shipped gazetteer's places, lower case."""
    return frozenset(read_places())


# A message is not in English when its words are, on average, this rare in English (Zipf scale):
# English leans on very common words ("my" 6.6, "at" 6.7, "can" 6.5), so even text-speak averages
# over 4 ("wen cn i get ma bursry pls" 4.1), where Portuguese averages 2.4 ("estou" 1.5, "medo"
# 1.8), French 3.3 and Tigrinya in Latin letters 1.2.
FOREIGN_MEAN_ZIPF = 3.5
FOREIGN_MIN_WORDS = 3
# A message this much made of English stop words and chat words is English without a look-up.
PLAINLY_ENGLISH = 0.3
_ACRONYM = re.compile(r"[A-Z][A-Za-z]*[A-Z]")
_LATIN = re.compile(r"[a-z\u00c0-\u024f]")


def not_english(text: str, known: frozenset[str] = frozenset()) -> bool:
    """Is the message in another language or script?

    ``known``: words that count as English whatever wordfreq thinks of them (chat words). What
    the bundled model cannot read, it cannot judge for danger either.
    """
    # Acronyms ("EET", "UASC") are read as the documents use them.
    words = [w.lower() for w in re.findall(r"[^\W_]+", text)
             if not w.isdigit() and not _ACRONYM.fullmatch(w)]
    letters = [w for w in words if not w.isascii()]
    if words and sum(1 for w in letters if not _LATIN.search(w)) / len(words) >= 0.5:
        return True  # another script: Amharic, Arabic, Cyrillic...
    if len(words) < FOREIGN_MIN_WORDS:
        return False
    if sum(1 for w in words if w in STOP_WORDS or w in known) / len(words) >= PLAINLY_ENGLISH:
        return False  # English's little words ("how", "is", "the", "my"): no need to load the word list
    words = [w for w in words if len(w) > 1]
    if len(words) < FOREIGN_MIN_WORDS:
        return False
    mean = sum(5.0 if w in known else min(zipf(w), 6.0) for w in words) / len(words)
    return mean < FOREIGN_MEAN_ZIPF
