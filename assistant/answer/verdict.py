"""Yes or no: a yes/no question's answer leads with "Yes", "No" or "It depends", when the documents say so.

A care leaver who asks "can I stay with my foster carer after 18?" wants the yes first, then
the statement that settles it. The answer may only say what its cited statement says, so the
verdict is read off the lead statement's own words, sentence by sentence, and only from a
sentence on the question's topic:
- a condition ("if you…", "unless", "based on assessed need") makes it "It depends";
- a statement that the reader cannot, does not or no longer does the thing makes it "No";
- a statement that the reader can, gets or keeps it makes it "Yes".
Anything else leads with the statement alone. A "no" counts only when the verb denied is the
question's own ("you cannot claim" for "can I claim", not "you do not pay" for "do I get it
free"); a question about having to do something ("do I have to pay it back?") gets a no, never
a yes: a statement of what you can get does not say what you must do. The cues are rules
([yes_no_ask], [obligation_ask], [says_*] in rules.toml).
"""

from __future__ import annotations

import re
from typing import Literal

from assistant.answer.gates import Lexicon
from assistant.answer.statement import Statement, sentences
from assistant.rules import Rules

Verdict = Literal["yes", "no", "depends"]

def the_ask(question: str) -> str:
    """The sentence that asks: a story's question is at its end ("… now im 23. is it too late?"),
    or its last clause ("i came here alone at 15, do i get the same support?")."""
    said = sentences(question)
    asking = [s for s in said if s.endswith("?")]
    ask = (asking or said or [question])[-1]
    clauses = [c.strip() for c in ask.split(",") if c.strip()]
    return clauses[-1] if len(clauses) > 1 and len(clauses[-1].split()) >= 3 else ask


def asks_yes_no(question: str, rules: Rules) -> bool:
    return rules.yes_no_ask.search(the_ask(question))


def settles(sentence: str, rules: Rules) -> Verdict | None:
    """What one sentence says to a yes/no question about its topic, if it says it plainly."""
    if rules.says_depends.search(sentence):
        return "depends"
    if rules.says_no.search(sentence):
        return "no"
    if rules.says_yes.search(sentence):
        return "yes"
    return None


def verdict(question: str, lead: Statement, lexicon: Lexicon, rules: Rules) -> Verdict | None:
    """Yes, no or it depends, from the lead's first sentence on the question's topic, if it settles it.

    Only that sentence: a condition three bullets down ("If you are eligible, …") is about the
    steps to apply, not about whether you can have it.
    """
    if not asks_yes_no(question, rules):
        return None
    ask = the_ask(question)
    topic = lexicon.topic(ask)
    said = [s.strip(" -") for s in sentences(lead.text) if s.strip(" -")]
    for number, sentence in enumerate(said):
        if not lexicon.on_topic(topic, sentence):
            continue
        if sentence.endswith("?") and number + 1 < len(said):
            # "Did you claim asylum as a child? Then you get the same support": yes, on that condition.
            return "depends" if settles(said[number + 1], rules) in ("yes", "depends") else None
        found = settles(sentence, rules)
        if found == "no" and not _denies_the_ask(sentence, ask, lexicon, rules):
            return None
        if found == "yes" and rules.obligation_ask.search(ask):
            return None  # what you can get does not say what you must do
        return found
    return None


def _denies_the_ask(sentence: str, ask: str, lexicon: Lexicon, rules: Rules) -> bool:
    """Is what the sentence says you cannot do what the question asks about?

    "you usually cannot claim benefits" answers "can i claim universal credit at 16" with a no;
    "care leavers do not pay for prescriptions" answers "do i get free prescriptions" with a yes,
    so a denial counts only when its verb is one of the question's words.
    """
    asked = lexicon.terms(ask)
    for match in rules.says_no.matches(sentence):
        verb = re.match(r"\s*(\w+)", sentence[match.end():])
        if verb and lexicon.terms(verb.group(1)) & asked:
            return True
    return False
