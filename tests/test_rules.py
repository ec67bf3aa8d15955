"""The rules are data: every cue matches its examples, no cue matches a set's not-examples,
and a council's own rules.toml extends them (or fails with a message naming the entry)."""

from __future__ import annotations

import re

import pytest

from assistant.answer.guard import distress_group, is_injection, is_safeguarding, looks_off_topic, topic_group
from assistant.answer.verdict import the_ask
from assistant.errors import ConfigError
from assistant.ingest.quarantine import cue_reason
from assistant.retrieve.fusion import asks_about_past, asks_about_present
from assistant.rules import CUE_SETS, default_rules, load_rules

RULES = default_rules()
# What each cue set means, as the code that uses it asks (safeguarding cleans the message first).
MEANS = {
    "safeguarding": lambda text, rules: is_safeguarding(text, rules),
    "safeguarding_topic": lambda text, rules: topic_group(text, rules) is not None,
    "distress": lambda text, rules: distress_group(text, rules) is not None,
    "instructions": lambda text, rules: is_injection(text, rules),
    "document_instructions": lambda text, rules: cue_reason(text, rules) is not None,
    "off_topic": lambda text, rules: looks_off_topic(text, rules),
    "past": lambda text, rules: asks_about_past(text, rules=rules),
    "present": lambda text, rules: asks_about_present(text, rules=rules),
    **{name: lambda text, rules, name=name: getattr(rules, name).search(text) for name in CUE_SETS
       if name.startswith("ask_") or name in ("follow_start", "refers_back", "new_topic", "what_changed", "change_time", "current_document", "both_documents",
                                               "second_ask",
                                               "thing_ask", "role_ask", "thing_end", "thing_filler", "kind_words",
                                               "obligation_ask", "says_yes", "says_no", "says_depends", "definition_ask")},
    "yes_no_ask": lambda text, rules: rules.yes_no_ask.search(the_ask(text)),
    "which_time": lambda text, rules: rules.which_time.fullmatch(text),
}
CASES = [
    (name, number, cue, example)
    for name in CUE_SETS
    for number, cue in enumerate(getattr(RULES, name).cues, 1)
    for example in cue.examples
]


@pytest.mark.parametrize(("name", "number", "cue", "example"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_every_cue_matches_its_examples(name, number, cue, example):
    assert MEANS[name](example, RULES), f"{name} cue {number} ({cue.pattern}) does not match {example!r}"


@pytest.mark.parametrize("name", CUE_SETS)
def test_no_cue_matches_a_not_example(name):
    cue_set = getattr(RULES, name)
    assert cue_set.not_examples, f"[{name}] has no not_examples"
    for text in cue_set.not_examples:
        assert not MEANS[name](text, RULES), f"[{name}] matches its not-example {text!r}"


def test_every_cue_set_and_word_list_is_there():
    assert all(getattr(RULES, name).cues for name in CUE_SETS)
    assert {"bursary", "care", "pledge"} <= RULES.domain_words
    assert "lewisham" not in RULES.domain_words  # the council's name comes from council.toml


def test_a_council_adds_its_own_cues_and_words(tmp_path):
    (tmp_path / "rules.toml").write_text(
        "[safeguarding]\n[[safeguarding.cue]]\npattern = '''\\bpeng ting wants me to link up alone\\b'''\n"
        'examples = ["this peng ting wants me to link up alone tonight"]\n'
        '[domain]\nwords = "kinship-carer hub"\n',
        encoding="utf-8",
    )
    rules = load_rules(tmp_path)
    assert is_safeguarding("this peng ting wants me to link up alone tonight", rules)
    assert not is_safeguarding("this peng ting wants me to link up alone tonight", RULES)
    assert is_safeguarding("i want to kill myself", rules)  # the defaults still apply
    assert "hub" in rules.domain_words and "bursary" in rules.domain_words
    assert rules.sources[-1] == str(tmp_path / "rules.toml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[safeguarding.cue]]\npattern = '''(unclosed'''\nexamples = ['x']\n", "safeguarding.cue 1 has a pattern"),
        ("[[off_topic.cue]]\npattern = '''\\bchess\\b'''\n", "off_topic.cue 1 needs examples"),
        ("[past]\nnot_examples = 'previous'\n", "past.not_examples must be a list"),
        ("[domain]\nwords = 3\n", "domain.words must be text"),
        ("[[present.cue\n", "could not be read as TOML"),
    ],
)
def test_a_bad_council_rules_file_says_which_entry_is_wrong(tmp_path, text, message):
    (tmp_path / "rules.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(message)) as caught:
        load_rules(tmp_path)
    assert str(tmp_path / "rules.toml") in str(caught.value)


def test_every_message_is_data_and_a_council_can_reword_it(tmp_path, settings):
    from assistant.writers.extractive import not_found_text, off_topic_text

    assert "won't guess" in not_found_text("care_leaver", settings, "amount", messages=RULES.messages)
    (tmp_path / "rules.toml").write_text(
        '[messages]\noff_topic_care_leaver = "I only know about {council_name} support for care leavers."\n'
        '[messages.not_covered]\namount = "how much it is"\n',
        encoding="utf-8",
    )
    messages = load_rules(tmp_path).messages
    assert off_topic_text("care_leaver", settings, messages) == (
        f"I only know about {settings.council_name} support for care leavers."
    )
    assert "do not cover how much it is" in not_found_text("care_leaver", settings, "amount", messages=messages)
    assert messages.texts["off_topic_staff"] == RULES.messages.texts["off_topic_staff"]  # the rest stay


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[messages]\nsorry = "Sorry!"\n', "messages.sorry is not a message the assistant says"),
        ('[messages]\noff_topic_staff = "Ask {person}."\n', "messages.off_topic_staff uses a placeholder"),
        ('[messages.not_covered]\nshoe_size = "your shoe size"\n', "messages.not_covered.shoe_size is not a kind"),
    ],
)
def test_a_bad_message_says_what_is_wrong(tmp_path, text, message):
    (tmp_path / "rules.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_rules(tmp_path)
