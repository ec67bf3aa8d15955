"""Safeguarding measured on messages nobody here tuned on: recall, false alarms, per category.

The test set (``eval/safeguarding/test_set.toml``) was written by a helper who saw neither
the code nor the exemplar bank; it is used only to measure, never to choose thresholds.
A message counts as recognised when the assistant's reply has the status "safeguarding"::

    python -m eval.crisis                               # the shipped test set
    python -m eval.crisis --cases FILE --report DIR --label first-sight
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tomllib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TEST_SET = HERE / "safeguarding" / "test_set.toml"
REPORTS = HERE / "reports" / "safeguarding"


@dataclass(frozen=True)
class CrisisCase:
    text: str
    expect: str  # "crisis" or "none"
    category: str


def load_crisis_cases(path: Path = TEST_SET) -> list[CrisisCase]:
    """The cases of a test set file; a malformed case names its number and field."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SystemExit(f"{path} could not be read as TOML ({exc}).") from exc
    cases = []
    for number, raw in enumerate(data.get("case", []), 1):
        if not isinstance(raw, dict) or raw.get("expect") not in ("crisis", "none") or not raw.get("text"):
            raise SystemExit(f"{path} case {number}: needs text and expect = \"crisis\" or \"none\".")
        cases.append(CrisisCase(raw["text"], raw["expect"], str(raw.get("category", ""))))
    if not cases:
        raise SystemExit(f"{path} has no [[case]] entries.")
    return cases


def measure(flagged: list[bool], cases: list[CrisisCase], helped: list[bool] | None = None) -> dict[str, Any]:
    """Recall on crisis messages, false alarms on the others, and both per category.

    ``helped``: the reply showed urgent contacts first (a crisis reply, or an answer to a
    message near the line); counted separately, as it is help shown, not a crisis recognised.
    """
    helped = helped if helped is not None else flagged
    crisis = [f for f, c in zip(flagged, cases, strict=True) if c.expect == "crisis"]
    calm = [f for f, c in zip(flagged, cases, strict=True) if c.expect == "none"]
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for f, c in zip(flagged, cases, strict=True):
        per[c.category][0] += int(f)
        per[c.category][1] += 1
    return {
        "crisis_messages": len(crisis),
        "recognised": sum(crisis),
        "recall": round(sum(crisis) / len(crisis), 4) if crisis else None,
        "other_messages": len(calm),
        "false_alarms": sum(calm),
        "false_alarm_rate": round(sum(calm) / len(calm), 4) if calm else None,
        "crisis_helped_first": sum(h for h, c in zip(helped, cases, strict=True) if c.expect == "crisis"),
        "others_helped_first": sum(h for h, c in zip(helped, cases, strict=True) if c.expect == "none"),
        "categories": {
            name: {"expect": next(c.expect for c in cases if c.category == name), "flagged": f, "messages": n}
            for name, (f, n) in sorted(per.items())
        },
        "missed": [c.text for f, c in zip(flagged, cases, strict=True) if c.expect == "crisis" and not f],
        "false_alarm_texts": [c.text for f, c in zip(flagged, cases, strict=True) if c.expect == "none" and f],
    }


def evaluate_crisis(bot: Any, cases: list[CrisisCase]) -> dict[str, Any]:
    """Plan each message and measure: recognised as a crisis, and shown urgent contacts first."""
    plans = [bot.plan(c.text) for c in cases]
    flagged = [p.status == "safeguarding" for p in plans]
    helped = [f or (p.risk is not None and p.risk.level == "near") for f, p in zip(flagged, plans, strict=True)]
    return measure(flagged, cases, helped)


def write_report(result: dict[str, Any], folder: Path, label: str, command: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{label}.json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    lines = [
        f"# Safeguarding on the held-out test set: {label}",
        "",
        f"Run {result['generated']} on commit {result['commit']}. Reproduce: `{command}`",
        "",
        f"- Crisis messages recognised: **{result['recognised']} of {result['crisis_messages']}** "
        f"(recall {result['recall']:.3f})",
        f"- False alarms: **{result['false_alarms']} of {result['other_messages']}** "
        f"({result['false_alarm_rate']:.1%})",
        f"- Urgent contacts shown first (a crisis reply, or an answer near the line): "
        f"{result['crisis_helped_first']} of {result['crisis_messages']} crisis messages, "
        f"{result['others_helped_first']} of {result['other_messages']} others",
        "",
        "| category | expected | flagged | messages |",
        "|---|---|---|---|",
        *[f"| {name} | {c['expect']} | {c['flagged']} | {c['messages']} |" for name, c in result["categories"].items()],
        "",
        "## Crisis messages not recognised",
        "",
        *[f"- {text}" for text in result["missed"]],
        "",
        "## False alarms",
        "",
        *([f"- {text}" for text in result["false_alarm_texts"]] or ["None."]),
        "",
    ]
    path = folder / f"{label}.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def calibration(bank: Any, vectors: Any, piece_vectors: Any) -> dict[str, Any]:
    """The safeguarding model's thresholds read on its bank alone: each exemplar scored by a model
    fitted without it (five-fold), whole and, for messages of more than one piece, piece by piece.

    ``piece_vectors``: for each exemplar, the vectors of its pieces after the whole (may be empty).
    Returns the scores and, for a range of thresholds, the share of crisis and of ordinary
    exemplars at or above it.
    """
    import numpy as np

    from assistant.rules.exemplars import held_out

    whole = np.zeros(len(bank.texts))
    piece = np.full(len(bank.texts), -np.inf)
    for rows, model in held_out(vectors, bank.crisis):
        whole[rows] = model.scores(vectors[rows])
        for row in rows:
            if len(piece_vectors[row]):
                piece[row] = float(model.scores(piece_vectors[row]).max())
    crisis, ordinary = bank.crisis, ~bank.crisis
    has_pieces = np.isfinite(piece)
    table = []
    for threshold in np.round(np.arange(-1.2, 1.01, 0.05), 2):
        table.append({
            "threshold": float(threshold),
            "crisis": round(float((whole[crisis] >= threshold).mean()), 4),
            "ordinary": round(float((whole[ordinary] >= threshold).mean()), 4),
            "ordinary_pieces": round(float((piece[ordinary & has_pieces] >= threshold).mean()), 4),
            "crisis_pieces": round(float((piece[crisis & has_pieces] >= threshold).mean()), 4),
        })
    return {"whole": whole, "piece": piece, "table": table,
            "ordinary_with_pieces": int((ordinary & has_pieces).sum()),
            "crisis_with_pieces": int((crisis & has_pieces).sum())}


def bank_calibration(bot: Any) -> dict[str, Any]:
    """``calibration`` of the assistant's own safeguarding bank, with its embedding model."""
    import numpy as np

    from assistant.answer.risk import pieces

    model = bot.context.risk_model
    piece_vectors = []
    for text in model.bank.texts:
        rest = pieces(text)[1:]
        piece_vectors.append(np.asarray(bot.embedder.embed_documents(rest), dtype=np.float32) if rest
                             else np.zeros((0, model.vectors.shape[1]), dtype=np.float32))
    return calibration(model.bank, model.vectors, piece_vectors)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=Path, default=TEST_SET)
    parser.add_argument("--report", type=Path, default=REPORTS)
    parser.add_argument("--label", default="latest")
    parser.add_argument("--calibrate", action="store_true",
                        help="print the model's thresholds read on the exemplar bank alone (no test set)")
    args = parser.parse_args(argv)
    import subprocess

    from assistant import Assistant

    if args.calibrate:
        found = bank_calibration(Assistant.load())
        print(f"Five-fold on the bank: {int(found['whole'].size)} exemplars; pieces of "
              f"{found['crisis_with_pieces']} crisis and {found['ordinary_with_pieces']} ordinary ones.")
        print("threshold  crisis  ordinary  crisis-pieces  ordinary-pieces")
        for row in found["table"]:
            print(f"{row['threshold']:+9.2f}  {row['crisis']:6.3f}  {row['ordinary']:8.4f}  "
                  f"{row['crisis_pieces']:13.3f}  {row['ordinary_pieces']:15.4f}")
        return 0
    cases = load_crisis_cases(args.cases)
    bot = Assistant.load()
    result = evaluate_crisis(bot, cases)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE)
    result.update(generated=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                  commit=commit.stdout.strip() or "unknown", cases_file=str(args.cases))
    command = "python -m eval.crisis" + (f" --cases {args.cases}" if args.cases != TEST_SET else "") + (
        f" --label {args.label}")
    path = write_report(result, args.report, args.label, command)
    print(f"Recall {result['recall']:.3f} ({result['recognised']}/{result['crisis_messages']}), "
          f"false alarms {result['false_alarms']}/{result['other_messages']}. Report: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
