"""The embedding runtimes side by side: onnx (the default) against torch, in the same run.

Run: ``.venv/bin/python -m eval.runtime_bench [--rounds 3]`` (writes eval/reports/runtime.md and
runtime.json). Not a timed test. For each runtime, interleaved round by round:

- vectors: cosine between the two runtimes' vectors of every question and every corpus paragraph;
- a question's embedding (the query cache emptied each time), median and p95;
- a warm answer (``bot.ask`` on the evaluation questions), median and p95, on a quiet machine and
  with two CPU-bound processes running beside it (the busy leg);
- cold start: a fresh ``assistant ask`` process, from start to answer, with its peak RSS;
- a full ingest of the shipped corpus with the embedding cache off.
Ratios are onnx / torch; the absolute times are context (they depend on what else runs here:
the load average is recorded).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from .metrics import percentile
from .questions import load_cases

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
REPORTS = HERE / "reports"
RUNTIMES = ("onnx", "torch")
COLD_QUESTION = "how much is the uni bursary"


def _spin() -> None:  # a CPU-bound neighbour for the busy leg
    while True:
        pass


@contextmanager
def busy(neighbours: int) -> Iterator[None]:
    """``neighbours`` CPU-bound processes running beside the block (0: a quiet leg)."""
    spinners = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(neighbours)]
    for spinner in spinners:
        spinner.start()
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.terminate()


def _ms(times: list[float]) -> dict[str, float]:
    return {"median_ms": round(statistics.median(times), 1), "p95_ms": round(percentile(times, 95), 1)}


def paragraphs() -> list[str]:
    texts = []
    for path in sorted((ROOT / "corpus").glob("*")):
        if path.suffix in (".md", ".txt"):
            texts += [p.strip() for p in path.read_text(encoding="utf-8").split("\n\n") if len(p.strip()) > 20]
    return texts


def cold_start(runtime: str, index: Path) -> dict[str, float]:
    """A fresh process answering one question, timed from outside; its peak RSS from /proc."""
    env = {**os.environ, "ASSISTANT_EMBEDDING_RUNTIME": runtime, "ASSISTANT_INDEX_DIR": str(index),
           "ANONYMIZED_TELEMETRY": "False"}  # fmt: skip
    code = (
        "import sys\nfrom assistant.cli import main\n"
        f"try:\n    main(['ask', {COLD_QUESTION!r}])\nexcept SystemExit:\n    pass\n"
        "print([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1], file=sys.stderr)\n"
    )
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=True)  # fmt: skip
    seconds = time.perf_counter() - started
    rss_kb = int(done.stderr.strip().splitlines()[-1])
    return {"seconds": round(seconds, 2), "peak_rss_mb": round(rss_kb / 1024)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    from assistant import Assistant, load_settings
    from assistant.embed import make_embedder

    questions = [c.question for c in load_cases(HERE / "questions.yaml")]
    tmp = Path(tempfile.mkdtemp(prefix="runtime-bench-"))
    result: dict[str, Any] = {"cpus": os.cpu_count(), "load_average_before": os.getloadavg()[0], "rounds": args.rounds}
    try:
        settings = load_settings(index_dir=tmp / "index", embedding_cache_builds=0)
        embedders = {r: make_embedder(settings.model_copy(update={"embedding_runtime": r})) for r in RUNTIMES}
        assert {r: e.runtime for r, e in embedders.items()} == {r: r for r in RUNTIMES}
        texts = questions + paragraphs()
        a, b = (np.asarray(embedders[r].embed_documents(texts)) for r in RUNTIMES)
        cosines = np.sum(a * b, axis=1)
        result["vectors"] = {"texts": len(texts), "mean_cosine": round(float(cosines.mean()), 7),
                             "min_cosine": round(float(cosines.min()), 7)}  # fmt: skip

        ingest: dict[str, list[float]] = {r: [] for r in RUNTIMES}
        for _ in range(args.rounds):
            for r in RUNTIMES:
                shutil.rmtree(tmp / "index", ignore_errors=True)
                ingest[r].append(Assistant.ingest(settings, embedder=embedders[r]).seconds)
        result["ingest_cache_off_s"] = {r: round(statistics.median(v), 1) for r, v in ingest.items()}

        bots = {r: Assistant.load(settings, embedder=embedders[r]) for r in RUNTIMES}
        for leg, neighbours in (("quiet", 0), ("busy", 2)):
            with busy(neighbours):
                embed: dict[str, list[float]] = {r: [] for r in RUNTIMES}
                ask: dict[str, list[float]] = {r: [] for r in RUNTIMES}
                for _ in range(args.rounds):
                    for q in questions:
                        for r in RUNTIMES:
                            embedders[r]._cached_query.cache_clear()
                            t = time.perf_counter()
                            embedders[r].embed_query(q)
                            embed[r].append((time.perf_counter() - t) * 1000)
                            embedders[r]._cached_query.cache_clear()
                            t = time.perf_counter()
                            bots[r].ask(q)
                            ask[r].append((time.perf_counter() - t) * 1000)
            result[leg] = {"query_embedding": {r: _ms(v) for r, v in embed.items()},
                           "warm_ask": {r: _ms(v) for r, v in ask.items()}}  # fmt: skip
        result["cold_start"] = {r: [cold_start(r, tmp / "index") for _ in range(args.rounds)] for r in RUNTIMES}
        result["load_average_after"] = os.getloadavg()[0]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "runtime.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    (REPORTS / "runtime.md").write_text(render(result), encoding="utf-8")
    print(render(result))
    return 0


def render(r: dict[str, Any]) -> str:
    def ratio(a: float, b: float) -> str:
        return f"{a / b:.2f}×" if b else "–"

    lines = [
        "# Embedding runtimes: onnx (default) against torch, same run",
        "",
        f"{r['cpus']} cores; load average {r['load_average_before']:.1f} before, {r['load_average_after']:.1f} "
        f"after (other work was running). {r['rounds']} interleaved rounds. "
        "Reproduce: `.venv/bin/python -m eval.runtime_bench`.",
        "",
        f"Vectors: {r['vectors']['texts']} texts (questions and corpus paragraphs), cosine onnx·torch "
        f"mean {r['vectors']['mean_cosine']:.7f}, min {r['vectors']['min_cosine']:.7f}.",
        "",
        "| measure | onnx | torch | onnx / torch |",
        "|---|---|---|---|",
    ]
    for leg in ("quiet", "busy"):
        for what in ("query_embedding", "warm_ask"):
            o, t = r[leg][what]["onnx"], r[leg][what]["torch"]
            for stat in ("median_ms", "p95_ms"):
                lines.append(f"| {what.replace('_', ' ')} {stat[:-3]}, {leg} | {o[stat]} ms | {t[stat]} ms | "
                             f"{ratio(o[stat], t[stat])} |")  # fmt: skip
    o, t = r["ingest_cache_off_s"]["onnx"], r["ingest_cache_off_s"]["torch"]
    lines.append(f"| full ingest, cache off (median) | {o} s | {t} s | {ratio(o, t)} |")
    cold = {k: statistics.median(x["seconds"] for x in v) for k, v in r["cold_start"].items()}
    rss = {k: max(x["peak_rss_mb"] for x in v) for k, v in r["cold_start"].items()}
    lines.append(f"| cold start, `assistant ask` (median) | {cold['onnx']} s | {cold['torch']} s | "
                 f"{ratio(cold['onnx'], cold['torch'])} |")  # fmt: skip
    lines.append(f"| peak RSS of that process | {rss['onnx']} MB | {rss['torch']} MB | "
                 f"{ratio(rss['onnx'], rss['torch'])} |")  # fmt: skip
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
