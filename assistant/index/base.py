"""What every index store shares: the fingerprint, the loaded build, the build report, the seam.

An index is Chroma (dense) + BM25 (lexical), built atomically. It lives in a local folder
(``folder.FolderStore``, the default) or on a Chroma server shared by several workers
(``chroma_server.ChromaServerStore``). Both follow the same rules: a build goes into a new
folder (or collection) and the pointer to it is switched only when it has succeeded, so a
failed or interrupted ingest leaves the previous index serving. The fingerprint covers corpus
files, manifest, chunking rules, the quarantine's checks and model, so a stale index is noticed and rebuilt.
Reading, chunking and embedding (``ingest.prepare``) and the passage records are shared, and so
is the embedding cache in ``<index_dir>/embedding-cache/`` (``embed.cache``): a rebuild embeds
only the texts no recent build embedded with the same model.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from assistant.config import Settings
from assistant.errors import IndexBuildError
from assistant.ingest import quarantine
from assistant.ingest.chunking import CHUNKER_VERSION
from assistant.ingest.corpus import MANIFEST, read_manifest
from assistant.ingest.prepare import Prepared, Progress, passage_batches
from assistant.rules import load_rules
from assistant.text.glossary import GLOSSARY_FILE
from assistant.types import Chunk, DocumentMeta

INDEX_FORMAT = "6"
COLLECTION = "passages"
# Exact-enough search at this size: Chroma's default ef_search (10) missed the
# second-best passage when asked for 120 neighbours.
HNSW_CONFIGURATION: dict[str, Any] = {
    "hnsw": {"space": "cosine", "ef_search": 256, "ef_construction": 256, "max_neighbors": 32}
}


def fingerprint(settings: Settings) -> str:
    """A hash of everything the index depends on."""
    corpus = settings.corpus_path
    digest = hashlib.sha256()
    digest.update(f"format={INDEX_FORMAT};chunker={CHUNKER_VERSION};".encode())
    digest.update(f"tokens={settings.chunk_max_tokens};model={settings.embedding_model};".encode())
    for name in (MANIFEST, GLOSSARY_FILE):
        path = corpus / name
        digest.update(path.read_bytes() if path.exists() else b"")
    # What the quarantine keeps out (its cues, a council's among them, its bank and threshold).
    digest.update(f"quarantine={quarantine.digest(load_rules(corpus), quarantine.load_bank(corpus))};".encode())
    for meta in read_manifest(corpus):
        digest.update(meta.file.encode())
        digest.update(hashlib.sha256((corpus / meta.file).read_bytes()).digest())
    return digest.hexdigest()


@dataclass
class BuildReport:
    folder: Path | None  # None when the build went to a Chroma server
    fingerprint: str
    documents: int
    chunks: int
    skipped: list[str]
    seconds: float
    name: str = ""  # the build's name: its folder's name, or its collection's on a Chroma server
    cached: int = 0  # vectors taken from the embedding cache (embed/cache.py)
    embedded: int = 0  # texts the model embedded
    quarantined: list[quarantine.Quarantined] = field(default_factory=list)  # passages kept out of the index


@dataclass(frozen=True)
class InService:
    """The build serving now, wherever settings keep the index."""

    name: str  # its folder's name, or its collection's on a Chroma server
    fingerprint: str


@dataclass
class StoredIndex:
    """A loaded build: what retrieval and answering read."""

    folder: Path | None  # None for a build on a Chroma server
    fingerprint: str
    documents: dict[str, DocumentMeta]
    texts: dict[str, str]
    chunks: list[Chunk]
    store: Any
    bm25: Any
    chunk_vectors: np.ndarray
    unit_vectors: np.ndarray
    unit_owners: np.ndarray
    name: str = ""  # the build's folder or collection name, the same in every worker serving it
    location: str = ""  # where it was read from: the folder, or the server and collection
    # Releases what opening took (a private copy of a folder build, its lease); run once by close().
    closer: Callable[[], None] | None = field(default=None, repr=False)

    def close(self) -> None:
        """Release this loaded build: its Chroma client, private copy and lease. Idempotent."""
        closer, self.closer = self.closer, None
        if closer is not None:
            closer()

    def check(self) -> None:
        """Really query both halves (Chroma and BM25) once; IndexBuildError naming the build if not.

        The readiness check of /health: a build that loaded but cannot answer is not ready.
        """
        try:
            if not self.chunks or not self.nearest([float(x) for x in self.chunk_vectors[0]], 1):
                raise ValueError("the vector store returned nothing")
            self.bm25.rank(self.chunks[0].section or self.chunks[0].id, 1)
        except Exception as exc:  # chromadb and bm25s raise their own types
            raise IndexBuildError(
                f"The index build {self.name or self.location} cannot be searched ({exc}). "
                "Rebuild it from the corpus with 'assistant ingest --rebuild'."
            ) from exc

    @property
    def entries(self) -> int:
        """Vectors in the Chroma collection (chunks plus their sentences)."""
        return len(self.chunks) + len(self.unit_owners)

    @property
    def chunk_ids(self) -> list[str]:
        return [c.id for c in self.chunks]

    def nearest(self, vector: list[float], n: int, where: dict[str, Any] | None = None) -> list[str]:
        """The chunk ids of the ``n`` nearest vectors (chunks and their sentences), best first.

        A chunk reached through several of its sentences appears once per vector found.
        """
        res = self.store._collection.query(
            query_embeddings=[vector], n_results=n, where=where, include=["metadatas"]
        )
        return [m["chunk_id"] for m in res["metadatas"][0]]


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


@contextlib.contextmanager
def try_file_lock(root: Path, name: str) -> Iterator[bool]:
    """Take the lock on ``root/name`` if it is free; yield whether it was taken (never waits)."""
    root.mkdir(parents=True, exist_ok=True)
    with (root / name).open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build_name(print_fp: str) -> str:
    """A new build's name: its fingerprint's start, then the time (so names sort by age)."""
    return f"build-{print_fp[:12]}-{time.time_ns()}"


def parse_corpus(
    data: dict[str, Any],
) -> tuple[dict[str, DocumentMeta], dict[str, str], list[Chunk]]:
    """Document metas, texts and chunks back from ``Prepared.corpus_record``."""
    chunks = [
        Chunk(**{
            **c,
            "units": tuple(tuple(u) for u in c["units"]),
            "labels": tuple(c["labels"]),
            "label_spans": tuple(tuple(s) if s else None for s in c.get("label_spans", ())),
            "answerable": tuple(c.get("answerable", ())),
        })
        for c in data["chunks"]
    ]
    return {d["id"]: DocumentMeta(**d) for d in data["documents"]}, data["texts"], chunks


def chroma_client(path: Path) -> Any:
    """A persistent Chroma client with telemetry off."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    return chromadb.PersistentClient(
        path=str(path), settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    )


def write_passages(
    client: Any, name: str, embedder: Any, prepared: Prepared, progress: Progress, *, steps_after: int
) -> int:
    """Write the passage and sentence vectors into a new collection; return the progress steps.

    ``steps_after`` is how many steps of "Writing the index" the caller reports after these.
    """
    from langchain_chroma import Chroma

    store = Chroma(
        collection_name=name,
        embedding_function=embedder,
        client=client,
        collection_configuration=HNSW_CONFIGURATION,
    )
    batches = passage_batches(prepared)
    steps = len(batches) + steps_after
    for step, batch in enumerate(batches):
        progress("Writing the index", step, steps)
        store._collection.add(**batch)
    return steps


class IndexStore(Protocol):
    """Where builds are kept: a local folder or a Chroma server (see ``assistant.index.STORES``)."""

    def in_service(self) -> InService | None:
        """The build serving now, or None if none was built yet."""
        ...

    def build(self, embedder: Any, *, skip_bad: bool, progress: Progress) -> BuildReport:
        """Ingest the corpus into a new build and switch to it on success."""
        ...

    def open(self, embedder: Any, name: str | None = None) -> StoredIndex:
        """Load the build in service, or the build called ``name``."""
        ...
