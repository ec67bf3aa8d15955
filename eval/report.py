"""Write the evaluation report: Markdown + JSON in eval/reports/, and a table in the terminal."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

HEADLINE = [
    "recall@1", "recall@3", "recall@5", "mrr", "ndcg@5", "status_accuracy", "fact_recall", "citation_validity",
    "citation_support", "number_fidelity", "decline_precision", "decline_recall", "safeguarding_recall",
    "safeguarding_false_alarms", "flesch_mean", "flesch_worst", "latency_ms_median", "latency_ms_p95",
]


def _fmt(value: Any) -> str:
    return "—" if value is None else str(value)


def write_report(summary: dict[str, Any], folder: Path, *, questions: str, load_seconds: float) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%d %H:%M")
    payload = {"generated": stamp, "questions": questions, "load_seconds": round(load_seconds, 2), **summary}
    (folder / "latest.json").write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
    lines = [
        "# Evaluation report",
        "",
        f"Generated {stamp} from `{questions}` ({summary['cases']} cases). Index load: {load_seconds:.2f} s.",
        "Reproduce: `.venv/bin/assistant eval`.",
        "",
        "| metric | value |",
        "|---|---|",
        *[f"| {name} | {_fmt(summary.get(name))} |" for name in HEADLINE],
        "",
        "## Per category",
        "",
        "| category | cases | status accuracy | fact recall | recall@5 |",
        "|---|---|---|---|---|",
        *[
            f"| {name} | {c['cases']} | {_fmt(c['status_accuracy'])} | {_fmt(c['fact_recall'])} | {_fmt(c['recall@5'])} |"
            for name, c in summary["categories"].items()
        ],
        "",
        "## Cases with the wrong status",
        "",
        *[f"- `{f['id']}` expected {f['expect']}, got {f['got']}: {f['question']}" for f in summary["failures"]],
        "",
    ]
    path = folder / "latest.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def print_table(summary: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Evaluation")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name in HEADLINE:
        table.add_row(name, _fmt(summary.get(name)))
    Console().print(table)
    per = Table(title="Per category")
    for column in ("category", "cases", "status accuracy", "fact recall", "recall@5"):
        per.add_column(column)
    for name, c in summary["categories"].items():
        per.add_row(name, str(c["cases"]), _fmt(c["status_accuracy"]), _fmt(c["fact_recall"]), _fmt(c["recall@5"]))
    Console().print(per)
