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
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
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

INDEX_FORMAT = "7"  # 7: chunk vectors in chunks.npy and checksums of chroma/ in meta.json
COLLECTION = "passages"
# Builds of up to this many vectors (chunks and sentences) are searched exactly, in memory, where
# they already are: 1,700 vectors take 0.1 ms, 176,000 (the 100x scale run) about 20 ms on one
# core. Exact is also what HNSW approximates (see HNSW_CONFIGURATION), so rankings do not depend
# on how a graph was built. Larger builds ask Chroma.
EXACT_SEARCH_MAX_VECTORS = 250_000
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
    collection: Any  # the build's Chroma collection (chromadb's own; LangChain's wrapper writes it)
    bm25: Any
    chunk_vectors: np.ndarray
    unit_vectors: np.ndarray
    unit_owners: np.ndarray
    name: str = ""  # the build's folder or collection name, the same in every worker serving it
    location: str = ""  # where it was read from: the folder, or the server and collection
    # Releases what opening took (a private copy of a folder build, its lease); run once by close().
    closer: Callable[[], None] | None = field(default=None, repr=False)
    closed: bool = field(default=False, repr=False)

    def close(self) -> None:
        """Release this loaded build: its Chroma client, private copy and lease. Idempotent."""
        self.closed = True
        closer, self.closer = self.closer, None
        if closer is not None:
            closer()

    def check(self) -> None:
        """Really search both halves (the vectors and BM25) once; IndexBuildError naming the build if not.

        The readiness check of /health: a build that loaded but cannot answer is not ready. The
        vectors are searched the way answering searches them (``nearest``): in memory for a
        folder build whose Chroma collection is not open (``searches_chroma``), so the check
        does not open it either (a Chroma client cost a worker ~50 MB); Chroma otherwise.
        """
        try:
            if self.closed:
                raise ValueError("it was closed")
            probe = [float(x) for x in self.chunk_vectors[0]] if self.chunks else None
            search = self._chroma_nearest if self.searches_chroma else self.nearest
            if probe is None or not search(probe, 1):
                raise ValueError("the vector store returned nothing")
            self.bm25.rank(self.chunks[0].section or self.chunks[0].id, 1)
        except Exception as exc:  # chromadb and bm25s raise their own types
            raise IndexBuildError(
                f"The index build {self.name or self.location} cannot be searched ({exc}). "
                "Rebuild it from the corpus with 'assistant ingest --rebuild'."
            ) from exc

    @property
    def searches_chroma(self) -> bool:
        """Does a search (with no filter, as /health's) ask Chroma? Yes for a build too large to
        search in memory, and for a collection that is not opened lazily (a Chroma server's) or
        is open already; no for a folder build searched in memory, whose Chroma stays closed."""
        lazy = isinstance(self.collection, LazyCollection) and self.collection.opened is None
        return self.entries > EXACT_SEARCH_MAX_VECTORS or not lazy

    @property
    def entries(self) -> int:
        """Vectors in the Chroma collection (chunks plus their sentences)."""
        return len(self.chunks) + len(self.unit_owners)

    @property
    def chunk_ids(self) -> list[str]:
        return [c.id for c in self.chunks]

    def nearest(self, vector: list[float], n: int, where: dict[str, Any] | None = None) -> list[str]:
        """The chunk ids of the ``n`` nearest vectors (chunks and their sentences), best first.

        A chunk reached through several of its sentences appears once per vector found. Every
        vector of the build is in memory (``chunk_vectors``, ``unit_vectors``), so up to
        ``EXACT_SEARCH_MAX_VECTORS`` they are compared exactly here; a larger build asks Chroma's
        HNSW index. ``where`` is Chroma's filter; the one search uses, ``{"document_id": {"$in":
        [...]}}``, is applied here too.
        """
        documents = _documents_filter(where)
        if self.entries > EXACT_SEARCH_MAX_VECTORS or (where is not None and documents is None):
            return self._chroma_nearest(vector, n, where)
        query = np.asarray(vector, dtype=np.float32)
        scores = np.concatenate([self.chunk_vectors @ query, self.unit_vectors @ query]) if len(self.unit_vectors) \
            else self.chunk_vectors @ query
        owner = self._vector_owners
        if documents is not None:
            keep = np.isin(self._chunk_documents[owner], sorted(documents))
            scores, owner = scores[keep], owner[keep]
        n = min(n, len(scores))
        if n <= 0:
            return []
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [self.chunks[int(i)].id for i in owner[top]]

    def _chroma_nearest(self, vector: list[float], n: int, where: dict[str, Any] | None = None) -> list[str]:
        res = self.collection.query(
            query_embeddings=[vector], n_results=n, where=where, include=["metadatas"]
        )
        return [m["chunk_id"] for m in res["metadatas"][0]]

    @cached_property
    def _vector_owners(self) -> np.ndarray:
        """The chunk (its position) each vector belongs to: chunks first, then their sentences."""
        units = self.unit_owners.reshape(-1, 2)[:, 0] if len(self.unit_owners) else np.zeros(0, dtype=np.int64)
        return np.concatenate([np.arange(len(self.chunks), dtype=np.int64), units.astype(np.int64)])

    @cached_property
    def _chunk_documents(self) -> np.ndarray:
        return np.asarray([c.document_id for c in self.chunks], dtype=object)


def _documents_filter(where: dict[str, Any] | None) -> set[str] | None:
    """The documents of a ``{"document_id": {"$in": [...]}}`` filter; None for any other."""
    if not where or set(where) != {"document_id"} or not isinstance(where["document_id"], dict):
        return None
    wanted = where["document_id"].get("$in")
    return set(wanted) if isinstance(wanted, list) and len(where["document_id"]) == 1 else None


class LazyCollection:
    """A Chroma collection opened when first used (``opener``), once, whichever thread asks first.

    Importing chromadb and opening a store took half of a cold start; exact search in memory
    (``StoredIndex.nearest``) answers without it, so a build opens Chroma only for /health, for a
    build too large to search exactly, or for a test that reads the collection.
    """

    def __init__(self, opener: Callable[[], Any]) -> None:
        self._opener = opener
        self._lock = threading.Lock()
        self._collection: Any = None

    @property
    def opened(self) -> Any:
        """The collection if it was opened, else None (nothing is opened by asking)."""
        return self._collection

    def open(self) -> Any:
        with self._lock:
            if self._collection is None:
                self._collection = self._opener()
            return self._collection

    def __getattr__(self, name: str) -> Any:  # count, get, query, ...
        return getattr(self.open(), name)


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

    from assistant.embed.langchain import as_langchain

    store = Chroma(
        collection_name=name,
        embedding_function=as_langchain(embedder),
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
