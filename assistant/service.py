"""``Assistant``: the facade that wires settings, index, retrieval, planning and a writer together.

A turn is ``plan_turn`` (the named steps in ``answer/plan.py``) and then the writer
(``writers/``): ``ask`` writes the plan whole, ``ask_stream`` streams the same plan, and
``explain`` writes it whole and says why (``explain.py``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from assistant.answer.context import AnswerContext
from assistant.answer.guard import assess
from assistant.answer.plan import Plan, plan_turn
from assistant.answer.risk import Risk
from assistant.config import Settings, load_settings
from assistant.embed import Embedder, make_embedder
from assistant.explain import Explanation
from assistant.index import (
    BuildReport,
    Progress,
    StoredIndex,
    build_index,
    is_current,
    open_index,
)
from assistant.retrieve.search import QueryVectors, Retriever
from assistant.rules import Rules, load_rules
from assistant.text.glossary import Glossary, load_glossary
from assistant.types import Chunk, Passage, Reply
from assistant.writers import Writer, make_writer, write_checked


@dataclass
class Assistant:
    """The assistant over one council's documents. Build with ``Assistant.load()``.

    ``writer`` defaults to the one ``settings.llm_backend`` names (``writers.WRITERS``).
    """

    settings: Settings
    embedder: Embedder
    index: StoredIndex
    glossary: Glossary
    writer: Writer | None = None
    rules: Rules | None = None  # default: the shipped rules, extended by the corpus folder's rules.toml
    load_seconds: float = 0.0
    retriever: Retriever = field(init=False, repr=False)
    context: AnswerContext = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.rules is None:
            self.rules = load_rules(self.settings.corpus_path)
        self.retriever = Retriever(self.settings, self.embedder, self.index, self.glossary, self.rules)
        self.context = AnswerContext(self.settings, self.retriever, self.glossary)
        if self.writer is None:
            self.writer = make_writer(self.settings)

    @classmethod
    def load(
        cls,
        settings: Settings | None = None,
        *,
        embedder: Embedder | None = None,
        progress: Progress | None = None,
        rebuild: bool = False,
        skip_bad: bool = False,
    ) -> Assistant:
        """Open the index (local folder or Chroma server), building it first if missing or stale."""
        started = time.perf_counter()
        settings = settings or load_settings()
        if embedder is None:
            embedder = make_embedder(settings)
        built: str | None = None  # the build made here, loaded even if another is switched in since
        if rebuild or not is_current(settings):
            kwargs = {"progress": progress} if progress else {}
            built = build_index(settings, embedder, skip_bad=skip_bad, **kwargs).name
        index = open_index(settings, embedder, built)
        bot = cls(settings, embedder, index, load_glossary(settings.corpus_path))
        bot.load_seconds = time.perf_counter() - started
        return bot

    @staticmethod
    def ingest(
        settings: Settings | None = None,
        *,
        embedder: Embedder | None = None,
        skip_bad: bool = False,
        progress: Progress | None = None,
    ) -> BuildReport:
        """Build a fresh index (folder or Chroma server) and switch to it atomically."""
        settings = settings or load_settings()
        if embedder is None:
            embedder = make_embedder(settings)
        kwargs = {"progress": progress} if progress else {}
        return build_index(settings, embedder, skip_bad=skip_bad, **kwargs)

    # -- retrieval -----------------------------------------------------------------

    def search(self, query: str, k: int | None = None, *, prefer: str | None = None,
               documents: set[str] | None = None) -> list[Passage]:
        """Hybrid search: dense (Chroma) + BM25, fused by RRF, current documents preferred.

        ``prefer`` forces "past" or "current" preference; ``documents`` restricts results.
        """
        return self.retriever.search(query, k, prefer=prefer, documents=documents)

    def chunk(self, chunk_id: str) -> Chunk:
        """The indexed chunk a passage or citation names (KeyError for an unknown id)."""
        return self.index.chunks[self.retriever.chunk_pos[chunk_id]]

    def documents(self) -> list[dict[str, Any]]:
        """What is indexed: id, title, status and chunk count per document."""
        return self.retriever.documents()

    # -- answering -------------------------------------------------------------------

    def plan(self, question: str, history: list[dict[str, str]] | None = None,
             audience: str = "care_leaver") -> Plan:
        """How this message would be answered, decided, with no text written (see answer/plan.py)."""
        return plan_turn(self.context, question, history or [], audience)

    def risk(self, message: str) -> Risk:
        """How much a message reads like a crisis (clear cues, then meaning): no search, no index."""
        ctx = self.context
        return assess(message, ctx.rules, ctx.risk_model, QueryVectors(self.embedder))

    def ask(self, question: str, history: list[dict[str, str]] | None = None, audience: str = "care_leaver") -> Reply:
        """Answer one message."""
        assert self.writer is not None
        return self.writer.write(self.plan(question, history, audience), self.context)

    def explain(
        self, question: str, history: list[dict[str, str]] | None = None, audience: str = "care_leaver"
    ) -> tuple[Reply, Explanation]:
        """Answer one message as ``ask`` does, and explain why: for staff (see explain.py).

        The Reply is the one ``ask`` gives. Explaining adds one search of the standalone question
        with every candidate's scores (``Retriever.explain_ranking``), which ``ask`` never runs.
        """
        assert self.writer is not None
        plan = self.plan(question, history, audience)
        reply, verdict = write_checked(self.writer, plan, self.context)
        searched = any(step == "retrieve" for step, _ in plan.steps)
        ranking = self.retriever.explain_ranking(plan.standalone) if searched else None
        return reply, Explanation.build(plan, reply, ranking, verdict, self.context)

    def ask_stream(
        self, question: str, history: list[dict[str, str]] | None = None, audience: str = "care_leaver"
    ) -> Iterator[str | Reply]:
        """Answer one message in pieces of text, then the final Reply."""
        assert self.writer is not None
        plan = self.plan(question, history, audience)
        yield from self.writer.stream(plan, self.context)
