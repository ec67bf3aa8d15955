"""Read, chunk and embed the corpus: the work every kind of index build shares.

``prepare`` turns the corpus folder into chunks, the texts the retrievers read and
their vectors, writing nothing; ``passage_batches`` lays them out as the Chroma
records both the local folder and a Chroma server store (see ``index`` and
``remote_index``). So the two stores hold the same vectors for the same corpus.

Vectors are asked of a ``VectorCache`` first (the index's embedding cache,
``embed.cache``), when the build gives one; only the texts it has not seen are embedded,
longest first, so the texts of one batch pad to about the same length.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import numpy as np

from assistant.config import Settings
from assistant.errors import CorpusError, IndexBuildError
from assistant.ingest import quarantine
from assistant.ingest.chunking import ChunkingOptions, chunk_document, embedding_text, sentence_spans
from assistant.ingest.corpus import load_document, read_manifest
from assistant.rules import load_rules
from assistant.text.glossary import Glossary, load_glossary
from assistant.types import Chunk, Document

# Chroma refuses a batch of more than about 5,000 records (5,461 here): vectors are written
# 2,000 at a time, so a corpus of any size can be stored.
WRITE_BATCH = 2000
# Texts per call of the model (and per step of the progress bar), sorted by length first. The
# model runs only texts of the same length in word pieces together (embed/bert.py), so the more
# texts a call has, the fuller its batches: a cold full ingest of the shipped corpus took 4.96 s
# with 256 a call against 6.02 s with 64 (median of 3 interleaved, quiet 2 cores; 1,024: 4.84 s).
EMBED_BATCH = 256
Progress = Callable[[str, int, int], None]
CACHE_STAGE = "Vectors from the cache"


class VectorCache(Protocol):
    """Vectors embedded before, asked before the model (``assistant.embed.cache.EmbeddingCache``)."""

    def get(self, texts: list[str]) -> list[list[float] | None]:
        """Each text's vector, or None if it was not embedded before."""
        ...

    def put(self, texts: list[str], vectors: list[list[float]]) -> None:
        """Keep the vectors just embedded for ``texts``."""
        ...


def no_progress(stage: str, done: int, total: int) -> None:
    return None


@dataclass
class Prepared:
    """The corpus read, chunked and embedded: what every kind of build writes."""

    fingerprint: str
    model: str
    documents: list[Document]
    skipped: list[str]
    texts: dict[str, str]
    chunks: list[Chunk]
    bodies: list[str]  # what the retrievers read for each chunk (acronyms spelled out)
    vectors: list[list[float]]
    sentences: list[str]
    owners: list[tuple[int, int]]  # (chunk index, unit index) of each sentence
    sentence_vectors: list[list[float]]
    cached: int = 0  # vectors (passages and sentences) that came from the cache
    embedded: int = 0  # texts the model embedded (each distinct text once)
    quarantined: list[quarantine.Quarantined] = field(default_factory=list)  # kept out of the index

    def corpus_record(self) -> dict[str, Any]:
        """Document metas, texts and chunks, as stored beside the vectors."""
        return {
            "documents": [asdict(d.meta) for d in self.documents],
            "texts": self.texts,
            "chunks": [asdict(c) for c in self.chunks],
        }

    def meta_record(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "model": self.model,
            "documents": len(self.documents),
            "chunks": len(self.chunks),
            "skipped": self.skipped,
            "quarantined": [asdict(q) for q in self.quarantined],
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        }


def prepare(
    settings: Settings,
    embedder: Any,
    print_fp: str,
    *,
    skip_bad: bool = False,
    progress: Progress = no_progress,
    cache: VectorCache | None = None,
) -> Prepared:
    """Read, chunk and embed the corpus whose fingerprint is ``print_fp``; write nothing.

    With a ``cache``, vectors are taken from it where it has them (reported as the stage
    "Vectors from the cache": found of all), and what is embedded is put into it.
    """
    metas = read_manifest(settings.corpus_path)
    documents: list[Document] = []
    skipped: list[str] = []
    for number, meta in enumerate(metas, 1):
        progress("Reading documents", number - 1, len(metas))
        try:
            documents.append(load_document(settings.corpus_path, meta))
        except CorpusError as exc:
            if not skip_bad:
                raise
            skipped.append(f"{meta.file}: {exc}")
    progress("Reading documents", len(metas), len(metas))
    if not documents:
        raise IndexBuildError(
            "No document could be read, so no index was built. Fix the files listed above."
        )

    glossary = load_glossary(settings.corpus_path)
    fresh: dict[str, list[float]] = {}  # text -> vector embedded in this build

    def read(sentences: list[str]) -> list[list[float]]:
        texts = [spell_out(sentence, glossary) for sentence in sentences]  # as the index embeds them
        known = cache.get(texts) if cache is not None else [None] * len(texts)
        return _embed(embedder, texts, known, fresh, "Reading documents for instructions", progress, cache)

    # Documents are data: what addresses an assistant never reaches the index (ingest.quarantine).
    screen = passage_screen(settings, embedder, fresh, progress, cache)
    screened, held = screen.documents(documents, read)
    quarantined = quarantine.report(held, documents, settings.corpus_path)  # offsets in the files as read
    documents = screened

    options = ChunkingOptions(max_tokens=settings.chunk_max_tokens)
    chunks: list[Chunk] = []
    for doc in documents:
        chunks.extend(chunk_document(doc, embedder.count_tokens, options))
    texts = {doc.meta.id: doc.text for doc in documents}
    # Acronyms are spelled out in what the retrievers read ("CLA (children looked
    # after)"), so a question in plain words finds a passage written in acronyms.
    bodies = [spell_out(embedding_text(c, texts[c.document_id]), glossary) for c in chunks]

    sentences, owners = unit_texts(chunks, texts)
    sentences = [spell_out(sentence, glossary) for sentence in sentences]

    found: list[list[float] | None] = [None] * (len(bodies) + len(sentences))
    if cache is not None:
        # A text the quarantine's reading embedded in this build is in the cache now, but it came
        # from this build: it counts as embedded (``fresh``), not as taken from the cache.
        found = [None if t in fresh else v for t, v in zip(bodies + sentences, cache.get(bodies + sentences),
                                                            strict=True)]
        progress(CACHE_STAGE, sum(v is not None for v in found), len(found))
    vectors = _embed(embedder, bodies, found[: len(bodies)], fresh, "Embedding passages", progress, cache)
    sentence_vectors = _embed(
        embedder, sentences, found[len(bodies) :], fresh, "Embedding sentences", progress, cache
    )
    return Prepared(
        print_fp, settings.embedding_model, documents, skipped, texts, chunks, bodies, vectors,
        sentences, owners, sentence_vectors, cached=sum(v is not None for v in found),
        embedded=len(fresh), quarantined=quarantined,
    )


def passage_screen(
    settings: Settings, embedder: Any, fresh: dict[str, list[float]] | None = None,
    progress: Progress = no_progress, cache: VectorCache | None = None,
) -> quarantine.Screen:
    """The quarantine's checks for this corpus: its rules, and its injection bank embedded (from the cache)."""
    bank = quarantine.load_bank(settings.corpus_path)
    texts = list(bank.texts)
    found = cache.get(texts) if cache is not None else [None] * len(texts)
    vectors = _embed(embedder, texts, found, {} if fresh is None else fresh, "Embedding the quarantine's exemplars",
                     progress, cache)
    return quarantine.Screen(load_rules(settings.corpus_path), bank, np.asarray(vectors, dtype=np.float32))


def _embed(
    embedder: Any, texts: list[str], found: list[list[float] | None], fresh: dict[str, list[float]],
    stage: str, progress: Progress, cache: VectorCache | None,
) -> list[list[float]]:
    """The vectors of ``texts``: those ``found`` in the cache or already in ``fresh`` as they are;
    the others embedded (each distinct text once, added to ``fresh``) ``EMBED_BATCH`` at a time,
    longest first, reporting progress as ``stage`` (done of the texts to embed).

    A text embedded once gets one vector wherever it appears, so a build from the cache is
    the same as the build that filled it.
    """
    embed = getattr(embedder, "embed_bulk", None) or embedder.embed_documents  # what a build stores
    missing = sorted(
        {t for t, v in zip(texts, found, strict=True) if v is None and t not in fresh},
        key=lambda t: (-len(t), t),
    )
    for i in range(0, len(missing), EMBED_BATCH):
        progress(stage, i, len(missing))
        batch = missing[i : i + EMBED_BATCH]
        got = embed(batch)
        fresh.update(zip(batch, got, strict=True))
        if cache is not None:
            cache.put(batch, got)
    progress(stage, len(missing), len(missing))
    return [v if v is not None else fresh[t] for t, v in zip(texts, found, strict=True)]


def passage_batches(prepared: Prepared) -> list[dict[str, Any]]:
    """The ``collection.add`` calls that store a build's vectors, in order.

    Chunk vectors first, then sentence-level vectors that point at their chunk: a
    question that matches one sentence of a long passage still finds the passage.
    """
    chunks, owners = prepared.chunks, prepared.owners
    batches: list[dict[str, Any]] = []
    for i in range(0, len(chunks), WRITE_BATCH):
        part = chunks[i : i + WRITE_BATCH]
        batches.append({
            "ids": [c.id for c in part],
            "embeddings": prepared.vectors[i : i + WRITE_BATCH],
            "documents": prepared.bodies[i : i + WRITE_BATCH],
            "metadatas": [{"document_id": c.document_id, "chunk_id": c.id} for c in part],
        })
    for i in range(0, len(prepared.sentences), WRITE_BATCH):
        part = range(i, min(i + WRITE_BATCH, len(prepared.sentences)))
        owner = [chunks[owners[j][0]] for j in part]
        batches.append({
            "ids": [unit_id(chunk.id, j) for chunk, j in zip(owner, part, strict=True)],
            "embeddings": [prepared.sentence_vectors[j] for j in part],
            "documents": [prepared.sentences[j] for j in part],
            "metadatas": [{"document_id": c.document_id, "chunk_id": c.id} for c in owner],
        })
    return batches


def unit_id(chunk_id: str, number: int) -> str:
    """The record id of sentence ``number`` (its position among all sentences), owned by a chunk."""
    return f"{chunk_id}#{number}"


def spell_out(text: str, glossary: Glossary) -> str:
    """Add each acronym's meaning after it, once per text."""
    seen: set[str] = set()

    def expand(match: re.Match[str]) -> str:
        token = match.group(0)
        meaning = glossary.acronyms.get(token)
        if not meaning or token in seen:
            return token
        seen.add(token)
        return f"{token} ({meaning})"

    return re.sub(r"\b[A-Z][A-Za-z]*[A-Z]\b", expand, text)


def unit_texts(
    chunks: list[Chunk], texts: dict[str, str]
) -> tuple[list[str], list[tuple[int, int]]]:
    """The sentences to embed one by one, with their (chunk index, unit index) owners.

    Prose sentences, and the sentences inside table cells: a row such as the EET
    measure mixes a strand slogan with the measure itself, and its own sentence
    is what a question matches.
    """
    sentences: list[str] = []
    owners: list[tuple[int, int]] = []
    for ci, chunk in enumerate(chunks):
        text = texts[chunk.document_id]
        for ui, (start, end) in enumerate(chunk.units):
            table = chunk.kind == "table_row"
            spans = sentence_spans(text, start, end) if table else [(start, end)]
            for s, e in spans:
                sentence = " ".join(text[s:e].split())
                if table and len(sentence) < 25:
                    continue
                sentences.append(sentence)
                owners.append((ci, ui))
    return sentences, owners
