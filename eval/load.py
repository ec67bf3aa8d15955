"""Load test for the web API: N concurrent clients asking /api/chat for a fixed time.

Not a test (it asserts nothing): it measures, so a deployment can be sized.

    python -m eval.load              # its own server (rate limit off), 16 clients, 30 s
    python -m eval.load --workers 2  # its own server with 2 worker processes
    python -m eval.load --url http://host:8000 --clients 32 --seconds 60

``python -m eval.load_workers`` runs it against 1 and 2 workers, with the local
store and with a Chroma server, and writes the figures to eval/reports/load.md.

Questions are the ones in eval/questions.yaml, in turn, so the mix of answered,
declined and crisis replies is like real use; after the first pass questions
repeat (their embeddings are cached), so ``--once`` measures first-time questions only. When it
starts the server itself it sets ASSISTANT_RATE_LIMIT_PER_MINUTE=1000000: all
clients share one IP, and the limit would otherwise be what is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import yaml

from .servers import ROOT, ServerFailed, assistant_server

QUESTIONS = ROOT / "eval" / "questions.yaml"
# All clients share one IP: with the limits on, the limits would be what is measured.
RATE_LIMIT_OFF = {"ASSISTANT_RATE_LIMIT_PER_MINUTE": "1000000", "ASSISTANT_MAX_CONNECTIONS_PER_CLIENT": "0"}


def load_questions(path: Path) -> list[dict[str, str]]:
    cases = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        {"message": c["question"], "audience": c.get("audience", "care_leaver")}
        for c in cases
        if isinstance(c, dict) and c.get("question")
    ]


async def client(
    url: str,
    questions: Iterator[dict[str, str]],
    stop_at: float,
    latencies: list[float],
    outcomes: Counter[str],
) -> None:
    """One user: ask, wait for the answer, ask again, until time is up."""
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        while time.perf_counter() < stop_at:
            body = next(questions, None)
            if body is None:
                return
            started = time.perf_counter()
            try:
                response = await http.post("/api/chat", json=body)
            except httpx.HTTPError as exc:
                outcomes[f"error:{type(exc).__name__}"] += 1
                continue
            latencies.append(time.perf_counter() - started)
            if response.status_code == 200:
                outcomes[response.json()["status"]] += 1
            else:
                outcomes[f"error:{response.status_code}"] += 1


async def run(
    url: str, clients: int, seconds: float, questions: list[dict[str, str]], once: bool = False
) -> dict[str, object]:
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    cycle = iter(questions) if once else itertools.cycle(questions)
    started = time.perf_counter()
    stop_at = started + seconds
    await asyncio.gather(
        *(client(url, cycle, stop_at, latencies, outcomes) for _ in range(clients))
    )
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return (
            round(1000 * ordered[min(len(ordered) - 1, int(p * len(ordered)))], 1)
            if ordered
            else 0.0
        )

    errors = sum(n for k, n in outcomes.items() if k.startswith("error"))
    return {
        "url": url,
        "clients": clients,
        "seconds": round(elapsed, 1),
        "requests": sum(outcomes.values()),
        "requests_per_second": round(len(latencies) / elapsed, 1),
        "latency_ms": {
            "p50": pct(0.50),
            "p95": pct(0.95),
            "p99": pct(0.99),
            "mean": round(1000 * statistics.fmean(ordered), 1) if ordered else 0.0,
            "max": round(1000 * ordered[-1], 1) if ordered else 0.0,
        },
        "errors": errors,
        "outcomes": dict(sorted(outcomes.items())),
    }


async def _warm_up(url: str, body: dict[str, str], clients: int) -> None:
    """The first question once per client, each on its own connection, so every worker has
    answered before the clock starts (and only that one question is cached, as with ``--once``).
    """

    async def ask() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=120) as http:
            await http.post("/api/chat", json=body)

    await asyncio.gather(*(ask() for _ in range(clients)))


def measure(
    url: str, clients: int, seconds: float, questions: list[dict[str, str]], once: bool = False
) -> dict[str, object]:
    """Warm the server up (not counted), then run ``clients`` users for ``seconds``."""
    asyncio.run(_warm_up(url, questions[0], clients))
    return asyncio.run(run(url, clients, seconds, questions, once=once))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", help="A running server (default: start one on loopback).")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument(
        "--workers", type=int, default=1, help="Worker processes of its own server (default 1)."
    )
    parser.add_argument(
        "--once",
        action="store_true",
        help="Ask each question once and stop (all cold: nothing repeated, no cached embeddings).",
    )
    parser.add_argument("--json", action="store_true", help="Print the result as JSON only.")
    args = parser.parse_args(argv)
    questions = load_questions(args.questions)
    if not questions:
        raise SystemExit(f"No questions in {args.questions}.")

    if args.url:
        result = measure(args.url.rstrip("/"), args.clients, args.seconds, questions, args.once)
    else:
        try:
            with assistant_server(workers=args.workers, env=RATE_LIMIT_OFF) as server:
                result = measure(server.url, args.clients, args.seconds, questions, args.once)
        except ServerFailed as exc:
            raise SystemExit(str(exc)) from exc
    if args.json:
        print(json.dumps(result, indent=2))
        return
    lat = result["latency_ms"]
    assert isinstance(lat, dict)
    print(f"{result['clients']} clients for {result['seconds']} s against {result['url']}/api/chat")
    print(f"  requests: {result['requests']}  ({result['requests_per_second']} per second)")
    print(
        f"  latency:  p50 {lat['p50']} ms, p95 {lat['p95']} ms, p99 {lat['p99']} ms, "
        f"max {lat['max']} ms"
    )
    print(f"  errors:   {result['errors']}")
    print(f"  replies:  {result['outcomes']}")


if __name__ == "__main__":
    main()
