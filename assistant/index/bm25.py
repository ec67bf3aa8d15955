"""BM25 over the chunks (bm25s), with English stemming and stop words.

bm25s is imported on first use: it brings SciPy, which costs a quarter of a second at start-up
for commands that never search (``assistant --help``, ``ingest`` of an index already current).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from assistant.text.tokens import STEMMER as _STEMMER  # the one stemmer


def tokenize(texts: list[str]) -> Any:
    import bm25s

    return bm25s.tokenize(texts, stopwords="en", stemmer=_STEMMER, show_progress=False)


class Lexical:
    """A BM25 index that ranks chunk positions for a query."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def save(self, path: Path) -> None:
        self.model.save(str(path))

    def rank(self, query: str, n: int) -> list[tuple[int, float]]:
        import bm25s

        tokens = bm25s.tokenize([query], stopwords="en", stemmer=_STEMMER, show_progress=False, return_ids=False)
        vocab = self.model.vocab_dict
        ids = [[vocab[t] for t in tokens[0] if t in vocab]]
        if not ids[0]:
            return []
        n = min(n, self.model.scores["num_docs"])
        # n_threads=0: in this thread (1 started a thread pool for every query, ~0.35 ms).
        docs, scores = self.model.retrieve(ids, k=n, show_progress=False, n_threads=0)
        return [(int(d), float(s)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]


def build(texts: list[str]) -> Lexical:
    import bm25s

    model = bm25s.BM25()
    model.index(tokenize(texts), show_progress=False)
    return Lexical(model)


def load(path: Path) -> Lexical:
    import bm25s

    return Lexical(bm25s.BM25.load(str(path)))
