"""Build and load the search index: Chroma (dense) + BM25 (lexical), atomically.

The index lives in a local folder (the default) or, with ``chroma_url`` set, on a
Chroma server shared by several workers (see ``remote_index``). Both follow the
same rules; the folder layout is::

    CURRENT                  name of the build in service (replaced atomically)
    build-<fingerprint>-<t>/ chroma/ (PersistentClient), bm25/, corpus.json, meta.json

A build goes into a new folder (or collection) and the pointer to it is switched
only when it has succeeded, so a failed or interrupted ingest leaves the previous
index serving. The fingerprint covers corpus files, manifest, chunking rules and
model, so a stale index is noticed and rebuilt. Reading, chunking and embedding
(``prepare``) and the passage records (``passage_batches``) are shared by both.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .chunking import CHUNKER_VERSION
from .config import Settings
from .corpus import MANIFEST, read_manifest
from .errors import IndexBuildError
from .glossary import GLOSSARY_FILE
from .prepare import Prepared, Progress, no_progress, passage_batches, prepare
from .schema import Chunk, DocumentMeta

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


def stored_fingerprint(folder: Path) -> str:
    """The fingerprint a build folder was made from."""
    try:
        return str(json.loads((folder / "meta.json").read_text())["fingerprint"])
    except (OSError, KeyError, ValueError) as exc:
        raise IndexBuildError(
            f"The index in {folder} is damaged ({exc}). Run 'assistant ingest --rebuild'."
        ) from exc


@dataclass(frozen=True)
class InService:
    """The build serving now, wherever settings keep the index."""

    name: str  # its folder's name, or its collection's on a Chroma server
    fingerprint: str


def in_service(settings: Settings) -> InService | None:
    """The build in service (local folder or Chroma server), or None if none was built yet."""
    if settings.chroma_url:
        from . import remote_index

        url = settings.chroma_url
        pointer = remote_index.served(remote_index.connect(url), url)
        return None if pointer is None else InService(pointer["build"], pointer["fingerprint"])
    folder = current_folder(settings.index_path)
    return None if folder is None else InService(folder.name, stored_fingerprint(folder))


def is_current(settings: Settings) -> bool:
    """Is an index in service, built from the corpus, chunking and model as they are now?"""
    serving = in_service(settings)
    return serving is not None and serving.fingerprint == fingerprint(settings)


def open_index(settings: Settings, embedder: Any, name: str | None = None) -> StoredIndex:
    """Load the index in service, or the build called ``name``, from wherever settings keep it."""
    if settings.chroma_url:
        from . import remote_index

        return remote_index.load_index(settings.chroma_url, embedder, name)
    root = settings.index_path
    folder = root / name if name else current_folder(root)
    if folder is None:
        raise IndexBuildError(f"No index has been built in {root} yet. Run 'assistant ingest'.")
    return load_index(folder, embedder)


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


def build_index(
    settings: Settings,
    embedder: Any,
    *,
    skip_bad: bool = False,
    progress: Progress = no_progress,
) -> BuildReport:
    """Ingest the corpus into a new build and switch to it on success.

    The build goes to the Chroma server when ``chroma_url`` is set, else to a new folder.
    """
    if settings.chroma_url:
        from . import remote_index

        return remote_index.build_index(settings, embedder, skip_bad=skip_bad, progress=progress)
    from . import lexical

    started = time.perf_counter()
    root = settings.index_path
    with file_lock(root):
        print_fp = fingerprint(settings)
        prepared = prepare(settings, embedder, print_fp, skip_bad=skip_bad, progress=progress)
        folder = root / build_name(print_fp)
        folder.mkdir(parents=True)
        try:
            client = chroma_client(folder / "chroma")
            steps = write_passages(client, COLLECTION, embedder, prepared, progress, steps_after=1)
            lexical.build(prepared.bodies).save(folder / "bm25")
            dimension = len(prepared.vectors[0])
            units = np.asarray(prepared.sentence_vectors, dtype=np.float32).reshape(-1, dimension)
            np.save(folder / "units.npy", units)
            np.save(folder / "unit_owners.npy", np.asarray(prepared.owners, dtype=np.int64))
            corpus, meta = json.dumps(prepared.corpus_record()), json.dumps(prepared.meta_record())
            (folder / "corpus.json").write_text(corpus, encoding="utf-8")
            (folder / "meta.json").write_text(meta, encoding="utf-8")
            # Chroma keeps one in-process system per folder; a search through it right after
            # writing ranked differently from a fresh process. Close it, so this process reads
            # the build back from disk exactly as every other process will.
            client.close()
            progress("Writing the index", steps, steps)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        _switch(root, folder)
        return BuildReport(
            folder, print_fp, len(prepared.documents), len(prepared.chunks), prepared.skipped,
            time.perf_counter() - started, name=folder.name,
        )


def build_name(print_fp: str) -> str:
    """A new build's name: its fingerprint's start, then the time (so names sort by age)."""
    return f"build-{print_fp[:12]}-{time.time_ns()}"


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

    @property
    def entries(self) -> int:
        """Vectors in the Chroma collection (chunks plus their sentences)."""
        return len(self.chunks) + len(self.unit_owners)

    @property
    def chunk_ids(self) -> list[str]:
        return [c.id for c in self.chunks]


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
        })
        for c in data["chunks"]
    ]
    return {d["id"]: DocumentMeta(**d) for d in data["documents"]}, data["texts"], chunks


def load_index(folder: Path, embedder: Any) -> StoredIndex:
    """Open a build folder written by ``build_index``."""
    from langchain_chroma import Chroma

    from . import lexical

    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        corpus = json.loads((folder / "corpus.json").read_text(encoding="utf-8"))
        documents, texts, chunks = parse_corpus(corpus)
        # get_or_create passes embedding_function=None to Chroma; a plain get_collection
        # would attach Chroma's default embedding function, which downloads a model.
        client = chroma_client(folder / "chroma")
        store = Chroma(collection_name=COLLECTION, embedding_function=embedder, client=client)
        if store._collection.count() == 0:
            raise ValueError("the Chroma collection is empty")
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
        documents=documents,
        texts=texts,
        chunks=chunks,
        store=store,
        bm25=bm25,
        chunk_vectors=chunk_vectors,
        unit_vectors=unit_vectors,
        unit_owners=unit_owners,
        name=folder.name,
        location=str(folder),
    )
