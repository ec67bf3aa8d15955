"""The index on a Chroma server (``chroma_url``): one store shared by every worker on any host.

The same builds, fingerprint and atomic switch as the local folder (see ``folder``),
kept in collections on the server::

    assistant-current                one record, id "current": metadata {build, fingerprint}
    assistant-build-<fp>-<t>         chunk and sentence vectors, as in a local build's chroma/
    assistant-build-<fp>-<t>-corpus  a "meta" record and the corpus JSON in "corpus-NNNN" parts

A build writes its two collections and only then upserts the pointer record: a single
write, so a reader sees the previous build or the new one, never half of one. A build
killed half-way leaves collections nothing points at; the next successful build deletes
them, and every build older than the one it replaced that was replaced more than
``index_keep_seconds`` ago (a worker on another host may still serve it until it switches).
Everything a worker needs comes from the server -- chunk texts, document texts, vectors -- and the BM25 index is rebuilt
from the stored chunk texts at load, so workers on any host serve identical results.

Builds on one host are serialised by the same file lock as local builds. Builds from two
hosts at once are not: the one started last wins, and the other stops with a message
rather than switch the pointer back to an older corpus.
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from assistant.config import Settings
from assistant.embed.cache import index_cache
from assistant.errors import ConfigError, IndexBuildError
from assistant.index import bm25 as lexical
from assistant.index.base import (
    BuildReport,
    InService,
    StoredIndex,
    build_name,
    file_lock,
    fingerprint,
    parse_corpus,
    write_passages,
)
from assistant.index.chroma_rest import ChromaReader, ChromaRestError, CollectionNotFound
from assistant.ingest.prepare import Prepared, Progress, no_progress, prepare, unit_id

PREFIX = "assistant-"
POINTER = "assistant-current"
CORPUS_SUFFIX = "-corpus"
# Chroma keeps each record's document whole; parts of 100,000 characters keep every
# request small however large a council's corpus grows.
PART_CHARS = 100_000
# Records fetched per request at load: a few MB of vectors at a time.
READ_BATCH = 1000
# The corpus and pointer records carry no meaning in their vectors, but Chroma needs one.
NO_VECTOR = [0.0]


@dataclass(frozen=True)
class ChromaServerStore:
    """Builds in collections on the Chroma server at ``settings.chroma_url``."""

    settings: Settings

    def in_service(self) -> InService | None:
        url = self.settings.chroma_url or ""
        with reader(url) as server:
            pointer = served(server, url)
        return None if pointer is None else InService(pointer["build"], pointer["fingerprint"])

    def build(self, embedder: Any, *, skip_bad: bool = False, progress: Progress = no_progress) -> BuildReport:
        return build_index(self.settings, embedder, skip_bad=skip_bad, progress=progress)

    def open(self, embedder: Any, name: str | None = None) -> StoredIndex:
        return load_index(self.settings.chroma_url or "", embedder, name)


def address(url: str) -> tuple[str, int, bool]:
    """``url``'s host, port and whether it is https; ConfigError if it is no Chroma server address."""
    parts = urlsplit(url)
    try:
        ssl = parts.scheme == "https"
        port = parts.port or (443 if ssl else 8000)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path.strip("/"):
            raise ValueError("not http(s)://host:port")
    except ValueError as exc:  # also a port that is not a number
        raise ConfigError(
            f"chroma_url is {url!r}, which is not a Chroma server address. "
            "Set ASSISTANT_CHROMA_URL to one like http://127.0.0.1:8000, or unset it to use "
            "the local index folder."
        ) from exc
    return parts.hostname, port, ssl


def _unreachable(url: str, port: int, exc: Exception) -> IndexBuildError:
    return IndexBuildError(
        f"The Chroma server at {url} (setting chroma_url) could not be reached ({exc}). "
        f"Start it with `chroma run --path DIR --port {port}`, "
        "or unset ASSISTANT_CHROMA_URL to use the local index folder."
    )


def connect(url: str) -> Any:
    """chromadb's ``HttpClient`` for ``url`` (telemetry off), checked with a heartbeat: for building."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    host, port, ssl = address(url)
    reader(url).close()  # the same check and message as a serving worker's
    try:
        client = chromadb.HttpClient(
            host=host, port=port, ssl=ssl, settings=ChromaSettings(anonymized_telemetry=False)
        )
        client.heartbeat()
    # Depending on the step, an unreachable server shows as ValueError, an httpx error
    # or a Chroma error: every one means the same thing to the person starting us.
    except Exception as exc:
        raise _unreachable(url, port, exc) from exc
    return client


def reader(url: str) -> ChromaReader:
    """A reader of the server at ``url`` (no chromadb import), checked with a heartbeat: for serving."""
    _, port, _ = address(url)
    server = ChromaReader(url)
    try:
        server.heartbeat()
    except ChromaRestError as exc:
        server.close()
        raise _unreachable(url, port, exc) from exc
    return server


def served(server: ChromaReader, url: str) -> dict[str, str] | None:
    """The pointer record's metadata ({build, fingerprint}), or None if nothing was built yet."""
    try:
        got = server.collection(POINTER).get(ids=["current"], include=["metadatas"])
    except CollectionNotFound:
        return None
    except ChromaRestError as exc:
        raise IndexBuildError(
            f"The Chroma server at {url} could not say which index is in service ({exc}). "
            "Check the server is running, then try again."
        ) from exc
    return dict(got["metadatas"][0]) if got["ids"] else None


def build_index(
    settings: Settings, embedder: Any, *, skip_bad: bool = False, progress: Progress = no_progress
) -> BuildReport:
    """Ingest the corpus into new collections on the server and switch to them on success."""
    url = settings.chroma_url or ""
    started = time.perf_counter()
    client = connect(url)
    with file_lock(settings.index_path):
        print_fp = fingerprint(settings)
        with index_cache(settings, embedder) as cache:
            prepared = prepare(settings, embedder, print_fp, skip_bad=skip_bad, progress=progress,
                               cache=cache)
        name = build_name(print_fp)
        try:
            steps = write_passages(client, PREFIX + name, embedder, prepared, progress, steps_after=2)
            progress("Writing the index", steps - 2, steps)
            _write_corpus(client, name, prepared)
        except BaseException:
            _drop(client, name)
            raise
        progress("Writing the index", steps - 1, steps)
        _switch(client, url, name, print_fp, keep_seconds=settings.index_keep_seconds)
        progress("Writing the index", steps, steps)
    return BuildReport(
        None, print_fp, len(prepared.documents), len(prepared.chunks), prepared.skipped,
        time.perf_counter() - started, name=name, cached=prepared.cached, embedded=prepared.embedded,
        quarantined=prepared.quarantined,
    )


def _write_corpus(client: Any, name: str, prepared: Prepared) -> None:
    """Store the corpus JSON in parts, then the "meta" record that counts them.

    The meta record goes last, so a corpus collection that has one is complete.
    """
    corpus = client.create_collection(PREFIX + name + CORPUS_SUFFIX, embedding_function=None)
    text = json.dumps({**prepared.corpus_record(), "owners": prepared.owners})
    parts = [text[i : i + PART_CHARS] for i in range(0, len(text), PART_CHARS)]
    ids = [f"corpus-{i:04d}" for i in range(len(parts))]
    for i in range(0, len(parts), 50):
        batch = parts[i : i + 50]
        corpus.add(ids=ids[i : i + 50], documents=batch, embeddings=[NO_VECTOR] * len(batch))
    meta = {**prepared.meta_record(), "parts": len(parts)}
    corpus.add(ids=["meta"], documents=[json.dumps(meta)], embeddings=[NO_VECTOR])


def _switch(client: Any, url: str, name: str, print_fp: str, *, keep_seconds: float = 0.0) -> None:
    """Point the pointer record at build ``name``, then delete the builds nobody should still serve.

    Kept: ``name``, the previous build, any newer one (another host may still be writing it),
    and every complete build replaced less than ``keep_seconds`` ago (``index_keep_seconds``):
    a worker on another host may not have switched yet. A build was replaced when the next
    complete build was made (its name's time; the switch came after, so this errs towards
    deleting a little early, by one build's duration). A build with no corpus collection never
    served anyone and goes at once.
    """
    with reader(url) as server:
        previous = served(server, url)
    before = previous["build"] if previous else ""
    if before and _age(before) > _age(name):
        _drop(client, name)
        raise IndexBuildError(
            f"While this ingest ran, a later one ({before}) was switched in on the Chroma server "
            f"at {url}; it stays in service. Run 'assistant ingest' again to rebuild."
        )
    pointer = client.get_or_create_collection(POINTER, embedding_function=None)
    pointer.upsert(
        ids=["current"], embeddings=[NO_VECTOR], documents=[name],
        metadatas=[{"build": name, "fingerprint": print_fp}],
    )
    # The switch is done: failing to tidy up must not fail the ingest.
    with contextlib.suppress(Exception):
        names = [getattr(c, "name", c) for c in client.list_collections()]
        complete = {_build_of(n) for n in names if n.endswith(CORPUS_SUFFIX)}
        builds = sorted({b for n in names if (b := _build_of(n))}, key=_age, reverse=True)
        now = time.time_ns()
        replaced_at = now  # the newest complete build has not been replaced
        for build in builds:
            done = build in complete
            recent = (now - replaced_at) / 1e9 < keep_seconds
            if build not in (name, before) and _age(build) < _age(name) and not (done and recent):
                _drop(client, build)
            if done:
                replaced_at = _age(build)


def _build_of(collection: str) -> str | None:
    """The build a collection belongs to (``build-...``), or None if it is not one of ours."""
    if not collection.startswith(PREFIX + "build-"):
        return None
    return collection[len(PREFIX) :].removesuffix(CORPUS_SUFFIX)


def _age(build: str) -> int:
    """The creation time in a build's name (nanoseconds): larger is newer."""
    try:
        return int(build.rsplit("-", 1)[1])
    except (IndexError, ValueError):
        return 0


def _drop(client: Any, name: str) -> None:
    """Delete a build's collections, as far as they exist (best effort: used while failing)."""
    for collection in (PREFIX + name, PREFIX + name + CORPUS_SUFFIX):
        with contextlib.suppress(Exception):
            client.delete_collection(collection)


def load_index(url: str, embedder: Any, name: str | None = None) -> StoredIndex:
    """Open the build in service on the server (or the build ``name``), all from the server.

    Read over Chroma's HTTP API (``chroma_rest``): a serving worker never imports chromadb.
    """
    server = reader(url)
    try:
        pointer = served(server, url) if name is None else {"build": name}
        if pointer is None:
            raise IndexBuildError(
                f"The Chroma server at {url} holds no index yet. Run 'assistant ingest'."
            )
        name = pointer["build"]
        index = _read_build(server, url, name)
    except BaseException:
        server.close()
        raise
    index.closer = server.close
    return index


def _read_build(server: ChromaReader, url: str, name: str) -> StoredIndex:
    try:
        collection = server.collection(PREFIX + name)
        corpus = server.collection(PREFIX + name + CORPUS_SUFFIX)
        meta = json.loads(_records(corpus, ["meta"], "documents")["meta"])
        part_ids = [f"corpus-{i:04d}" for i in range(meta["parts"])]
        parts = _records(corpus, part_ids, "documents")
        data = json.loads("".join(parts[i] for i in part_ids))
        documents, texts, chunks = parse_corpus(data)
        chunk_ids = [c.id for c in chunks]
        bodies = _records(collection, chunk_ids, "documents")
        vectors = _records(collection, chunk_ids, "embeddings")
        chunk_vectors = np.asarray([vectors[c] for c in chunk_ids], dtype=np.float32)
        owners = np.asarray(data["owners"], dtype=np.int64).reshape(-1, 2)
        unit_ids = [unit_id(chunks[int(ci)].id, j) for j, (ci, _) in enumerate(owners)]
        units = _records(collection, unit_ids, "embeddings")
        unit_vectors = np.asarray([units[u] for u in unit_ids], dtype=np.float32)
        unit_vectors = unit_vectors.reshape(-1, chunk_vectors.shape[1])
        # The same texts the local build indexes for BM25, so the rankings are the same.
        bm25 = lexical.build([bodies[c] for c in chunk_ids])
    except (ChromaRestError, KeyError, IndexError, TypeError, ValueError) as exc:
        raise IndexBuildError(
            f"The index {name} on the Chroma server at {url} could not be read ({exc}). "
            "Run 'assistant ingest --rebuild'."
        ) from exc
    return StoredIndex(None, str(meta["fingerprint"]), documents, texts, chunks, collection, bm25, chunk_vectors,
                       unit_vectors, owners, name=name, location=f"{url} (collection {PREFIX + name})")


def _records(collection: Any, ids: list[str], field: str) -> dict[str, Any]:
    """``field`` ("documents" or "embeddings") of each record, by id; a missing id is a KeyError.

    Chroma returns records in its own order, so they are matched back by id.
    """
    found: dict[str, Any] = {}
    for i in range(0, len(ids), READ_BATCH):
        got = collection.get(ids=ids[i : i + READ_BATCH], include=[field])
        found.update(zip(got["ids"], got[field], strict=True))
    missing = [i for i in ids if i not in found]
    if missing:
        raise KeyError(f"{len(missing)} records missing, e.g. {missing[0]!r}")
    return found
