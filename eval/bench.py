"""Benchmark: ingest time, Assistant.load() with an existing index, warm search and ask latency.

Run: ``.venv/bin/python -m eval.bench`` (writes eval/reports/bench.md). Not a timed test.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from assistant import Assistant, load_settings
from assistant.embeddings import LocalEmbeddings

from .metrics import percentile
from .questions import load_cases

HERE = Path(__file__).resolve().parent


def main() -> None:
    cases = load_cases(HERE / "questions.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(index_dir=Path(tmp) / "index")
        started = time.perf_counter()
        embedder = LocalEmbeddings(settings.embedding_model)
        model_seconds = time.perf_counter() - started
        report = Assistant.ingest(settings, embedder=embedder)
        load_started = time.perf_counter()
        bot = Assistant.load(settings, embedder=embedder)
        load_seconds = time.perf_counter() - load_started
        questions = [c.question for c in cases]
        for q in questions[:20]:  # warm-up
            bot.search(q)
        search_ms, ask_ms = [], []
        for q in questions:
            bot.embedder._cached_query.cache_clear()
            t = time.perf_counter()
            bot.search(q)
            search_ms.append((time.perf_counter() - t) * 1000)
        for case in cases:
            bot.embedder._cached_query.cache_clear()
            t = time.perf_counter()
            bot.ask(case.question, audience=case.audience)
            ask_ms.append((time.perf_counter() - t) * 1000)
    lines = [
        "# Benchmark",
        "",
        f"Generated {time.strftime('%Y-%m-%d %H:%M')} on this machine; `.venv/bin/python -m eval.bench`.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| model load (once per process) | {model_seconds:.2f} s |",
        f"| full ingest ({report.documents} documents, {report.chunks} passages) | {report.seconds:.2f} s |",
        f"| Assistant.load() with an existing index (model already loaded) | {load_seconds:.2f} s |",
        f"| warm search, median / p95 ({len(search_ms)} questions, query cache cleared) | "
        f"{statistics.median(search_ms):.1f} / {percentile(search_ms, 95):.1f} ms |",
        f"| warm ask, median / p95 | {statistics.median(ask_ms):.1f} / {percentile(ask_ms, 95):.1f} ms |",
        "",
    ]
    (HERE / "reports").mkdir(exist_ok=True)
    (HERE / "reports" / "bench.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
