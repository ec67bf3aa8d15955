"""A large word list kept compactly: one sorted UTF-8 blob and its offsets, looked up by bisection.

Redaction reads two large lists: wordfreq's English frequencies (321,000 words) and the census
surnames (88,000). As a dict or a frozenset of Python strings they took ~39 MB and ~8 MB in
every process that redacts (each server worker); here each word is its UTF-8 bytes in one blob
and 4 bytes of offset plus 2 of value, ~5 MB for both. A look-up bisects the sorted words
(~19 comparisons, a few microseconds); redaction's callers cache their answers anyway.
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Iterable
from itertools import accumulate


class SortedWords:
    """A read-only set of words (``in``), each with a small number (``get``: 0-65535).

    Built from ``(word, number)`` pairs; a word given twice keeps the number given last, as a dict
    built from the pairs would. Words compare by their UTF-8 bytes, so any string can be looked up.
    """

    def __init__(self, pairs: Iterable[tuple[str, int]]) -> None:
        numbered = {_key(word): number for word, number in pairs}
        keys = sorted(numbered)
        self._blob = b"".join(keys)
        self._ends = array("I", accumulate(len(k) for k in keys))
        self._numbers = array("H", (numbered[k] for k in keys))

    def __len__(self) -> int:
        return len(self._ends)

    def __getitem__(self, i: int) -> bytes:
        """The ``i``-th word's bytes in sorted order (what ``bisect`` reads)."""
        start = self._ends[i - 1] if i else 0
        return self._blob[start : self._ends[i]]

    def _find(self, word: str) -> int | None:
        key = _key(word)
        i = bisect.bisect_left(self, key)
        return i if i < len(self) and self[i] == key else None

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and self._find(word) is not None

    def get(self, word: str) -> int | None:
        """The number kept with ``word``, or None if it is not in the list."""
        i = self._find(word)
        return None if i is None else self._numbers[i]

    @property
    def nbytes(self) -> int:
        """The memory the list's data takes (blob, offsets, numbers)."""
        return len(self._blob) + self._ends.itemsize * len(self._ends) + self._numbers.itemsize * len(self._numbers)


def _key(word: str) -> bytes:
    return word.encode("utf-8", "surrogatepass")
