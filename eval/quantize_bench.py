"""int8 variants of the bundled model's onnx export beside fp32, in one run: speed and vectors.

Run: ``.venv/bin/python -m eval.quantize_bench`` (writes eval/reports/quantize.md). Not a test, and
nothing here is used by the assistant: it measures which dynamic int8 quantisation
(onnxruntime.quantization, per-channel weights) keeps the vectors (mean cosine against fp32 at
least 0.995, issue #17) and how much faster it embeds every corpus paragraph and evaluation
question, in batches of 32 on every core. Layers are told apart by their weight shapes
(hidden x hidden: attention projections; hidden x 4 hidden: the feed-forward input; 4 hidden x
hidden: its output).
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from .questions import load_cases
from .runtime_bench import paragraphs

HERE = Path(__file__).resolve().parent
REPORTS = HERE / "reports"
MIN_MEAN_COSINE = 0.995
ROUNDS = 3


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def main() -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from assistant.config import load_settings
    from assistant.embed import make_embedder
    from assistant.embed.onnx import OnnxBertEncoder
    from assistant.embed.threads import available_cpus

    model = make_embedder(load_settings())._model  # type: ignore[attr-defined]
    if not isinstance(model, OnnxBertEncoder):
        raise SystemExit("The bundled model is not running in onnx here (embedding_runtime), nothing to compare.")
    config = {"max_seq_length": model.max_seq_length, "num_attention_heads": model.heads,
              "hidden_size": model.hidden, "num_hidden_layers": model.layers, "layer_norm_eps": model.eps}
    texts = paragraphs() + [c.question for c in load_cases(HERE / "questions.yaml")]
    threads = available_cpus() or 1

    def run(file: Path) -> tuple[np.ndarray, float]:
        encoder = OnnxBertEncoder(model.folder, config, file, query_threads=threads, batch_threads=threads)
        encoder.encode(texts[:8], 8)  # warm up
        start = time.perf_counter()
        vectors = encoder.encode(texts, 32)
        return vectors, time.perf_counter() - start

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="quantize-") as name:
        tmp = Path(name)
        pre = tmp / "pre.onnx"
        quant_pre_process(str(model.file), str(pre), skip_symbolic_shape=True)  # folds the weights' transposes
        graph = onnx.load(str(pre))
        weights = {i.name: tuple(i.dims) for i in graph.graph.initializer}
        shapes = {n.name: next((weights[x] for x in n.input if x in weights), None)
                  for n in graph.graph.node if n.op_type == "MatMul"}
        hidden = model.hidden

        def layers(*kinds: tuple[int, int]) -> list[str]:
            return [n for n, s in shapes.items() if s in kinds]

        variants = {
            "int8, every weight": [],
            "int8, feed-forward output kept fp32": layers((4 * hidden, hidden)),
            "int8, feed-forward input kept fp32": layers((hidden, 4 * hidden)),
            "int8, attention projections kept fp32": layers((hidden, hidden)),
            "int8, feed-forward kept fp32": layers((4 * hidden, hidden), (hidden, 4 * hidden)),
        }
        files = {"fp32 (the export in use)": model.file}
        for number, (label, kept) in enumerate(variants.items()):
            files[label] = tmp / f"int8-{number}.onnx"
            quantize_dynamic(str(pre), str(files[label]), per_channel=True, weight_type=QuantType.QInt8,
                             nodes_to_exclude=kept, extra_options={"MatMulConstBOnly": True})
        times: dict[str, list[float]] = {label: [] for label in files}
        vectors: dict[str, np.ndarray] = {}
        for _round in range(ROUNDS):  # interleaved, so other load falls on every variant alike
            for label, file in files.items():
                vectors[label], seconds = run(file)
                times[label].append(seconds)
        reference = vectors["fp32 (the export in use)"]
        for label in files:
            cos = _cosines(vectors[label], reference)
            rows.append({"variant": label, "seconds": float(np.median(times[label])), "mean": float(cos.mean()),
                         "min": float(cos.min())})
    fp32_seconds = rows[0]["seconds"]
    lines = [
        "# int8 variants of the embedding model beside fp32",
        "",
        f"Generated {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} CPUs (load average "
        f"{[round(x, 2) for x in os.getloadavg()]}); `.venv/bin/python -m eval.quantize_bench`. {len(texts)} texts "
        f"(every corpus paragraph and evaluation question), batches of 32, {threads} threads, median of {ROUNDS} "
        f"interleaved rounds. Kept: mean cosine "
        f"against fp32 at least {MIN_MEAN_COSINE}. Nothing here is used by the assistant yet.",
        "",
        "| variant | seconds | faster than fp32 | mean cosine | lowest cosine | kept? |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        kept = "—" if r["variant"].startswith("fp32") else ("yes" if r["mean"] >= MIN_MEAN_COSINE else "no")
        lines.append(f"| {r['variant']} | {r['seconds']:.2f} | {fp32_seconds / r['seconds']:.2f}× | {r['mean']:.4f} | "
                     f"{r['min']:.4f} | {kept} |")
    REPORTS.mkdir(parents=True, exist_ok=True)
    (REPORTS / "quantize.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
