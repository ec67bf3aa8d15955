"""Answers a young person can rely on: what was asked comes first, and what the documents don't
say is said plainly, with help that fits the question. Asked as a care leaver would ask."""

from __future__ import annotations

import re

import pytest
from conftest import another_council, said_before

from assistant.answer import gates
from assistant.config import load_settings
from assistant.text import english
from assistant.text.personal import CHAT_WORDS

SAFETY_LINES = ("MASH", "Call 101", "020 8314 6660")


def test_a_money_question_the_documents_dont_answer_is_declined_without_safeguarding_lines(bot):
    reply = bot.ask("how many care leavers do we have")
    assert reply.status in ("not_found", "answered")
    if reply.status == "not_found":
        assert "number" in reply.text
        assert not any(line in reply.text for line in SAFETY_LINES), reply.text
    else:
        assert re.search(r"\d", reply.text.split("\n\n")[0]), reply.text  # a figure, not "Care leavers."


def test_a_decline_about_safety_lists_the_safeguarding_lines():
    settings = load_settings()
    shown = [c.name for c in settings.decline_contacts("who do i tell if im worried about a friends safety")]
    assert any("MASH" in name for name in shown)
    assert settings.decline_contacts("how much is the clothing allowance") == []


@pytest.mark.parametrize("question", ["hi", "hello there", "thanks", "thank u that helped"])
def test_small_talk_gets_a_friendly_reply_never_a_decline(bot, question):
    reply = bot.ask(question)
    assert reply.status == "off_topic"
    assert "won't guess" not in reply.text and "MASH" not in reply.text


def test_thanks_after_an_answer_is_not_the_answer_again(bot):
    history = [{"role": "user", "content": "how much is the uni bursary"},
               {"role": "assistant", "content": bot.ask("how much is the uni bursary").text}]
    reply = bot.ask("thanks", history=history)
    assert "£2,000" not in reply.text and reply.status == "off_topic"


@pytest.mark.parametrize("question", [
    "im pregnant what help can i get",
    "what happens when i turn 25",
    "how do i get a PA",
])
def test_the_first_line_is_a_statement_not_a_caption_poem_or_fragment(bot, question):
    reply = bot.ask(question)
    first = next(line for line in reply.text.split("\n") if line.strip())
    assert not re.search(r"– percent|^Care is |^You make it with your PA", first), first
    assert len(re.findall(r"[A-Za-z£0-9']+", first)) >= 6, first


def first_screen(text: str) -> str:
    """What a care leaver sees before "More from the documents" (and before the sources)."""
    return text.split("**More from the documents:**")[0].split("\nSources:")[0]


@pytest.mark.parametrize("question", [
    "im an asylum seeker what support do i get",
    "what help is there with money",
    "what does the council do for care leavers",
])
def test_a_long_answer_fits_a_phone_screen_before_more(bot, question):
    reply = bot.ask(question)
    shown = first_screen(reply.text)
    bullets = [line for line in shown.split("\n") if line.startswith("- ")]
    words = len(re.findall(r"[A-Za-z0-9£%'’]+", re.sub(r"\[\d+\]", "", shown)))
    assert words <= 150 or len(bullets) <= 1, (words, shown)


def test_a_rule_the_document_repeats_is_said_once(bot):
    reply = bot.ask("im an asylum seeker what support do i get")
    assert reply.text.count("Then you get the same support as a care leaver") == 1, reply.text


def test_a_question_told_as_a_story_is_answered(bot):
    story = ("i left care last year and i live in a flat now. a builder offered me an apprenticeship "
             "starting in september and my mate said care leavers get extra money for it. how much would i get")
    reply = bot.ask(story)
    assert reply.status == "answered", reply.text
    assert "apprenticeship bursary" in reply.text and "£" in reply.text.split("\n\n")[0]


def test_the_readmes_eet_question_leads_with_the_eet_row(bot):
    reply = bot.ask("What is the EET target?", audience="staff")
    first = reply.text.strip().split("\n")[0]
    assert "education, employment or training" in first and "60%" in first, first


@pytest.mark.parametrize("question", [
    "what does the 2028-31 corporate parenting strategy say about care leavers",
    "what are the targets in the 2031-34 plan",
])
def test_a_period_no_document_covers_is_declined_by_name(bot, question):
    reply = bot.ask(question, audience="staff")
    assert reply.status == "not_found" and "20" in reply.text.split("\n")[0], reply.text


@pytest.mark.parametrize("question", ["is council tax still free for care leavers in 2027-28",
                                      "is council tax still free for care leavers in 2027/28"])
def test_a_financial_year_the_evidence_is_not_dated_to_is_declined_by_name(bot, question):
    """"2027-28" is a year of council tax, not a strategy's period: "for 2019/20" does not answer it."""
    reply = bot.ask(question)
    assert reply.status == "not_found", reply.text
    assert "2027" in reply.text.split("\n")[0]


@pytest.mark.parametrize(("question", "now", "before"), [
    ("how did the placement stability measure change from 2021-24 to 2025-28", "2.5 years", "71%"),
    ("what did the old strategy measure for review meetings, and what does the new one measure", "90.9%", "73%"),
])
def test_what_changed_sets_a_measure_beside_the_one_it_replaced(bot, question, now, before):
    reply = bot.ask(question, audience="staff")
    assert "**Now" in reply.text and "**Before" in reply.text, reply.text
    now_side, before_side = reply.text.split("**Before", 1)
    assert now in now_side and before in before_side, reply.text


def test_a_near_miss_is_declined_then_shows_the_nearest_thing_labelled(bot):
    reply = bot.ask("how much is the clothing allowance for care leavers")
    assert reply.status == "not_found"
    decline, _, rest = reply.text.partition("**What the documents do say about the nearest thing**")
    assert "clothing allowance" in decline and "won't guess" in decline
    assert "does not answer your question" in rest and reply.citations, reply.text


def test_a_contact_the_documents_dont_give_shows_no_other_number(bot):
    reply = bot.ask("whats the phone number for the leaving care team")
    assert reply.status == "not_found"
    assert "nearest thing" not in reply.text and not re.search(r"\b0\d{3} ?\d{3} ?\d{4}\b", reply.text), reply.text


def test_a_follow_up_of_a_few_words_keeps_the_thread(bot):
    first = "what is staying put"
    history = [{"role": "user", "content": first}, {"role": "assistant", "content": bot.ask(first).text}]
    reply = bot.ask("till what age", history=history)
    assert reply.status == "answered" and "21" in reply.text, reply.text
    assert "till what age (" not in reply.text  # the merged question is never shown


def test_a_discount_answers_how_much_and_a_year_is_not_a_date(bot):
    reply = bot.ask("do care leavers get money off council tax, how much")
    assert reply.status == "answered" and "100% council tax discount" in reply.text, reply.text
    reply = bot.ask("what is the date of the next corporate parenting board meeting", audience="staff")
    assert reply.status == "not_found" and "date" in reply.text.split("\n\n")[0], reply.text


@pytest.mark.parametrize(("question", "subject"), [
    ("im pregnant what help can i get", "pregnant"),
    ("do u get a graduation gift when u finish uni", "graduation gift"),
    ("im 20 and pregnant with my first baby, what extra help can i get as a care leaver?", "pregnant"),
])
def test_a_subject_the_documents_never_mention_is_named_as_not_covered_first(bot, question, subject):
    reply = bot.ask(question)
    first = reply.text.split("\n\n")[0]
    assert reply.status == "not_found", reply.text
    assert re.search(f"“[^”]*{subject}[^”]*”", first) and "personal adviser" in first, first
    # What the documents do say comes after, labelled as not the answer.
    assert "nearest thing" in reply.text


def test_the_same_word_beside_a_subject_the_documents_cover_is_answered(bot):
    reply = bot.ask("im pregnant can i still get the uni bursary")
    assert reply.status == "answered", reply.text
    assert "£2,000" in reply.text


def test_a_story_told_with_a_place_and_a_partner_is_answered_for_what_it_asks(bot):
    """'girlfriend' is a word the documents never use, and 'catford' where it happened: a place
    weighs nothing on the absent side, so the council tax question the story ends in is answered."""
    reply = bot.ask("me and my girlfriend just moved into a flat in catford, im 21 and left care last year. "
                    "we got a council tax letter today and i had no idea we had to pay it. is there anything for care leavers?")
    assert reply.status == "answered" and "100% council tax discount" in reply.text, reply.text


def test_misspellings_chat_words_and_months_are_not_taken_for_an_unknown_subject(bot):
    lexicon = bot.context.lexicon
    said = "wat help is there wiv accomodation in march innit"
    assert gates.unfamiliar_words(said, lexicon, english.zipf, CHAT_WORDS) == []
    assert gates.unfamiliar_words("im pregnant", lexicon, english.zipf, CHAT_WORDS) == ["pregnant"]


def test_a_council_whose_documents_speak_of_it_answers_it(tmp_path, embedder):
    other = another_council(tmp_path, embedder, {
        "parents.md": "# Young parents\n\nIf you are pregnant, your personal adviser can help you find a "
                      "mother and baby placement and apply for a maternity grant.\n",
        "money.md": "# Money\n\nThe setting up home allowance helps you buy furniture for your first flat.\n",
    })
    reply = other.ask("im pregnant what help can i get")
    assert reply.status == "answered", reply.text
    assert "mother and baby placement" in reply.text


@pytest.mark.parametrize("question", [
    "is there somewhere i can text instead of calling, i hate phone calls",
    "do i have a junior isa or wat",
])
def test_chat_words_and_somewhere_are_not_taken_for_a_thing_the_documents_lack(bot, question):
    reply = bot.ask(question)
    assert reply.status == "answered", reply.text
    assert "won't guess" not in reply.text


def test_another_form_of_a_document_word_is_not_a_thing_the_documents_lack(bot):
    reply = bot.ask("is there cheaper buses for care leavers in london")
    assert reply.status == "answered", reply.text
    assert "50%" in reply.text


def test_it_in_a_follow_up_is_the_earlier_topic_not_a_new_thing(bot):
    reply = bot.ask("is it still running tho", history=said_before("is there free online counselling i can use",
                                                                    "i'm 23"))
    assert reply.status == "answered", reply.text
    assert "Kooth" in reply.text


@pytest.mark.parametrize(("question", "fact"), [
    ("off to uni next year, will the council give me anything towards it", "£2,000"),
    ("how much would be waiting for me in my junior isa", "£200"),
    ("is there any way i can get cheaper travel on the buses", "50%"),
])
def test_words_that_name_no_thing_are_not_a_thing_the_documents_lack(bot, question, fact):
    """"towards it", "be waiting", "any way" are not things: the question is answered."""
    reply = bot.ask(question)
    assert reply.status == "answered", reply.text
    assert fact in reply.text


@pytest.mark.parametrize("question", [
    "my foster placement changed last month, does my pathway plan need updating",
    "has my leaving care grant changed since i turned 18",
    "what is different about staying put and supported lodgings",
    "is the council tax rule different for 16 year olds",
])
def test_a_word_of_change_about_your_own_life_is_not_a_comparison_of_the_strategies(bot, question):
    plan = bot.plan(question)
    assert plan.kind != "compare", plan.steps
    assert plan.status == "answered"


def test_a_comparison_of_the_strategies_is_still_set_side_by_side(bot):
    plan = bot.plan("has the target for care leavers in education or work changed since the old strategy")
    assert plan.kind == "compare", plan.steps


def test_a_count_the_documents_never_give_is_declined_not_answered_with_an_age_or_a_phone_number(bot):
    """Ages ("aged 21 to 24"), phone numbers and weeks are not a count of people."""
    reply = bot.ask("how many personal advisers does lewisham employ", audience="staff")
    assert reply.status == "not_found", reply.text


def test_a_share_still_answers_how_many(bot):
    reply = bot.ask("How many care leavers were living in suitable accommodation in 2020/21?", audience="staff")
    assert reply.status == "answered", reply.text
    assert "92%" in reply.text


def test_a_list_whose_lead_in_says_these_comes_with_the_sentence_that_says_what_they_are(bot, tmp_path, embedder):
    reply = bot.ask("What are the statutory principles I must keep in mind when I make decisions about children in care?",
                    audience="staff")
    assert reply.text.startswith("The Children and Social Work Act 2017 introduced seven corporate parenting principles. "
                                 "Local Authorities must consider these"), reply.text
    # Any council's documents: the sentence before a list that leans on it.
    other = another_council(tmp_path, embedder, {
        "offer.md": "# Your rights\n\nThe council has made five promises to care leavers. We will keep these until you are 25:\n\n"
                    "- You will have a personal adviser\n- You will have a pathway plan\n- You will get help with housing\n"
                    "- You will get help with education\n- You will get help with money\n",
    })
    reply = other.ask("what promises does the council make to care leavers")
    assert reply.text.startswith("The council has made five promises to care leavers. We will keep these"), reply.text


@pytest.mark.parametrize(("question", "definition"), [
    ("my PA said im a former relevant child?? what does that mean", "Former relevant child: usually a care leaver aged 18"),
    ("what does corporate parenting even mean", "Corporate parenting means the council acts like a good parent"),
])
def test_a_question_for_what_a_word_means_is_led_by_the_documents_own_definition(bot, question, definition):
    assert bot.ask(question).text.startswith(definition)


def test_any_councils_definition_leads_an_answer_to_what_its_word_means(tmp_path, embedder):
    other = another_council(tmp_path, embedder, {
        "offer.md": "# Staying close\n\nAsk your PA what staying close could mean for you, and whether staying close "
                    "is right for you.\n\n# Other options\n\nYou can stay with your foster family after 18 if you all "
                    "agree. Staying close means you live near your old foster family, with support from them.\n",
    })
    reply = other.ask("whats staying close mean")
    assert reply.text.startswith("Staying close means you live near your old foster family"), reply.text


@pytest.mark.parametrize("question", ["do i have to pay for my meds", "is my medication free now im a care leaver"])
def test_everyday_words_for_prescriptions_find_them(bot, question):
    """"meds", "medication": what young people call what the documents call prescriptions."""
    reply = bot.ask(question)
    assert reply.status == "answered" and "prescribed by their GP" in reply.text, reply.text
