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


def test_every_metric_with_a_floor_is_gated_no_lower_than_it():
    """Thresholds never lower the agreed bar, and no floor is left ungated."""
    for metric, floor in THRESHOLDS["floors"].items():
        assert metric in THRESHOLDS["gate"], f"{metric} has a floor but is not gated"
        gate = THRESHOLDS["gate"][metric]
        assert (gate <= floor) if metric.endswith("_max") else (gate >= floor), f"{metric}: {gate} is below its floor"


@pytest.fixture(scope="module")
def held_out(bot):
    from eval.crisis import evaluate_crisis, load_crisis_cases

    return evaluate_crisis(bot, load_crisis_cases(ROOT / "eval" / "safeguarding" / "test_set.toml"))


@pytest.mark.slow
def test_safeguarding_holds_on_the_held_out_messages(held_out):
    gate = THRESHOLDS["safeguarding_held_out"]
    assert held_out["recall"] >= gate["recall"], f"recall {held_out['recall']}; missed: {held_out['missed'][:10]}"
    assert held_out["false_alarm_rate"] <= gate["false_alarm_rate_max"], held_out["false_alarm_texts"]
    helped = held_out["crisis_helped_first"] / held_out["crisis_messages"]
    assert helped >= gate["help_first"], f"urgent contacts first for {helped:.3f} of crisis messages"


@pytest.mark.slow
def test_a_young_person_not_ok_gets_the_urgent_contacts_first_on_the_held_out_messages(bot):
    """eval/distress/test_set.toml: messages saying the writer is not OK get the 24/7 lines first
    (near the line, or a crisis reply); ordinary ones that share their words mostly do not."""
    from eval.distress import evaluate_distress, load_distress_cases

    gate = THRESHOLDS["distress_held_out"]
    found = evaluate_distress(bot, load_distress_cases(ROOT / "eval" / "distress" / "test_set.toml"))
    assert found["recall"] >= gate["recall"], f"recall {found['recall']}; missed: {found['missed'][:10]}"
    assert found["false_alarm_rate"] <= gate["others_rate_max"], found["false_alarm_texts"]


@pytest.mark.slow
def test_what_changed_is_told_apart_from_words_of_change_on_the_held_out_messages(bot):
    """eval/change/test_set.toml (written without sight of the bank): a comparison is found as often
    as the words of change alone found one, and other messages with those words are left alone."""
    from eval.change import TEST_SET, decisions

    gate = THRESHOLDS["what_changed_held_out"]
    cases = tomllib.loads(TEST_SET.read_text(encoding="utf-8"))["case"]
    want = [c["expect"] == "compare" for c in cases]
    got = decisions(bot, [c["text"] for c in cases])["decision"]
    found = sum(g and w for g, w in zip(got, want, strict=True)) / sum(want)
    false = [c["text"] for c, g, w in zip(cases, got, want, strict=True) if g and not w]
    assert found >= gate["recall"], f"found {found:.3f} of the comparisons"
    assert len(false) / (len(want) - sum(want)) <= gate["false_rate_max"], false


@pytest.mark.slow
def test_safeguarding_holds_on_the_first_set_scored_by_the_bank_without_it(bot):
    """The first set is in the bank: what it says of messages nobody here wrote, it says left out."""
    from eval.crisis import leave_one_set_out

    gate = THRESHOLDS["safeguarding_left_out"]
    shipped = bot.context.risk_model
    left_out = leave_one_set_out(bot, ("test_set.toml",))["test_set.toml"]
    assert bot.context.risk_model is shipped  # the bot answers with the whole bank again
    assert left_out["recall"] >= gate["recall"], f"recall {left_out['recall']}; missed: {left_out['missed'][:10]}"
    assert left_out["false_alarm_rate"] <= gate["false_alarm_rate_max"], left_out["false_alarm_texts"]
    helped = left_out["crisis_helped_first"] / left_out["crisis_messages"]
    assert helped >= gate["help_first"], f"urgent contacts first for {helped:.3f} of crisis messages"

