"""Small talk measured on messages nobody here tuned on: is "hi" small talk and "pa?" a question?

The test set (``eval/conversation/test_set.toml``) was written by a helper who saw neither the
code nor the exemplar bank; it only measures. A message counts as small talk when the turn's
plan is a conversation reply (``Plan.kind == "conversation"``)::

    python -m eval.conversation                           # the shipped test set
    python -m eval.conversation --cases FILE --report DIR --label first-sight
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TEST_SET = HERE / "conversation" / "test_set.toml"
REPORTS = HERE / "reports" / "conversation"
KINDS = ("greeting", "thanks", "goodbye", "about_assistant", "frustration", "acknowledgement", "question")


@dataclass(frozen=True)
class TalkCase:
    message: str
    kind: str


def load_cases(path: Path = TEST_SET) -> list[TalkCase]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SystemExit(f"{path} could not be read as TOML ({exc}).") from exc
    cases = []
    for number, raw in enumerate(data.get("case", []), 1):
        if not isinstance(raw, dict) or raw.get("kind") not in KINDS or not raw.get("message"):
            raise SystemExit(f"{path} case {number}: needs message and kind (one of {', '.join(KINDS)}).")
        cases.append(TalkCase(raw["message"], raw["kind"]))
    if not cases:
        raise SystemExit(f"{path} has no [[case]] entries.")
    return cases


def measure(predicted: list[str], cases: list[TalkCase]) -> dict[str, Any]:
    """Small talk recognised, questions kept as questions, and the kind right, overall and per kind."""
    talk = [(p, c) for p, c in zip(predicted, cases, strict=True) if c.kind != "question"]
    questions = [(p, c) for p, c in zip(predicted, cases, strict=True) if c.kind == "question"]
    per: dict[str, Counter[str]] = {}
    for p, c in zip(predicted, cases, strict=True):
        per.setdefault(c.kind, Counter())[p] += 1
    return {
        "small_talk": len(talk),
        "recognised": sum(p != "question" for p, _ in talk),
        "recall": round(sum(p != "question" for p, _ in talk) / len(talk), 4) if talk else None,
        "kind_right": sum(p == c.kind for p, c in talk),
        "questions": len(questions),
        "taken_for_talk": sum(p != "question" for p, _ in questions),
        "false_talk_rate": round(sum(p != "question" for p, _ in questions) / len(questions), 4) if questions else None,
        "per_kind": {k: dict(v) for k, v in sorted(per.items())},
        "missed": [c.message for p, c in talk if p == "question"],
        "questions_taken_for_talk": [f"{c.message} -> {p}" for p, c in questions if p != "question"],
    }


def evaluate(bot: Any, cases: list[TalkCase]) -> dict[str, Any]:
    predicted = []
    started = time.perf_counter()
    for case in cases:
        plan = bot.plan(case.message)
        predicted.append(plan.talk if plan.kind == "conversation" and plan.talk else "question")
    result = measure(predicted, cases)
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


def write_report(result: dict[str, Any], folder: Path, label: str, source: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{label}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    lines = [
        f"# Small talk: {label}",
        "",
        f"Generated {time.strftime('%Y-%m-%d %H:%M')} from `{source.relative_to(HERE.parent)}`. "
        f"Reproduce: `.venv/bin/python -m eval.conversation --label {label}`.",
        "",
        f"- Small talk recognised: **{result['recognised']} of {result['small_talk']}** (recall {result['recall']}), "
        f"kind right {result['kind_right']}.",
        f"- Real questions taken for small talk: **{result['taken_for_talk']} of {result['questions']}** "
        f"(rate {result['false_talk_rate']}).",
        "",
        "| kind | predicted |",
        "|---|---|",
        *[f"| {k} | {', '.join(f'{p}: {n}' for p, n in sorted(v.items()))} |" for k, v in result["per_kind"].items()],
        "",
        "## Small talk missed",
        *[f"- {m}" for m in result["missed"]],
        "",
        "## Questions taken for small talk",
        *[f"- {m}" for m in result["questions_taken_for_talk"]],
    ]
    path = folder / f"{label}.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=Path, default=TEST_SET)
    parser.add_argument("--report", type=Path, default=REPORTS)
    parser.add_argument("--label", default="latest")
    args = parser.parse_args(argv)
    from assistant import Assistant, load_settings

    bot = Assistant.load(load_settings())
    result = evaluate(bot, load_cases(args.cases))
    path = write_report(result, args.report, args.label, args.cases.resolve())
    print(f"small talk {result['recognised']}/{result['small_talk']}, questions taken for talk "
          f"{result['taken_for_talk']}/{result['questions']}; report {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
