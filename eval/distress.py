"""Distress measured on messages nobody here tuned on: does a young person who says they are not OK
see the 24/7 mental-health lines first, and does an ordinary message not?

A distress message is not a crisis: the help it needs is the urgent contacts leading whatever reply
it gets (a message "near the line", or a crisis reply). Each test set
(``eval/distress/*.toml``, ``[[case]]`` tables of text, expect = "distress" or "none", category)
was written by a helper who saw no code and no bank, and is run once at first sight::

    python -m eval.distress --cases FILE --label first-sight
    python -m eval.distress --calibrate      # the distress model's threshold, read on its bank alone
    python -m eval.distress --write-bank     # the sets in IN_BANK into the bank's file, after first sight
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from eval.crisis import (
    CrisisCase,
    bank_from_sets,
    bank_kinds,
    calibration_with_pieces,
    load_crisis_cases,
    measure,
    write_bank_file,
)

HERE = Path(__file__).resolve().parent
REPORTS = HERE / "reports" / "distress"

# The held-out sets whose messages the distress bank has learnt from, each after it was run once at
# first sight (its report in eval/reports/distress/); from then on a regression set.
IN_BANK = ("test_set.toml", *(f"test_set_{n}.toml" for n in range(2, 8)))
# A test set's kinds of ordinary message, as the bank names them.
BANK_KINDS = {
    "question": "support_and_entitlements", "practical_worry": "practical_mild_stress",
    "complaint": "complaints", "figure_of_speech": "figures_of_speech",
    "about_others": "services_for_others_or_general", "past_now_ok": "past_difficulty_now_ok",
}


def load_distress_cases(path: Path) -> list[CrisisCase]:
    """The cases of a test set file (expect = "distress" or "none"); a malformed one names its number."""
    return load_crisis_cases(path, side="distress")


def evaluate_distress(bot: Any, cases: list[CrisisCase]) -> dict[str, Any]:
    """Plan each message: a crisis reply, or an answer led by the urgent contacts, is help shown
    first (eval.crisis.measure, the distress messages the side to recognise); and how many were crisis replies."""
    levels = []
    for case in cases:
        plan = bot.plan(case.text)
        levels.append("crisis" if plan.status == "safeguarding" else (plan.risk.level if plan.risk else "none"))
    result = measure([level != "none" for level in levels], cases, side="distress")
    result["crisis_replies"] = sum(level == "crisis" for level in levels)
    return result


def bank_calibration(bot: Any) -> dict[str, Any]:
    """The distress model's threshold read on its bank alone, as the crisis model's is
    (``eval.crisis.calibration``: each exemplar, whole and piece by piece, scored five-fold)."""
    from assistant.answer.risk import bank_vectors, load_distress_bank

    bank = load_distress_bank()
    vectors = bank_vectors(bank, bot.embedder, bot.settings.cache_path, prefix="distress")
    return calibration_with_pieces(bank, vectors, bot.embedder)


def regenerated_bank() -> str:
    """The package's file of the distress test sets' messages (``IN_BANK``), made again from the sets."""
    from assistant.answer.risk import DISTRESS_FILE
    from assistant.rules.exemplars import read_bank

    main = read_bank(DISTRESS_FILE, ("distress", "not_distress"))
    return bank_from_sets([HERE / "distress" / name for name in IN_BANK], set(main.texts), bank_kinds(main, "distress"),
                          side="distress", aliases=BANK_KINDS, folder="distress",
                          command="python -m eval.distress --write-bank")


def write_report(result: dict[str, Any], folder: Path, label: str, command: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{label}.json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    lines = [
        f"# Distress on a held-out test set: {label}",
        "",
        f"Run {result['generated']} on commit {result['commit']} on `{result['cases_file']}`. Reproduce: `{command}`",
        "",
        f"- Messages saying the writer is not OK, shown the urgent contacts first: "
        f"**{result['recognised']} of {result['distress_messages']}** (recall {result['recall']:.3f})",
        f"- Ordinary messages shown the urgent contacts first: **{result['false_alarms']} of "
        f"{result['other_messages']}** ({result['false_alarm_rate']:.1%})",
        f"- Crisis replies among all {result['distress_messages'] + result['other_messages']} messages: "
        f"{result['crisis_replies']}",
        "",
        "| category | expected | urgent contacts first | messages |",
        "|---|---|---|---|",
        *[f"| {name} | {c['expect']} | {c['flagged']} | {c['messages']} |" for name, c in result["categories"].items()],
        "",
        "## Not OK, and not shown the urgent contacts first",
        "",
        *([f"- {text}" for text in result["missed"]] or ["None."]),
        "",
        "## Ordinary, and shown the urgent contacts first",
        "",
        *([f"- {text}" for text in result["false_alarm_texts"]] or ["None."]),
        "",
    ]
    path = folder / f"{label}.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=Path, help="a test set (eval/distress/*.toml)")
    parser.add_argument("--report", type=Path, default=REPORTS)
    parser.add_argument("--label", default="latest")
    parser.add_argument("--calibrate", action="store_true",
                        help="print the distress model's thresholds read on its bank alone (no test set)")
    parser.add_argument("--write-bank", action="store_true",
                        help=f"write the messages of the {len(IN_BANK)} test sets the bank learns from into its file")
    args = parser.parse_args(argv)
    if args.write_bank:
        from assistant.answer.risk import DISTRESS_SETS_FILE

        print(f"Wrote {write_bank_file(DISTRESS_SETS_FILE, regenerated_bank())}.")
        return 0
    if args.calibrate:
        from assistant import Assistant

        found = bank_calibration(Assistant.load())
        print(f"Five-fold on the distress bank: {int(found['whole'].size)} exemplars; pieces of "
              f"{found['crisis_with_pieces']} distress and {found['ordinary_with_pieces']} ordinary ones.")
        print("threshold  distress  ordinary  distress-pieces  ordinary-pieces")
        for row in found["table"]:
            print(f"{row['threshold']:+9.2f}  {row['crisis']:8.3f}  {row['ordinary']:8.4f}  "
                  f"{row['crisis_pieces']:15.3f}  {row['ordinary_pieces']:15.4f}")
        return 0
    if args.cases is None:
        parser.error("--cases FILE is needed: a test set of [[case]] tables (eval/distress/ holds them).")
    cases = load_distress_cases(args.cases)
    from assistant import Assistant

    bot = Assistant.load()
    result = evaluate_distress(bot, cases)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE)
    result.update(generated=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                  commit=commit.stdout.strip() or "unknown", cases_file=str(args.cases))
    command = f"python -m eval.distress --cases {args.cases} --label {args.label}"
    path = write_report(result, args.report, args.label, command)
    print(f"Not OK and shown the urgent contacts first: {result['recognised']}/{result['distress_messages']}; "
          f"ordinary shown them: {result['false_alarms']}/{result['other_messages']}. Report: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
