"""Load figures for deploying: the 16-client run against 1 and 2 workers, each store, in one run.

Not a test (it asserts nothing): it measures, so a deployment can be sized.

    python -m eval.load_workers                    # local store and Chroma server, 1 and 2 workers
    python -m eval.load_workers --stores local     # without the Chroma server
    python -m eval.load_workers --workers 1 2 4 --seconds 60

Each leg starts its own ``assistant serve --workers N`` (rate limit off, as in
``eval.load``), warms it up, runs ``eval.load``'s clients for the given time and
stops it. The local legs use the settings in force (the index folder in
``index_dir``, built first if stale). For the Chroma legs the script starts
``chroma run`` on a free port with a temporary ``--path``, ingests the corpus into
it with ``ASSISTANT_CHROMA_URL`` set, and stops it at the end. Each leg also
records which worker processes answered /health, their fingerprints (one, if all
serve the same index) and their resident memory.

Writes eval/reports/load.json and eval/reports/load.md (the table side by side).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from .load import QUESTIONS, RATE_LIMIT_OFF, load_questions, measure
from .servers import QUIET_ENV, ROOT, ServerFailed, assistant_server, chroma_server

REPORTS = ROOT / "eval" / "reports"
STORES = ("local", "chroma")
# Enough new connections that every worker has accepted some (each accept goes to
# whichever idle worker wakes first).
HEALTH_PROBES = 32


@contextmanager
def store_env(store: str, work: Path) -> Iterator[dict[str, str]]:
    """The ASSISTANT_* variables for one store; for "chroma", a Chroma server holding the corpus."""
    if store == "local":
        yield dict(RATE_LIMIT_OFF)
        return
    with chroma_server(work / "chroma", log=work / "chroma.log") as chroma:
        env = {
            **RATE_LIMIT_OFF,
            "ASSISTANT_CHROMA_URL": chroma.url,
            "ASSISTANT_INDEX_DIR": str(work / "index"),  # nothing of the local index is used
        }
        ingest(env)
        if not chroma_collections(chroma.url):
            raise SystemExit(
                f"'assistant ingest' with ASSISTANT_CHROMA_URL={chroma.url} left the Chroma "
                "server empty: this version of the assistant does not use a Chroma server yet "
                "(see chroma_url in assistant/pipeline.py). Run with --stores local."
            )
        yield env


def ingest(env: Mapping[str, str]) -> None:
    """``assistant ingest --rebuild`` with ``env``; its output is shown only if it fails."""
    done = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "ingest", "--rebuild"],
        cwd=ROOT,
        env={**os.environ, **QUIET_ENV, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(
            f"'assistant ingest --rebuild' into the Chroma server failed (exit {done.returncode}):"
            f"\n{(done.stdout + done.stderr)[-3000:]}"
        )


def chroma_collections(url: str) -> list[str]:
    """The names of the collections on a Chroma server (through its own client)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    host, port = url.removeprefix("http://").rsplit(":", 1)
    client = chromadb.HttpClient(
        host=host, port=int(port), settings=ChromaSettings(anonymized_telemetry=False)
    )
    return [c.name for c in client.list_collections()]


def workers_seen(url: str) -> dict[int, str]:
    """pid -> index fingerprint of the workers that answered /health on new connections."""

    async def probe() -> list[dict[str, Any]]:
        async def one() -> dict[str, Any]:
            async with httpx.AsyncClient(timeout=30) as http:
                return dict((await http.get(f"{url}/health")).json())

        return list(await asyncio.gather(*(one() for _ in range(HEALTH_PROBES))))

    return {int(body["pid"]): str(body["fingerprint"]) for body in asyncio.run(probe())}


def resident_mb(pid: int) -> float | None:
    """A process's resident memory in MB (Linux), or None if it cannot be read."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError):
        pass
    return None


def run_leg(
    store: str, workers: int, env: Mapping[str, str], args: argparse.Namespace, work: Path
) -> dict[str, Any]:
    """One server (store, workers): start it, check its workers, measure, stop it."""
    print(f"-- {store} store, {workers} worker(s): starting", file=sys.stderr, flush=True)
    log = work / f"serve-{store}-{workers}.log"
    with assistant_server(workers=workers, env=env, log=log) as server:
        seen = workers_seen(server.url)
        result = measure(server.url, args.clients, args.seconds, args.question_list)
        memory = {pid: resident_mb(pid) for pid in seen}
    lat = result["latency_ms"]
    assert isinstance(lat, dict)
    print(
        f"   {result['requests_per_second']} req/s, p50 {lat['p50']} ms, p95 {lat['p95']} ms, "
        f"{result['errors']} errors",
        file=sys.stderr,
        flush=True,
    )
    return {
        "store": store,
        "workers": workers,
        "workers_answering_health": len(seen),
        "fingerprints": sorted(set(seen.values())),
        "worker_rss_mb": sorted(m for m in memory.values() if m is not None),
        **result,
    }


def machine() -> dict[str, Any]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in load],
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def write_reports(report: dict[str, Any], folder: Path) -> tuple[Path, Path]:
    """eval/reports/load.json (everything) and load.md (the side-by-side table)."""
    folder.mkdir(parents=True, exist_ok=True)
    as_json = folder / "load.json"
    as_json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    as_md = folder / "load.md"
    as_md.write_text(markdown(report), encoding="utf-8")
    return as_json, as_md


def markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        "# Load: workers and stores",
        "",
        f"{report['clients']} clients asking /api/chat for {report['seconds']:.0f} s per row "
        f"(questions from eval/questions.yaml in turn, rate limit off), {report['generated']}, "
        f"on {m['cpus']} CPUs (load average {m['load_average_at_start'][0]} at the start; the "
        "clients run on the same machine). Command: "
        f"`{report['command']}`.",
        "",
        "| store | workers | requests/s | p50 ms | p95 ms | p99 ms | errors | requests "
        "| workers seen | fingerprints | RSS per worker (MB) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for leg in report["legs"]:
        lat = leg["latency_ms"]
        store = "Chroma server" if leg["store"] == "chroma" else "local folder"
        rss = ", ".join(f"{x:.0f}" for x in leg["worker_rss_mb"]) or "?"
        lines.append(
            f"| {store} | {leg['workers']} | {leg['requests_per_second']} | {lat['p50']} "
            f"| {lat['p95']} | {lat['p99']} | {leg['errors']} | {leg['requests']} "
            f"| {leg['workers_answering_health']} | {len(leg['fingerprints'])} | {rss} |"
        )
    for skipped in report.get("not_run", []):
        lines.append(f"\nNot run: {skipped}.")
    lines += [
        "",
        "\"workers seen\" counts the pids that answered /health on new connections; "
        "\"fingerprints\" the different index fingerprints they reported (1: all serve the "
        "same index). Each client keeps its connection, so the kernel's choice of worker "
        "for each of the 16 connections decides how evenly the work is shared.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stores", nargs="+", choices=STORES, default=list(STORES))
    parser.add_argument("--workers", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--reports", type=Path, default=REPORTS, help="Where to write load.*")
    args = parser.parse_args(argv)
    if any(n < 1 for n in args.workers):
        parser.error(f"--workers {args.workers}: each number of workers must be 1 or more")
    args.question_list = load_questions(args.questions)
    if not args.question_list:
        raise SystemExit(f"No questions in {args.questions}.")

    report: dict[str, Any] = {
        "generated": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": " ".join(
            ["python -m eval.load_workers", *(sys.argv[1:] if argv is None else argv)]
        ),
        "machine": machine(),
        "clients": args.clients,
        "seconds": args.seconds,
        "legs": [],
        "not_run": [f"{s} store (not asked for)" for s in STORES if s not in args.stores],
    }
    try:
        with tempfile.TemporaryDirectory(prefix="assistant-load-") as tmp:
            for store in args.stores:
                work = Path(tmp) / store
                work.mkdir()
                with store_env(store, work) as env:
                    for workers in args.workers:
                        report["legs"].append(run_leg(store, workers, env, args, work))
    except ServerFailed as exc:
        raise SystemExit(str(exc)) from exc
    as_json, as_md = write_reports(report, args.reports)
    print(markdown(report))
    print(f"Written to {as_json} and {as_md}.", file=sys.stderr)


if __name__ == "__main__":
    main()
