"""What answering reads besides the question: the loaded build and look-ups derived from it once."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

from assistant.answer import evidence, listing
from assistant.answer import gates as specifics
from assistant.answer.change import ChangeModel, change_model
from assistant.answer.conversation import ConversationModel, conversation_model
from assistant.answer.risk import BANK_FILE, DISTRESS_FILE, RiskModel, load_bank, load_distress_bank, risk_model
from assistant.answer.statement import Statement
from assistant.config import Settings
from assistant.index import StoredIndex
from assistant.retrieve.search import Retriever
from assistant.rules import Rules
from assistant.text.glossary import Glossary
from assistant.text.tokens import Tokens
from assistant.types import Passage

# Statement vectors a build keeps once embedded while answering (384 floats each: 6 MB at most).
STATEMENT_VECTORS = 4096


@dataclass
class AnswerContext:
    """One build as answering sees it. Made once per loaded index (``Assistant`` does)."""

    settings: Settings
    retriever: Retriever
    glossary: Glossary
    unit_pos: dict[tuple[int, int], list[int]] = field(init=False, repr=False)
    vocabulary: frozenset[str] = field(init=False, repr=False)
    # The documents' words, weighted by how telling they are ("care" says little here, "forum"
    # a lot): what judging whether evidence is on the question's topic needs.
    lexicon: specifics.Lexicon = field(init=False, repr=False)
    headings: listing.Headings = field(init=False, repr=False)
    superseded: frozenset[str] = field(init=False, repr=False)
    tokens: Tokens = field(init=False, repr=False)
    # The semantic layer of safeguarding: the exemplar bank's vectors (answer/risk.py).
    risk_model: RiskModel = field(init=False, repr=False)
    # Small talk against real questions, by meaning (answer/conversation.py).
    talk_model: ConversationModel = field(init=False, repr=False)
    # Does a message compare the documents ("has the EET target gone up since the last strategy"),
    # by meaning (answer/change.py). None where no document replaced another: nothing to compare.
    change_model: ChangeModel | None = field(init=False, repr=False)
    _statement_vectors: dict[str, np.ndarray] = field(init=False, repr=False, default_factory=dict)
    _statement_lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        index = self.index
        self.tokens = Tokens.for_council(self.settings.council_name)
        terms = self.tokens.terms
        owners = index.unit_owners.reshape(-1, 2)
        self.unit_pos = {}
        for i, (c, u) in enumerate(owners):
            self.unit_pos.setdefault((int(c), int(u)), []).append(i)
        self.vocabulary = self.rules.domain_words | self.tokens.place_words
        self.lexicon = specifics.Lexicon(
            index.texts,
            terms,
            specifics.term_weights([index.texts[c.document_id][c.start : c.end] for c in index.chunks], terms),
            self.glossary.expansions,
            {doc_id: meta.published for doc_id, meta in index.documents.items()},
            self.rules,
            {c.id: c.section for c in index.chunks},
        )
        self.headings = listing.find_headings(index.chunks, index.texts)
        self.superseded = frozenset(m.id for m in index.documents.values() if m.status == "superseded")
        corpus = self.settings.corpus_path
        bank = load_bank(corpus if (corpus / BANK_FILE).is_file() else None)
        distress = load_distress_bank(corpus if (corpus / DISTRESS_FILE).is_file() else None)
        self.risk_model = risk_model(bank, self.retriever.embedder, self.settings.cache_path, distress)
        self.talk_model = conversation_model(self.retriever.embedder, self.settings.cache_path,
                                             self.settings.corpus_path)
        self.change_model = change_model(self.retriever.embedder, self.settings.cache_path,
                                         self.settings.corpus_path) if self.superseded else None

    @property
    def rules(self) -> Rules:
        return self.retriever.rules

    @property
    def index(self) -> StoredIndex:
        return self.retriever.index

    @property
    def chunk_pos(self) -> dict[str, int]:
        return self.retriever.chunk_pos

    def statements(self, passages: list[Passage], qvec: np.ndarray, question_terms: set[str]) -> list[Statement]:
        """The passages' sentences, lists and rows, scored against the question (see evidence.py)."""
        return evidence.statements(self.index, self.chunk_pos, self.unit_pos, passages, qvec, question_terms,
                                   self.headings)

    def statement_vector(self, text: str) -> np.ndarray:
        """The vector of a statement the build never embedded whole (a table row, a list), embedded
        at its first use and kept for the build's life (at most ``STATEMENT_VECTORS`` of them): the
        same rows are set side by side again and again ("what changed")."""
        found = self._statement_vectors.get(text)
        if found is None:
            found = np.asarray(self.retriever.embedder.embed_query(text), dtype=np.float32)
            with self._statement_lock:
                if len(self._statement_vectors) >= STATEMENT_VECTORS:
                    self._statement_vectors.pop(next(iter(self._statement_vectors)))  # the oldest
                self._statement_vectors[text] = found
        return found

    def chunk_text(self, chunk_id: str) -> str:
        """A chunk's full text, or "" for an id this build does not have."""
        pos = self.chunk_pos.get(chunk_id)
        if pos is None:
            return ""
        chunk = self.index.chunks[pos]
        return self.index.texts[chunk.document_id][chunk.start : chunk.end]
