"""A yes/no question is answered "Yes", "No" or "It depends" first, and only when the cited statement says so."""

from __future__ import annotations

import pytest
from conftest import another_council

from assistant.answer.verdict import asks_yes_no, settles, the_ask
from assistant.rules import default_rules

RULES = default_rules()


def test_a_yes_no_question_leads_with_yes_when_the_statement_says_you_can(bot):
    reply = bot.ask("can i stay with my foster carer after i turn 18")
    assert reply.text.startswith("**Yes.**"), reply.text
    assert "foster carer after you turn 18" in reply.text and "[1]" in reply.text


def test_it_leads_with_no_when_the_statement_denies_what_was_asked(bot):
    reply = bot.ask("do i have to pay back the uni bursary")
    assert reply.text.startswith("**No.**"), reply.text
    assert "do not pay back" in reply.text


def test_a_condition_in_the_statement_makes_it_depend(bot):
    reply = bot.ask("I came to the UK alone at 15 and claimed asylum, Lewisham looked after me. "
                    "Do I get the same support as other care leavers?")
    assert reply.text.startswith("**It depends.**"), reply.text
    assert "13-week rule" in reply.text


@pytest.mark.parametrize("question", [
    "do care leavers get free prescriptions",  # "do not pay" denies paying, not getting
    "what is staying put",                     # not a yes/no question
    "how much is the uni bursary",
])
def test_no_yes_or_no_that_the_statement_does_not_give(bot, question):
    reply = bot.ask(question)
    assert not reply.text.startswith(("**Yes.**", "**No.**")), reply.text


def test_a_story_is_asked_in_its_last_question():
    story = "i left care at 18 and told my PA i didnt need her. now im 23 and i lost my job. is it too late?"
    assert the_ask(story) == "is it too late?"
    assert the_ask("i came here alone at 15, do i get the same support?") == "do i get the same support?"
    assert asks_yes_no(story, RULES)
    assert not asks_yes_no("i left care at 18. what help can i get now", RULES)


def test_what_a_sentence_settles():
    assert settles("You get the same support as a care leaver.", RULES) == "yes"
    assert settles("At 16 or 17 you usually cannot claim benefits.", RULES) == "depends"  # "usually"
    assert settles("You will no longer get a weekly allowance.", RULES) == "no"
    assert settles("The council reviews your pathway plan.", RULES) is None



def test_a_superseded_documents_statement_gets_no_verdict(tmp_path, embedder):
    """"Yes" from a replaced plan would be a yes about support that may have gone."""
    bot = another_council(tmp_path, embedder, {
        "new.md": "# Leisure\n\nThe council works with local sports clubs on activities for young people.\n",
        "old.md": "# Leisure\n\nCare leavers can get a free gym pass from the council.\n",
    }, statuses={"old.md": "superseded"})
    plan = bot.plan("can care leavers get a free gym pass from the council")
    assert plan.status == "answered" and plan.evidence[0].document_id == "doc-2", plan.evidence
    assert plan.verdict is None
    reply = bot.ask("can care leavers get a free gym pass from the council")
    assert not reply.text.startswith("**Yes.**") and "since replaced" in reply.text, reply.text
