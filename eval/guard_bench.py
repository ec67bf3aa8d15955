"""What the safeguarding decision adds to an answer: ask() with the semantic layer and without.

The same questions (eval/questions.yaml), each embedded fresh (cache emptied), asked with the
layered guard (clear cues and the exemplar bank) and with the clear cues alone, interleaved so
that both arms see the same machine load. Written to eval/reports/safeguarding/bench.md::

    python -m eval.guard_bench [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from .bench import uncached_ms
from .metrics import percentile
from .questions import load_cases

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    from assistant import Assistant

    bot = Assistant.load()
    cases = [c for c in load_cases(HERE / "questions.yaml") if not c.history]
    model = bot.context.risk_model
    arms: dict[str, list[float]] = {"layered": [], "cues only": []}
    for _ in range(args.rounds):
        for arm in arms:
            bot.context.risk_model = model if arm == "layered" else None  # type: ignore[assignment]
            arms[arm] += uncached_ms(bot, [lambda c=c: bot.ask(c.question, audience=c.audience) for c in cases])
    bot.context.risk_model = model
    rows = {arm: (statistics.median(ms), percentile(ms, 95)) for arm, ms in arms.items()}
    added = rows["layered"][0] - rows["cues only"][0]
    lines = [
        "# What the safeguarding decision adds to an answer",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: {len(cases)} questions of "
        f"eval/questions.yaml x {args.rounds} rounds, each embedded fresh, the arms interleaved. "
        f"Reproduce: `python -m eval.guard_bench --rounds {args.rounds}`.",
        "",
        "| arm | ask median | ask p95 |",
        "|---|---|---|",
        *[f"| {arm} | {median:.1f} ms | {p95:.1f} ms |" for arm, (median, p95) in rows.items()],
        "",
        f"The semantic layer adds **{added:.1f} ms** to the median answer.",
        "",
    ]
    out = HERE / "reports" / "safeguarding" / "bench.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
