"""Does a message ask what changed between the strategies? Measured on messages nobody here tuned on.

The test set (``eval/change/test_set.toml``) was written by a helper who saw neither the code nor
the exemplar bank; it only measures. A message counts as asking what changed when the turn
decision does (``answer.plan.what_changed``'s test: both documents named, or a word of change
that the change model reads as a comparison), before any passage is looked for::

    python -m eval.change                 # the test set: the decision beside the words of change alone
    python -m eval.change --calibrate     # the bank alone, five-fold: each threshold's shares
"""

from __future__ import annotations

import argparse
import tomllib
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
TEST_SET = HERE / "change" / "test_set.toml"


def decisions(bot: object, texts: list[str]) -> dict[str, list[bool]]:
    """For each text: the decision answering makes (``compare.is_comparison``), and the words of
    change alone (the previous decision)."""
    from assistant.answer import compare
    from assistant.retrieve.search import QueryVectors

    ctx = bot.context  # type: ignore[attr-defined]
    vectors = QueryVectors(bot.embedder)  # type: ignore[attr-defined]
    out: dict[str, list[bool]] = {"decision": [], "words of change alone": []}
    for text in texts:
        out["decision"].append(compare.is_comparison(ctx, text, vectors)[0])
        out["words of change alone"].append(bool(compare.spans_both(text, ctx.retriever.periods, ctx.rules)
                                                 or compare.asks_what_changed(text, ctx.rules)))
    return out


def calibrate(bot: object) -> None:
    from assistant.rules.exemplars import cross_validated

    model = bot.context.change_model  # type: ignore[attr-defined]
    scores = cross_validated(model.kernel.vectors, model.bank.crisis)
    positive = model.bank.crisis
    print(f"{int(positive.sum())} comparing and {int((~positive).sum())} other exemplars, five-fold")
    for threshold in np.arange(-0.3, 0.35, 0.1):
        print(f"  from {threshold:+.1f}: {np.mean(scores[positive] >= threshold):.1%} of comparing, "
              f"{np.mean(scores[~positive] >= threshold):.1%} of other")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m eval.change", description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=Path, default=TEST_SET)
    parser.add_argument("--calibrate", action="store_true")
    args = parser.parse_args(argv)
    from assistant import Assistant

    bot = Assistant.load()
    if args.calibrate:
        calibrate(bot)
        return
    cases = tomllib.loads(args.cases.read_text(encoding="utf-8"))["case"]
    want = [c["expect"] == "compare" for c in cases]
    compares, others = sum(want), len(want) - sum(want)
    for name, got in decisions(bot, [c["text"] for c in cases]).items():
        found = sum(g and w for g, w in zip(got, want, strict=True))
        false = sum(g and not w for g, w in zip(got, want, strict=True))
        print(f"{name}: {found} of {compares} comparisons found, {false} of {others} other messages taken for one")


if __name__ == "__main__":
    main()
