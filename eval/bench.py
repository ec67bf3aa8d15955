"""Benchmark: ingest, load, warm search/ask, cold start, and throughput under concurrent callers.

Run: ``.venv/bin/python -m eval.bench`` (writes eval/reports/bench.md and bench.json).
``python -m eval.scale`` adds its own section to the same files. Not a timed test.

- Ingest, side by side in one run: a full ingest of the shipped corpus with the embedding cache
  off, with an empty (cold) cache and with a warm one (a rebuild with nothing changed), and the
  staff page's add-a-document (``assistant.admin.add_document``, a real second council's Local
  Offer) with the cache off and warm. With ``--before REV`` the code of commit REV (the
  previous path) does the same full ingest and add, in a child process, in the same run. Each
  row is a ratio to its baseline (the previous code if measured, else the cache off), with the
  seconds as context.

- Cold start: a fresh ``python -c`` process that imports the assistant, loads the
  (already built) index and answers one question, timed from outside until the answer
  is printed; the child also reports its own import / load / ask split.
- Serve memory: ``assistant serve --workers 2`` on a free port of 127.0.0.1 answers 100 questions
  through ``POST /api/chat``; each worker's resident memory (now and peak) is read from /proc.
- Throughput: N threads call ``bot.ask`` on the evaluation questions; requests/s and
  per-request p50/p95 latency. The machine's cores bound it (``os.cpu_count()`` is
  recorded with the result).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .metrics import percentile
from .questions import Case, load_cases

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
REPORTS = HERE / "reports"
# The document the add-a-document rows add: a real council's Local Offer, from the second-council set.
ADDED = ROOT / "examples" / "lancashire" / "corpus" / "lancashire-local-offer.md"
COLD_QUESTION = "how much is the uni bursary"

# The child of the cold-start measure. It prints one JSON line once it has its answer.
_COLD_CHILD = """
import json, time
t0 = time.perf_counter()
from assistant import Assistant
t1 = time.perf_counter()
bot = Assistant.load()
t2 = time.perf_counter()
reply = bot.ask({question!r})
t3 = time.perf_counter()
print(json.dumps({{"import_s": t1 - t0, "load_s": t2 - t1, "ask_s": t3 - t2, "status": reply.status}}), flush=True)
"""



def uncached_ms(bot: Any, calls: list[Callable[[], Any]]) -> list[float]:
    """Milliseconds each call took with the query-embedding cache emptied first (a fresh question)."""
    times = []
    for call in calls:
        bot.embedder._cached_query.cache_clear()
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return times

# The previous code's full ingest and add-a-document, in a child run from that code's folder.
_BEFORE_CHILD = """
import json, sys, time
from pathlib import Path
from assistant import Assistant, load_settings
from assistant.admin import add_document
from assistant.embed.local import LocalEmbeddings
corpus, index, fields = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
settings = load_settings(corpus_dir=corpus, index_dir=index)
embedder = LocalEmbeddings(settings.embedding_model)
full = Assistant.ingest(settings, embedder=embedder).seconds
data = Path(sys.argv[4]).read_bytes()
t = time.perf_counter()
add_document(settings, Path(sys.argv[4]).name, data, fields, embedder=embedder)
print(json.dumps({"full_s": full, "add_s": time.perf_counter() - t}), flush=True)
"""


def added_fields() -> dict[str, Any]:
    """The manifest fields of the document the add rows add (its own manifest's, with a new id)."""
    manifest = tomllib.loads((ADDED.parent / "manifest.toml").read_text(encoding="utf-8"))
    entry = next(d for d in manifest["documents"] if d["file"] == ADDED.name)
    fields = {k: v for k, v in entry.items() if k != "file"}
    return {**fields, "id": "lancashire-local-offer"}


def previous_code(rev: str, folder: Path) -> Path:
    """The ``assistant`` package as it was at commit ``rev``, extracted into ``folder``."""
    done = subprocess.run(["git", "archive", "--format=tar", rev, "assistant"], cwd=ROOT,
                          capture_output=True, check=True)  # fmt: skip
    with tarfile.open(fileobj=io.BytesIO(done.stdout)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def before_leg(code: Path, tmp: Path, fields: dict[str, Any]) -> dict[str, float]:
    corpus = _corpus_copy(tmp / "before-corpus")
    env = {**os.environ, "PYTHONPATH": str(code), "ANONYMIZED_TELEMETRY": "False"}
    env.pop("ASSISTANT_PROFILE", None)
    done = subprocess.run(
        [sys.executable, "-c", _BEFORE_CHILD, str(corpus), str(tmp / "before-index"), json.dumps(fields),
         str(ADDED)],
        cwd=code, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    shutil.rmtree(corpus.parent, ignore_errors=True)
    shutil.rmtree(tmp / "before-index", ignore_errors=True)
    if done.returncode != 0:
        raise RuntimeError(f"the previous code's ingest failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _corpus_copy(folder: Path) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(ROOT / "corpus", folder / "corpus")
    return folder / "corpus"


def ingest_leg(embedder: Any, fp32: Any, tmp: Path, fields: dict[str, Any]) -> dict[str, Any]:
    """One round of the in-process arms: full ingest with the cache off, cold, warm; add, off and
    warm; and, where the build's documents are embedded in bf16, the cold full ingest and the warm
    add with the same settings but ``ingest_precision = "fp32"`` (the ``fp32`` embedder)."""
    from assistant import Assistant, load_settings
    from assistant.admin import add_document

    data = ADDED.read_bytes()
    out: dict[str, Any] = {}
    # (arm, cache builds kept, embedder, its full ingest's key, its add's key)
    arms = [("off", 0, embedder, "full_off_s", "add_off_s"), ("cache", 3, embedder, "full_cold_s", "add_warm_s")]
    if fp32 is not None:
        arms.insert(1, ("fp32", 3, fp32, "full_fp32_s", "add_fp32_s"))
    for arm, builds, model, full_key, add_key in arms:
        corpus = _corpus_copy(tmp / f"{arm}-corpus")
        index = tmp / f"{arm}-index"
        shutil.rmtree(index, ignore_errors=True)
        settings = load_settings(corpus_dir=corpus, index_dir=index, embedding_cache_builds=builds)
        report = Assistant.ingest(settings, embedder=model)
        out[full_key] = report.seconds
        if arm == "cache":
            warm = Assistant.ingest(settings, embedder=model)
            out.update(full_warm_s=warm.seconds, warm_cached=warm.cached, warm_embedded=warm.embedded)
        started = time.perf_counter()
        added = add_document(settings, ADDED.name, data, fields, embedder=model)
        out[add_key] = time.perf_counter() - started
        if arm == "cache":
            out.update(add_cached=added.cached, add_embedded=added.embedded)
        out.update(documents=report.documents, chunks=report.chunks)
    return out


def ingest_side_by_side(embedder: Any, rounds: int, before: str | None) -> dict[str, Any]:
    """Every ingest arm, ``rounds`` times, interleaved (so other load falls on all alike); medians."""
    from assistant.config import load_settings
    from assistant.embed import make_embedder

    fields = added_fields()
    precision = getattr(embedder, "precision", "fp32")
    bulk_load = None
    fp32 = None
    if precision != "fp32":  # the bf16 model's first use (torch's import, the weights), once per process
        started = time.perf_counter()
        embedder.embed_bulk(["warm up"])
        bulk_load = round(time.perf_counter() - started, 2)
        fp32 = make_embedder(load_settings(ingest_precision="fp32"))
    legs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as name:
        tmp = Path(name)
        code = previous_code(before, tmp / "before-code") if before else None
        for round_ in range(rounds):
            print(f"Ingest, round {round_ + 1} of {rounds} ...", flush=True)
            leg = ingest_leg(embedder, fp32, tmp, fields)
            if code is not None:
                leg.update({f"before_{k}": v for k, v in before_leg(code, tmp, fields).items()})
            leg["load_average"] = round(os.getloadavg()[0], 2)
            legs.append(leg)
    keys = [k for k in legs[0] if k.endswith("_s")]
    medians = {k: round(statistics.median(leg[k] for leg in legs), 2) for k in keys}
    counts = {k: legs[-1][k] for k in ("warm_cached", "warm_embedded", "add_cached", "add_embedded",
                                       "documents", "chunks")}  # fmt: skip
    return {"generated": time.strftime("%Y-%m-%d %H:%M"), "cpus": os.cpu_count(), "rounds": rounds,
            "before": before, "precision": precision, "bulk_load_s": bulk_load,
            "added": f"{ADDED.relative_to(ROOT)} ({ADDED.stat().st_size / 1024:.1f} KB)",
            "legs": legs, **medians, **counts}  # fmt: skip


def _ms(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 1), "p95": round(percentile(values, 95), 1)}


def cold_start(env: dict[str, str], runs: int) -> dict[str, Any]:
    """Spawn ``runs`` fresh interpreters; time process start -> first answer from outside."""
    code = _COLD_CHILD.format(question=COLD_QUESTION)
    outside, inside = [], []
    for _ in range(runs):
        with tempfile.TemporaryFile() as err:
            started = time.perf_counter()
            child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=err, env=env,
                                     text=True)
            assert child.stdout is not None
            line = child.stdout.readline()
            elapsed = time.perf_counter() - started
            child.wait()
            if child.returncode != 0 or not line.strip():
                err.seek(0)
                raise RuntimeError(f"cold-start child failed ({child.returncode}): {err.read().decode()[-2000:]}")
        outside.append(elapsed)
        inside.append(json.loads(line))
    return {
        "runs": runs,
        "seconds": [round(s, 2) for s in outside],
        "median_s": round(statistics.median(outside), 2),
        "import_s": round(statistics.median(i["import_s"] for i in inside), 2),
        "load_s": round(statistics.median(i["load_s"] for i in inside), 2),
        "ask_s": round(statistics.median(i["ask_s"] for i in inside), 3),
        "status": inside[-1]["status"],
    }


def _rss_mb(pid: int) -> dict[str, float]:
    """Resident memory of process ``pid`` now and at its peak (VmRSS / VmHWM), from /proc."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return {"rss_mb": round(int(fields["VmRSS"].split()[0]) / 1024),
            "peak_mb": round(int(fields["VmHWM"].split()[0]) / 1024)}


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return sorted(found)


def serve_memory(env: dict[str, str], questions: list[str], workers: int = 2) -> dict[str, Any]:
    """Start ``assistant serve --workers N`` on a free port of 127.0.0.1, answer every question
    through ``POST /api/chat``, then read each worker's resident memory (now and peak) from /proc."""
    import socket
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = "from assistant.cli import main; main()"
    with tempfile.TemporaryFile() as log:
        # One client sends every request: lift its rate limit, which would otherwise answer 429.
        env = {**env, "ASSISTANT_RATE_LIMIT_PER_MINUTE": "100000"}
        server = subprocess.Popen([sys.executable, "-c", code, "serve", "--port", str(port), "--workers", str(workers)],
                                  stdout=log, stderr=log, env=env)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120
            while True:
                try:
                    with urllib.request.urlopen(base + "/health", timeout=5):
                        break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        log.seek(0)
                        raise RuntimeError(f"assistant serve did not start: {log.read().decode()[-2000:]}") from None
                    time.sleep(0.25)
            for q in questions:
                body = json.dumps({"message": q}).encode()
                request = urllib.request.Request(base + "/api/chat", data=body,
                                                 headers={"content-type": "application/json"})
                with urllib.request.urlopen(request, timeout=60) as answer:
                    answer.read()
            pids = [p for p in _children(server.pid) if "spawn_main" in Path(f"/proc/{p}/cmdline").read_text()]
            return {"workers": [_rss_mb(p) for p in pids], "supervisor": _rss_mb(server.pid),
                    "requests": len(questions)}
        finally:
            server.terminate()
            server.wait(timeout=30)


def beside_baseline(bot: Any, questions: list[str], neighbours: int) -> dict[str, Any]:
    """Our warm answer against the tutorial baseline's retrieval (``eval.baseline``: dense Chroma,
    top 4, the same embedder object), question by question in turn, each with the query cache
    emptied (so both embed the question), with ``neighbours`` CPU-bound processes running beside."""
    from .baseline import Baseline
    from .runtime_bench import busy

    ours: list[float] = []
    theirs: list[float] = []
    with Baseline.build(bot.embedder, bot.settings.corpus_path) as baseline:
        for q in questions[:10]:  # warm-up
            baseline.search(q)
            bot.ask(q)
        with busy(neighbours):
            for q in questions:
                ours += uncached_ms(bot, [lambda q=q: bot.ask(q)])
                theirs += uncached_ms(bot, [lambda q=q: baseline.search(q)])
    return {"neighbours": neighbours, "questions": len(questions), "ask_ms": _ms(ours),
            "baseline_ms": _ms(theirs), "ratio": round(statistics.median(ours) / statistics.median(theirs), 2),
            "load_average": round(os.getloadavg()[0], 2)}  # fmt: skip


def throughput(bot: Any, cases: list[Case], workers: int, requests: int) -> dict[str, Any]:
    """``requests`` asks spread over ``workers`` threads; the query cache is emptied first."""
    chosen = [cases[i % len(cases)] for i in range(requests)]
    errors: list[str] = []

    def call(case: Case) -> float:
        started = time.perf_counter()
        try:
            bot.ask(case.question, audience=case.audience)
        except Exception as exc:  # report, don't stop: a thread-safety failure is a finding
            errors.append(f"{type(exc).__name__}: {exc}")
        return (time.perf_counter() - started) * 1000

    bot.embedder._cached_query.cache_clear()
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        latencies = list(pool.map(call, chosen))
    wall = time.perf_counter() - started
    return {
        "workers": workers,
        "requests": requests,
        "seconds": round(wall, 2),
        "requests_per_s": round(requests / wall, 1),
        "p50_ms": round(percentile(latencies, 50), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
    }


def run(concurrency: list[int], requests: int, cold_runs: int, ingest_rounds: int = 1,
        before: str | None = None) -> dict[str, Any]:
    from assistant import Assistant, load_settings
    from assistant.embed import make_embedder

    cases = load_cases(HERE / "questions.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(index_dir=Path(tmp) / "index")
        started = time.perf_counter()
        embedder = make_embedder(settings)
        model_seconds = time.perf_counter() - started
        ingest = ingest_side_by_side(embedder, ingest_rounds, before)
        report = Assistant.ingest(settings, embedder=embedder)
        load_started = time.perf_counter()
        bot = Assistant.load(settings, embedder=embedder)
        load_seconds = time.perf_counter() - load_started
        questions = [c.question for c in cases]
        for q in questions[:20]:  # warm-up
            bot.search(q)
        search_ms = uncached_ms(bot, [lambda q=q: bot.search(q) for q in questions])
        ask_ms = uncached_ms(bot, [lambda c=c: bot.ask(c.question, audience=c.audience) for c in cases])
        print("Beside the baseline, quiet and busy ...", flush=True)
        baseline = [beside_baseline(bot, questions, neighbours) for neighbours in (0, 2)]
        print("Throughput ...", flush=True)
        loads = [throughput(bot, cases, workers, requests) for workers in concurrency]
        print("Cold start ...", flush=True)
        env = {**os.environ, "ASSISTANT_INDEX_DIR": str(settings.index_path),
               "ASSISTANT_CORPUS_DIR": str(settings.corpus_path), "ANONYMIZED_TELEMETRY": "False"}
        cold = cold_start(env, cold_runs)
        print("Serve workers' memory ...", flush=True)
        memory = serve_memory(env, questions[:100])
    return {
        "generated": time.strftime("%Y-%m-%d %H:%M"),
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "model_load_s": round(model_seconds, 2),
        "ingest": {"documents": report.documents, "chunks": report.chunks, "seconds": round(report.seconds, 2)},
        "ingest_side_by_side": ingest,
        "load_s": round(load_seconds, 3),
        "questions": len(questions),
        "search_ms": _ms(search_ms),
        "ask_ms": _ms(ask_ms),
        "throughput": loads,
        "beside_baseline": baseline,
        "cold_start": cold,
        "serve_memory": memory,
    }


# -- the report (shared with eval.scale) ---------------------------------------------------


def update_report(section: str, data: dict[str, Any], folder: Path = REPORTS) -> Path:
    """Store ``data`` as ``section`` of bench.json and re-render bench.md from every section."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "bench.json"
    try:
        stored = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    except ValueError:
        stored = {}
    stored[section] = data
    path.write_text(json.dumps(stored, indent=2, ensure_ascii=False), encoding="utf-8")
    md = folder / "bench.md"
    md.write_text(render(stored), encoding="utf-8")
    return md


def render(stored: dict[str, Any]) -> str:
    lines = ["# Benchmark", ""]
    b = stored.get("bench")
    if b:
        lines += [
            f"Generated {b['generated']} on this machine ({b['cpus']} CPUs, load average "
            f"{b.get('load_average')} at the end: other work on the machine inflates every time); "
            "`.venv/bin/python -m eval.bench`.",
            "",
            "| measure | value |",
            "|---|---|",
            f"| model load (once per process) | {b['model_load_s']:.2f} s |",
            f"| full ingest, empty cache ({b['ingest']['documents']} documents, {b['ingest']['chunks']} passages) | "
            f"{b['ingest']['seconds']:.2f} s |",
            f"| Assistant.load() with an existing index (model already loaded) | {b['load_s']:.2f} s |",
            f"| warm search, median / p95 ({b['questions']} questions, query cache cleared) | "
            f"{b['search_ms']['median']:.1f} / {b['search_ms']['p95']:.1f} ms |",
            f"| warm ask, median / p95 | {b['ask_ms']['median']:.1f} / {b['ask_ms']['p95']:.1f} ms |",
        ]
        c = b["cold_start"]
        lines += [
            f"| cold start: process start → first answer, median of {c['runs']} (runs: "
            f"{', '.join(f'{s:.2f}' for s in c['seconds'])} s) | {c['median_s']:.2f} s |",
            f"| … of which (inside the child) import / Assistant.load() / first ask | "
            f"{c['import_s']:.2f} / {c['load_s']:.2f} / {c['ask_s']:.3f} s |",
        ]
        m = b.get("serve_memory")
        if m:
            lines.append(
                f"| `assistant serve --workers {len(m['workers'])}`, resident memory per worker after "
                f"{m['requests']} chat requests, now / peak (the supervisor: {m['supervisor']['rss_mb']} MB) | "
                + "; ".join(f"{w['rss_mb']} / {w['peak_mb']} MB" for w in m["workers"]) + " |")
        lines += [
            "",
            "## Throughput: concurrent callers of `bot.ask` (threads, one process)",
            "",
            "| callers | requests | requests/s | p50 | p95 | errors |",
            "|---|---|---|---|---|---|",
            *[
                f"| {t['workers']} | {t['requests']} | {t['requests_per_s']:.1f} | {t['p50_ms']:.1f} ms | "
                f"{t['p95_ms']:.1f} ms | {t['errors']}{' (' + t['first_error'] + ')' if t['first_error'] else ''} |"
                for t in b["throughput"]
            ],
            "",
            f"On {b['cpus']} CPUs, extra callers mostly queue: requests/s flattens while latency grows.",
            "",
        ]
        if b.get("beside_baseline"):
            lines += [
                "## Our answer beside the tutorial baseline's retrieval, quiet and busy",
                "",
                "Each question in turn: our whole `bot.ask`, then the baseline's `similarity_search` (dense Chroma, "
                "top 4, the same embedder object), each with the query cache emptied; busy: two CPU-bound processes "
                "running beside. Ratio: our median over the baseline's.",
                "",
                "| leg | questions | our answer median / p95 | baseline retrieval median / p95 | ratio | load avg. |",
                "|---|---|---|---|---|---|",
                *[
                    f"| {_leg(r['neighbours'])} | "
                    f"{r['questions']} | {r['ask_ms']['median']:.1f} / {r['ask_ms']['p95']:.1f} ms | "
                    f"{r['baseline_ms']['median']:.1f} / {r['baseline_ms']['p95']:.1f} ms | {r['ratio']:.2f}× | "
                    f"{r['load_average']} |"
                    for r in b["beside_baseline"]
                ],
                "",
            ]
        if b.get("ingest_side_by_side"):
            lines += render_ingest(b["ingest_side_by_side"])
    s = stored.get("scale")
    if s:
        lines += [
            "## Scale: synthetic corpora of many councils",
            "",
            f"Generated {s['generated']}; `.venv/bin/python -m eval.scale --sizes {' '.join(map(str, s['sizes']))}`"
            " (each size's own time and load average are in bench.json). "
            f"Size N× = the real corpus plus N−1 synthetic councils (seed {s['seed']}): each real document with "
            "the council name, figures and years varied. Memory is the worker process's peak RSS "
            f"({s['memory_method']}), model included. Latency: {s['latency_questions']} evaluation questions, "
            "query cache cleared before each.",
            "",
            "| size | measured | documents | corpus | passages | ingest | index on disk | peak RSS after ingest | "
            "peak RSS overall | load | search median / p95 | ask median / p95 | recall@5 | status accuracy |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
            *[
                f"| {r['size']}× | {r.get('generated', '—')} | {r['documents']} | {r['corpus_mb']:.1f} MB | "
                f"{r['chunks']} | "
                f"{r['ingest_s']:.1f} s | {r['index_mb']:.1f} MB | {r['peak_rss_ingest_mb']:.0f} MB | "
                f"{r['peak_rss_mb']:.0f} MB | {r['load_s']:.2f} s | "
                f"{r['search_ms']['median']:.1f} / {r['search_ms']['p95']:.1f} ms | "
                f"{r['ask_ms']['median']:.1f} / {r['ask_ms']['p95']:.1f} ms | {_fmt(r.get('recall@5'))} | "
                f"{_fmt(r.get('status_accuracy'))} |"
                for r in s["runs"]
            ],
            "",
            *([f"Not run: {s['not_run']}", ""] if s.get("not_run") else []),
        ]
    return "\n".join(lines)


def render_ingest(i: dict[str, Any]) -> list[str]:
    """The ingest rows: each arm's seconds and its ratio to the baseline measured beside it."""
    before = i.get("before")
    base_full = i.get("before_full_s") or i["full_off_s"]
    base_add = i.get("before_add_s") or i["add_off_s"]
    base = f"the previous code ({before})" if before else "the cache off"

    def row(label: str, seconds: float, baseline: float) -> str:
        return f"| {label} | {seconds:.2f} s | {baseline / seconds:.1f}× |"

    lines = [
        "## Ingest: the embedding cache, side by side",
        "",
        f"Generated {i['generated']} ({i['cpus']} CPUs; load average at the end of each round: "
        f"{', '.join(str(leg['load_average']) for leg in i['legs'])}); medians of {i['rounds']} round(s), "
        "the arms interleaved in one run. Full ingest: the shipped corpus "
        f"({i['documents']} documents, {i['chunks']} passages), build time. Add a document: "
        f"`assistant.admin.add_document` of {i['added']} into the shipped corpus, wall time (check, "
        f"write, rebuild). Ratio: how many times faster than {base}, measured in the same run.",
        "",
        "| measure | seconds | faster than the baseline |",
        "|---|---|---|",
    ]
    if before:
        lines.append(f"| full ingest, previous code ({before}: no cache, torch's threads) — baseline | "
                     f"{i['before_full_s']:.2f} s | 1.0× |")  # fmt: skip
    precision = i.get("precision", "fp32")
    if "full_fp32_s" in i:
        lines.append(row("full ingest, cold cache, documents in fp32 (`ingest_precision = \"fp32\"`)",
                         i["full_fp32_s"], base_full))
    lines += [
        row(f"full ingest, cache off (every text embedded, longest first, every core, {precision})",
            i["full_off_s"], base_full),
        row(f"full ingest, cold cache (empty: embeds everything in {precision}, then fills it)",
            i["full_cold_s"], base_full),
        row(f"full ingest, warm cache (a rebuild: {i['warm_cached']} vectors from the cache, "
            f"{i['warm_embedded']} embedded)", i["full_warm_s"], base_full),
    ]
    if before:
        lines.append(f"| add a document, previous code — baseline | {i['before_add_s']:.2f} s | 1.0× |")
    if "add_fp32_s" in i:
        lines.append(row("add a document, warm cache, documents in fp32", i["add_fp32_s"], base_add))
    lines += [
        row("add a document, cache off", i["add_off_s"], base_add),
        row(f"add a document, warm cache ({i['add_cached']} vectors from the cache, {i['add_embedded']} "
            "embedded)", i["add_warm_s"], base_add),
        "",
    ]
    if i.get("bulk_load_s") is not None:
        lines += [f"The documents' bf16 model loads at a process's first build: {i['bulk_load_s']:.2f} s "
                  "(importing torch, the weights in bf16), before the rows above and not in them; "
                  "`assistant ingest` pays it once. Questions are embedded in fp32 (onnxruntime) either way.", ""]
    return lines


def _leg(neighbours: int) -> str:
    return "quiet" if neighbours == 0 else f"busy ({neighbours} CPU-bound processes beside)"


def _fmt(value: Any) -> str:
    return "—" if value is None else str(value)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m eval.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16],
                        help="numbers of concurrent callers (default: 1 4 16)")
    parser.add_argument("--requests", type=int, default=160, help="asks per concurrency level (default: 160)")
    parser.add_argument("--cold-runs", type=int, default=3, help="fresh processes for the cold start (default: 3)")
    parser.add_argument("--ingest-rounds", type=int, default=1,
                        help="rounds of the side-by-side ingest arms (default: 1)")
    parser.add_argument("--before", metavar="REV",
                        help="also time the ingest and add of the code at git commit REV (the previous path)")
    parser.add_argument("--reports", type=Path, default=REPORTS)
    args = parser.parse_args(argv)
    data = run(args.concurrency, args.requests, args.cold_runs, args.ingest_rounds, args.before)
    path = update_report("bench", data, args.reports)
    print(path.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
