"""``Assistant``: wires settings, index, retrieval, safety and answering together."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import evidence, listing, retrieval, safety, specifics
from .config import Settings, load_settings
from .errors import InputError
from .glossary import Glossary, load_glossary
from .index import (
    BuildReport,
    Progress,
    StoredIndex,
    build_index,
    is_current,
    open_index,
)
from .schema import Passage, Reply
from .statement import Statement, terms


@dataclass
class Assistant:
    """The assistant over one council's documents. Build with ``Assistant.load()``."""

    settings: Settings
    embedder: Any
    index: StoredIndex
    glossary: Glossary
    load_seconds: float = 0.0
    # Look-ups derived from the index (see __post_init__), so an Assistant made from
    # the parts of another (other settings, same index) is complete.
    _chunk_pos: dict[str, int] = field(init=False, repr=False)
    unit_pos: dict[tuple[int, int], list[int]] = field(init=False, repr=False)
    vocabulary: frozenset[str] = field(init=False, repr=False)
    # The documents' words, weighted by how telling they are ("care" says little here, "forum"
    # a lot): what judging whether evidence is on the question's topic needs.
    lexicon: specifics.Lexicon = field(init=False, repr=False)
    headings: listing.Headings = field(init=False, repr=False)
    _numbered: dict[int, list[str]] = field(init=False, repr=False)  # item number -> chunks with that item
    _unit_rows: dict[int, np.ndarray] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        index = self.index
        self._chunk_pos = {c.id: i for i, c in enumerate(index.chunks)}
        owners = index.unit_owners.reshape(-1, 2)
        self.unit_pos = {}
        for i, (c, u) in enumerate(owners):
            self.unit_pos.setdefault((int(c), int(u)), []).append(i)
        self._unit_rows = {int(ci): np.flatnonzero(owners[:, 0] == ci) for ci in np.unique(owners[:, 0])}
        self.vocabulary = safety.DOMAIN_WORDS
        self.lexicon = specifics.Lexicon(
            index.texts,
            terms,
            specifics.term_weights([index.texts[c.document_id][c.start : c.end] for c in index.chunks], terms),
            self.glossary.expansions,
            {doc_id: meta.published for doc_id, meta in index.documents.items()},
        )
        self.headings = listing.find_headings(index.chunks, index.texts)
        self._numbered = {}
        for chunk in index.chunks:
            text = index.texts[chunk.document_id]
            for number in {retrieval.item_number(text[s:e]) for s, e in chunk.units} - {None}:
                self._numbered.setdefault(number, []).append(chunk.id)

    @classmethod
    def load(
        cls,
        settings: Settings | None = None,
        *,
        embedder: Any = None,
        progress: Progress | None = None,
        rebuild: bool = False,
        skip_bad: bool = False,
    ) -> Assistant:
        """Open the index (local folder or Chroma server), building it first if missing or stale."""
        started = time.perf_counter()
        settings = settings or load_settings()
        if embedder is None:
            from .embeddings import LocalEmbeddings

            embedder = LocalEmbeddings(settings.embedding_model)
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
        embedder: Any = None,
        skip_bad: bool = False,
        progress: Progress | None = None,
    ) -> BuildReport:
        """Build a fresh index (folder or Chroma server) and switch to it atomically."""
        settings = settings or load_settings()
        if embedder is None:
            from .embeddings import LocalEmbeddings

            embedder = LocalEmbeddings(settings.embedding_model)
        kwargs = {"progress": progress} if progress else {}
        return build_index(settings, embedder, skip_bad=skip_bad, **kwargs)

    # -- retrieval -----------------------------------------------------------------

    def search(self, query: str, k: int | None = None, *, prefer: str | None = None,
               documents: set[str] | None = None) -> list[Passage]:
        """Hybrid search: dense (Chroma) + BM25, fused by RRF, current documents preferred.

        ``prefer`` forces "past" or "current" preference; ``documents`` restricts results.
        """
        query = query.strip()
        if not query:
            raise InputError("The search query is empty. Type some words to search for.")
        k = k or self.settings.retrieval_k
        s = self.settings
        dense_q, lexical_q = retrieval.expand_query(query, self.glossary)
        qvec = np.asarray(self.embedder.embed_query(dense_q), dtype=np.float32)
        n = min(s.candidates, len(self.index.chunks))
        where = {"document_id": {"$in": sorted(documents)}} if documents else None
        res = self.index.store._collection.query(
            query_embeddings=[qvec.tolist()], n_results=min(n * 4, self.index.entries), where=where,
            include=["metadatas"],
        )
        # Chunk and sentence vectors both point at chunks: keep each chunk's best rank.
        dense_ids = list(dict.fromkeys(m["chunk_id"] for m in res["metadatas"][0]))[:n]
        lexical_hits = self.index.bm25.rank(lexical_q, n * 2 if documents else n)
        lexical_ids = [self.index.chunks[i].id for i, _ in lexical_hits]
        if documents:
            lexical_ids = [c for c in lexical_ids if c.split(":")[0] in documents][:n]
        rankings = [(dense_ids, s.dense_weight), (lexical_ids, s.bm25_weight)]
        numbered = [c for n in sorted(retrieval.numbered_refs(query)) for c in self._numbered.get(n, [])
                    if not documents or c.split(":")[0] in documents]
        if numbered:  # "ambition 24": the items numbered 24, whatever the words around them
            rankings.append((numbered, s.bm25_weight))
        fused = retrieval.rrf(rankings, s.rrf_k)
        prefer = prefer or retrieval.time_preference(query)
        status_of = {cid: self.index.documents[cid.split(":")[0]].status for cid in fused}
        if prefer != "none":
            fused = retrieval.prefer_status(fused, status_of, past=prefer == "past", penalty=s.superseded_penalty)
        ranked = retrieval.top(fused, k)
        sims = [self._best_similarity(c, qvec) for c in ranked]
        return [self._passage(cid, fused[cid], float(sim)) for cid, sim in zip(ranked, sims, strict=True)]

    def _best_similarity(self, chunk_id: str, qvec: np.ndarray) -> float:
        """Cosine similarity of the question to a chunk: its own vector or its best sentence."""
        ci = self._chunk_pos[chunk_id]
        best = float(self.index.chunk_vectors[ci] @ qvec)
        rows = self._unit_rows.get(ci)
        if rows is not None and len(rows):
            best = max(best, float(np.max(self.index.unit_vectors[rows] @ qvec)))
        return best

    def _passage(self, chunk_id: str, score: float, similarity: float) -> Passage:
        chunk = self.index.chunks[self._chunk_pos[chunk_id]]
        meta = self.index.documents[chunk.document_id]
        return Passage(
            text=self.index.texts[chunk.document_id][chunk.start : chunk.end],
            score=round(score, 6),
            document_id=chunk.document_id,
            document_title=meta.title,
            status=meta.status,
            section=chunk.section,
            page=chunk.page,
            start=chunk.start,
            end=chunk.end,
            source_url=meta.source_url,
            chunk_id=chunk_id,
            similarity=round(similarity, 4),
        )

    def statements(self, passages: list[Passage], qvec: np.ndarray, question_terms: set[str]) -> list[Statement]:
        """The passages' sentences, lists and rows, scored against the question (see evidence.py)."""
        return evidence.statements(self.index, self._chunk_pos, self.unit_pos, passages, qvec, question_terms,
                                   self.headings)

    def documents(self) -> list[dict[str, Any]]:
        """What is indexed: id, title, status and chunk count per document."""
        counts: dict[str, int] = {}
        for chunk in self.index.chunks:
            counts[chunk.document_id] = counts.get(chunk.document_id, 0) + 1
        return [
            {"id": m.id, "title": m.title, "status": m.status, "kind": m.kind, "chunks": counts.get(m.id, 0)}
            for m in self.index.documents.values()
        ]

    # -- answering (see conversation.py, evidence.py and answering.py) ---------------------

    def ask(self, question: str, history: list[dict[str, str]] | None = None, audience: str = "care_leaver") -> Reply:
        from .conversation import answer_turn

        return answer_turn(self, question, history or [], audience)

    def ask_stream(
        self, question: str, history: list[dict[str, str]] | None = None, audience: str = "care_leaver"
    ) -> Iterator[str | Reply]:
        from .conversation import stream_turn

        yield from stream_turn(self, question, history or [], audience)


