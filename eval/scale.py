"""Scale run: ingest and query synthetic corpora of N× the real one (many councils' documents).

Run: ``.venv/bin/python -m eval.scale --sizes 1 10 100`` (adds a section to
eval/reports/bench.md and bench.json). Not a test.

Size N× is the real corpus plus N−1 synthetic councils. Each synthetic council gets
every real document with its name in place of Lewisham's, and its figures and years
varied deterministically (``random.Random`` seeded per council), so the documents
keep the real structure (headings, tables, lists) while no two councils say the
same numbers. Each size runs in its own worker process, so its peak memory
(``ru_maxrss``) is its own; the worker builds the index in a temporary folder via
``load_settings(corpus_dir=..., index_dir=...)`` and ``Assistant.ingest``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .bench import uncached_ms
from .metrics import percentile

HERE = Path(__file__).resolve().parent
DEFAULT_SEED = 20251122
# Fake but plausible English place names: 22 × 12 = 264 councils, enough for 100×+.
_ROOTS = ["Ash", "Bram", "Carr", "Dun", "Elm", "Fern", "Glen", "Hal", "Iver", "Kings", "Lang", "Mar",
          "Nor", "Oak", "Pen", "Quen", "Ris", "Stan", "Thorn", "Ux", "Wey", "Yar"]
_ENDINGS = ["ford", "ley", "ham", "bury", "wick", "ton", "field", "mouth", "worth", "stead", "borough", "dale"]
# A year range such as 2025-28, 2021–2024 or 2025/28; a lone year; any other figure.
_FIGURES = re.compile(
    r"(?P<range>\b(?:19|20)\d\d(?P<sep>\s?[-–/]\s?)(?:(?:19|20)\d\d|\d\d)\b)"
    r"|(?P<year>\b(?:19[89]\d|20[0-4]\d)\b)"
    r"|(?P<num>\d+)"
)


def council_names(count: int, seed: int) -> list[str]:
    """``count`` distinct council names, in a seeded order."""
    names = [root + ending for root in _ROOTS for ending in _ENDINGS]
    if count > len(names):  # beyond 264 councils, number them
        names += [f"{n} {i}" for i in range(2, count // len(names) + 2) for n in names]
    random.Random(seed).shuffle(names)
    return names[:count]


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def vary(text: str, name: str, rng: random.Random, year_shift: int) -> str:
    """The same text for another council: its name, years shifted, every other figure redrawn.

    Figures keep their number of digits (and a leading zero, as in phone numbers), so
    tables, lists, money and dates keep their shape.
    """

    def year(value: int) -> int:
        return value + year_shift

    def figure(match: re.Match[str]) -> str:
        if match["range"]:
            first, second = re.split(r"\s?[-–/]\s?", match["range"])
            shifted = year(int(first))
            end = year(int(second)) if len(second) == 4 else (int(second) + year_shift) % 100
            return f"{shifted}{match['sep']}{end:0{len(second)}d}"
        if match["year"]:
            return str(year(int(match["year"])))
        digits = match["num"]
        if digits[0] == "0" or len(digits) > 4:  # phone numbers, codes: redraw the digits
            return digits[0] + "".join(str(rng.randint(0, 9)) for _ in digits[1:])
        # A count, amount or percentage: within ±50%, same number of digits.
        low, high = 10 ** (len(digits) - 1) if len(digits) > 1 else 1, 10 ** len(digits) - 1
        return str(min(high, max(low, round(int(digits) * rng.uniform(0.5, 1.5)))))

    text = _FIGURES.sub(figure, text)
    text = text.replace("LEWISHAM", name.upper()).replace("Lewisham", name)
    return text.replace("lewisham", slug(name).replace("-", ""))


def _toml(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string or int is valid TOML


def make_corpus(source: Path, target: Path, size: int, seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """Write the N× corpus (the real documents + N−1 councils) with its manifest into ``target``."""
    from assistant.ingest.corpus import MANIFEST, read_manifest

    target.mkdir(parents=True, exist_ok=True)
    metas = read_manifest(source)
    for extra in ("glossary.toml",):
        if (source / extra).exists():
            shutil.copy2(source / extra, target / extra)
    entries: list[dict[str, Any]] = []
    for meta in metas:
        shutil.copy2(source / meta.file, target / meta.file)
        entries.append({k: v for k, v in asdict(meta).items() if v is not None})
    for number, name in enumerate(council_names(size - 1, seed), 1):
        rng = random.Random(f"{seed}:{number}:{name}")
        shift = rng.randint(-4, 3)
        prefix = slug(name)
        for meta in metas:
            raw = (source / meta.file).read_text(encoding="utf-8")
            file = f"{prefix}--{meta.file.replace('lewisham-', '')}"
            (target / file).write_text(vary(raw, name, rng, shift), encoding="utf-8")
            entry = {
                "id": f"{prefix}-{meta.id}"[:63].rstrip("-"),
                "title": f"{name}: " + vary(meta.title, name, rng, shift),
                "publisher": vary(meta.publisher, name, rng, shift).replace("London Borough of", "Council of"),
                "published": meta.published + shift,
                "period": vary(meta.period, name, rng, shift),
                "status": meta.status,
                "kind": meta.kind,
                "source_url": meta.source_url.replace("lewisham", prefix),
                "file": file,
            }
            if meta.superseded_by:
                entry["superseded_by"] = f"{prefix}-{meta.superseded_by}"[:63].rstrip("-")
            entries.append(entry)
    lines = ["# Synthetic corpus written by eval/scale.py", ""]
    for entry in entries:
        lines.append("[[documents]]")
        lines += [f"{key} = {_toml(value)}" for key, value in entry.items()]
        lines.append("")
    (target / MANIFEST).write_text("\n".join(lines), encoding="utf-8")
    size_bytes = sum(p.stat().st_size for p in target.iterdir() if p.is_file() and p.name != MANIFEST)
    return {"documents": len(entries), "bytes": size_bytes}


def disk_usage(folder: Path) -> int:
    """Bytes allocated on disk under ``folder``, like ``du`` (sparse files count what they use)."""
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
    return total


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _current_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def worker(size: int, seed: int, latency_questions: int, quality: bool) -> dict[str, Any]:
    """One size, in this process: generate, ingest (with progress), load, query, measure."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from assistant import Assistant, load_settings
    from assistant.embed import make_embedder

    from .harness import evaluate_assistant, summarise
    from .questions import load_cases

    with tempfile.TemporaryDirectory(prefix=f"scale-{size}x-") as tmp:
        corpus = Path(tmp) / "corpus"
        started = time.perf_counter()
        made = make_corpus(HERE.parent / "corpus", corpus, size, seed)
        generate_s = time.perf_counter() - started
        settings = load_settings(corpus_dir=corpus, index_dir=Path(tmp) / "index")
        embedder = make_embedder(settings)
        rss_model = _current_rss_mb()
        with Progress(TextColumn(f"{size}×"), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn()) as bar:
            tasks: dict[str, Any] = {}

            def progress(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(stage, total=max(total, 1))
                bar.update(tasks[stage], completed=done, total=max(total, 1))

            report = Assistant.ingest(settings, embedder=embedder, progress=progress)
        peak_ingest = _peak_rss_mb()
        index_mb = disk_usage(report.folder) / 2**20
        t = time.perf_counter()
        bot = Assistant.load(settings, embedder=embedder)
        load_s = time.perf_counter() - t
        cases = load_cases(HERE / "questions.yaml")
        step = max(1, len(cases) // max(1, latency_questions))
        timed = cases[::step][:latency_questions]
        for case in timed[:10]:  # warm-up
            bot.search(case.question)
        search_ms = uncached_ms(bot, [lambda c=c: bot.search(c.question) for c in timed])
        ask_ms = uncached_ms(bot, [lambda c=c: bot.ask(c.question, audience=c.audience) for c in timed])
        result: dict[str, Any] = {
            "size": size,
            "documents": report.documents,
            "corpus_mb": round(made["bytes"] / 2**20, 2),
            "chunks": report.chunks,
            "vectors": bot.index.entries,
            "generate_s": round(generate_s, 2),
            "ingest_s": round(report.seconds, 2),
            "index_mb": round(index_mb, 1),
            "rss_after_model_mb": round(rss_model),
            "peak_rss_ingest_mb": round(peak_ingest),
            "load_s": round(load_s, 2),
            "search_ms": {"median": round(statistics.median(search_ms), 1), "p95": round(percentile(search_ms, 95), 1)},
            "ask_ms": {"median": round(statistics.median(ask_ms), 1), "p95": round(percentile(ask_ms, 95), 1)},
        }
        if quality:  # the real questions against the real council's documents, now among look-alikes
            summary = summarise(evaluate_assistant(bot, cases))
            result["recall@5"] = summary["recall@5"]
            result["status_accuracy"] = summary["status_accuracy"]
        result["peak_rss_mb"] = round(_peak_rss_mb())
        return result


def _stored_runs(folder: Path, seed: int) -> list[dict[str, Any]]:
    try:
        scale = json.loads((folder / "bench.json").read_text(encoding="utf-8")).get("scale") or {}
    except (OSError, ValueError):
        return []
    return list(scale.get("runs", [])) if scale.get("seed") == seed else []


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m eval.scale", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10], help="corpus multiples (default: 1 10)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--latency-questions", type=int, default=100,
                        help="evaluation questions timed at each size (default: 100)")
    parser.add_argument("--no-quality", action="store_true",
                        help="skip the full question set (recall@5, status accuracy) at each size")
    parser.add_argument("--max-minutes", type=float,
                        help="skip a size whose ingest, extrapolated linearly from the previous size, "
                             "would take longer than this")
    parser.add_argument("--reports", type=Path, default=HERE / "reports")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if any(s < 1 for s in args.sizes):
        parser.error("--sizes must be whole numbers of at least 1")
    if args.worker:
        result = worker(args.worker, args.seed, args.latency_questions, not args.no_quality)
        args.out.write_text(json.dumps(result), encoding="utf-8")
        return

    from .bench import update_report

    # Earlier results for other sizes (same seed) are kept, so sizes can be run one at a time.
    earlier = _stored_runs(args.reports, args.seed)
    runs: list[dict[str, Any]] = []
    failed: list[str] = []
    for size in args.sizes:
        known = [r for r in runs + earlier if r["size"] < size]
        if args.max_minutes and known:
            last = max(known, key=lambda r: r["size"])
            estimate = last["ingest_s"] * size / last["size"] / 60
            if estimate > args.max_minutes:
                failed.append(f"{size}× skipped: its ingest would take about {estimate:.0f} min (extrapolated "
                              f"from {last['size']}×), over --max-minutes {args.max_minutes:g}")
                print(failed[-1], flush=True)
                continue
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "result.json"
            command = [sys.executable, "-m", "eval.scale", "--worker", str(size), "--out", str(out),
                       "--seed", str(args.seed), "--latency-questions", str(args.latency_questions)]
            if args.no_quality:
                command.append("--no-quality")
            started = time.perf_counter()
            done = subprocess.run(command, cwd=HERE.parent, check=False)
            if done.returncode != 0 or not out.exists():
                failed.append(f"{size}× (worker exit code {done.returncode})")
                continue
            result = json.loads(out.read_text(encoding="utf-8"))
            result["wall_s"] = round(time.perf_counter() - started, 1)
            result["generated"] = time.strftime("%Y-%m-%d %H:%M")
            result["load_average"] = [round(x, 2) for x in os.getloadavg()]
            runs.append(result)
            print(json.dumps(result), flush=True)
    fresh = {r["size"] for r in runs}
    runs = sorted([r for r in earlier if r["size"] not in fresh] + runs, key=lambda r: r["size"])
    data = {
        "generated": time.strftime("%Y-%m-%d %H:%M"),
        "sizes": [r["size"] for r in runs],
        "seed": args.seed,
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "memory_method": "resource.getrusage ru_maxrss; psutil is not installed",
        "latency_questions": args.latency_questions,
        "runs": runs,
        "not_run": "; ".join(failed) if failed else None,
    }
    path = update_report("scale", data, args.reports)
    print(path.read_text(encoding="utf-8"))
    if any("exit code" in f for f in failed):
        sys.exit(1)


if __name__ == "__main__":
    main()
