"""The plain BERT encoder run by onnxruntime: the same graph as ``BertMeanEncoder``, without torch.

Why: a question's embedding with torch cost ~2x onnxruntime's on this 2-core machine, and
importing torch is most of a cold start. The graph is exported once per model folder, from
``BertMeanEncoder.graph`` itself (so there is one definition of the model), into
``<model_cache_dir>/models/`` (by default the user's cache folder, ``user_cache``); later
processes load the file and never import torch.

An export is kept only if it gives torch's vectors: on ``CHECK_TEXTS`` (short, long past the
word-piece limit, empty, non-ASCII) every cosine must be at least ``MIN_COSINE``. If the export
or its check fails, ``load_onnx`` raises ``ExportError`` and the caller runs torch instead, saying
so in the log. The vectors agree to ~1e-6 (``tests/test_embeddings.py``), so an index built by
either runtime serves the other and the embedding cache is shared: both have the same fingerprint.

int8 (dynamic quantisation) was measured and not kept: mean cosine 0.992 against fp32, under the
0.995 the retrieval metrics need (``eval/runtime_bench.py``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from assistant.embed.bert import BertPieces
from assistant.errors import AssistantError

log = logging.getLogger("assistant.embed.onnx")

# Bump when the exported graph or its inputs change: older exports are then not used.
EXPORT_VERSION = "1"
OPSET = 17
MIN_COSINE = 0.9999
# A batch of at most this many texts runs on the question session. Answering embeds a few texts
# at a time (what changed sets a dozen statements side by side); a second session for them held
# a second copy of the weights and its own arena, ~110-130 MB more per server worker. A session's
# vectors do not depend on its threads (1 and 2 give the same bits), so only the time differs.
SMALL_BATCH = 16
CHECK_TEXTS = (
    "What money can I get for uni?",
    "EET",
    "",
    "Corporate Parenting Strategy 2025\u201328 \u2014 Measures of success\nBeing independent\t52%\t60%",
    "Caf\u00e9 na\u00efve \u2013 \u00a32,000 \u201csetting up home\u201d allowance \U0001f600",
    "Your personal adviser helps with housing, money, education and your pathway plan. " * 30,
)


class ExportError(AssistantError):
    """The model could not be exported to ONNX, or the export does not give torch's vectors."""


def user_cache() -> Path:
    """The folder exports go in unless ``model_cache_dir`` is set: the user's cache folder, so
    every checkout, worker and test on a machine shares one export of a model."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "care-leavers-assistant"


def export_file(cache_dir: Path, folder: Path) -> Path:
    """Where the export of the model in ``folder`` is kept: named by the folder's files (path,
    size, modification time: cheap to read at every start) and ``EXPORT_VERSION``."""
    key = hashlib.sha256(str(folder.resolve()).encode())
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        stat = path.stat()
        key.update(f"{path.relative_to(folder)}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    return cache_dir / "models" / f"bert-mean-{key.hexdigest()[:24]}-v{EXPORT_VERSION}.onnx"


def export(folder: Path, config: dict[str, Any], target: Path) -> None:
    """Export ``BertMeanEncoder.graph`` for the model in ``folder`` to ``target``, check it, and
    only then move it into place (so a half-written or wrong file is never loaded)."""
    import torch

    from assistant.embed.bert import BertMeanEncoder

    reference = BertMeanEncoder(folder, config)

    class Graph(torch.nn.Module):
        def forward(self, ids: Any, mask: Any) -> Any:
            return reference.graph(ids, mask)

    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=target.stem, suffix=".part", dir=target.parent)
    os.close(handle)
    part = Path(name)
    try:
        ids = torch.ones((2, 8), dtype=torch.long)
        mask = torch.ones((2, 8), dtype=torch.bool)
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notices
            torch.onnx.export(
                Graph(), (ids, mask), str(part), input_names=["ids", "mask"], output_names=["vectors"],
                dynamic_axes={"ids": {0: "batch", 1: "width"}, "mask": {0: "batch", 1: "width"},
                              "vectors": {0: "batch"}},
                opset_version=OPSET, dynamo=False,
            )  # fmt: skip
        candidate = OnnxBertEncoder(folder, config, part)
        worst = _worst_cosine(candidate.encode(list(CHECK_TEXTS), 4), reference.encode(list(CHECK_TEXTS), 4))
        if worst < MIN_COSINE:
            raise ExportError(f"the ONNX export of {folder} gives other vectors than torch (cosine {worst:.6f})")
        os.replace(part, target)
        log.info("Exported the embedding model to %s (worst cosine against torch %.7f)", target, worst)
    except ExportError:
        raise
    except Exception as exc:  # the exporter's and onnxruntime's many errors
        raise ExportError(f"could not export {folder} to ONNX: {exc}") from exc
    finally:
        part.unlink(missing_ok=True)


def _worst_cosine(a: np.ndarray, b: np.ndarray) -> float:
    """The lowest cosine between matching rows (an empty text's vector counts by its own norm)."""
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    return float(np.min(np.sum(a * b, axis=1) / np.maximum(norms, 1e-12)))


class OnnxBertEncoder(BertPieces):
    """``BertMeanEncoder``'s graph in onnxruntime: one session for questions (``query_threads``)
    and, made when first needed, one for batches of more than ``SMALL_BATCH`` documents
    (``batch_threads``: an ingest, the safeguarding bank); smaller batches use the first."""

    uses_torch = False

    def __init__(
        self, folder: Path, config: dict[str, Any], file: Path, *, query_threads: int = 1, batch_threads: int = 1
    ) -> None:
        super().__init__(folder, config, query_threads=query_threads, batch_threads=batch_threads)
        self.file = file
        self._sessions: dict[int, Any] = {}
        self._session(query_threads)

    def _session(self, threads: int) -> Any:
        session = self._sessions.get(threads)
        if session is None:
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            # Threads that wait by spinning hold a core other work needs (a busy server).
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            options.log_severity_level = 3
            session = ort.InferenceSession(str(self.file), options, providers=["CPUExecutionProvider"])
            self._sessions[threads] = session
        return session

    @property
    def sessions(self) -> int:
        """How many onnxruntime sessions (copies of the weights) this encoder holds."""
        return len(self._sessions)

    def encode(self, texts: list[str], batch_size: int, *, batch: bool = True) -> np.ndarray:
        return super().encode(texts, batch_size, batch=batch and len(texts) > SMALL_BATCH)

    def _run(self, ids: np.ndarray, mask: np.ndarray, *, batch: bool) -> np.ndarray:
        session = self._session(self.batch_threads if batch else self.query_threads)
        return np.asarray(session.run(["vectors"], {"ids": ids, "mask": mask})[0], dtype=np.float32)


def load_onnx(
    folder: Path, config: dict[str, Any], cache_dir: Path, *, query_threads: int, batch_threads: int
) -> OnnxBertEncoder:
    """The model in ``folder`` under onnxruntime, exporting it first if it has not been (the first
    start takes a few seconds more). Raises ``ExportError`` if that cannot be done here."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError as exc:
        raise ExportError("onnxruntime is not installed") from exc
    file = export_file(cache_dir, folder)
    if not file.is_file():
        export(folder, config, file)
    try:
        return OnnxBertEncoder(folder, config, file, query_threads=query_threads, batch_threads=batch_threads)
    except Exception as exc:  # a damaged file: export again once
        log.warning("The ONNX export %s could not be loaded (%s); exporting it again", file, exc)
        file.unlink(missing_ok=True)
        export(folder, config, file)
        return OnnxBertEncoder(folder, config, file, query_threads=query_threads, batch_threads=batch_threads)
