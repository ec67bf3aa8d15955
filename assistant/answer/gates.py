"""Questions that ask for one specific fact: an amount, a contact, a date or time, a figure.

A care leaver who asks "how much is the clothing allowance?" or "what is the
Leaving Care team's number?" needs that exact fact or an honest "not known":
an answer that talks around it, or gives the MASH's number instead, can cost them
money or a wasted call. So the answerer asks two questions here: does the
question ask for such a fact, and does a chosen statement give it *about the
question's topic*? Topic is judged on the statement's whole source line (a
bullet, a paragraph's line, a table row), because these documents state a fact
in a short sentence next to the one that names its subject ("This is Lewisham's
MASH. You can also email …").
"""

from __future__ import annotations

import bisect
import difflib
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol, TypeVar

import numpy as np

from assistant.rules import Rules, default_rules
from assistant.text.personal import CHAT_WORDS
from assistant.text.tokens import FILLER_WORDS, YEAR_OR_DATE
from assistant.types import Span

# Share of the question's topic (by word weight) that a fact's line must mention.
TOPIC_MIN = 0.5
# A word this close in spelling to one the documents use is taken for a form or misspelling of it.
SPELLING_CLOSE = 0.85
# A word the documents do not use stands for the ones made from it by a suffix of at most
# DERIVED_EXTRA letters ("apprentice": "apprenticeship"), when it has at least DERIVED_MIN.
DERIVED_MIN, DERIVED_EXTRA = 5, 5
_LINE_REACH = 400

# An amount is in pounds: "50% off" says what a card saves, not what it costs.
_MONEY = re.compile(r"£\s?\d")
_PHONE = re.compile(r"\b0\d{2,4}[ \d]{6,12}\d\b|\b\d{3} \d{3}\b|\b(999|111|101)\b|[\w.]+@[\w.]+|\b\d{5}\b")
_DAYS = (
    r"mondays?|tuesdays?|wednesdays?|thursdays?|fridays?|saturdays?|sundays?|weekdays?|weekends?|"
    r"mornings?|afternoons?|evenings?"
)
_MONTHS = r"january|february|march|april|may|june|july|august|september|october|november|december"
_CLOCK = re.compile(rf"\b\d{{1,2}}([:.]\d{{2}})?\s?(am|pm)\b|\b({_DAYS}|24/7|24 hours)\b", re.IGNORECASE)
_OFTEN = re.compile(
    r"\b(daily|weekly|fortnightly|monthly|quarterly|annually|yearly|every|twice|once|"
    r"(\w+) times (a|per|each) (year|month|week|day))\b",
    re.IGNORECASE,
)
_LONG = re.compile(
    r"\b(\d+|one|two|three|four|five|six|seven|eight|nine|ten|twelve)\s(years?|months?|weeks?|days?|hours?)\b"
    r"|\b(until|up to|till|lasts?)\b",
    re.IGNORECASE,
)
_WHEN = re.compile(
    rf"\b({_MONTHS}|{_DAYS}|spring|summer|autumn|winter|until|from the age|aged?|at \d{{2}})\b"
    r"|\b(19|20)\d{2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b|\b\d{1,2}(st|nd|rd|th) birthday\b",
    re.IGNORECASE,
)
_ORDINAL = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)\b", re.IGNORECASE)
_PERCENT = re.compile(r"\d\s?%")
# A date: a day of the month, a month and year ("April-2025"), a day of the week, or d/m/y;
# a year alone is not a date.
_DAY = re.compile(
    rf"\b\d{{1,2}}(st|nd|rd|th)?\s+({_MONTHS})\b|\b({_MONTHS})\s+\d{{1,2}}(st|nd|rd|th)?\b"
    rf"|\b({_MONTHS})[\s-]+(19|20)\d{{2}}\b|\b\d{{1,2}}/\d{{1,2}}/\d{{2,4}}\b|\b({_DAYS})\b",
    re.IGNORECASE,
)
# An amount can be a discount: "50% off", "a 100% council tax discount".
_DISCOUNT = re.compile(r"\d\s?%\s?(off|discount|reduction)\b|\d\s?%[^.;]{0,40}\b(discount|reduction|off)\b",
                       re.IGNORECASE)
_YEAR = YEAR_OR_DATE

_AMOUNT = re.compile(f"{_MONEY.pattern}|{_DISCOUNT.pattern}", re.IGNORECASE)

# A count is a figure that is not a year or a date ("575 Net no.", "seven principles"), and of
# things: not a measure ("13 weeks", "the 13-week rule", "5pm") nor an age ("aged 16"). A share
# ("92% of care leavers") answers "how many" as well.
_MEASURE = r"(?![\s-]?(?:weeks?|years?|months?|days?|hours?|miles?|am|pm|st|nd|rd|th)\b)"
_COUNT = re.compile(
    rf"(?<![/\d])\b(?!(?:19|20)\d{{2}}\b)\d[\d,]*\b(?!/){_MEASURE}|\b(one|two|three|four|five|six|seven|eight|nine|ten|"
    rf"eleven|twelve|twenty|thirty|forty|fifty|hundred|thousand|dozens?)\b{_MEASURE}",
    re.IGNORECASE,
)
_AGES = re.compile(r"\b(?:ages?|aged|under|over|turn(?:ed|s)?|(?:you|i|they|he|she)\s+(?:are|am|is|were|was))\s+"
                   r"(?:of\s+)?\d+(?:\s*(?:and|to|or|-|–)\s*\d+)?", re.IGNORECASE)


def _has_count(text: str) -> bool:
    """Does the text state a count of things (not an age, a phone number or a measure)?"""
    return bool(_COUNT.search(_AGES.sub(" ", _PHONE.sub(" ", text))))

# A quantity of something that is not money ("how much help"): a measure, a count or an amount.
_QUANTITY = re.compile("|".join(p.pattern for p in (_AMOUNT, _LONG, _OFTEN, _PERCENT, _COUNT)), re.IGNORECASE)

PATTERNS: dict[str, re.Pattern[str]] = {
    "contact": _PHONE, "amount": _AMOUNT, "quantity": _QUANTITY, "percent": _PERCENT, "count": _COUNT,
    "clock": _CLOCK, "frequency": _OFTEN, "duration": _LONG, "date": _DAY, "time": _WHEN,
}
def without_kind_words(question: str, rules: Rules | None = None) -> str:
    """The question without the words that name the kind of fact or point at a document (rules: [kind_words])."""
    return (rules or default_rules()).kind_words.sub(" ", question)


class Fact(Protocol):
    """A statement as the answerer scores it (``statement.Statement``)."""

    @property
    def document_id(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def pieces(self) -> tuple[Span, ...]: ...
    @property
    def score(self) -> float: ...
    @property
    def chunk_id(self) -> str: ...


Terms = Callable[[str], set[str]]
F = TypeVar("F", bound=Fact)


def ask_kind(question: str, rules: Rules | None = None) -> str | None:
    """The kind of specific fact the question asks for, if any (the cues are rules: [ask_*])."""
    kinds = ask_kinds(question, rules)
    return kinds[0] if kinds else None


def ask_kinds(question: str, rules: Rules | None = None) -> list[str]:
    """Every kind of specific fact the question asks for, most specific first: "what time does
    the hub open and what's the address" asks for a time and a contact."""
    rules = rules or default_rules()
    kinds: list[str] = []
    if rules.ask_contact.search(question):
        kinds.append("contact")
    if rules.ask_percent.search(question):
        kinds.append("percent")
    elif rules.ask_count.search(question):
        kinds.append("count")
    elif rules.ask_money.search(question) and rules.ask_how_much.search(question):
        # "How much help" asks for a quantity, unless a word of money says otherwise ("… get paid").
        rest = rules.ask_quantity.sub(" ", question)
        quantity = rest != question and not rules.ask_money.search(rest)
        kinds.append("percent" if rules.ask_rate.search(question) else "quantity" if quantity else "amount")
    for kind, asked in (
        ("clock", rules.ask_clock), ("frequency", rules.ask_frequency), ("duration", rules.ask_duration),
        ("date", rules.ask_date), ("time", rules.ask_time),
    ):
        if asked.search(question):
            kinds.append(kind)
            break
    # Only a clause of its own asks for a second kind ("… open and what's the address").
    return kinds if len(kinds) < 2 or rules.second_ask.search(question) else kinds[:1]


def term_weights(passages: Sequence[str], terms: Terms) -> dict[str, float]:
    """Inverse passage frequency of every word of the corpus (BM25's idf)."""
    counts: dict[str, int] = {}
    for passage in passages:
        for term in terms(passage):
            counts[term] = counts.get(term, 0) + 1
    n = len(passages)
    return {term: math.log(1 + (n - df + 0.5) / (df + 0.5)) for term, df in counts.items()}


@dataclass(frozen=True)
class Lexicon:
    """What judging a statement's topic needs: the documents' texts, word weights and synonyms."""

    texts: dict[str, str]
    terms: Terms
    weights: dict[str, float]
    synonyms: Callable[[str], list[str]] = lambda word: []
    # Each document's year of publication (it cannot report what happened after it).
    published: dict[str, int] = field(default_factory=dict)
    rules: Rules = field(default_factory=default_rules)
    # Each chunk's heading path: a fact under "If you are 16 or 17" is about 16- and 17-year-olds.
    sections: dict[str, str] = field(default_factory=dict)

    def topic(self, question: str) -> dict[str, set[str]]:
        """The question's content words (each with its synonyms), without the words naming the kind of fact.

        A word the documents never use, nor any synonym of it (a typo, a name), cannot be matched
        by any line, so it says nothing about which line is on topic; nor do years ("in 2020/21"),
        which a table states once in its heading, not on each line.
        """
        topic: dict[str, set[str]] = {}
        question = _YEAR.sub(" ", question)
        for word in re.findall(r"[\w'’£%-]+", self.rules.kind_words.sub(" ", question)):
            if word.lower() in FILLER_WORDS:
                continue
            for term in self.terms(word):
                forms = ({term} | self.terms(" ".join(self.synonyms(word)))) & self.weights.keys()
                forms = forms or self.derived(term)
                if len(term) > 1 and forms:
                    topic[term] = forms
        return topic

    def on_topic(self, topic: dict[str, set[str]], line: str) -> bool:
        if not topic:
            return True
        present = self.terms(line)
        total = found = 0.0
        for term, forms in topic.items():
            # A word counts with its own weight; a synonym found in its place counts no more
            # than the synonym's own weight ("support" for "allowance" says little).
            weight = self.weights.get(term) or max(self.weights[f] for f in forms)
            total += weight
            found += min(weight, max((self.weights[f] for f in forms & present), default=0.0))
        return found / total >= TOPIC_MIN

    def derived(self, term: str) -> set[str]:
        """The documents' words made from this one by a suffix ("apprentice": "apprenticeship"),
        when the word itself is not theirs; a short word ("part") makes none."""
        if len(term) < DERIVED_MIN or term in self.weights:
            return set()
        words = self._sorted_words
        found = set()
        for word in words[bisect.bisect_left(words, term):]:
            if not word.startswith(term):
                break
            if len(word) - len(term) <= DERIVED_EXTRA:
                found.add(word)
        return found

    @cached_property
    def _sorted_words(self) -> list[str]:
        return sorted(self.weights)

    def uses(self, term: str) -> bool:
        """Do the documents use this word, or another form or a misspelling of one ("buse": "bus")?"""
        if term in self.weights or self.derived(term):
            return True
        # difflib's close match, with its two cheap filters (real_quick_ratio on the lengths,
        # quick_ratio on the letters shared) applied to every word at once: the same words pass.
        words, letters, counts, lengths = self._spelling
        wanted = np.zeros(len(letters), dtype=np.int32)
        for letter in term:
            if letter in letters:
                wanted[letters[letter]] += 1
        total = lengths + len(term)
        shared = np.minimum(counts, wanted).sum(axis=1)
        close = (2 * np.minimum(lengths, len(term)) / total >= SPELLING_CLOSE) & (2 * shared / total >= SPELLING_CLOSE)
        candidates = [words[i] for i in np.flatnonzero(close)]
        return bool(difflib.get_close_matches(term, candidates, n=1, cutoff=SPELLING_CLOSE))

    @cached_property
    def _spelling(self) -> tuple[list[str], dict[str, int], np.ndarray, np.ndarray]:
        """The documents' words, their letters, and each word's count of each letter and length."""
        words = list(self.weights)
        letters = {letter: i for i, letter in enumerate(sorted({c for word in words for c in word}))}
        counts = np.zeros((len(words), len(letters)), dtype=np.int32)
        for row, word in enumerate(words):
            for letter in word:
                counts[row, letters[letter]] += 1
        return words, letters, counts, np.asarray([len(w) for w in words], dtype=np.int64)


def _line(text: str, span: Span) -> str:
    start = text.rfind("\n", max(0, span[0] - _LINE_REACH), span[0]) + 1 or max(0, span[0] - _LINE_REACH)
    end = text.find("\n", span[1], span[1] + _LINE_REACH)
    return text[start : end if end >= 0 else span[1] + _LINE_REACH]


def _said(fact: Fact, texts: dict[str, str]) -> str:
    """Everything a statement's source lines say, and the statement itself (with a row's headers)."""
    text = texts[fact.document_id]
    return " ".join(_line(text, span) for span in fact.pieces) + " " + fact.text


def gives(kind: str, fact: Fact, topic: dict[str, set[str]], lexicon: Lexicon, *, beside: str = "") -> bool:
    """Does one of the statement's pieces state the fact, on a line about the question's topic?

    A statement on one line (a sentence, a table row) counts as part of that line: a table
    row's statement carries its column headers ("Current position (2020/21 EoY): 73%").
    """
    pattern = PATTERNS[kind]
    text = lexicon.texts[fact.document_id]
    own = fact.text if _one_line(fact, lexicon.texts) else ""
    # The nearest heading only: a document's title heading is over every line of it.
    heading = lexicon.sections.get(fact.chunk_id, "").rsplit(" > ", 1)[-1]
    return any(
        pattern.search(said) and lexicon.on_topic(topic, f"{context} {own} {heading} {beside}")
        for span in fact.pieces
        for said, context in _where_stated(kind, text, span)
    )


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def _where_stated(kind: str, text: str, span: Span) -> list[tuple[str, str]]:
    """(what may state the fact, the words its topic is judged by) in one piece of a statement.

    Most kinds: the piece, judged by its whole line (a table row's headers, a list's lead-in). An
    amount: each sentence, judged by itself, since a sum belongs to the sentence that gives it
    ("… a Higher Education Bursary of £2,000. This amount is set in law." is no setting-up-home sum).
    """
    piece = text[span[0] : span[1]]
    if kind != "amount":
        return [(piece, _line(text, span))]
    found, before = [], ""
    for sentence in (s.strip(" \t-*•") for s in _SENTENCE_END.split(_line(text, span))):
        # A condition asked and then answered stays together: "Were you in care and born …? You
        # will have a Junior ISA, likely to be in the order of £300."
        found.append((sentence, f"{before} {sentence}" if before.endswith("?") else sentence))
        before = sentence
    return [(said, context) for said, context in found if said in piece or piece in said]


def asking_clause(kind: str, question: str, rules: Rules | None = None) -> str:
    """The clause of the question that asks for this kind of fact: "how long is the wait for a
    council flat" of "… and where do i apply for one". The whole question when it is one clause,
    or when no clause alone asks for it."""
    rules = rules or default_rules()
    clauses = [c for c in _CLAUSE.split(rules.second_ask.sub(lambda m: "\n" + m.group(0), question)) if c.strip()]
    if len(clauses) < 2:
        return question
    asks = _KIND_CUES.get(kind, ())
    for clause in clauses:
        if any(getattr(rules, cue).search(clause) for cue in asks):
            # "… and how long does it last": what "it" is, the rest of the question says.
            return question if _REFERS_BACK.search(clause) else clause
    return question


_CLAUSE = re.compile(r"(?<=[?!.])\s+|\n")
_REFERS_BACK = re.compile(r"\b(it|its|that|this|they|them|those|these|one|ones)\b", re.IGNORECASE)
# The rules whose cues say a clause asks for each kind (``ask_kinds``).
_KIND_CUES: dict[str, tuple[str, ...]] = {
    "contact": ("ask_contact",), "percent": ("ask_percent", "ask_rate"), "count": ("ask_count",),
    "amount": ("ask_how_much",), "quantity": ("ask_quantity",), "clock": ("ask_clock",),
    "frequency": ("ask_frequency",), "duration": ("ask_duration",), "date": ("ask_date",), "time": ("ask_time",),
}


def kind_topic(kind: str, question: str, lexicon: Lexicon, rules: Rules | None = None,
               whole: dict[str, set[str]] | None = None) -> dict[str, set[str]]:
    """What a kind of fact is asked about: the topic of the clause asking for it (``asking_clause``),
    or the whole question's (``whole``, when already read) when that clause names nothing."""
    whole = lexicon.topic(question) if whole is None else whole
    clause = asking_clause(kind, question, rules or lexicon.rules)
    return whole if clause == question else lexicon.topic(clause) or whole


def missing_kind(
    question: str, chosen: Sequence[Fact], lexicon: Lexicon, rules: Rules | None = None
) -> str | None:
    """The first kind of fact the question asks for that no chosen statement gives, else None.

    A statement gives it on a line about what the clause asking for it is about (``asking_clause``),
    or, when that clause names nothing, about the whole question.
    """
    whole = lexicon.topic(question)
    for kind in ask_kinds(question, rules):
        topic = kind_topic(kind, question, lexicon, rules, whole)
        if kind == "count":
            # A table's or an infographic's figure often sits a line away from what it counts
            # ("CARE LEAVERS" above "575 Net no."), so a count is only asked to be there at all.
            if not any(_has_count(_said(fact, lexicon.texts)) for fact in chosen):
                return kind
        else:
            about = _on_topic_lines(chosen, topic, lexicon)
            if not any(gives(kind, fact, topic, lexicon, beside=_beside(fact, about)) for fact in chosen):
                return kind
    return None


def _on_topic_lines(chosen: Sequence[Fact], topic: dict[str, set[str]], lexicon: Lexicon) -> list[tuple[Fact, str]]:
    """The chosen statements whose lines are about the question's topic themselves, with those lines.

    A chosen statement gives a fact about what a chosen sibling says the passage is about: "how
    much time does the person i live with spend helping me" is answered by "the host gives 10 hours
    per week", beside "Supported lodgings means you live in someone's home and they support you.
    That person is called a host." Both must have been chosen for the question."""
    return [(fact, said) for fact in chosen if lexicon.on_topic(topic, said := _said(fact, lexicon.texts))]


def _beside(fact: Fact, about: list[tuple[Fact, str]]) -> str:
    """The on-topic lines of the other chosen statements of the fact's passage (``_on_topic_lines``)."""
    return " ".join(said for other, said in about if other is not fact and other.chunk_id == fact.chunk_id)


def rescue(kind: str, question: str, chosen: list[F], candidates: Sequence[F], lexicon: Lexicon) -> list[F]:
    """If the chosen statements lack the fact asked for, bring in a close candidate that gives it.

    Close means scored near the lead, or on the same line as a chosen or leading statement
    ("To get the photocard, first tell your borough. … Then you apply online and pay £20.").
    """
    if not chosen:
        return chosen
    topic = kind_topic(kind, question, lexicon)  # what missing_kind judged it by
    floor = chosen[0].score - 0.3
    anchors = [*chosen, *candidates[:5]]
    for cand in candidates[:30]:
        if not _one_line(cand, lexicon.texts):
            continue  # the fact is brought in as the one statement that gives it, not as a whole list
        close = cand.score >= floor or any(_same_line(cand, c, lexicon.texts) for c in anchors)
        if close and cand not in chosen and gives(kind, cand, topic, lexicon):
            return [*chosen[:3], cand]
    return chosen


def _one_line(fact: Fact, texts: dict[str, str]) -> bool:
    return "\n" not in texts[fact.document_id][fact.pieces[0][0] : fact.pieces[-1][1]]


def _same_line(a: Fact, b: Fact, texts: dict[str, str]) -> bool:
    """Are two statements on one line of their document (one bullet, one paragraph line)?"""
    if a.document_id != b.document_id:
        return False
    first, second = sorted((a.pieces[0], b.pieces[0]))
    return "\n" not in texts[a.document_id][first[0] : second[0]]


_PRONOUN = re.compile(r"(it|that|this|they|them|he|she|those|these|mine|yours)\b", re.IGNORECASE)
# "how do i get one": "one" stands for the thing named before it ("a national insurance number").
_ONE = re.compile(r"(one|ones)\b", re.IGNORECASE)
_NAMED_BEFORE = re.compile(r"\b(?:a|an|the|my)\s+(?=[^\W\d])", re.IGNORECASE)
# "how much would be sitting in my isa": "how much" is the subject; what follows names no thing.
_PREDICATE = re.compile(r"(be|been|being)\b", re.IGNORECASE)


def asked_thing(question: str, rules: Rules | None = None) -> str | None:
    """The thing a yes/no entitlement question asks about ("a clothing allowance"), if any.

    The cues are rules: [thing_ask] and [role_ask] find it, [thing_end] ends it, and
    [thing_filler] words ("any free stuff") name no thing of their own.
    """
    rules = rules or default_rules()
    for match in [*rules.thing_ask.matches(question), *rules.role_ask.matches(question)]:
        thing = rules.thing_end.split(match.group("thing")).strip()
        if _ONE.fullmatch(thing):
            named = list(_NAMED_BEFORE.finditer(question[: match.start("thing")]))
            if not named:
                continue  # "how much does it cost and how do i get one": named in an earlier message
            thing = rules.thing_end.split(question[named[-1].start(): match.start("thing")]).strip()
        if _PRONOUN.match(thing) or _PREDICATE.match(thing):
            continue  # "is it still running": "it" is what was asked about before, not a new thing
        if rules.thing_filler.sub(" ", thing).strip():
            return thing
    return None


def missing_thing(question: str, chosen: Sequence[Fact], lexicon: Lexicon) -> str | None:
    """The thing asked about, if the chosen statements do not mention it; else None.

    Every word of the thing must be one the documents use (or a synonym of one),
    and its words, by weight, must mostly appear in the chosen statements' lines.
    """
    rules = lexicon.rules
    thing = asked_thing(question, rules)
    if thing is None:
        return None
    named = " ".join(w for w in rules.thing_filler.sub(" ", thing).split() if w.lower() not in CHAT_WORDS)
    words = {t for t in lexicon.terms(rules.kind_words.sub(" ", _YEAR.sub(" ", named)))
             if len(t) > 1 and not t[0].isdigit()}
    if not words:
        return None
    topic = lexicon.topic(named)
    if not all(lexicon.uses(w) for w in words - topic.keys()):
        return thing  # a word the documents never use (not another form of one: "buses", "bus")
    said = [_said(fact, lexicon.texts) for fact in chosen]
    if rules.role_ask.search(question):
        role = lexicon.terms(named.split()[0]) if named.split() else set()
        if not any(role & lexicon.terms(text) for text in said):
            return thing
    if any(lexicon.on_topic(topic, text) for text in said):
        return None
    return thing


_TARGET_ASK = re.compile(r"\b(target|aim|aims|ambition|aspir\w*|goal|plan\w*|will|going to|by (19|20)\d{2})\b", re.I)


_OPEN_ENDED = re.compile(
    r"\b(after|from|since|onwards?|or later)\s+(\d{1,2}\s+[a-z]+\s+)?(19|20)\d{2}|(19|20)\d{2}\S*\s+(onwards|or later)",
    re.IGNORECASE,
)


def unstated_ordinal(question: str, chosen: Sequence[Fact], lexicon: Lexicon) -> str | None:
    """An "18th" the question asks about when the lead states others ("19th, 20th and 21st"), else None.

    A list of amounts by birthday answers for the birthdays it names; the one asked about is
    not among them, so the answer would be a guess.
    """
    asked = {int(n) for n in _ORDINAL.findall(question)}
    if not asked or not chosen:
        return None
    stated = {int(n) for n in _ORDINAL.findall(_said(chosen[0], lexicon.texts))}
    missing = sorted(asked - stated)
    if stated and missing:
        word = re.search(rf"\b{missing[0]}(?:st|nd|rd|th)\b(\s+\w+)?", question, re.IGNORECASE)
        return word.group(0) if word else f"{missing[0]}th"
    return None


_PERIOD = re.compile(r"(?<![£\d])\b(20\d{2})\s?(?:-|–|/|to)\s?(20)?(\d{2})\b")


def unknown_period(question: str, lexicon: Lexicon) -> str | None:
    """A period of years ("the 2028-31 strategy") that no document speaks of, else None.

    A later strategy's years are a near miss: the current one's targets are not its targets.
    A period is known when a document names it in any spelling ("2025-28", "2025–2028", "2025/28").
    """
    for match in _PERIOD.finditer(question):
        start, end = int(match.group(1)), int(match.group(3))
        if not 2 <= (end - start % 100) % 100 <= 10:
            continue  # a financial year ("2026/27") is judged as its year (``unstated_year``)
        spellings = re.compile(rf"\b{start}\s?(?:-|–|/|to)\s?(?:20)?{end:02d}\b")
        if not any(spellings.search(text) for text in lexicon.texts.values()):
            return f"the {start}–{end:02d} period"
    return None


def unstated_year(question: str, chosen: Sequence[Fact], lexicon: Lexicon) -> str | None:
    """A year the question asks about that the leading evidence does not speak for, else None.

    "What percentage of care leavers were in EET in 2028?" cannot be answered by a
    2025 document's baseline and ambition, however close its row is; nor "is council
    tax still free in 2026/27?" by a decision "for 2019/20", nor "what was the figure for
    2023/24?" by a row dated April 2025. Questions about targets
    are exempt: a strategy's ambition is a statement about the years it covers.
    """
    # "2025-28" names a document's period, and "£2000" is no year; a financial year ("2025-26",
    # "2025/26") is asked about as its first year.
    asked: dict[int, str] = {}
    for m in re.finditer(r"(?<![£\d])\b(20[1-3]\d)\b(?:\s?[-–/]\s?(\d{2})\b)?", question):
        start, end = int(m.group(1)), m.group(2)
        if end is None or (int(end) - start % 100) % 100 == 1:
            asked[start] = m.group(0)
    years = list(asked)
    if not years or not chosen or _TARGET_ASK.search(question):
        return None
    year = max(years)
    lead = chosen[0]
    said = _said(lead, lexicon.texts)
    if re.search(rf"\b{year}\b|\b20\d{{2}}\s?[-–/]\s?{year % 100:02d}\b", said):
        return None
    # "the Children and Social Work Act 2017" names a law, not the date of a fact.
    dated = re.sub(r"\b(Act|Regulations|Rules|Order|Guidance)\s+(19|20)\d{2}\b", " ", said)
    stated = [int(y) for y in re.findall(r"\b((?:19|20)\d{2})\b", dated)]
    # Evidence dated to other years ("For 2019/20", "April-2025") speaks for those years only,
    # unless it runs on ("on or after 1 August 2023").
    dated_otherwise = bool(stated) and not _OPEN_ENDED.search(said)
    if not dated_otherwise and year <= lexicon.published.get(lead.document_id, year):
        return None
    return f"what applies in {asked[year]}"


# A word English knows this well is a word, not a typo, slang or a name ("pregnant" 4.6,
# "dentist" 3.9; "accomodation" 2.4, "gaff" 2.7, "kwame" 2.7); one it uses more than
# COMMON_ZIPF times is too general to be what a question is about ("true" 5.4, "late" 5.3,
# "figure" 5.1, "somewhere" 4.7) where the specific words are ("laptop" 4.2, "jury" 4.5).
ENGLISH_ZIPF = 3.0
COMMON_ZIPF = 4.7
# Months and days date a question; they do not name what it is about.
_CALENDAR = re.compile(rf"\b({_MONTHS}|{_DAYS})\b", re.IGNORECASE)


def unused_words(question: str, lexicon: Lexicon, chat_words: frozenset[str] = frozenset()) -> list[str]:
    """The question's content words that the documents never use, in the order asked.

    Not a word the documents use nor a synonym of one (``Lexicon.topic``), nor a kind-of-fact or
    filler word, nor chat ("innit"), nor a near spelling or another form of a document's word
    ("accomodation", "buses").
    """
    found: list[str] = []
    for word in re.findall(r"[a-z][a-z'’-]*[a-z]", content_text(question, lexicon)):
        if len(word) < 3 or word in chat_words or word in found or "'" in word or "’" in word:
            continue
        terms = lexicon.terms(word)
        if not terms or lexicon.topic(word) or any(lexicon.uses(term) for term in terms):
            continue
        found.append(word)
    return found


def unfamiliar_words(question: str, lexicon: Lexicon, frequency: Callable[[str], float],
                     chat_words: frozenset[str] = frozenset(), places: frozenset[str] = frozenset()) -> list[str]:
    """The question's specific words that the documents never use (``unused_words``): not a place
    ("burnley": where, not what), nor a word too rare or too common in English to name a subject.
    What is left names something the documents do not speak of ("pregnant", "laptop").
    """
    return specific_words(unused_words(question, lexicon, chat_words), frequency, places)


def specific_words(unused: Sequence[str], frequency: Callable[[str], float],
                   places: frozenset[str] = frozenset()) -> list[str]:
    """Of the words the documents never use, those that can name a subject (``unfamiliar_words``)."""
    return [w for w in unused if len(w) >= 4 and w not in places and ENGLISH_ZIPF <= frequency(w) <= COMMON_ZIPF]


def content_text(question: str, lexicon: Lexicon) -> str:
    """The question's words that say what it is about: no dates, kind-of-fact, filler or stop words."""
    rules = lexicon.rules
    text = _CALENDAR.sub(" ", _YEAR.sub(" ", question.lower()))
    text = rules.thing_filler.sub(" ", rules.kind_words.sub(" ", text))
    return " ".join(w for w in re.findall(r"[\w'’£%-]+", text) if lexicon.terms(w))


def without_words(question: str, words: Sequence[str]) -> str:
    """The question with those words taken out (what it would ask without them)."""
    if not words:
        return question
    pattern = re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")\b", re.IGNORECASE)
    return re.sub(r"\s{2,}", " ", pattern.sub(" ", question)).strip()


def runs(question: str, words: Sequence[str]) -> list[str]:
    """The words as the question runs them together: "graduation gift", not "graduation" and "gift"."""
    said = re.findall(r"[\w'’-]+", question.lower())
    wanted, out, run = set(words), [], []
    for word in [*said, ""]:
        if word in wanted:
            run.append(word)
        elif run:
            out.append(" ".join(run))
            run = []
    return out


def share_of_topic(question: str, words: Sequence[str], lexicon: Lexicon) -> float:
    """How much of the question's topic, by word weight, the given words are.

    A word the documents never use weighs as much as their rarest word (it is at least as
    telling); the rest of the topic weighs what ``Lexicon.topic`` gives it.
    """
    if not words:
        return 0.0
    rarest = max(lexicon.weights.values(), default=1.0)
    rest = lexicon.rules.thing_filler.sub(" ", without_words(question, words))
    known = sum(lexicon.weights.get(term) or max(lexicon.weights[f] for f in forms)
                for term, forms in lexicon.topic(rest).items())
    return len(words) * rarest / (len(words) * rarest + known)
