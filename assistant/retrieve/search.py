"""Hybrid search over a loaded build: dense (Chroma) + BM25, fused by RRF, current documents first."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from assistant.config import Settings
from assistant.embed import Embedder
from assistant.errors import InputError
from assistant.index import StoredIndex
from assistant.retrieve import fusion as retrieval
from assistant.rules import Rules, default_rules
from assistant.text.glossary import Glossary
from assistant.types import Passage


class QueryVectors:
    """The vectors of one turn's query texts: each distinct text is embedded once.

    Search embeds the dense query (acronyms spelled out) and answering scores sentences
    against the standalone question; when the two texts are the same, one embedding serves both.
    """

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder
        self._vectors: dict[str, np.ndarray] = {}

    def __call__(self, text: str) -> np.ndarray:
        vector = self._vectors.get(text)
        if vector is None:
            vector = np.asarray(self._embedder.embed_query(text), dtype=np.float32)
            self._vectors[text] = vector
        return vector

    @property
    def embedded(self) -> int:
        """How many texts were embedded (a measure of the work one turn did)."""
        return len(self._vectors)


@dataclass(frozen=True)
class Candidate:
    """One passage search considered, with how each ranking placed it.

    ``dense_rank`` and ``bm25_rank`` are its place (from 1) in the dense and BM25 lists (None: not
    in that list); ``fused`` is its reciprocal-rank-fusion score, ``score`` the same after current
    documents are preferred (what passages are ordered by), ``rank`` its place in that order.
    ``dense_cosine`` is filled in only by ``Retriever.explain_ranking``.
    """

    chunk_id: str
    rank: int
    dense_rank: int | None
    bm25_rank: int | None
    bm25_score: float | None
    numbered: bool  # found as the numbered item the query names ("ambition 24")
    fused: float
    score: float
    status: str
    dense_cosine: float | None = None


@dataclass(frozen=True)
class Ranking:
    """Every candidate for one query, best first, and the query texts each ranking read."""

    query: str
    dense_query: str  # acronyms spelled out
    lexical_query: str  # with the glossary's everyday-word synonyms
    prefer: str  # "current", "past" or "none"
    vector: np.ndarray = field(compare=False)
    candidates: tuple[Candidate, ...] = ()
    scores: dict[str, float] = field(default_factory=dict, compare=False, repr=False)


@dataclass
class Retriever:
    """Search one loaded build. Look-ups derived from the index are made once, at construction."""

    settings: Settings
    embedder: Embedder
    index: StoredIndex
    glossary: Glossary
    rules: Rules = field(default_factory=default_rules)
    chunk_pos: dict[str, int] = field(init=False, repr=False)
    unit_rows: dict[int, np.ndarray] = field(init=False, repr=False)
    numbered: dict[int, list[str]] = field(init=False, repr=False)  # item number -> chunks with it
    periods: retrieval.Periods = field(init=False, repr=False)  # which years name past and present

    def __post_init__(self) -> None:
        index = self.index
        self.chunk_pos = {c.id: i for i, c in enumerate(index.chunks)}
        owners = index.unit_owners.reshape(-1, 2)
        self.unit_rows = {int(ci): np.flatnonzero(owners[:, 0] == ci) for ci in np.unique(owners[:, 0])}
        self.periods = retrieval.Periods.from_documents(index.documents.values())
        self.numbered = {}
        for chunk in index.chunks:
            text = index.texts[chunk.document_id]
            for number in {retrieval.item_number(text[s:e]) for s, e in chunk.units} - {None}:
                self.numbered.setdefault(number, []).append(chunk.id)

    def search(
        self,
        query: str,
        k: int | None = None,
        *,
        prefer: str | None = None,
        documents: set[str] | None = None,
        vectors: QueryVectors | None = None,
    ) -> list[Passage]:
        """The ``k`` best passages for ``query``.

        ``prefer`` forces "past" or "current" preference; ``documents`` restricts results;
        ``vectors`` shares the turn's query embeddings.
        """
        ranking = self.rank(query, prefer=prefer, documents=documents, vectors=vectors)
        ranked = [c.chunk_id for c in ranking.candidates[: k or self.settings.retrieval_k]]
        sims = [self.best_similarity(c, ranking.vector) for c in ranked]
        return [self.passage(cid, ranking.scores[cid], float(sim)) for cid, sim in zip(ranked, sims, strict=True)]

    def rank(
        self,
        query: str,
        *,
        prefer: str | None = None,
        documents: set[str] | None = None,
        vectors: QueryVectors | None = None,
    ) -> Ranking:
        """Every candidate for ``query``, best first, with its dense and BM25 ranks and fused scores.

        ``search`` keeps the first ``k``. The dense cosines are not computed here (answering
        needs them only for the passages kept): ``explain_ranking`` adds them.
        """
        query = query.strip()
        if not query:
            raise InputError("The search query is empty. Type some words to search for.")
        s = self.settings
        vectors = vectors or QueryVectors(self.embedder)
        dense_q, lexical_q = retrieval.expand_query(query, self.glossary)
        qvec = vectors(dense_q)
        n = min(s.candidates, len(self.index.chunks))
        where = {"document_id": {"$in": sorted(documents)}} if documents else None
        nearest = self.index.nearest(qvec.tolist(), min(n * 4, self.index.entries), where)
        # Chunk and sentence vectors both point at chunks: keep each chunk's best rank.
        dense_ids = list(dict.fromkeys(nearest))[:n]
        lexical_hits = self.index.bm25.rank(lexical_q, n * 2 if documents else n)
        lexical = [(self.index.chunks[i].id, score) for i, score in lexical_hits]
        if documents:
            lexical = [(c, score) for c, score in lexical if c.split(":")[0] in documents][:n]
        lexical_ids = [c for c, _ in lexical]
        rankings = [(dense_ids, s.dense_weight), (lexical_ids, s.bm25_weight)]
        numbered = [c for n in sorted(retrieval.numbered_refs(query)) for c in self.numbered.get(n, [])
                    if not documents or c.split(":")[0] in documents]
        if numbered:  # "ambition 24": the items numbered 24, whatever the words around them
            rankings.append((numbered, s.bm25_weight))
        fused = retrieval.rrf(rankings, s.rrf_k)
        prefer = prefer or retrieval.time_preference(query, self.periods, self.rules)
        status_of = {cid: self.index.documents[cid.split(":")[0]].status for cid in fused}
        scores = fused
        if prefer != "none":
            scores = retrieval.prefer_status(fused, status_of, past=prefer == "past", penalty=s.superseded_penalty)
        dense_rank = {cid: rank for rank, cid in enumerate(dense_ids, 1)}
        bm25 = {cid: (rank, score) for rank, (cid, score) in enumerate(lexical, 1)}
        numbered_ids = set(numbered)
        candidates = tuple(
            Candidate(
                chunk_id=cid,
                rank=rank,
                dense_rank=dense_rank.get(cid),
                bm25_rank=bm25[cid][0] if cid in bm25 else None,
                bm25_score=round(bm25[cid][1], 4) if cid in bm25 else None,
                numbered=cid in numbered_ids,
                fused=round(fused[cid], 6),
                score=round(scores[cid], 6),
                status=status_of[cid],
            )
            for rank, cid in enumerate(retrieval.top(scores, len(scores)), 1)
        )
        return Ranking(query, dense_q, lexical_q, prefer, qvec, candidates, scores)

    def explain_ranking(self, query: str, **kwargs: Any) -> Ranking:
        """``rank`` with each candidate's dense cosine (its own vector or its best sentence) filled in.

        For explaining a turn to staff: one cosine per candidate, which answering never needs.
        """
        ranking = self.rank(query, **kwargs)
        candidates = tuple(
            replace(c, dense_cosine=round(self.best_similarity(c.chunk_id, ranking.vector), 4))
            for c in ranking.candidates
        )
        return replace(ranking, candidates=candidates)

    def best_similarity(self, chunk_id: str, qvec: np.ndarray) -> float:
        """Cosine similarity of the question to a chunk: its own vector or its best sentence."""
        ci = self.chunk_pos[chunk_id]
        best = float(self.index.chunk_vectors[ci] @ qvec)
        rows = self.unit_rows.get(ci)
        if rows is not None and len(rows):
            best = max(best, float(np.max(self.index.unit_vectors[rows] @ qvec)))
        return best

    def passage(self, chunk_id: str, score: float, similarity: float) -> Passage:
        chunk = self.index.chunks[self.chunk_pos[chunk_id]]
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

    def documents(self) -> list[dict[str, Any]]:
        """What is indexed: id, title, status and chunk count per document."""
        counts: dict[str, int] = {}
        for chunk in self.index.chunks:
            counts[chunk.document_id] = counts.get(chunk.document_id, 0) + 1
        return [
            {"id": m.id, "title": m.title, "status": m.status, "kind": m.kind, "chunks": counts.get(m.id, 0)}
            for m in self.index.documents.values()
        ]
