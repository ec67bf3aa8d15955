"""Torch threads per process: figures for the ``torch_threads`` setting, each arm interleaved.

Not a test (it asserts nothing): it measures, to choose the setting's default.

    python -m eval.threads serve --threads 2 1 --rounds 3   # 2 workers, 16 clients, 30 s a leg
    python -m eval.threads serve --clients 2 --seconds 20 --fresh 8   # light use, new questions
    python -m eval.threads ask --threads 2 1 --rounds 3     # one process, 50 questions a leg

``serve``: each leg starts ``assistant serve --workers N`` with ASSISTANT_TORCH_THREADS set to
the arm's number (rate limit off, as in ``eval.load``), warms it up and runs ``eval.load``'s
clients. Questions repeat after the first pass, and a worker answers a repeated question
from its embedding cache without torch; ``--fresh K`` asks each question in K wordings
(``VARIANTS``), each once (``eval.load``'s ``--once``), so every question is embedded.
``ask``: each leg is a fresh process that loads the Assistant (which sets the arm's threads,
as every process does), asks one question to warm up, then asks the
first ``--questions`` questions of eval/questions.yaml once each (nothing cached), timing each
``ask``, and embeds each question once more, uncached, timing the model alone.

The arms alternate (A, B, A, B...), so load from other programs falls on both alike; the load
average is recorded at each leg. Every leg and the median per arm go to stdout, and with
``--json FILE`` to FILE. Both use an index built once, first, in a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from .load import QUESTIONS, RATE_LIMIT_OFF, load_questions, measure
from .servers import QUIET_ENV, ROOT, ServerFailed, assistant_server

# One ``ask`` leg, in its own process: prints one JSON line.
_ASK_CHILD = """
import json, statistics, sys, time
import torch
from assistant import Assistant, load_settings
questions = json.loads(sys.argv[1])
bot = Assistant.load(load_settings())
threads = torch.get_num_threads()
bot.ask("how much is the setting up home allowance")
asks = []
for q in questions:
    t = time.perf_counter(); bot.ask(q["message"], audience=q["audience"])
    asks.append(1000 * (time.perf_counter() - t))
embeds = []
for q in questions:
    t = time.perf_counter(); bot.embedder._embed_one(q["message"] + " ?")
    embeds.append(1000 * (time.perf_counter() - t))
print(json.dumps({"threads": threads, "ask_ms": asks, "embed_ms": embeds}))
"""


# Ways a user might start a question; with ``--fresh K`` the first K are used.
VARIANTS = ("", "Please tell me: ", "Quick question: ", "Can you help? ", "I want to know: ",
            "Hello, ", "Sorry to ask, ", "One more thing: ")  # fmt: skip


def fresh_questions(questions: list[dict[str, str]], variants: int) -> list[dict[str, str]]:
    """Each question in ``variants`` wordings, all different texts (none embedded before)."""
    return [
        {**q, "message": start + q["message"]} for start in VARIANTS[:variants] for q in questions
    ]


def loadavg() -> float:
    return round(os.getloadavg()[0], 2)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 1)


def build_index(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "-m", "assistant.cli", "ingest"],
        cwd=ROOT, env={**os.environ, **QUIET_ENV, **env}, check=True, capture_output=True,
    )  # fmt: skip


def serve_leg(threads: int, args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    before = loadavg()
    leg_env = {**env, **RATE_LIMIT_OFF, "ASSISTANT_TORCH_THREADS": str(threads)}
    with assistant_server(workers=args.workers, env=leg_env) as server:
        if args.fresh:
            questions, once = fresh_questions(args.question_list, args.fresh), True
        else:
            questions, once = args.question_list, False
        result = measure(server.url, args.clients, args.seconds, questions, once=once)
    lat = result["latency_ms"]
    assert isinstance(lat, dict)
    return {
        "threads": threads,
        "load_average": [before, loadavg()],
        "requests_per_second": result["requests_per_second"],
        "p50_ms": lat["p50"],
        "p95_ms": lat["p95"],
        "seconds": result["seconds"],
        "requests": result["requests"],
        "errors": result["errors"],
    }


def ask_leg(threads: int, args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    before = loadavg()
    questions = args.question_list[: args.questions]
    done = subprocess.run(
        [sys.executable, "-c", _ASK_CHILD, json.dumps(questions)],
        cwd=ROOT,
        env={**os.environ, **QUIET_ENV, **env, "ASSISTANT_TORCH_THREADS": str(threads)},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    out = json.loads(done.stdout.strip().splitlines()[-1])
    asks, embeds = out["ask_ms"], out["embed_ms"]
    return {
        "threads": threads,
        "torch_threads_seen": out["threads"],
        "load_average": [before, loadavg()],
        "questions": len(asks),
        "ask_median_ms": round(statistics.median(asks), 1),
        "ask_p95_ms": pct(asks, 0.95),
        "ask_mean_ms": round(statistics.fmean(asks), 1),
        "embed_median_ms": round(statistics.median(embeds), 1),
        "embed_p95_ms": pct(embeds, 0.95),
    }


def summary(legs: list[dict[str, Any]], keys: list[str]) -> dict[int, dict[str, float]]:
    """Per arm (threads), the median over its legs of each figure."""
    arms = sorted({leg["threads"] for leg in legs})
    return {
        arm: {
            key: round(statistics.median(leg[key] for leg in legs if leg["threads"] == arm), 1)
            for key in keys
        }
        for arm in arms
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("mode", choices=("serve", "ask"))
    parser.add_argument("--threads", nargs="+", type=int, default=[2, 1], help="The arms.")
    parser.add_argument("--rounds", type=int, default=3, help="Legs per arm, alternating.")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument(
        "--fresh", type=int, default=0, metavar="K",
        help=f"serve: each question once in K wordings (1-{len(VARIANTS)}), none cached.",
    )  # fmt: skip
    parser.add_argument("--questions", type=int, default=50, help="Questions per ask leg.")
    parser.add_argument("--question-file", type=Path, default=QUESTIONS)
    parser.add_argument("--json", type=Path, help="Write every leg and the medians here.")
    args = parser.parse_args(argv)
    if any(n < 1 for n in args.threads):
        parser.error("--threads: each arm is a number of threads, 1 or more")
    if not 0 <= args.fresh <= len(VARIANTS):
        parser.error(f"--fresh: 0 (questions repeat) to {len(VARIANTS)} wordings")
    args.question_list = load_questions(args.question_file)

    legs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="assistant-threads-") as tmp:
        env = {"ASSISTANT_INDEX_DIR": str(Path(tmp) / "index")}
        build_index(env)
        leg = serve_leg if args.mode == "serve" else ask_leg
        try:
            for round_ in range(args.rounds):
                for threads in args.threads:
                    legs.append({"round": round_ + 1, **leg(threads, args, env)})
                    print(json.dumps(legs[-1]), flush=True)
        except ServerFailed as exc:
            raise SystemExit(str(exc)) from exc
    keys = (
        ["requests_per_second", "p50_ms", "p95_ms"]
        if args.mode == "serve"
        else ["ask_median_ms", "ask_p95_ms", "embed_median_ms", "embed_p95_ms"]
    )
    medians = summary(legs, keys)
    print(json.dumps({"medians": medians}))
    if args.json:
        report = {"command": " ".join(["python -m eval.threads", *(argv or sys.argv[1:])]),
                  "cpus": os.cpu_count(), "legs": legs, "medians": medians}  # fmt: skip
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
