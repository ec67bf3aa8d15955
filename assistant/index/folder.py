"""The index in a local folder (the default): one machine, any number of worker processes.

The folder layout::

    CURRENT                  name of the build in service (replaced atomically)
    build-<fingerprint>-<t>/ chroma/ (PersistentClient), bm25/, corpus.json, meta.json
    embedding-cache/         vectors of recent builds, by model and text (``embed.cache``)
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.config import Settings
from assistant.embed.cache import index_cache
from assistant.errors import IndexBuildError
from assistant.index import bm25 as lexical
from assistant.index.base import (
    COLLECTION,
    BuildReport,
    InService,
    StoredIndex,
    build_name,
    chroma_client,
    file_lock,
    fingerprint,
    parse_corpus,
    write_passages,
)
from assistant.ingest.prepare import Progress, no_progress, prepare


@dataclass(frozen=True)
class FolderStore:
    """Builds in ``settings.index_path``, the one in service named by its CURRENT file."""

    settings: Settings

    def in_service(self) -> InService | None:
        folder = current_folder(self.settings.index_path)
        return None if folder is None else InService(folder.name, stored_fingerprint(folder))

    def build(self, embedder: Any, *, skip_bad: bool = False, progress: Progress = no_progress) -> BuildReport:
        return build_index(self.settings, embedder, skip_bad=skip_bad, progress=progress)

    def open(self, embedder: Any, name: str | None = None) -> StoredIndex:
        root = self.settings.index_path
        folder = root / name if name else current_folder(root)
        if folder is None:
            raise IndexBuildError(f"No index has been built in {root} yet. Run 'assistant ingest'.")
        return load_index(folder, embedder)


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


def build_index(
    settings: Settings,
    embedder: Any,
    *,
    skip_bad: bool = False,
    progress: Progress = no_progress,
) -> BuildReport:
    """Ingest the corpus into a new build folder and switch to it on success."""
    started = time.perf_counter()
    root = settings.index_path
    with file_lock(root):
        print_fp = fingerprint(settings)
        with index_cache(settings, embedder) as cache:
            prepared = prepare(settings, embedder, print_fp, skip_bad=skip_bad, progress=progress,
                               cache=cache)
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
            time.perf_counter() - started, name=folder.name, cached=prepared.cached, embedded=prepared.embedded,
            quarantined=prepared.quarantined,
        )


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


def load_index(folder: Path, embedder: Any) -> StoredIndex:
    """Open a build folder written by ``build_index``."""
    from langchain_chroma import Chroma

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
    return StoredIndex(folder, meta["fingerprint"], documents, texts, chunks, store, bm25, chunk_vectors,
                       unit_vectors, unit_owners, name=folder.name, location=str(folder))
