"""A plain BERT encoder with mean pooling (all-MiniLM-L6-v2 and its kin), run without
sentence-transformers: ``tokenizers`` reads ``tokenizer.json``, ``safetensors`` the weights, and
:class:`BertMeanEncoder` is the BERT forward pass in a few lines of torch (``embed.onnx`` runs
the same graph with onnxruntime). See ``embed.local`` for why.
"""

from __future__ import annotations

import hashlib
import json
import math
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np

from assistant.embed.threads import threads_for_batch, use_torch_threads

Backend = Literal["bert-mean", "sentence-transformers"]


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


class BertPieces:
    """What both ways of running a plain BERT share: its tokenizer and length-sorted batches.

    Texts are tokenised with the model's own ``tokenizer.json`` and truncated to
    ``max_seq_length`` word pieces, like sentence-transformers does; batches are sorted by length
    and padded, and ``_run`` turns one batch (ids and mask as numpy arrays) into unit vectors.
    """

    backend: Backend = "bert-mean"
    uses_torch = True

    def __init__(self, folder: Path, config: dict[str, Any], *, query_threads: int = 1, batch_threads: int = 1) -> None:
        from tokenizers import Tokenizer

        self.folder = folder
        self.max_seq_length: int = config["max_seq_length"]
        self.heads: int = config["num_attention_heads"]
        self.hidden: int = config["hidden_size"]
        self.layers: int = config["num_hidden_layers"]
        self.eps: float = config.get("layer_norm_eps", 1e-12)
        self.query_threads = query_threads
        self.batch_threads = batch_threads
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_seq_length)

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

    def encode(self, texts: list[str], batch_size: int, *, batch: bool = True) -> np.ndarray:
        """Unit vectors for ``texts``, in order; ``batch`` says whether this is a batch of
        documents (``batch_threads``) or a question.

        Only texts of the same length in word pieces share a batch, so none is padded. A text's
        vector is then the same whatever it is embedded with: padded to another width, bf16's
        rounding moved it by up to ~0.002, and two builds of one corpus (one reusing cached
        vectors) answered 3 of 1,720 questions differently. And no work goes to padding: in the
        benchmark a full ingest in fp32 took 7.75 s, 12.62 s before (bf16: 6.52 s, 7.24 s before;
        separate runs, ``eval/reports/bench.md``).
        """
        pieces = [e.ids for e in self.tokenizer.encode_batch(texts)]
        by_length: dict[int, list[int]] = {}
        for i in sorted(range(len(texts)), key=lambda i: -len(pieces[i])):
            by_length.setdefault(len(pieces[i]), []).append(i)
        out = np.zeros((len(texts), self.hidden), dtype=np.float32)
        for same in by_length.values():
            for start in range(0, len(same), batch_size):
                rows = same[start : start + batch_size]
                ids = np.asarray([pieces[i] for i in rows], dtype=np.int64)
                out[rows] = self._run(ids, np.ones(ids.shape, dtype=np.bool_), batch=batch)
        return out

    def _run(self, ids: np.ndarray, mask: np.ndarray, *, batch: bool) -> np.ndarray:
        raise NotImplementedError


class BertMeanEncoder(BertPieces):
    """A BERT encoder, mean pooling and L2 normalisation, as sentence-transformers computes them,
    in torch.

    Only ``torch``, ``tokenizers`` and ``safetensors`` are imported (see the module docstring).
    The layers are ``transformers``' ``BertModel`` (embeddings, self-attention, exact GELU
    feed-forward, post-norm), whose weights keep their names. ``precision="bf16"`` keeps the
    weights in bf16 (``embed.precision``: an ingest's documents, where the CPU computes it natively).
    """

    def __init__(
        self, folder: Path, config: dict[str, Any], *, query_threads: int = 1, batch_threads: int = 1,
        precision: Literal["fp32", "bf16"] = "fp32",
    ) -> None:
        from safetensors.torch import load_file

        super().__init__(folder, config, query_threads=query_threads, batch_threads=batch_threads)
        self.weights: dict[str, Any] = load_file(str(folder / "model.safetensors"))
        self.precision = precision
        if precision == "bf16":  # the weights in bf16; pooling and normalising stay in fp32 (``graph``)
            import torch

            self.weights = {name: tensor.to(torch.bfloat16) for name, tensor in self.weights.items()}
        use_torch_threads(query_threads)

    def _run(self, ids: np.ndarray, mask: np.ndarray, *, batch: bool) -> np.ndarray:
        import torch

        if not batch:  # this thread may have started torch with another count
            use_torch_threads(self.query_threads)
            return self._forward(torch.from_numpy(ids), torch.from_numpy(mask)).numpy()
        with threads_for_batch(self.batch_threads):
            return self._forward(torch.from_numpy(ids), torch.from_numpy(mask)).numpy()

    def _forward(self, ids: Any, mask: Any) -> Any:
        import torch

        with torch.inference_mode():
            return self.graph(ids, mask)

    def graph(self, ids: Any, mask: Any) -> Any:
        """BertModel's last hidden state, mean-pooled over real tokens and normalised (the graph
        ``embed.onnx`` exports)."""
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
        if x.dtype != torch.float32:  # bf16 weights (``precision``): pool and normalise in fp32
            x = x.float()
        keep = mask[:, :, None].to(x.dtype)
        pooled = (x * keep).sum(dim=1) / keep.sum(dim=1).clamp(min=1e-9)
        return F.normalize(pooled, p=2, dim=1)
