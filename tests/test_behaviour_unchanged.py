"""The architecture refactor changed no answer: every reply is the one recorded before it.

``tests/data/replies_before.json`` was recorded by ``python -m eval.replies record`` on the
code before the refactor (issue #13): the questions of eval/questions.yaml, eval/holdout.yaml
and every literal question the tests ask. A change that is meant to alter answers lists each
question it changes, with the reason, in eval/reports/replies-differences.toml.
"""

from __future__ import annotations

import json
from pathlib import Path

from eval.replies import compare, intended_differences

RECORDED = Path(__file__).parent / "data" / "replies_before.json"


def test_every_reply_is_the_one_recorded_before_the_refactor(bot):
    recorded = json.loads(RECORDED.read_text(encoding="utf-8"))
    assert len(recorded) >= 400
    intended = intended_differences()
    unexpected = [p for p in compare(bot, recorded) if p.split(" ")[0] not in intended]
    assert unexpected == [], "\n".join(unexpected)
