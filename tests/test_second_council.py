"""Another council, with only its corpus folder and its council.toml: the same code answers it.

The Lancashire example (examples/lancashire) was written from that council's public pages; its
two question sets were written by people who had not seen the code.
"""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.config import load_settings
from eval.harness import evaluate_assistant, summarise
from eval.questions import load_cases

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "lancashire"
GATE = tomllib.loads((ROOT / "eval" / "thresholds.toml").read_text(encoding="utf-8"))["second_council"]


@pytest.fixture(scope="module")
def lancashire(tmp_path_factory, embedder):
    folder = tmp_path_factory.mktemp("lancashire")
    shutil.copytree(EXAMPLE / "corpus", folder / "corpus")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ASSISTANT_PROFILE", str(EXAMPLE / "council.toml"))
        settings = load_settings(corpus_dir=folder / "corpus", index_dir=folder / "index")
        yield Assistant.load(settings, embedder=embedder)


def test_it_speaks_as_the_other_council(lancashire):
    reply = lancashire.ask("hello")
    assert "Lancashire" in reply.text and "Lewisham" not in reply.text


def test_a_fact_is_found_under_the_heading_that_says_who_it_is_for(lancashire):
    """The amount sits under "Setting up your first home"; its own line never says "first home"."""
    reply = lancashire.ask("how much money will i get to furnish my first home")
    assert reply.status == "answered" and "£3000" in reply.text, reply.text


@pytest.mark.slow
def test_its_question_sets_pass(lancashire):
    cases = [*load_cases(EXAMPLE / "questions.yaml"), *load_cases(EXAMPLE / "firstsight-2026-12-03.yaml")]
    summary = summarise(evaluate_assistant(lancashire, cases))
    wrong = [f["id"] for f in summary["failures"]] + [i["id"] for i in summary["incomplete"]]
    print(f"second council: fully right {summary['fully_right']} of {len(cases)}")
    assert summary["fully_right"] >= GATE["fully_right"], f"fully right {summary['fully_right']}; not: {wrong}"


def test_national_terms_are_explained_without_a_glossary_of_its_own(lancashire):
    """Lancashire's folder has no glossary.toml: the package's national terms still apply."""
    assert not (EXAMPLE / "corpus" / "glossary.toml").exists()
    assert lancashire.glossary.acronyms["EET"] == "education, employment or training"
    reply = lancashire.ask("how much do i get for volunteering")  # the document says "Voluntary work"
    assert reply.status == "answered" and "£25" in reply.text, reply.text


def test_a_birthday_the_list_does_not_name_is_a_near_miss(lancashire):
    """The document gives birthday money for the 19th, 20th and 21st: the 18th is not stated."""
    asked = lancashire.ask("how much do i get for my 18th birthday")
    assert asked.status == "not_found" and "18th" in asked.text.split("\n\n")[0], asked.text
    stated = lancashire.ask("how much do i get for my 21st birthday")
    assert stated.status == "answered" and "£50" in stated.text, stated.text


def test_a_question_for_two_facts_needs_both(lancashire):
    """The hub's phone is given, its opening hours are not: a time and an address were asked for."""
    reply = lancashire.ask("what time does the leaving care hub open and whats the address")
    assert reply.status == "not_found", reply.text
