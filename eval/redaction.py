"""Redaction measured on personal data nobody here tuned on: what share of personal items is removed.

The cases (tests/data/redaction_cases.yaml) were written by a helper who had not seen the
redaction code: personal items in young people's writing, and ordinary words that must stay::

    python -m eval.redaction [--label first-sight]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
CASES = HERE.parent / "tests" / "data" / "redaction_cases.yaml"
REPORTS = HERE / "reports" / "redaction"


def measure(cases: dict[str, Any], redact: Any) -> dict[str, Any]:
    """Recall per kind (an item counts as removed when it no longer appears) and words kept."""
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    survived = []
    for case in cases["personal"]:
        out = redact(case["text"])
        for item in case["items"]:
            removed = item not in out
            per[case["kind"]][0] += int(removed)
            per[case["kind"]][1] += 1
            if not removed:
                survived.append(f"{case['kind']}: {item!r} in {out!r}")
    kept = lost = 0
    wrongly = []
    for case in cases["keep"]:
        out = redact(case["text"])
        for word in case["keep"]:
            if word in out:
                kept += 1
            else:
                lost += 1
                wrongly.append(f"{word!r} in {out!r}")
    removed = sum(r for r, _ in per.values())
    total = sum(n for _, n in per.values())
    return {
        "items": total, "removed": removed, "recall": round(removed / total, 4),
        "kept": kept, "keep_total": kept + lost, "keep_rate": round(kept / (kept + lost), 4),
        "kinds": {k: {"removed": r, "items": n} for k, (r, n) in sorted(per.items())},
        "survived": survived, "wrongly_removed": wrongly,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", default="latest")
    parser.add_argument("--cases", type=Path, default=CASES,
                        help="a set in the same format (eval/redaction_sets/ holds the held-out ones)")
    args = parser.parse_args(argv)
    from assistant.text.redact import redact

    result = measure(yaml.safe_load(args.cases.read_text(encoding="utf-8")), redact)
    REPORTS.mkdir(parents=True, exist_ok=True)
    data = json.dumps(result, indent=1, ensure_ascii=False) + "\n"
    (REPORTS / f"{args.label}.json").write_text(data, encoding="utf-8")
    lines = [
        f"# Redaction on the held-out personal data: {args.label}",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {_shown(args.cases)}. "
        f"Reproduce: `python -m eval.redaction --label {args.label}"
        + ("" if args.cases == CASES else f" --cases {_shown(args.cases)}") + "`",
        "",
        f"- Personal items removed: **{result['removed']} of {result['items']}** (recall {result['recall']:.3f})",
        f"- Ordinary words kept: **{result['kept']} of {result['keep_total']}**",
        "",
        "| kind | removed | items |",
        "|---|---|---|",
        *[f"| {k} | {v['removed']} | {v['items']} |" for k, v in result["kinds"].items()],
        "",
        "## Personal items that survived",
        "",
        *[f"- {s}" for s in result["survived"]],
        "",
        "## Ordinary words removed",
        "",
        *([f"- {w}" for w in result["wrongly_removed"]] or ["None."]),
        "",
    ]
    (REPORTS / f"{args.label}.md").write_text("\n".join(lines), encoding="utf-8")
    print(f"Removed {result['removed']}/{result['items']} personal items (recall {result['recall']:.3f}); "
          f"kept {result['kept']}/{result['keep_total']} ordinary words.")
    return 0


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(HERE.parent))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    raise SystemExit(main())
