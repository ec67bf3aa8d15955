"""Write the evaluation report: Markdown + JSON (+ a PNG chart) in eval/reports/, and tables in the terminal.

With a baseline, every headline metric is shown for both systems with the ratio
ours / baseline; the JSON keeps our summary at the top level (as before) and adds
``baseline`` and ``ratios``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

HEADLINE = [
    "recall@1", "recall@3", "recall@5", "mrr", "ndcg@5", "status_accuracy", "fully_right", "fact_recall",
    "citation_validity",
    "citation_support", "number_fidelity", "decline_precision", "decline_recall", "safeguarding_recall",
    "safeguarding_false_alarms", "flesch_mean", "flesch_worst", "latency_ms_median", "latency_ms_p95",
    "answer_chars_median",
]
# For these, smaller is better: a ratio above 1 means ours is worse (e.g. slower).
LOWER_IS_BETTER = {"safeguarding_false_alarms", "latency_ms_median", "latency_ms_p95"}

BASELINE_NOTE = (
    "Baseline: the LangChain RAG tutorial on the same documents and the same embedding model: "
    "RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200), dense-only Chroma, top 4 by "
    "similarity, the top chunk returned as the answer (always 'answered', one citation of that chunk); "
    "its retrieval metrics read the top 5 of the same search. "
    "It has no conversation memory, so follow-ups are retrieved with the question as typed. Its citation "
    "validity and number fidelity are checked against its own top chunk, so they are 1.0 by construction; "
    "its answers are whole 1000-character chunks, which helps its fact recall (see answer_chars_median)."
)


def _fmt(value: Any) -> str:
    return "—" if value is None else str(value)


def ratio(ours: Any, base: Any) -> float | None:
    """ours / baseline, or None when either is missing or the baseline is 0."""
    if not isinstance(ours, int | float) or not isinstance(base, int | float) or base == 0:
        return None
    return round(ours / base, 2)


def ratios(ours: dict[str, Any], base: dict[str, Any]) -> dict[str, float | None]:
    """The ratio ours / baseline for every headline metric."""
    return {name: ratio(ours.get(name), base.get(name)) for name in HEADLINE}


def _ratio_text(value: float | None, ours: Any = None, base: Any = None) -> str:
    if value is not None:
        return f"{value:.2f}×"
    if isinstance(ours, int | float) and base == 0:
        return "∞" if ours else "—"
    return "—"


# Neither direction is better: context for fact recall (a longer answer contains more words).
NEUTRAL = {"answer_chars_median"}


def _better(name: str) -> str:
    return "—" if name in NEUTRAL else "lower" if name in LOWER_IS_BETTER else "higher"


def _pair(ours: Any, base: Any) -> str:
    return f"{_fmt(ours)} / {_fmt(base)}"


def write_report(
    summary: dict[str, Any],
    folder: Path,
    *,
    questions: str,
    load_seconds: float,
    baseline: dict[str, Any] | None = None,
    baseline_build_seconds: float | None = None,
    chart: bool = True,
    command: str = ".venv/bin/assistant eval",
) -> Path:
    """Write latest.json, latest.md and (if ``chart``) latest.png in ``folder``; return the .md path."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%d %H:%M")
    machine = _machine()
    payload: dict[str, Any] = {"generated": stamp, "questions": questions, "load_seconds": round(load_seconds, 2),
                               "machine": machine, **summary}
    if baseline is not None:
        payload["baseline"] = {"description": BASELINE_NOTE, "build_seconds": _round(baseline_build_seconds),
                               **baseline}
        payload["ratios"] = ratios(summary, baseline)
    chart_path = None
    if chart:
        from .chart import write_chart

        chart_path = write_chart(summary, baseline, folder / "latest.png")
        payload["chart"] = chart_path.name
    (folder / "latest.json").write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
    lines = [
        "# Evaluation report",
        "",
        f"Generated {stamp} from `{questions}` ({summary['cases']} cases). Index load: {load_seconds:.2f} s."
        + (f" Baseline build (split + embed + store): {baseline_build_seconds:.2f} s."
           if baseline is not None and baseline_build_seconds is not None else ""),
        f"Machine: {machine['cpus']} CPUs, load average {machine['load_average']} when the report was written "
        "(latencies rise with other work on the machine).",
        f"Reproduce: `{command}`.",
        "",
    ]
    if baseline is not None:
        lines += [BASELINE_NOTE, "", "Ratio = ours / baseline; the 'better' column says which direction is good.", ""]
        lines += ["| metric | assistant | baseline | ratio | better |", "|---|---|---|---|---|"]
        lines += [
            f"| {name} | {_fmt(summary.get(name))} | {_fmt(baseline.get(name))} | "
            f"{_ratio_text(ratio(summary.get(name), baseline.get(name)), summary.get(name), baseline.get(name))} | "
            f"{_better(name)} |"
            for name in HEADLINE
        ]
    else:
        lines += ["| metric | value |", "|---|---|", *[f"| {name} | {_fmt(summary.get(name))} |" for name in HEADLINE]]
    lines += ["", "## Per category", ""]
    if baseline is not None:
        lines += [
            "Each cell: assistant / baseline.",
            "",
            "| category | cases | status accuracy | fact recall | recall@5 |",
            "|---|---|---|---|---|",
        ]
        for name, c in summary["categories"].items():
            b = baseline["categories"].get(name, {})
            lines.append(
                f"| {name} | {c['cases']} | {_pair(c['status_accuracy'], b.get('status_accuracy'))} | "
                f"{_pair(c['fact_recall'], b.get('fact_recall'))} | {_pair(c['recall@5'], b.get('recall@5'))} |"
            )
    else:
        lines += [
            "| category | cases | status accuracy | fact recall | recall@5 |",
            "|---|---|---|---|---|",
            *[
                f"| {name} | {c['cases']} | {_fmt(c['status_accuracy'])} | {_fmt(c['fact_recall'])} | "
                f"{_fmt(c['recall@5'])} |"
                for name, c in summary["categories"].items()
            ],
        ]
    if chart_path is not None:
        lines += ["", f"![Per-category and headline scores]({chart_path.name})"]
    lines += [
        "",
        "## Cases with the wrong status (assistant)",
        "",
        *[f"- `{f['id']}` expected {f['expect']}, got {f['got']}: {f['question']}" for f in summary["failures"]],
        "",
    ]
    if baseline is not None:
        lines += [
            f"The baseline has the wrong status on {len(baseline['failures'])} cases: every case not expected "
            "to be answered, since it always answers.",
            "",
        ]
    path = folder / "latest.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _machine() -> dict[str, Any]:
    import os

    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = None
    return {"cpus": os.cpu_count(), "load_average": load}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def print_table(summary: dict[str, Any], baseline: dict[str, Any] | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title="Evaluation" + (" (ratio = ours / baseline)" if baseline is not None else ""))
    table.add_column("metric")
    if baseline is None:
        table.add_column("value", justify="right")
        for name in HEADLINE:
            table.add_row(name, _fmt(summary.get(name)))
    else:
        for column in ("assistant", "baseline", "ratio", "better"):
            table.add_column(column, justify="right")
        for name in HEADLINE:
            ours, base = summary.get(name), baseline.get(name)
            table.add_row(name, _fmt(ours), _fmt(base), _ratio_text(ratio(ours, base), ours, base), _better(name))
    console.print(table)
    per = Table(title="Per category" + (" (assistant / baseline)" if baseline is not None else ""))
    for column in ("category", "cases", "status accuracy", "fact recall", "recall@5"):
        per.add_column(column)
    for name, c in summary["categories"].items():
        if baseline is None:
            per.add_row(name, str(c["cases"]), _fmt(c["status_accuracy"]), _fmt(c["fact_recall"]), _fmt(c["recall@5"]))
        else:
            b = baseline["categories"].get(name, {})
            per.add_row(name, str(c["cases"]), _pair(c["status_accuracy"], b.get("status_accuracy")),
                        _pair(c["fact_recall"], b.get("fact_recall")), _pair(c["recall@5"], b.get("recall@5")))
    console.print(per)
