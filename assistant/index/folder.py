"""The index in a local folder (the default): one machine, any number of worker processes.

The folder layout::

    CURRENT                  name of the build in service (replaced atomically)
    build-<fingerprint>-<t>/ chroma/ (PersistentClient), bm25/, corpus.json, meta.json (with the
                             checksums of chroma/), chunks.npy, units.npy, unit_owners.npy
    leases/<build>.<pid>     "this process serves that build", touched every 30 s
    embedding-cache/         vectors of recent builds, by model and text (``embed.cache``)

A build is never written once it is switched in. Opening one never writes to it either:
chromadb (1.5) has no read-only mode, and a PersistentClient rewrites its SQLite file and
segment files when it opens them, so each process opens a private copy of the build's
``chroma/`` folder (a few MB) in the temporary folder, removed when the build is closed.
A switch deletes older builds only when no process holds a live lease on them (its pid is
running and its heartbeat recent) and they were replaced more than ``index_keep_seconds`` ago;
the previous build is always kept, as the fallback when the one in service is damaged.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import threading
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
    LazyCollection,
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

    def builds(self) -> list[str]:
        """The complete builds in the folder, newest first (the fallbacks of a damaged one)."""
        return [b.name for b in _builds_newest_first(self.settings.index_path)]


# -- leases: which builds running processes hold -------------------------------------------------

LEASES = "leases"
LEASE_HEARTBEAT_SECONDS = 30.0
# Four missed heartbeats: the process is gone (or frozen), its lease no longer keeps a build.
LEASE_STALE_SECONDS = 120.0
COPY_PREFIX = "assistant-build-"
_held: set[Path] = set()
_held_lock = threading.Lock()
_heartbeat: threading.Thread | None = None


def _beat() -> None:
    while True:
        time.sleep(LEASE_HEARTBEAT_SECONDS)
        with _held_lock:
            for lease in list(_held):
                with contextlib.suppress(OSError):
                    lease.touch()


def take_lease(folder: Path) -> Path:
    """Record that this process serves ``folder`` (until ``release_lease``); a thread keeps it fresh."""
    global _heartbeat
    leases = folder.parent / LEASES
    leases.mkdir(exist_ok=True)
    lease = leases / f"{folder.name}.{os.getpid()}.{threading.get_ident()}.{time.time_ns()}"
    lease.write_text(str(os.getpid()))
    with _held_lock:
        _held.add(lease)
        if _heartbeat is None or not _heartbeat.is_alive():
            _heartbeat = threading.Thread(target=_beat, name="index-lease", daemon=True)
            _heartbeat.start()
    return lease


def release_lease(lease: Path) -> None:
    with _held_lock:
        _held.discard(lease)
    lease.unlink(missing_ok=True)


def _pid_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _lease_live(lease: Path, now: float) -> bool:
    try:
        pid = int(lease.name.split(".")[1])
        fresh = now - lease.stat().st_mtime < LEASE_STALE_SECONDS
    except (IndexError, ValueError, OSError):
        return False
    return fresh and _pid_running(pid)


def held_builds(root: Path) -> set[str]:
    """The builds some running process holds a live lease on; dead leases are removed."""
    held: set[str] = set()
    now = time.time()
    for lease in (root / LEASES).glob("build-*"):
        if _lease_live(lease, now):
            held.add(lease.name.split(".")[0])
        else:
            lease.unlink(missing_ok=True)
    return held


_open_copies: set[Path] = set()


@atexit.register
def _remove_own_copies() -> None:
    """At exit, the private copies and leases of the builds this process still had open."""
    for copy in list(_open_copies):
        shutil.rmtree(copy, ignore_errors=True)
    for lease in list(_held):
        lease.unlink(missing_ok=True)


def _remove_dead_copies() -> None:
    """Private copies left by processes that died without closing their build."""
    for copy in Path(tempfile.gettempdir()).glob(f"{COPY_PREFIX}*"):
        try:
            pid = int(copy.name[len(COPY_PREFIX):].split("-")[0])
        except ValueError:
            continue
        if not _pid_running(pid):
            shutil.rmtree(copy, ignore_errors=True)


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
            np.save(folder / "chunks.npy", np.asarray(prepared.vectors, dtype=np.float32).reshape(-1, dimension))
            np.save(folder / "units.npy", units)
            np.save(folder / "unit_owners.npy", np.asarray(prepared.owners, dtype=np.int64))
            # Chroma keeps one in-process system per folder; a search through it right after
            # writing ranked differently from a fresh process. Close it, so this process reads
            # the build back from disk exactly as every other process will.
            client.close()
            corpus = json.dumps(prepared.corpus_record())
            # The checksums of chroma/ as written: a reader finds a damaged store without opening it.
            meta = json.dumps({**prepared.meta_record(), "chroma_sha256": _checksums(folder / "chroma")})
            (folder / "corpus.json").write_text(corpus, encoding="utf-8")
            (folder / "meta.json").write_text(meta, encoding="utf-8")
            progress("Writing the index", steps, steps)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        _switch(root, folder, settings.index_keep_seconds)
        return BuildReport(
            folder, print_fp, len(prepared.documents), len(prepared.chunks), prepared.skipped,
            time.perf_counter() - started, name=folder.name, cached=prepared.cached, embedded=prepared.embedded,
            quarantined=prepared.quarantined,
        )


def _created(build: Path) -> float:
    """When a build was made, from its name (``build_name``: the time is its last part)."""
    try:
        return int(build.name.rsplit("-", 1)[1]) / 1e9
    except (IndexError, ValueError):
        return 0.0


def _builds_newest_first(root: Path) -> list[Path]:
    return sorted((b for b in root.glob("build-*") if (b / "meta.json").exists()), key=_created, reverse=True)


def _switch(root: Path, folder: Path, keep_seconds: float) -> None:
    """Point CURRENT at ``folder`` atomically, then prune builds no one needs any more.

    Kept: the new build and the previous one, every build a running process holds a lease
    on, and every build replaced less than ``keep_seconds`` ago (its replacement's age).
    """
    previous = current_folder(root)
    tmp = root / "CURRENT.tmp"
    tmp.write_text(folder.name)
    os.replace(tmp, root / "CURRENT")
    keep = {folder.name, previous.name if previous else ""} | held_builds(root)
    now = time.time()
    replaced_at = now  # the newest build has not been replaced
    for other in sorted(root.glob("build-*"), key=_created, reverse=True):
        if other.name not in keep and now - replaced_at >= keep_seconds:
            shutil.rmtree(other, ignore_errors=True)
        replaced_at = _created(other)
    _remove_dead_copies()


def load_index(folder: Path, embedder: Any) -> StoredIndex:
    """Open a build folder written by ``build_index``, without writing to it.

    Chroma opens a private copy of ``chroma/`` (see the module's docstring); the other files
    are only read. The build is leased for as long as it is open: ``StoredIndex.close``.
    """
    if not (folder / "meta.json").exists():
        raise IndexBuildError(
            f"There is no complete index build called {folder.name} in {folder.parent}. "
            "Run 'assistant ingest --rebuild'."
        )
    lease = take_lease(folder)
    copy = Path(tempfile.mkdtemp(prefix=f"{COPY_PREFIX}{os.getpid()}-{folder.name}-"))
    _open_copies.add(copy)
    clients: list[Any] = []

    def close() -> None:
        for client in clients:
            with contextlib.suppress(Exception):
                client.close()
        shutil.rmtree(copy, ignore_errors=True)
        _open_copies.discard(copy)
        release_lease(lease)

    def open_collection() -> Any:
        # Read through chromadb itself: LangChain's wrapper (which wrote the build) costs a
        # second of imports and adds nothing to a query by vector. The embedding function is
        # None, never Chroma's default, which downloads a model.
        clients.append(chroma_client(copy / "chroma"))
        collection = clients[-1].get_collection(COLLECTION, embedding_function=None)
        if collection.count() == 0:
            raise ValueError("the Chroma collection is empty")
        return collection

    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        corpus = json.loads((folder / "corpus.json").read_text(encoding="utf-8"))
        documents, texts, chunks = parse_corpus(corpus)
        shutil.copytree(folder / "chroma", copy / "chroma")
        collection = LazyCollection(open_collection)
        if "chroma_sha256" in meta:
            if _checksums(copy / "chroma") != meta["chroma_sha256"]:
                raise ValueError("its Chroma files are not as they were written (chroma/ was changed or damaged)")
            # Chroma itself is opened when first needed: answering searches the vectors in memory.
            chunk_vectors = np.load(folder / "chunks.npy")
        else:  # a build of index format 6 or older (the last good one after an upgrade): from Chroma
            got = collection.open().get(ids=[c.id for c in chunks], include=["embeddings"])
            by_id = dict(zip(got["ids"], got["embeddings"], strict=True))
            chunk_vectors = np.asarray([by_id[c.id] for c in chunks], dtype=np.float32)
        if chunk_vectors.shape[0] != len(chunks):
            raise ValueError(f"chunks.npy holds {chunk_vectors.shape[0]} vectors for {len(chunks)} passages")
        bm25 = lexical.load(folder / "bm25")
        unit_vectors = np.load(folder / "units.npy")
        unit_owners = np.load(folder / "unit_owners.npy")
    except Exception as exc:  # chromadb raises its own types (and Rust panics) for a damaged file
        close()
        raise IndexBuildError(
            f"The index build {folder.name} (in {folder.parent}) is damaged and cannot be read: "
            f"{_reason(exc)}. Rebuild it from the corpus with 'assistant ingest --rebuild'."
        ) from exc
    return StoredIndex(folder, meta["fingerprint"], documents, texts, chunks, collection, bm25, chunk_vectors,
                       unit_vectors, unit_owners, name=folder.name, location=str(folder), closer=close)


def _checksums(chroma: Path) -> dict[str, str]:
    """SHA-256 of every file under a build's ``chroma/`` folder, by its path inside it."""
    found = {}
    for path in sorted(p for p in chroma.rglob("*") if p.is_file()):
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        found[path.relative_to(chroma).as_posix()] = digest.hexdigest()
    return found


def _reason(exc: BaseException) -> str:
    """One line of what went wrong, the error's type when it says nothing."""
    text = " ".join(str(exc).split())
    return text[:300] if text else type(exc).__name__
