"""Questions that ask for one specific fact, and whether the evidence gives it about the right thing."""

from __future__ import annotations

import pytest

from assistant.answer import gates as specifics
from assistant.text.tokens import terms


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("What is the phone number of the Leaving Care team?", "contact"),
        ("what is my PA's name and number", "contact"),
        ("what's the email address of the leaving care service", "contact"),
        ("who do i call if my placement breaks down", "contact"),
        # "address" as a verb and "number" as a count are not contact details.
        ("Which Ofsted inspection did the plan say it would address the areas for improvement from?", None),
        ("Did the 2021-24 strategy set a number for better educational outcomes?", None),
        ("can i still call childline, im 20", None),
        ("what time does the leaving care hub open on saturdays", "clock"),
        ("how often does the Corporate Parenting Board meet", "frequency"),
        ("how long is the wait for a council flat", "duration"),
        ("When was the Care Leaver and UASC Service created?", "time"),
        ("What percentage of care leavers were in EET in 2028?", "percent"),
        ("how much is the setting up home allowance", "amount"),
        # A payment named with how often it is paid asks for its amount.
        ("what weekly allowance do foster carers get from the council", "amount"),
        ("how much rent would i pay", "amount"),
        # "How much" of something that is not money asks for a quantity: hours, visits or pounds.
        ("how much time does my PA have to spend with me", "quantity"),
        ("how much support does the host give each week", "quantity"),
        ("how much help does my foster carer get paid for staying put", "amount"),
        ("how much universal credit will i get", "amount"),
        ("what can I get when I go to uni?", None),
        # "the number for" a service is its phone number; "during the day" asks for no date.
        ("what's the number for Lewisham children's social care during the day?", "contact"),
        ("what date is the next board meeting", "date"),
    ],
)
def test_the_kind_of_fact_asked_for(question, kind):
    assert specifics.ask_kind(question) == kind


@pytest.mark.parametrize(
    ("question", "thing"),
    [
        ("is there a clothing allowance for care leavers", "a clothing allowance"),
        ("do care leavers get a free railcard", "a free railcard"),
        ("Does Lewisham pay for my passport or birth certificate?", "my passport or birth certificate"),
        ("can lewisham buy me a laptop for uni", "a laptop"),
        ("Is dental treatment free for care leavers?", "dental treatment"),
        ("is there a helpline i can text instead of ringing?", "a helpline"),
        ("which gyms can i use for free", "gyms"),
        ("who is the manager of the leaving care team?", "the manager of the leaving care team"),
        ("What does the Pledge say about housing?", None),
        # "one" stands for the thing named before it, or for one named in an earlier message
        ("i dont have a national insurance number, how do i get one", "a national insurance number"),
        ("how long is the wait for a council flat and how do i get one", "a council flat"),
        ("how much does it cost and how do i get one", None),
        # After "how much does", a payer and a verb come first: no thing ("the specific fact gate
        # asks for the amount"); the thing costs, or is what "how much is" names.
        ("how much does govt put in the junior isa for kids in care", None),
        ("how much does a provisional licence cost", "a provisional licence"),
        ("roughly how much would be sitting in my junior isa", None),
        # The people paid name no thing; "im 24" ends the thing's name.
        ("how much do lewisham pay the people who host supported lodgings", None),
        ("can i get the apprentice bursary im 24 and never had it", "the apprentice bursary"),
    ],
)
def test_the_thing_a_yes_no_question_asks_about(question, thing):
    assert specifics.asked_thing(question) == thing


@pytest.mark.parametrize(
    ("question", "kind", "clause"),
    [
        ("how long is the wait for a council home and where do i bid for one", "duration",
         "how long is the wait for a council home "),
        ("my PA left. what is the number for the leaving care team?", "contact",
         "what is the number for the leaving care team?"),
        ("how much is the bursary", "amount", "how much is the bursary"),
    ],
)
def test_a_fact_is_looked_for_about_the_clause_that_asks_for_it(question, kind, clause):
    assert specifics.asking_clause(kind, question) == clause


def test_rare_words_weigh_more_than_common_ones():
    passages = ["care leavers and care", "care leavers forum", "care and support", "care homes"]
    weights = specifics.term_weights(passages, terms)
    assert weights["forum"] > weights["leaver"] > weights["care"]


def test_a_line_is_on_topic_by_the_weight_of_the_words_it_shares():
    passages = ["the leaving care team", "care leavers", "the care forum meets monthly", "care"] * 3
    lexicon = specifics.Lexicon({}, terms, specifics.term_weights(passages, terms))
    topic = lexicon.topic("when does the care forum meet")
    assert set(topic) == {"care", "forum", "meet"}  # "when" names the kind of fact, not the topic
    assert lexicon.on_topic(topic, "The care forum meets monthly.")
    # Sharing only the word every passage uses is not being on topic.
    assert not lexicon.on_topic(topic, "Care leavers can call 020 8314 6660.")


def test_a_misspelling_of_a_word_the_documents_use_is_recognised_as_difflib_would():
    """``uses`` filters the documents' words by length and shared letters before difflib: the same
    answer as difflib over every word, for words, misspellings and words nowhere near."""
    import difflib

    passages = ["the bus pass and the bursary", "council tax exemption", "a personal adviser", "£57.90 a week"]
    lexicon = specifics.Lexicon({}, terms, specifics.term_weights(passages, terms))
    words = ["buse", "burseri", "councel", "exempshun", "advisor", "adviser", "zebra", "x", "£57.9", "café", "tax"]
    for word in words:
        expected = word in lexicon.weights or bool(
            difflib.get_close_matches(word, lexicon.weights.keys(), n=1, cutoff=specifics.SPELLING_CLOSE)
        )
        assert lexicon.uses(word) is expected, word
    assert lexicon.uses("buse") and lexicon.uses("burseri") and not lexicon.uses("zebra")  # terms are stems


def test_a_word_the_documents_use_only_with_a_suffix_stands_for_those_words():
    """"the apprentice bursary": the documents say "apprenticeship", so "apprentice" is theirs and
    counts towards the topic; a short word ("part") stands for nothing longer ("partner")."""
    passages = ["the apprenticeship bursary", "a partner or a friend", "council tax"] * 2
    lexicon = specifics.Lexicon({}, terms, specifics.term_weights(passages, terms))
    assert lexicon.uses("apprentic") and not lexicon.uses("part")
    topic = lexicon.topic("can i get the apprentice bursary")
    assert topic["apprentic"] == {"apprenticeship"}
    assert lexicon.on_topic(topic, "To get the apprenticeship bursary, you must be under 25.")
    assert not lexicon.on_topic(topic, "Care leavers pay no council tax.")


def test_words_the_documents_never_use_do_not_count_towards_the_topic():
    lexicon = specifics.Lexicon({}, terms, specifics.term_weights(["junior isa savings"] * 2, terms))
    assert set(lexicon.topic("i was born in 2001, how much is in my junior isa")) == {"junior", "isa"}


def test_someone_or_anything_names_no_topic_even_where_the_documents_use_it():
    """"someone said the government…": who said it is not what the question is about."""
    passages = ["someone from the leaving care team", "the government pays into a junior isa", "anything else"] * 2
    lexicon = specifics.Lexicon({}, terms, specifics.term_weights(passages, terms))
    topic = lexicon.topic("someone said the government pays into an isa, is anything in mine")
    assert set(topic) == {"govern", "pay", "isa"}
    assert lexicon.on_topic(topic, "The government pays £200 into a Junior ISA.")


def test_words_that_say_how_much_or_how_sure_name_no_topic_even_where_the_documents_use_them():
    """"is it really free", "how much help do i actually get": a filler the documents happen to use
    once or twice would weigh as a rare word, and a line about the topic would seem off it."""
    passages = ["it is really important", "the mental health crisis line", "talk to someone", "health"] * 2
    lexicon = specifics.Lexicon({}, terms, specifics.term_weights(passages, terms))
    topic = lexicon.topic("my head is really bad, i need to talk about my mental health, who do i ring")
    assert "realli" not in topic and {"mental", "health"} <= set(topic)
    assert lexicon.on_topic(topic, "The mental health crisis line: talk to someone, 24/7.")


# The assistant itself: the fact or thing asked for must be in what it cites.


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What is the MASH email address in Lewisham?", "mashagency@lewisham.gov.uk"),
        ("Under the 2021-24 strategy, how often did the Corporate Parenting Group/Board meet?", "four times per year"),
        ("how much does the care leaver oyster card cost", "£20"),
        ("What is the EET target for care leavers in 2028?", "60%"),
        ("started my apprenticeship in sept 2024, how much bursary do i get", "£3,000"),
        ("how much does govt put in the junior isa for kids in care", "£200"),
        ("how much do lewisham pay the people who host supported lodgings", "£255.00"),
        ("can i get the apprentice bursary im 24 and never had it", "under 25"),
        # A condition asked, then answered, is one: "Were you in care and born …? You will have …"
        ("i was born in 1998 and grew up in care roughly how much would be sitting in my junior isa", "£300"),
        # "really" says how bad, not what about: the crisis line is about mental health.
        ("my head is really bad tonight, who do i ring to talk about my mental health", "0800 731 2864"),
        ("honestly i really need to talk to someone about my mental health, what number do i call", "0800 731 2864"),
    ],
)
def test_the_fact_asked_for_is_given_when_a_line_about_the_topic_states_it(bot, question, expected):
    reply = bot.ask(question, audience="staff")
    assert reply.status == "answered", reply.text
    assert expected in reply.text and reply.citations, reply.text


@pytest.mark.parametrize(
    ("question", "named"),
    [
        ("is there a clothing allowance for care leavers", "a clothing allowance"),
        ("do care leavers get a free railcard", "a free railcard"),
        ("can lewisham buy me a laptop for uni", "a laptop"),
        ("What percentage of care leavers were actually in EET in 2028?", "what applies in 2028"),
        ("is council tax still 100% free for care leavers this year 2026/27", "what applies in 2026"),
        ("who is the manager of the leaving care team?", "the manager of the leaving care team"),
        # A sum belongs to the sentence that gives it: the university bursary's "£2,000. This amount
        # is set in law." gives no setting-up-home sum, which the documents do not state.
        ("how much is the setting up home allowance", "the exact amount you asked about"),
    ],
)
def test_near_misses_are_declined_naming_what_is_not_covered(bot, question, named):
    reply = bot.ask(question)
    assert reply.status == "not_found", reply.text
    decline = reply.text.split("\n\n")[0]
    assert named in decline and "personal adviser" in decline
    assert not reply.citations or "does not answer your question" in reply.text


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("who is the chair of the corporate parenting board", "chaired by the Lead Member"),
        ("Who is the Cabinet Member for Children and Young People?", "Edison Huynh"),
        ("whos my personal adviser", "personal adviser"),
    ],
)
def test_a_role_the_documents_name_is_answered(bot, question, expected):
    reply = bot.ask(question)
    assert reply.status == "answered" and expected in reply.text, reply.text


def test_a_missing_fact_is_brought_in_about_the_clause_that_asks_for_it():
    """"how long is the wait for a council home and where do i bid for one": the wait is looked for,
    and brought in, about a council home (the clause asking for it), as missing_kind judges it."""
    from assistant.answer.statement import Statement

    text = "Bid for a home on the housing register online.\nThe wait for a council home is about 5 years.\n"
    # "bid" is rare, and weighs more than the wait, the council and the home together: read about
    # the whole question, the line on the wait would not be on topic.
    passages = [*text.splitlines(), *["the wait for a council home"] * 12]
    lexicon = specifics.Lexicon({"d": text}, terms, specifics.term_weights(passages, terms))
    bid, wait = text.index("Bid"), text.index("The wait")
    chosen = [Statement("d:0", "d", "Bid for a home on the housing register online.", ((bid, wait - 1),), 1.0, 0.5, 0)]
    candidate = Statement("d:0", "d", "The wait for a council home is about 5 years.", ((wait, len(text) - 1),), 0.9, 0.3, 0)
    question = "how long is the wait for a council home and where do i bid for one"
    assert specifics.missing_kind(question, chosen, lexicon) == "duration"
    assert specifics.rescue("duration", question, chosen, [candidate], lexicon) == [*chosen, candidate]
    assert specifics.missing_kind(question, [*chosen, candidate], lexicon) is None


def test_a_payment_asked_for_by_how_often_it_is_paid_is_declined_when_no_amount_for_it_is_stated(bot):
    """The documents give a supported lodgings host's weekly fee, not a foster carer's allowance:
    a host's £255 is not the answer to what a Staying Put carer is paid each week."""
    reply = bot.ask("what weekly payment does a staying put carer get")
    assert reply.status == "not_found", reply.text
    assert "exact amount" in reply.text.split("\n\n")[0]


def test_a_figure_in_the_section_asked_about_is_found_though_the_question_says_it_in_other_words(bot):
    """'if i go into supported lodgings': 'go' says nothing of the topic; the host's 10 hours a week answer it."""
    reply = bot.ask("if i go into supported lodgings how much help does the person i live with actually give me")
    assert reply.status == "answered" and "10 hours per week" in reply.text, reply.text


def test_a_fact_counts_beside_a_chosen_sibling_that_says_what_the_passage_is_about():
    """'how much time does the person i live with spend helping me': the host's hours are on a line
    that names neither a person nor living with one; the chosen line before it, in the same passage,
    does ("you live in someone's home … That person is called a host"). A sibling from another
    passage, or one not chosen, lends nothing."""
    from assistant.answer.statement import Statement

    text = ("Supported lodgings means you live in someone's home and they support you. That person is called a host.\n"
            "- The host gives 10 hours per week of dedicated support.\n")
    passages = [*text.splitlines(), *["supported lodgings host support"] * 6, "time you spend with a person"]
    lexicon = specifics.Lexicon({"d": text}, terms, specifics.term_weights(passages, terms))
    hours = text.index("- The host") + 2
    about = Statement("d:0", "d", text[: hours - 3], ((0, hours - 3),), 1.0, 0.5, 0)
    figure = Statement("d:0", "d", text[hours:].strip(), ((hours, len(text) - 1),), 0.9, 0.4, 0)
    elsewhere = Statement("d:1", "d", figure.text, figure.pieces, 0.9, 0.4, 0)
    question = "how much time does the person i live with have to spend helping me each week"
    assert specifics.missing_kind(question, [figure], lexicon) == "quantity"
    assert specifics.missing_kind(question, [about, figure], lexicon) is None
    assert specifics.missing_kind(question, [about, elsewhere], lexicon) == "quantity"


def test_when_to_call_names_no_topic_of_its_own(bot):
    """'during office hours' says when to call, not what about: the MASH's number answers it."""
    assert "dure" not in bot.context.tokens.terms("during office hours")
    reply = bot.ask("What's the number for children's social care during office hours?", audience="staff")
    assert reply.status == "answered" and "020 8314 6660" in reply.text, reply.text


@pytest.mark.parametrize("question", ["which rules does the uni bursary have",
                                      "A care leaver I support starts university soon. What conditions does the bursary come with?"])
def test_asking_for_its_rules_or_conditions_names_no_thing_of_its_own(bot, question):
    """'which rules', 'what conditions': what is asked of the bursary, not a thing the documents must name."""
    assert specifics.asked_thing(question, bot.context.rules) is None
    reply = bot.ask(question)
    assert reply.status == "answered" and "£2,000" in reply.text, reply.text


def test_a_when_clause_before_the_question_asks_for_no_time(bot):
    """'When they consulted young people …, what did they ask for?': 'when' joins a clause, the
    question is 'what', and the consultation's findings answer it."""
    question = "When the council asked young people about the new strategy, what did they want to be involved in?"
    assert "time" not in specifics.ask_kinds(question, bot.context.rules)
    assert "time" in specifics.ask_kinds("when does the board meet?", bot.context.rules)
    reply = bot.ask(question, audience="staff")
    assert reply.status == "answered" and "Health Champions" in reply.text, reply.text
