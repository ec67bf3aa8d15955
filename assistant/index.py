"""Build and load the search index: Chroma (dense) + BM25 (lexical), atomically.

Layout under the index folder::

    CURRENT                  name of the build in service (replaced atomically)
    build-<fingerprint>-<t>/ chroma/ (PersistentClient), bm25/, corpus.json, meta.json

A build goes into a new folder and ``CURRENT`` is switched only when it has
succeeded, so a failed or interrupted ingest leaves the previous index serving.
The fingerprint covers corpus files, manifest, chunking rules and model, so a
stale index is noticed and rebuilt.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .chunking import CHUNKER_VERSION, ChunkingOptions, chunk_document, embedding_text
from .config import Settings
from .corpus import MANIFEST, load_document, read_manifest
from .errors import CorpusError, IndexBuildError
from .glossary import GLOSSARY_FILE, Glossary, load_glossary
from .schema import Chunk, Document, DocumentMeta

INDEX_FORMAT = "6"
COLLECTION = "passages"
Progress = Callable[[str, int, int], None]


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


def fingerprint(settings: Settings) -> str:
    """A hash of everything the index depends on."""
    corpus = settings.corpus_path
    digest = hashlib.sha256()
    digest.update(f"format={INDEX_FORMAT};chunker={CHUNKER_VERSION};".encode())
    digest.update(f"tokens={settings.chunk_max_tokens};model={settings.embedding_model};".encode())
    for name in (MANIFEST, GLOSSARY_FILE):
        path = corpus / name
        digest.update(path.read_bytes() if path.exists() else b"")
    for meta in read_manifest(corpus):
        digest.update(meta.file.encode())
        digest.update(hashlib.sha256((corpus / meta.file).read_bytes()).digest())
    return digest.hexdigest()


@dataclass
class BuildReport:
    folder: Path
    fingerprint: str
    documents: int
    chunks: int
    skipped: list[str]
    seconds: float


@contextlib.contextmanager
def file_lock(root: Path, name: str = ".lock") -> Iterator[None]:
    """Hold an exclusive lock on ``root/name`` (across processes) for the block."""
    root.mkdir(parents=True, exist_ok=True)
    with (root / name).open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def current_folder(root: Path) -> Path | None:
    """The build in service, if any."""
    pointer = root / "CURRENT"
    if not pointer.exists():
        return None
    folder = root / pointer.read_text().strip()
    return folder if (folder / "meta.json").exists() else None


def chroma_client(path: Path) -> Any:
    """A persistent Chroma client with telemetry off."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    return chromadb.PersistentClient(
        path=str(path), settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    )


def build_index(
    settings: Settings,
    embedder: Any,
    *,
    skip_bad: bool = False,
    progress: Progress = _no_progress,
) -> BuildReport:
    """Ingest the corpus into a new build folder and switch to it on success."""
    from langchain_chroma import Chroma

    from . import lexical

    started = time.perf_counter()
    root = settings.index_path
    with file_lock(root):
        print_fp = fingerprint(settings)
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
            raise IndexBuildError("No document could be read, so no index was built. Fix the files listed above.")

        options = ChunkingOptions(max_tokens=settings.chunk_max_tokens)
        chunks: list[Chunk] = []
        for doc in documents:
            chunks.extend(chunk_document(doc, embedder.count_tokens, options))
        texts = {doc.meta.id: doc.text for doc in documents}
        glossary = load_glossary(settings.corpus_path)
        # Acronyms are spelled out in what the retrievers read ("CLA (children looked
        # after)"), so a question in plain words finds a passage written in acronyms.
        bodies = [spell_out(embedding_text(chunk, texts[chunk.document_id]), glossary) for chunk in chunks]

        folder = root / f"build-{print_fp[:12]}-{time.time_ns()}"
        folder.mkdir(parents=True)
        try:
            vectors: list[list[float]] = []
            batch = 32
            for i in range(0, len(bodies), batch):
                progress("Embedding passages", i, len(bodies))
                vectors.extend(embedder.embed_documents(bodies[i : i + batch]))
            progress("Embedding passages", len(bodies), len(bodies))

            sentences, owners = unit_texts(chunks, texts)
            sentences = [spell_out(sentence, glossary) for sentence in sentences]
            sentence_vectors: list[list[float]] = []
            for i in range(0, len(sentences), 64):
                progress("Embedding sentences", i, len(sentences))
                sentence_vectors.extend(embedder.embed_documents(sentences[i : i + 64]))
            progress("Embedding sentences", len(sentences), len(sentences))

            progress("Writing the index", 0, 1)
            client = chroma_client(folder / "chroma")
            store = Chroma(
                collection_name=COLLECTION,
                embedding_function=embedder,
                client=client,
                # Exact-enough search at this size: Chroma's default ef_search (10) missed the
                # second-best passage when asked for 120 neighbours.
                collection_configuration={
                    "hnsw": {"space": "cosine", "ef_search": 256, "ef_construction": 256, "max_neighbors": 32}
                },
            )
            store._collection.add(
                ids=[c.id for c in chunks],
                embeddings=vectors,
                documents=bodies,
                metadatas=[{"document_id": c.document_id, "chunk_id": c.id} for c in chunks],
            )
            # Sentence-level vectors point at their chunk: a question that matches one
            # sentence of a long passage still finds the passage.
            for i in range(0, len(sentences), 2000):
                part = range(i, min(i + 2000, len(sentences)))
                store._collection.add(
                    ids=[f"{chunks[owners[j][0]].id}#{j}" for j in part],
                    embeddings=[sentence_vectors[j] for j in part],
                    documents=[sentences[j] for j in part],
                    metadatas=[
                        {"document_id": chunks[owners[j][0]].document_id, "chunk_id": chunks[owners[j][0]].id}
                        for j in part
                    ],
                )
            lexical.build(bodies).save(folder / "bm25")
            np.save(folder / "units.npy", np.asarray(sentence_vectors, dtype=np.float32).reshape(-1, len(vectors[0])))
            np.save(folder / "unit_owners.npy", np.asarray(owners, dtype=np.int64))
            (folder / "corpus.json").write_text(
                json.dumps(
                    {
                        "documents": [asdict(d.meta) for d in documents],
                        "texts": texts,
                        "chunks": [asdict(c) for c in chunks],
                    }
                ),
                encoding="utf-8",
            )
            (folder / "meta.json").write_text(
                json.dumps(
                    {
                        "fingerprint": print_fp,
                        "model": settings.embedding_model,
                        "documents": len(documents),
                        "chunks": len(chunks),
                        "skipped": skipped,
                        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
                    }
                ),
                encoding="utf-8",
            )
            # Chroma keeps one in-process system per folder; a search through it right after
            # writing ranked differently from a fresh process. Close it, so this process reads
            # the build back from disk exactly as every other process will.
            client.close()
            progress("Writing the index", 1, 1)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        _switch(root, folder)
        return BuildReport(folder, print_fp, len(documents), len(chunks), skipped, time.perf_counter() - started)


def spell_out(text: str, glossary: Glossary) -> str:
    """Add each acronym's meaning after it, once per text."""
    import re

    seen: set[str] = set()

    def expand(match: re.Match[str]) -> str:
        token = match.group(0)
        meaning = glossary.acronyms.get(token)
        if not meaning or token in seen:
            return token
        seen.add(token)
        return f"{token} ({meaning})"

    return re.sub(r"\b[A-Z][A-Za-z]*[A-Z]\b", expand, text)


def unit_texts(chunks: list[Chunk], texts: dict[str, str]) -> tuple[list[str], list[tuple[int, int]]]:
    """The sentences to embed one by one, with their (chunk index, unit index) owners.

    Prose sentences, and the sentences inside table cells: a row such as the EET
    measure mixes a strand slogan with the measure itself, and its own sentence
    is what a question matches.
    """
    from .chunking import sentence_spans

    sentences: list[str] = []
    owners: list[tuple[int, int]] = []
    for ci, chunk in enumerate(chunks):
        text = texts[chunk.document_id]
        for ui, (start, end) in enumerate(chunk.units):
            spans = sentence_spans(text, start, end) if chunk.kind == "table_row" else [(start, end)]
            for s, e in spans:
                sentence = " ".join(text[s:e].split())
                if chunk.kind == "table_row" and len(sentence) < 25:
                    continue
                sentences.append(sentence)
                owners.append((ci, ui))
    return sentences, owners


def _switch(root: Path, folder: Path) -> None:
    """Point CURRENT at ``folder`` atomically, then remove all but the previous build."""
    previous = current_folder(root)
    tmp = root / "CURRENT.tmp"
    tmp.write_text(folder.name)
    os.replace(tmp, root / "CURRENT")
    keep = {folder.name, previous.name if previous else ""}
    for other in root.glob("build-*"):
        if other.name not in keep:
            shutil.rmtree(other, ignore_errors=True)


@dataclass
class StoredIndex:
    """A loaded build: what retrieval and answering read."""

    folder: Path
    fingerprint: str
    documents: dict[str, DocumentMeta]
    texts: dict[str, str]
    chunks: list[Chunk]
    store: Any
    bm25: Any
    chunk_vectors: np.ndarray
    unit_vectors: np.ndarray
    unit_owners: np.ndarray

    @property
    def entries(self) -> int:
        """Vectors in the Chroma collection (chunks plus their sentences)."""
        return len(self.chunks) + len(self.unit_owners)

    @property
    def chunk_ids(self) -> list[str]:
        return [c.id for c in self.chunks]


def load_index(folder: Path, embedder: Any) -> StoredIndex:
    """Open a build folder written by ``build_index``."""
    from langchain_chroma import Chroma

    from . import lexical

    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        data = json.loads((folder / "corpus.json").read_text(encoding="utf-8"))
        # get_or_create passes embedding_function=None to Chroma; a plain get_collection
        # would attach Chroma's default embedding function, which downloads a model.
        store = Chroma(collection_name=COLLECTION, embedding_function=embedder, client=chroma_client(folder / "chroma"))
        if store._collection.count() == 0:
            raise ValueError("the Chroma collection is empty")
        chunks = [
            Chunk(**{
                **c,
                "units": tuple(tuple(u) for u in c["units"]),
                "labels": tuple(c["labels"]),
                "label_spans": tuple(tuple(s) if s else None for s in c.get("label_spans", ())),
            })
            for c in data["chunks"]
        ]
        got = store._collection.get(ids=[c.id for c in chunks], include=["embeddings"])
        by_id = dict(zip(got["ids"], got["embeddings"], strict=True))
        chunk_vectors = np.asarray([by_id[c.id] for c in chunks], dtype=np.float32)
        bm25 = lexical.load(folder / "bm25")
        unit_vectors = np.load(folder / "units.npy")
        unit_owners = np.load(folder / "unit_owners.npy")
    except (OSError, KeyError, ValueError, json.JSONDecodeError) as exc:
        raise IndexBuildError(
            f"The index in {folder} could not be read ({exc}). Run 'assistant ingest --rebuild'."
        ) from exc
    return StoredIndex(
        folder=folder,
        fingerprint=meta["fingerprint"],
        documents={d["id"]: DocumentMeta(**d) for d in data["documents"]},
        texts=data["texts"],
        chunks=chunks,
        store=store,
        bm25=bm25,
        chunk_vectors=chunk_vectors,
        unit_vectors=unit_vectors,
        unit_owners=unit_owners,
    )
