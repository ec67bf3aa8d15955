"""The tutorial baseline: what the standard LangChain RAG tutorial gives on the same corpus.

A developer following LangChain's "Build a RAG app" tutorial would load the documents,
split them with ``RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200,
add_start_index=True)``, put the pieces in a dense-only ``Chroma`` store and retrieve
the top 4 by similarity. With no LLM (none may run here) the answer is the top chunk
itself. So the baseline:

- reads the same documents (``assistant.ingest.corpus.load_corpus``) and splits their cleaned text;
- embeds with the very same embedder object as the assistant (``bot.embedder``), so the
  comparison measures the pipeline, not the model;
- has no follow-up resolution, safeguarding, off-topic or "not covered" handling: the
  tutorial has none, so every reply is ``answered``;
- cites its top chunk once, quoting it whitespace-normalised and cut to 400 characters.

It exposes the ``eval.harness.System`` methods, so the same scoring runs on it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.embed.langchain import as_langchain
from assistant.types import Citation, Reply

from .questions import Case

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

# The tutorial's values (python.langchain.com/docs/tutorials/rag): 1000-character
# chunks overlapping by 200, top 4 retrieved.
CHUNK_SIZE = 1000
CHUNK_OVERLAP = 200
TOP_K = 4
# A citation quote is a readable excerpt, not the whole chunk.
QUOTE_CHARS = 400
COLLECTION = "baseline"


@dataclass(frozen=True)
class BaselinePassage:
    """One retrieved chunk: enough for the harness (document_id, text) and for display."""

    chunk_id: str
    document_id: str
    document_title: str
    text: str
    start: int
    distance: float


def cut_quote(text: str, limit: int = QUOTE_CHARS) -> str:
    """Whitespace-normalise ``text`` and cut it to ``limit`` characters at a word boundary."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit + 1].rsplit(" ", 1)[0]
    return cut if cut else flat[:limit]


class Baseline:
    """Dense-only Chroma over 1000-character chunks; the top chunk is the answer.

    Build with ``Baseline.build(embedder, corpus_dir)``; call ``close()`` (or use it as a
    context manager) to remove its temporary Chroma folder.
    """

    name = "baseline"

    def __init__(
        self, store: Any, folder: Path, documents: dict[str, Any], chunks: int, build_seconds: float,
        *, owns_folder: bool = True,
    ) -> None:
        self.store = store
        self.folder = folder
        self.documents = documents  # id -> DocumentMeta
        self.chunks = chunks
        self.build_seconds = build_seconds
        self.embedder = store.embeddings
        self._owns_folder = owns_folder
        self._texts: dict[str, str] = {}  # chunk id -> text, for the citation checks

    @classmethod
    def build(cls, embedder: Any, corpus_dir: Path, *, folder: Path | None = None) -> Baseline:
        """Load, split, embed and store the corpus the way the tutorial does."""
        import chromadb.config
        from langchain_chroma import Chroma
        from langchain_core.documents import Document as LCDocument
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        from assistant.ingest.corpus import load_corpus

        if embedder is None:  # Chroma would fall back to its own model, which downloads
            raise ValueError("The baseline needs the assistant's embedder; none was given.")
        started = time.perf_counter()
        documents = load_corpus(corpus_dir)
        docs = [
            LCDocument(page_content=d.text, metadata={"document_id": d.meta.id, "title": d.meta.title})
            for d in documents
        ]
        splitter = RecursiveCharacterTextSplitter(
            chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP, add_start_index=True
        )
        splits = splitter.split_documents(docs)
        for number, split in enumerate(splits):
            split.metadata["chunk_id"] = f"baseline:{number}"
        where = folder or Path(tempfile.mkdtemp(prefix="baseline-chroma-"))
        store = Chroma(
            collection_name=COLLECTION,
            embedding_function=as_langchain(embedder),
            persist_directory=str(where),
            client_settings=chromadb.config.Settings(anonymized_telemetry=False, is_persistent=True),
        )
        store.add_documents(documents=splits, ids=[s.metadata["chunk_id"] for s in splits])
        return cls(
            store, where, {d.meta.id: d.meta for d in documents}, len(splits), time.perf_counter() - started,
            owns_folder=folder is None,
        )

    # -- the System adapter ----------------------------------------------------------

    def search(self, query: str, k: int = TOP_K) -> list[BaselinePassage]:
        """The tutorial's retrieval: ``similarity_search_with_score`` (Chroma's L2 distance)."""
        found = self.store.similarity_search_with_score(query, k=k)
        return [
            BaselinePassage(
                chunk_id=doc.metadata["chunk_id"],
                document_id=doc.metadata["document_id"],
                document_title=doc.metadata["title"],
                text=doc.page_content,
                start=int(doc.metadata.get("start_index", -1)),
                distance=float(distance),
            )
            for doc, distance in found
        ]

    def ask(self, question: str, history: list[dict[str, str]] | None = None, audience: str = "care_leaver") -> Reply:
        """Retrieve the top 4 and answer with the first. History and audience are ignored,
        as in the tutorial."""
        hits = self.search(question, TOP_K)
        if not hits:
            return Reply(status="answered", text="", question=question, standalone_question=question,
                         backend="baseline")
        top = hits[0]
        meta = self.documents[top.document_id]
        citation = Citation(
            number=1, document_id=top.document_id, document_title=top.document_title, section="", page=None,
            quote=cut_quote(top.text), source_url=meta.source_url, superseded=meta.status == "superseded",
            chunk_id=top.chunk_id,
        )
        self._texts[top.chunk_id] = top.text
        return Reply(status="answered", text=top.text, citations=[citation], question=question,
                     standalone_question=question, backend="baseline")

    def retrieval_query(self, case: Case) -> str:
        """The question as typed: the tutorial has no conversation memory."""
        return case.question

    def _chunk_text(self, chunk_id: str) -> str:
        if chunk_id not in self._texts:
            got = self.store.get(ids=[chunk_id])
            self._texts[chunk_id] = got["documents"][0]
        return self._texts[chunk_id]

    def quote_source(self, citation: Any) -> str:
        """The baseline's quote is checked against its own top chunk."""
        return self._chunk_text(citation.chunk_id)

    def cited_text(self, citation: Any) -> str:
        return self._chunk_text(citation.chunk_id)

    def cited_passage(self, citation: Any) -> str | None:
        return self._chunk_text(citation.chunk_id)

    def titles(self) -> str:
        return " ".join(m.title for m in self.documents.values())

    def clear_cache(self) -> None:
        cached = getattr(self.embedder, "_cached_query", None)
        if cached is not None and hasattr(cached, "cache_clear"):
            cached.cache_clear()

    # -- lifetime --------------------------------------------------------------------

    def close(self) -> None:
        """Remove the temporary Chroma folder (a folder the caller chose is left alone)."""
        if self._owns_folder:
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Baseline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
