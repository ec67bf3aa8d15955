"""Distress measured on messages nobody here tuned on: does a young person who says they are not OK
see the 24/7 mental-health lines first, and does an ordinary message not?

A distress message is not a crisis: the help it needs is the urgent contacts leading whatever reply
it gets (a message "near the line", or a crisis reply). Each test set
(``eval/distress/*.toml``, ``[[case]]`` tables of text, expect = "distress" or "none", category)
was written by a helper who saw no code and no bank, and is run once at first sight::

    python -m eval.distress --cases FILE --label first-sight
    python -m eval.distress --calibrate      # the distress model's threshold, read on its bank alone
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import tomllib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPORTS = HERE / "reports" / "distress"


@dataclass(frozen=True)
class DistressCase:
    text: str
    expect: str  # "distress" or "none"
    category: str


def load_distress_cases(path: Path) -> list[DistressCase]:
    """The cases of a test set file; a malformed case names its number and field."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SystemExit(f"{path} could not be read as TOML ({exc}).") from exc
    cases = []
    for number, raw in enumerate(data.get("case", []), 1):
        if not isinstance(raw, dict) or raw.get("expect") not in ("distress", "none") or not raw.get("text"):
            raise SystemExit(f"{path} case {number}: needs text and expect = \"distress\" or \"none\".")
        cases.append(DistressCase(raw["text"], raw["expect"], str(raw.get("category", ""))))
    if not cases:
        raise SystemExit(f"{path} has no [[case]] entries.")
    return cases


def measure(levels: list[str], cases: list[DistressCase]) -> dict[str, Any]:
    """``levels``: each message's reading ("crisis", "near" or "none"). Helped first: crisis or near."""
    helped = [level != "none" for level in levels]
    distress = [h for h, c in zip(helped, cases, strict=True) if c.expect == "distress"]
    calm = [h for h, c in zip(helped, cases, strict=True) if c.expect == "none"]
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for h, c in zip(helped, cases, strict=True):
        per[c.category][0] += int(h)
        per[c.category][1] += 1
    return {
        "distress_messages": len(distress),
        "helped_first": sum(distress),
        "recall": round(sum(distress) / len(distress), 4) if distress else None,
        "other_messages": len(calm),
        "others_helped_first": sum(calm),
        "false_alarm_rate": round(sum(calm) / len(calm), 4) if calm else None,
        "crisis_replies": sum(level == "crisis" for level in levels),
        "categories": {
            name: {"expect": next(c.expect for c in cases if c.category == name), "helped": h, "messages": n}
            for name, (h, n) in sorted(per.items())
        },
        "missed": [c.text for h, c in zip(helped, cases, strict=True) if c.expect == "distress" and not h],
        "false_alarm_texts": [c.text for h, c in zip(helped, cases, strict=True) if c.expect == "none" and h],
    }


def evaluate_distress(bot: Any, cases: list[DistressCase]) -> dict[str, Any]:
    """Plan each message: a crisis reply, or an answer led by the urgent contacts, is help shown first."""
    levels = []
    for case in cases:
        plan = bot.plan(case.text)
        levels.append("crisis" if plan.status == "safeguarding" else (plan.risk.level if plan.risk else "none"))
    return measure(levels, cases)


def bank_calibration(bot: Any) -> dict[str, Any]:
    """The distress model's threshold read on its bank alone, as the crisis model's is
    (``eval.crisis.calibration``: each exemplar, whole and piece by piece, scored five-fold)."""
    import numpy as np

    from assistant.answer.risk import bank_vectors, load_distress_bank, pieces
    from eval.crisis import calibration

    bank = load_distress_bank()
    vectors = bank_vectors(bank, bot.embedder, bot.settings.cache_path, prefix="distress")
    piece_vectors = []
    for text in bank.texts:
        rest = pieces(text)[1:]
        piece_vectors.append(np.asarray(bot.embedder.embed_documents(rest), dtype=np.float32) if rest
                             else np.zeros((0, vectors.shape[1]), dtype=np.float32))
    return calibration(bank, vectors, piece_vectors)


def write_report(result: dict[str, Any], folder: Path, label: str, command: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{label}.json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    lines = [
        f"# Distress on a held-out test set: {label}",
        "",
        f"Run {result['generated']} on commit {result['commit']} on `{result['cases_file']}`. Reproduce: `{command}`",
        "",
        f"- Messages saying the writer is not OK, shown the urgent contacts first: "
        f"**{result['helped_first']} of {result['distress_messages']}** (recall {result['recall']:.3f})",
        f"- Ordinary messages shown the urgent contacts first: **{result['others_helped_first']} of "
        f"{result['other_messages']}** ({result['false_alarm_rate']:.1%})",
        f"- Crisis replies among all {result['distress_messages'] + result['other_messages']} messages: "
        f"{result['crisis_replies']}",
        "",
        "| category | expected | urgent contacts first | messages |",
        "|---|---|---|---|",
        *[f"| {name} | {c['expect']} | {c['helped']} | {c['messages']} |" for name, c in result["categories"].items()],
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
    args = parser.parse_args(argv)
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
    print(f"Not OK and shown the urgent contacts first: {result['helped_first']}/{result['distress_messages']}; "
          f"ordinary shown them: {result['others_helped_first']}/{result['other_messages']}. Report: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
