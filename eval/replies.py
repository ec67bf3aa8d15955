"""Record every reply to a fixed set of questions, and compare a later run against the record.

A refactor that must change no answer is checked with this: record before, compare after.
The questions are those of ``eval/questions.yaml``, ``eval/holdout.yaml`` and every literal
question the test suite asks of the shipped corpus (``.ask("...")`` in ``tests/``)::

    python -m eval.replies record eval/reports/replies-before.json
    python -m eval.replies compare eval/reports/replies-before.json

A difference is a reply whose status, text or citations changed. Differences that are
intended are listed, each with its reason, in ``eval/reports/replies-differences.toml``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .questions import load_cases

ROOT = Path(__file__).resolve().parent.parent
QUESTION_FILES = ("eval/questions.yaml", "eval/holdout.yaml")
DIFFERENCES = ROOT / "eval" / "reports" / "replies-differences.toml"
_ASKED = re.compile(r"""\.ask(?:_stream)?\(\s*(["'])(.+?)\1""")


def questions(root: Path = ROOT) -> list[dict[str, Any]]:
    """Every question to record: id, question, history (user turns) and audience."""
    out: list[dict[str, Any]] = []
    for name in QUESTION_FILES:
        for case in load_cases(root / name):
            out.append({"id": f"{Path(name).stem}:{case.id}", "question": case.question,
                        "history": list(case.history), "audience": case.audience})
    seen = {(q["question"], tuple(q["history"]), q["audience"]) for q in out}
    for path in sorted((root / "tests").glob("test_*.py")):
        for match in _ASKED.finditer(path.read_text(encoding="utf-8")):
            key = (match.group(2), (), "care_leaver")
            if key not in seen:
                seen.add(key)
                out.append({"id": f"{path.stem}:{len(out)}", "question": match.group(2), "history": [],
                            "audience": "care_leaver"})
    return out


def reply_record(bot: Any, item: dict[str, Any]) -> dict[str, Any]:
    """What is compared of one reply: status, text and citations (no paths, no timings)."""
    history = [{"role": "user", "content": turn} for turn in item["history"]]
    try:
        reply = bot.ask(item["question"], history=history, audience=item["audience"])
    except Exception as exc:  # an error is a behaviour too: record its kind and message
        return {"error": f"{type(exc).__name__}: {exc}"}
    return {
        "status": reply.status,
        "text": reply.text,
        "citations": [
            {k: v for k, v in c.to_dict().items() if k != "source_url"} for c in reply.citations
        ],
    }


def record(bot: Any, items: Iterable[dict[str, Any]]) -> dict[str, Any]:
    return {item["id"]: {"ask": item, "reply": reply_record(bot, item)} for item in items}


def intended_differences(path: Path = DIFFERENCES) -> dict[str, str]:
    """The differences that are intended: {question id: reason}."""
    if not path.exists():
        return {}
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return {entry["id"]: entry["reason"] for entry in data.get("difference", [])}


def compare(bot: Any, recorded: dict[str, Any]) -> list[str]:
    """Each question whose reply differs from the record, with what differs."""
    problems = []
    for qid, entry in recorded.items():
        now = reply_record(bot, entry["ask"])
        before = entry["reply"]
        if now != before:
            fields = [k for k in ("status", "text", "citations", "error") if now.get(k) != before.get(k)]
            problems.append(f"{qid} ({entry['ask']['question']!r}): {', '.join(fields)} changed")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("record", "compare"))
    parser.add_argument("file", type=Path)
    args = parser.parse_args(argv)
    from assistant import Assistant

    bot = Assistant.load()
    if args.action == "record":
        data = record(bot, questions())
        args.file.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"Recorded {len(data)} replies in {args.file}.")
        return 0
    recorded = json.loads(args.file.read_text(encoding="utf-8"))
    intended = intended_differences()
    problems = [p for p in compare(bot, recorded) if p.split(" ")[0] not in intended]
    for problem in problems:
        print(problem)
    print(f"{len(recorded)} replies compared, {len(problems)} unexpected differences, "
          f"{len(intended)} intended.")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
