"""The CI gate: answer quality on the project's own question set must not fall below eval/thresholds.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from eval.harness import evaluate_assistant, summarise
from eval.questions import load_cases

ROOT = Path(__file__).resolve().parent.parent
THRESHOLDS = tomllib.loads((ROOT / "eval" / "thresholds.toml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def summary(bot):
    return summarise(evaluate_assistant(bot, load_cases(ROOT / "eval" / "questions.yaml")))


@pytest.mark.slow
@pytest.mark.parametrize("metric", sorted(THRESHOLDS["gate"]))
def test_metric_meets_its_threshold(summary, metric):
    threshold = THRESHOLDS["gate"][metric]
    if metric.endswith("_max"):
        value = summary[metric.removesuffix("_max")]
        assert value <= threshold, f"{metric.removesuffix('_max')} = {value}, allowed at most {threshold}"
    else:
        value = summary[metric]
        shown = [f["id"] for f in summary["failures"]][:20]
        assert value is not None and value >= threshold, (
            f"{metric} = {value}, threshold {threshold}; cases with the wrong status: {shown}"
        )


def test_below_floor_metrics_are_not_gated_below_their_floor():
    """A metric may only be gated at or above its floor (thresholds never lower the bar)."""
    for metric, entry in THRESHOLDS.get("below_floor", {}).items():
        assert metric not in THRESHOLDS["gate"], f"{metric} is both gated and listed below its floor"
        assert entry["floor"] > entry["measured"], f"{metric} has reached its floor: move it into [gate]"
