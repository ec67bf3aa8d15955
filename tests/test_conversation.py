"""Small talk gets a short friendly reply, never a decline; a real question is never taken for it.

The real assistant over the shipped corpus, and the held-out set eval/conversation/test_set.toml
(written by a helper who saw neither the code nor the exemplar bank).
"""

from __future__ import annotations

import pytest
from conftest import PROJECT_ROOT

from eval.conversation import evaluate, load_cases


def decline_words(bot) -> str:
    return bot.context.rules.messages.say("not_found_care_leaver", what="", advice_contact="").split(",")[0]


@pytest.mark.parametrize("message", ["hi", "hiya", "hello is anyone there", "good morning"])
def test_a_greeting_gets_a_hello_and_questions_to_try(bot, message):
    reply = bot.ask(message)
    assert reply.status == "off_topic" and not reply.citations
    assert reply.text.startswith("Hi!") and "You could ask, for example:" in reply.text
    assert decline_words(bot) not in reply.text


@pytest.mark.parametrize("message", ["ok thanks thats it", "thanks for that"])
def test_thanks_that_points_back_at_the_answer_is_still_thanks(bot, message):
    history = [{"role": "user", "content": "how much is the setting up home allowance"}]
    plan = bot.plan(message, history=history)
    assert (plan.kind, plan.talk) == ("conversation", "thanks"), plan.steps


def test_thanks_after_an_answer_is_not_the_answer_again(bot):
    history = [{"role": "user", "content": "how much is the setting up home allowance"},
               {"role": "assistant", "content": "It is £3,000 [1]."}]
    first = bot.ask("how much is the setting up home allowance")
    reply = bot.ask("thanks", history=history)
    assert reply.status == "off_topic" and reply.text != first.text
    assert "welcome" in reply.text.lower() and "£" not in reply.text


@pytest.mark.parametrize("message, words", [
    ("who are you", "not a person"),
    ("this is useless", "Sorry this isn't helping"),
    ("see you later", "Take care"),
])
def test_other_small_talk_is_answered_kindly_and_plainly(bot, message, words):
    reply = bot.ask(message)
    assert reply.status == "off_topic" and words in reply.text


@pytest.mark.parametrize("message, kind", [("are u a real person or a bot lol", "about_assistant"), ("safe bro thanks", "thanks")])
def test_small_talk_with_a_word_of_the_care_domain_is_still_small_talk_when_it_is_plainly_that(bot, message, kind):
    # "person" and "safe" are words of the domain ("young person", "feel safe"), so only a message
    # that reads as small talk more surely than any question example with such a word is taken for it.
    plan = bot.plan(message)
    assert (plan.kind, plan.talk) == ("conversation", kind), plan.steps
    for question in ("does my pa know about it", "is my pa a real person", "is the leaving care grant safe"):
        assert bot.plan(question).kind != "conversation", question


def test_small_talk_never_comes_before_safety(bot):
    for message in ("goodbye everyone. i took all my tablets", "thanks for nothing, im going to end it tonight"):
        assert bot.ask(message).status == "safeguarding", message


def test_staff_are_greeted_in_their_terms(bot):
    reply = bot.ask("hello", audience="staff")
    assert "corporate parenting strategies" in reply.text and "EET target" in reply.text


@pytest.mark.parametrize("message, history", [
    ("hi can i get help with my rent deposit", []),
    ("thanks! and what about money for uni?", ["can i stay with my foster carer after 18"]),
    ("pa?", []),
    ("who chairs it?", ["what is the corporate parenting board"]),
    ("and if i just want to text someone?", ["whats the number for the mental health crisis line"]),
    ("can u solve 3x + 7 = 22 for my homework pls", []),
    # A word pointing back at the question before makes a follow-up, opening "ok" or not.
    ("ok how do i get it out", ["i was in care and born in 1999 do i have a junior isa"]),
])
def test_a_real_question_is_never_taken_for_small_talk(bot, message, history):
    plan = bot.plan(message, history=[{"role": "user", "content": h} for h in history])
    assert plan.kind != "conversation", plan.steps


def test_small_talk_is_never_logged_as_a_question_the_documents_miss(bot):
    assert bot.ask("hi").status != "not_found"


def test_on_the_held_out_set_small_talk_is_recognised_and_no_question_is_lost(bot):
    """Gated at what was measured (eval/reports/conversation/): 155 of 181 small-talk messages and 0 of
    188 questions taken for small talk. A question taken for small talk loses its answer, so that
    side is held at 1% at most; small talk missed only gets a polite redirect."""
    result = evaluate(bot, load_cases(PROJECT_ROOT / "eval" / "conversation" / "test_set.toml"))
    assert result["questions"] >= 150 and result["small_talk"] >= 150
    assert result["false_talk_rate"] <= 0.01, result["questions_taken_for_talk"]
    assert result["recall"] >= 0.8, result["missed"]
