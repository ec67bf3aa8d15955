"""Any ``Embedder`` as LangChain's ``Embeddings``, for the places LangChain is used.

The model itself (``embed.local``) is a plain class implementing the ``Embedder`` protocol:
subclassing LangChain's base brought ``langchain_core.runnables`` (0.4 s of imports) into every
process that answers a question, which never calls LangChain. Building an index through
LangChain's Chroma wrapper (``index.base.write_passages``) and the LangChain baseline
(``eval.baseline``) wrap it here.
"""

from __future__ import annotations

from typing import Any

from langchain_core.embeddings import Embeddings


class LangChainEmbeddings(Embeddings):
    """An ``Embedder`` seen through LangChain's interface; ``name`` and the rest pass through."""

    def __init__(self, embedder: Any) -> None:
        self.embedder = embedder
        self.name = getattr(embedder, "name", type(embedder).__name__)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed_query(text)

    def __getattr__(self, attribute: str) -> Any:  # count_tokens, fingerprint, ...
        return getattr(self.embedder, attribute)


def as_langchain(embedder: Any) -> Embeddings | None:
    """``embedder`` itself if it already is LangChain's ``Embeddings`` (or None: vectors given), else wrapped."""
    return embedder if embedder is None or isinstance(embedder, Embeddings) else LangChainEmbeddings(embedder)
