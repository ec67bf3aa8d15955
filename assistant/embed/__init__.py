"""Sentence embeddings, behind one ``Embedder`` seam.

``EMBEDDERS`` maps a runtime name to a factory taking the settings (it reads
``embedding_model``, and ``torch_threads`` for the local runtime); ``make_embedder(settings)``
builds the configured one. Adding a runtime (ONNX, a remote service) means one module
implementing ``Embedder`` and one entry here.

An embedder may also have a ``fingerprint``: a string that changes whenever its vectors would
(model, weights, normalisation, code). Ingest then keeps its vectors in the embedding cache
(``embed.cache``) and embeds only texts it has not seen; an embedder without one is not cached.
And it may have ``embed_bulk(texts)``: the vectors a build stores, which it may compute faster at a
lower precision (``embed.precision``); a build uses it where it exists, else ``embed_documents``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from assistant.config import Settings
from assistant.embed.cache import CACHE_FOLDER, EmbeddingCache, index_cache, model_fingerprint


@runtime_checkable
class Embedder(Protocol):
    """What indexing and search need of a model: normalised vectors and a token count."""

    name: str

    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...

    def count_tokens(self, text: str) -> int: ...


def _local(settings: Settings) -> Embedder:
    # Imported when first made: the runtime brings LangChain and torch, which a command
    # that never embeds (``assistant --help``, ``documents``) should not pay for.
    from assistant.embed.local import LocalEmbeddings

    return LocalEmbeddings(
        settings.embedding_model, threads=settings.torch_threads, ingest_threads=settings.ingest_threads,
        runtime=settings.embedding_runtime,
        cache_dir=settings.path(settings.model_cache_dir) if settings.model_cache_dir else None,
        query_cache=settings.query_cache_size, precision=settings.ingest_precision,
    )  # fmt: skip


EMBEDDERS: dict[str, Callable[[Settings], Embedder]] = {
    "local": _local,
}


def make_embedder(settings: Settings, runtime: str = "local") -> Embedder:
    """The embedder for ``settings.embedding_model`` (the bundled model by default), embedding
    queries with ``settings.torch_threads`` threads (1 when automatic)."""
    return EMBEDDERS[runtime](settings)


__all__ = [
    "CACHE_FOLDER",
    "EMBEDDERS",
    "Embedder",
    "EmbeddingCache",
    "index_cache",
    "make_embedder",
    "model_fingerprint",
]
