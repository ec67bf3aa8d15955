"""Retrieval: the passage that answers a real question is in the top 3."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import CORPUS, another_council

from assistant.ingest.corpus import read_manifest
from assistant.retrieve.fusion import (
    Periods,
    asks_about_past,
    asks_about_present,
    item_number,
    numbered_refs,
    rrf,
)
from assistant.types import DocumentMeta

CASES = yaml.safe_load((Path(__file__).parent / "data" / "retrieval_cases.yaml").read_text(encoding="utf-8"))


def _norm(text: str) -> str:
    return " ".join(text.split()).lower()


def test_there_are_at_least_30_real_questions():
    assert len(CASES) >= 30
    assert {c["gold"]["document"] for c in CASES} == {"cps-2021-24", "cps-2025-28", "local-offer"}


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_gold_passage_is_in_the_top_3(bot, case):
    hits = bot.search(case["question"], k=3)
    golds = [case["gold"], *case.get("also", [])]
    found = [
        h for h in hits for g in golds if h.document_id == g["document"] and _norm(g["quote"]) in _norm(h.text)
    ]
    shown = "\n".join(f"  {h.document_id} {h.section[:40]}: {' '.join(h.text.split())[:90]}" for h in hits)
    assert found, f"{case['question']!r}: gold not in top 3; got\n{shown}"


def test_one_word_decides_on_a_tiny_corpus(tmp_path, embedder):
    """Five handwritten passages; only one mentions driving lessons."""
    bot = another_council(tmp_path, embedder, {
        "a.md": "# Travel\n\nCare leavers get half-price bus passes.\n",
        "b.md": "# Learning\n\nThe council pays for driving lessons for care leavers in work.\n",
        "c.md": "# Health\n\nYou can see a nurse for a health check.\n",
        "d.md": "# Housing\n\nThe housing team helps with deposits.\n",
        "e.md": "# Money\n\nA weekly allowance is paid until you claim benefits.\n",
    })
    assert bot.search("can i get help paying for driving lessons", k=1)[0].document_id == "doc-2"


def test_current_documents_are_preferred_unless_the_past_is_asked_about(bot):
    now = bot.search("Who chairs the Corporate Parenting Board?", k=1)[0]
    before = bot.search("Who chaired the Corporate Parenting Board in the previous strategy?", k=1)[0]
    assert now.document_id == "cps-2025-28" and "Lead Member" in now.text
    assert before.document_id == "cps-2021-24" and "Cabinet Member for School Performance" in before.text


PERIODS = Periods.from_documents(read_manifest(CORPUS))


def test_past_questions_are_recognised():
    assert asks_about_past("what was the EET target in the previous strategy")
    assert asks_about_past("What did the 2021-24 plan say?", PERIODS)
    assert asks_about_past("how many care leavers were in EET in 2020/21", PERIODS)
    assert not asks_about_past("What is the EET target?", PERIODS)
    assert not asks_about_past("does the 2000 bursary work if my course is only one year", PERIODS)


def test_the_years_of_past_and_present_come_from_the_manifest():
    """A council whose old strategy is 2023-26 gets the same past/present reading for its years."""
    old = DocumentMeta("old", "Strategy 2023–26", "Test Council", 2023, "2023–2026", "superseded", "strategy",
                       "https://example.org", "old.md", superseded_by="new")
    new = DocumentMeta("new", "Strategy 2026–29", "Test Council", 2026, "2026–2029", "current", "strategy",
                       "https://example.org", "new.md")
    periods = Periods.from_documents([old, new])
    assert asks_about_past("what did the 2023-26 strategy promise", periods)
    assert asks_about_present("what does the 2026-29 strategy promise", periods)
    assert not asks_about_past("what did the 2023-26 strategy promise", PERIODS)


def test_rrf_rewards_agreement():
    scores = rrf([(["a", "b", "c"], 1.0), (["b", "a", "d"], 1.0)], k=60)
    assert max(scores, key=scores.get) in {"a", "b"} and scores["a"] == scores["b"] > scores["c"] > 0


@pytest.mark.parametrize(
    ("question", "numbers"),
    [
        ("In the 2021-24 Pledge, what was ambition 24 and who was leading it?", {24}),
        ("what does measure 14 say", {14}),
        ("compare measures 2 and no. 9", {2, 9}),
        ("What is the 2025-28 EET target for 18-21 year olds?", set()),
        ("how many care leavers were in EET in 2020/21", set()),
        ("is the target 60% for item 3.5", set()),
    ],
)
def test_numbered_references_are_read_from_the_question(question, numbers):
    assert numbered_refs(question) == numbers


def test_item_numbers_are_read_from_the_start_of_an_item():
    assert item_number("24. Having access to the right services") == 24
    assert item_number("2020/21 figures") is None
    assert item_number("3.5 million") is None


def test_an_item_asked_for_by_number_is_found(bot):
    """"Ambition 24" shares no words with "24. Having access to the right services"."""
    passages = bot.search("In the 2021-24 Pledge, what was ambition 24?", k=5)
    assert any("24. Having access to the right services" in p.text for p in passages)


@pytest.mark.parametrize(
    ("question", "present"),
    [
        ("how many young people are in elevation at the moment", True),
        ("What is the current EET target?", True),
        ("what's the EET target these days", True),
        ("What was the EET target in the previous strategy?", False),
        ("how has the EET target changed since 2021-24, and what is it now?", False),
        ("What is the EET target?", False),
        ("What does the 2025-28 strategy aim for?", True),
    ],
)
def test_questions_about_the_present_are_recognised(question, present):
    assert asks_about_present(question, PERIODS) is present
