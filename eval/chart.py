"""One PNG of the evaluation: headline metrics and per-category scores, both systems side by side.

Drawn with matplotlib's Agg backend (no display needed). Missing values (a metric
that does not apply, e.g. fact recall for off-topic questions) are left blank and
marked "n/a" rather than drawn as 0.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

# The headline metrics that live on a 0-1 scale (latency and Flesch do not, so they are in the tables only).
CHART_METRICS = [
    "recall@1", "recall@5", "mrr", "ndcg@5", "status_accuracy", "fact_recall", "citation_validity",
    "citation_support", "number_fidelity", "decline_recall", "safeguarding_recall",
]
COLOURS = {"assistant": "#1b6ca8", "baseline": "#e0883a"}


def _value(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else math.nan


def _bars(ax: Any, labels: list[str], series: dict[str, list[float]], title: str) -> None:
    width = 0.8 / len(series)
    for offset, (name, values) in enumerate(series.items()):
        xs = [i + (offset - (len(series) - 1) / 2) * width for i in range(len(labels))]
        ax.bar(xs, [0 if math.isnan(v) else v for v in values], width, label=name, color=COLOURS.get(name))
        for x, v in zip(xs, values, strict=True):
            ax.text(x, 0.01 if math.isnan(v) else v + 0.01, "n/a" if math.isnan(v) else f"{v:.2f}",
                    ha="center", va="bottom", fontsize=6, rotation=90)
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right", fontsize=8)
    ax.set_ylim(0, 1.38)  # room above the value labels for the legend
    ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    ax.set_title(title, fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", ncol=len(series))


def write_chart(summary: dict[str, Any], baseline: dict[str, Any] | None, path: Path) -> Path:
    """Draw headline metrics, per-category status accuracy and per-category fact recall into ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    systems = {"assistant": summary, **({"baseline": baseline} if baseline is not None else {})}
    categories = list(summary["categories"])

    def per_category(metric: str) -> dict[str, list[float]]:
        return {
            name: [_value(s["categories"].get(c, {}).get(metric)) for c in categories] for name, s in systems.items()
        }

    fig, axes = plt.subplots(3, 1, figsize=(11, 12), constrained_layout=True)
    _bars(axes[0], CHART_METRICS, {n: [_value(s.get(m)) for m in CHART_METRICS] for n, s in systems.items()},
          "Headline metrics (0–1)")
    _bars(axes[1], categories, per_category("status_accuracy"), "Status accuracy per category")
    _bars(axes[2], categories, per_category("fact_recall"), "Fact recall per category")
    fig.suptitle(f"Evaluation on {summary['cases']} questions" + (": assistant vs tutorial baseline"
                                                                   if baseline is not None else ""))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
