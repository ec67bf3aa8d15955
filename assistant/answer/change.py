"""Does a message ask how the documents changed? Read by meaning, against a bank kept as data.

"Has the EET target gone up since the last strategy", "what did each strategy aim for on
health assessments", "old strat vs new strat" ask for the replaced document's statement beside
the current one's. "How do I change my name by deed poll", "is it different if I'm at uni full
time", "ok different thing" use the same words and ask something else. A list of words of change
cannot tell them apart; their meaning can. A message is compared, by the bundled embedding model,
with an exemplar bank (``rules/data/change_exemplars.toml``, written by a helper from the
documents): messages that compare the two strategies (``compare.*``) and messages with words of
change, time or difference that do not, or that ask about one document (``other.*``). It is
scored by a kernel ridge model fitted on the bank (``rules.exemplars.KernelRidge``, as
safeguarding is); from ``CHANGE`` the message asks what changed.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from assistant.answer.risk import fitted_kernel
from assistant.embed import Embedder
from assistant.rules.exemplars import Bank, KernelRidge, read_bank

BANK_FILE = "change_exemplars.toml"
# Chosen on the bank alone, five-fold (``python -m eval.change --calibrate``): with 215 comparing
# and 218 other messages, 94.4% of the comparing ones score at or above 0 and 8.3% of the others.
# On the held-out set (eval/change/test_set.toml, 60 + 90) the model alone found 52 of 60
# comparisons and took 6 other messages for one; as answering uses it, with a word of change
# (answer/plan.py ``what_changed``), 35 and 1, where the words of change alone had 35 and 22.
CHANGE = 0.0


@lru_cache(maxsize=4)
def load_bank(extra: Path | None = None) -> Bank:
    """The shipped bank, plus a council's own ``change_exemplars.toml`` if it has one."""
    return read_bank(BANK_FILE, ("compare", "other"), extra)


class ChangeModel:
    """The change bank's kernel model: comparing the documents (+1) against everything else (-1)."""

    def __init__(self, bank: Bank, kernel: KernelRidge, *, threshold: float = CHANGE) -> None:
        self.bank = bank
        self.kernel = kernel
        self.threshold = threshold

    def asks(self, vector: np.ndarray) -> tuple[bool, float]:
        """(does the message ask what changed, its score)."""
        score = self.kernel.score(vector)
        return score >= self.threshold, score


def change_model(embedder: Embedder, cache_dir: Path | None, council_folder: Path | None) -> ChangeModel:
    """The bank's model, its vectors and weights from the cache when this model and bank were
    embedded and fitted before."""
    extra = council_folder if council_folder is not None and (council_folder / BANK_FILE).is_file() else None
    bank = load_bank(extra)
    return ChangeModel(bank, fitted_kernel(bank, embedder, cache_dir, prefix="change"))
