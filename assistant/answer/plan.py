"""A turn as a plan: named steps, in order, each of which may settle the turn.

``plan_turn`` runs ``STEPS`` over a :class:`Turn` and returns a frozen :class:`Plan`: what
kind of reply to write, the standalone question, the retrieval with its query vector, the
chosen evidence, and, for a decline, the step that declined and why. It writes no text:
a writer (``assistant.writers``) turns the plan into a reply, whole or streamed, so
``ask`` and ``ask_stream`` run the same plan.

A step is a function ``(Turn) -> Plan | None``: a Plan ends the turn, None passes it on.
Each records its verdict in ``Turn.trace``, which the plan keeps (``Plan.steps``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from assistant.answer import compare, evidence, listing, verdict
from assistant.answer import gates as specifics
from assistant.answer import guard as safety
from assistant.answer.context import AnswerContext
from assistant.answer.followups import check_audience, clean_question, resolve, too_long, user_turns
from assistant.answer.risk import Risk
from assistant.answer.statement import Statement, sentences
from assistant.retrieve import fusion as retrieval
from assistant.retrieve.search import QueryVectors
from assistant.rules import Rules
from assistant.text import english
from assistant.text.personal import CHAT_WORDS
from assistant.types import Passage

log = logging.getLogger(__name__)
Status = Literal["answered", "not_found", "off_topic", "safeguarding"]
PlanKind = Literal["answer", "compare", "safeguarding", "decline", "off_topic", "conversation"]


@dataclass(frozen=True)
class Retrieval:
    """What search found for the standalone question, and the vector evidence was scored with."""

    query: str
    passages: tuple[Passage, ...]
    vector: np.ndarray = field(compare=False)  # the same question gives the same vector


@dataclass(frozen=True)
class Plan:
    """Everything a writer needs to reply to one message, decided; no text yet."""

    status: Status
    kind: PlanKind
    question: str  # the message, cleaned
    standalone: str  # the question made standalone ("" where the reply does not show one)
    audience: str
    evidence: tuple[Statement, ...] = ()
    retrieval: Retrieval | None = None
    headings: tuple[str, ...] = ()  # "compare": one per side
    declined_by: str | None = None  # the step that declined or redirected the message
    risk: Risk | None = None  # how much the message reads like a crisis, and which kind
    missing: str | None = None  # "decline": the kind of fact asked for and not given ("amount")
    thing: str | None = None  # "decline": the named thing the documents do not give
    talk: str | None = None  # "conversation": greeting, thanks, goodbye, about_assistant, frustration...
    verdict: verdict.Verdict | None = None  # "answer" to a yes/no question: what its lead statement settles
    steps: tuple[tuple[str, str], ...] = ()  # (step, verdict) for every step that ran
    why: tuple[str, ...] = ()  # why each evidence statement was chosen, in the order of ``evidence``


@dataclass
class Turn:
    """One message as the steps see it, filled in as they run."""

    ctx: AnswerContext
    question: str
    audience: str
    earlier: list[str]
    vectors: QueryVectors
    standalone: str = ""
    passages: list[Passage] = field(default_factory=list)
    vector: np.ndarray | None = None
    candidates: list[Statement] = field(default_factory=list)
    chosen: list[Statement] = field(default_factory=list)
    why: list[str] = field(default_factory=list)  # one reason per chosen statement
    risk: Risk | None = None
    trace: list[tuple[str, str]] = field(default_factory=list)
    part: bool = False  # a part of a two-part question, answered on its own (``second_part``)

    @property
    def ask(self) -> str:
        """What the gates judge: a question told as a story is judged by the sentence that asks
        ("… my friend say government give money. how much i can get"), which the evidence, found
        with the whole story, must answer; a plain question by itself."""
        question = self.standalone
        if len(question.split()) >= STORY_WORDS and len(sentences(question)) >= 2:
            return verdict.the_ask(question)
        return question

    def plan(self, status: Status, kind: PlanKind, **fields: object) -> Plan:
        retrieval = (
            Retrieval(self.standalone, tuple(self.passages), self.vector)
            if self.passages and self.vector is not None else None
        )
        values: dict[str, object] = {
            "standalone": self.standalone, "evidence": tuple(self.chosen), "retrieval": retrieval,
            "risk": self.risk, "why": tuple(self.why), **fields
        }
        return Plan(status, kind, self.question, audience=self.audience, steps=tuple(self.trace),
                    **values)  # type: ignore[arg-type]


Step = Callable[[Turn], "Plan | None"]


# -- the steps, in order ---------------------------------------------------------------------


# What read a message near the line (``Risk.by``), as the safeguarding step's verdict says it.
_READ_BY = {"cue": "a cue", "meaning": "the crisis bank", "distress": "the distress bank"}


def safeguarding(turn: Turn) -> Plan | None:
    """Someone at risk now: help that fits the danger first, and one cited pointer if the documents help.

    The check reads the clear cues and the message's meaning (guard.assess); it needs neither
    search nor the index, so a crisis reply is given even when they fail. A message near the
    line is answered normally, with the urgent contacts first (``Plan.risk``).
    """
    ctx, text = turn.ctx, turn.question
    turn.risk = safety.assess(text, ctx.rules, ctx.risk_model, turn.vectors)
    if not turn.risk.crisis:
        read = _READ_BY.get(turn.risk.by, turn.risk.by)
        kind = f", {turn.risk.category}, read by {read}" if turn.risk.level == "near" else ""
        turn.trace.append(("safeguarding", f"{turn.risk.level} ({turn.risk.score:+.3f}){kind}"))
        return None
    pointer: tuple[Statement, ...] = ()
    try:
        passages = ctx.retriever.search(text, k=3, vectors=turn.vectors)
        if passages and passages[0].similarity >= ctx.settings.min_similarity + 0.1:
            cands = ctx.statements(passages[:2], turn.vectors(text), ctx.tokens.terms(text))
            pointer = tuple(cands[:1])
    except Exception:  # the pointer is a help, never a condition: the crisis reply stands without it
        log.exception("The documents could not be searched for a crisis message; urgent contacts given alone.")
    turn.trace.append(("safeguarding", f"risk now: {turn.risk.category} (by {turn.risk.by})"))
    return turn.plan("safeguarding", "safeguarding", standalone=text, evidence=pointer, retrieval=None,
                     declined_by="safeguarding", why=(WHY_POINTER,) * len(pointer))


def instructions(turn: Turn) -> Plan | None:
    """An attempt to override the assistant's instructions is redirected, never answered."""
    if not safety.is_injection(turn.question, turn.ctx.rules):
        return None
    turn.trace.append(("instructions", "override attempt"))
    return turn.plan("off_topic", "off_topic", standalone="", declined_by="instructions")


def conversation(turn: Turn) -> Plan | None:
    """Small talk ("hi", "thanks", "who are you") gets a friendly reply, not a search."""
    ctx, text = turn.ctx, turn.question
    # A word of the care domain, or after an earlier question a follow-up's opening ("and if…",
    # "what about…") or a word pointing back at it ("ok how do i get it out"), keeps a message a
    # question unless it reads as small talk more surely than any question does.
    in_domain = safety.mentions_domain(text, ctx.glossary, ctx.vocabulary) or bool(
        turn.earlier and (ctx.rules.follow_start.search(text.strip()) or ctx.rules.refers_back.search(text)))
    talk = ctx.talk_model.classify(turn.vectors(text), words=len(text.split()), in_domain=in_domain)
    if talk.kind is None:
        turn.trace.append(("conversation", f"a question ({talk.score:+.3f})"))
        return None
    turn.trace.append(("conversation", f"{talk.kind} ({talk.score:+.3f})"))
    return turn.plan("off_topic", "conversation", standalone="", declined_by="conversation", talk=talk.kind)


def follow_up(turn: Turn) -> Plan | None:
    """Make a follow-up standalone with the earlier question's topic."""
    turn.standalone = resolve(turn.question, turn.earlier, turn.ctx.tokens, turn.ctx.rules)
    turn.trace.append(("follow_up", "resolved" if turn.standalone != turn.question else "standalone"))
    return None


def what_changed(turn: Turn) -> Plan | None:
    """"What changed": the current document's statement beside the one it replaced."""
    ctx = turn.ctx
    if not ctx.superseded:
        return None
    asked, score = compare.is_comparison(ctx, turn.question, turn.vectors)
    if not asked:
        if score is not None:
            turn.trace.append(("what_changed", f"a word of change, not a comparison ({score:+.2f})"))
        return None
    found = compare.sides(turn.ctx, compare.change_topic(turn.standalone, turn.ctx.rules), turn.vectors)
    if found is None:
        turn.trace.append(("what_changed", "a side has no passage: answered normally"))
        return None
    sides, headings = found
    turn.trace.append(("what_changed", "side by side"))
    return turn.plan("answered", "compare", evidence=tuple(sides), headings=tuple(headings), retrieval=None,
                     why=tuple(WHY_SIDE.format(side=h.strip("*: ")) if h else WHY_SIDE_SECOND for h in headings))


def second_part(turn: Turn) -> None:
    """A question in two parts ("who chairs the board, and how often does it meet?") is answered
    whole, and its second part on its own as well, read with the first before it: that part's
    answer joins the evidence when the whole question's does not hold it already."""
    parts = split_parts(turn.standalone, turn.ctx.rules)
    if parts is None:
        return
    asked = {t for t in turn.ctx.tokens.terms(parts[1]) if len(t) > 1}  # not the "s" of "what's"
    if asked <= turn.ctx.tokens.terms(" ".join(c.text for c in turn.chosen)):
        turn.trace.append(("second_part", f"“{parts[1]}” answered whole"))
        return  # "…, and what's the ambition?": the whole question's answer says it already
    history = [*({"role": "user", "content": e} for e in turn.earlier), {"role": "user", "content": parts[0]}]
    second = plan_turn(turn.ctx, parts[1], history, turn.audience, steps=PART_STEPS, part=True)
    if second.kind != "answer":
        return
    added = 0
    for statement, reason in zip(second.evidence[:PART_STATEMENTS], second.why, strict=False):
        if _says_again(statement, turn.chosen):
            continue
        turn.chosen.append(statement)
        turn.why.append(f"{WHY_SECOND_PART}: {reason}")
        added += 1
    turn.trace.append(("second_part", f"{added} statements for “{parts[1]}”"))


def split_parts(question: str, rules: Rules) -> tuple[str, str] | None:
    """The two parts of a question that asks a second thing in a clause of its own
    ("…, and who runs it?": rules [second_ask]), each of at least PART_WORDS words; else None."""
    found = next(iter(rules.second_ask.matches(question)), None)
    if found is None:
        return None
    # The second part starts at its question word, after the "and" ("n", "&") that joins it.
    first, second = question[: found.start()].strip(" ,;"), question[found.start(1):].strip()
    if len(first.split()) < PART_WORDS or len(second.split()) < PART_WORDS:
        return None
    return first, second


def retrieve(turn: Turn) -> Plan | None:
    """Hybrid search for the standalone question."""
    turn.passages = turn.ctx.retriever.search(turn.standalone, k=turn.ctx.settings.retrieval_k,
                                              vectors=turn.vectors)
    turn.trace.append(("retrieve", f"{len(turn.passages)} passages"))
    return None


def off_topic(turn: Turn) -> Plan | None:
    """Out of the domain and unlike any passage: redirected."""
    s, best = turn.ctx.settings, max((p.similarity for p in turn.passages), default=0.0)
    in_domain = safety.mentions_domain(turn.standalone, turn.ctx.glossary, turn.ctx.vocabulary)
    if (not in_domain and best < s.off_topic_similarity) or (
        safety.looks_off_topic(turn.question, turn.ctx.rules) and best < s.min_similarity + 0.15
    ):
        turn.trace.append(("off_topic", f"best similarity {best:.2f}"))
        return turn.plan("off_topic", "off_topic", declined_by="off_topic")
    return None


def gather_evidence(turn: Turn) -> Plan | None:
    """Score the passages' statements and choose the lead and its close seconds."""
    ctx, standalone = turn.ctx, turn.standalone
    qterms = ctx.tokens.terms(f"{standalone} {' '.join(ctx.glossary.expansions(standalone))}")
    turn.vector = turn.vectors(standalone)
    candidates = listing.prefer_lists(ctx.statements(turn.passages, turn.vector, qterms), standalone)
    if len(ctx.lexicon.topic(standalone)) <= 2:  # the acronym is what the question is about
        candidates = evidence.spelled_out(candidates, standalone, ctx.glossary)
    when = retrieval.time_preference(standalone, ctx.retriever.periods, ctx.rules)
    if when == "past":
        candidates = evidence.prefer_past(candidates, set(ctx.superseded))
    elif when == "current" and retrieval.names_present(standalone, ctx.retriever.periods, ctx.rules):
        candidates = evidence.prefer_current(candidates, set(ctx.superseded))  # asks about the present
    if ctx.rules.definition_ask.search(turn.ask):
        asked = ctx.tokens.terms(turn.ask) - ctx.tokens.terms(evidence.ASKING_WHAT_IT_MEANS)
        candidates = evidence.definition_first(candidates, asked)
    turn.candidates = candidates
    turn.chosen = select(candidates)
    turn.why = [WHY_LEAD, *[WHY_SECOND] * (len(turn.chosen) - 1)]
    turn.trace.append(("evidence", f"{len(turn.chosen)} of {len(candidates)} statements chosen"))
    return None


def _too_far(turn: Turn) -> tuple[float, float] | None:
    """(best similarity, the lead's overlap) when nothing found is close enough to the question."""
    best = max((p.similarity for p in turn.passages), default=0.0)
    lead_overlap = turn.chosen[0].overlap if turn.chosen else 0.0
    if not turn.chosen or (best < turn.ctx.settings.min_similarity and lead_overlap < 0.5):
        return best, lead_overlap
    return None


def help_lines(turn: Turn) -> Plan | None:
    """A message near the line that asks nothing the documents answer ("its 2am … i just need to
    talk to someone"): the documents' own lines for the help that fits it, cited, not a decline.

    The help that fits is the council's (``crisis_help`` for the message's kind, in council.toml):
    each contact's name is looked up in the documents, and the statements that give a contact
    detail are the answer.
    """
    if turn.risk is None or turn.risk.level != "near" or _too_far(turn) is None:
        return None
    ctx = turn.ctx
    names = ctx.settings.crisis_help.get(turn.risk.category or "", [])
    found: list[Statement] = []
    for name in names:
        named = ctx.tokens.terms(name)
        passages = ctx.retriever.search(name, k=2, vectors=turn.vectors)
        for cand in ctx.statements(passages, turn.vectors(name), named)[:HELP_CANDIDATES]:
            if specifics.PATTERNS["contact"].search(cand.text) and named & ctx.tokens.terms(cand.text):
                if cand.text not in {f.text for f in found}:
                    found.append(cand)
                break
    if not found:
        return None
    turn.chosen = found
    turn.why = [WHY_HELP] * len(found)
    turn.trace.append(("help_lines", f"{len(found)} lines of help that fits ({turn.risk.category})"))
    return turn.plan("answered", "answer")


def relevance(turn: Turn) -> Plan | None:
    """Nothing close enough to the question: declined."""
    far = _too_far(turn)
    if far is not None:
        turn.trace.append(("relevance", f"best similarity {far[0]:.2f}, lead overlap {far[1]:.2f}"))
        return turn.plan("not_found", "decline", declined_by="relevance")
    return None


def specific_fact(turn: Turn) -> Plan | None:
    """A question for an amount, contact, date… is declined unless a chosen statement gives it."""
    lexicon = turn.ctx.lexicon
    rules = turn.ctx.rules
    ask = turn.ask
    missing = specifics.missing_kind(ask, turn.chosen, lexicon, rules)
    if missing:
        rescued = specifics.rescue(missing, ask, turn.chosen, turn.candidates, lexicon)
        if rescued is not turn.chosen:  # the rescue keeps the first three and brings in one that gives it
            turn.why = [*turn.why[: len(rescued) - 1], WHY_RESCUED.format(missing=missing)]
        turn.chosen = rescued
        missing = specifics.missing_kind(ask, turn.chosen, lexicon, rules)
    if missing:
        turn.trace.append(("specific_fact", f"no statement gives the {missing}"))
        return turn.plan("not_found", "decline", declined_by="specific_fact", missing=missing)
    return None


def named_thing(turn: Turn) -> Plan | None:
    """A named thing or year the chosen statements never mention is declined by name."""
    lexicon = turn.ctx.lexicon
    thing = (specifics.unknown_period(turn.ask, lexicon) or specifics.missing_thing(turn.ask, turn.chosen, lexicon)
             or absent_subject(turn)
             or specifics.unstated_year(turn.ask, turn.chosen, lexicon)
             or specifics.unstated_ordinal(turn.ask, turn.chosen, lexicon))
    if thing:
        turn.trace.append(("named_thing", f"“{thing}” is not stated"))
        return turn.plan("not_found", "decline", declined_by="named_thing", thing=thing)
    return None


def absent_subject(turn: Turn) -> str | None:
    """What the question is about, when the documents never speak of it ("im pregnant what help
    can i get"): the nearest passage would answer another question, so the reply says so first.

    The words are specific ones the documents never use (``gates.specific_words``). They are the
    subject when they weigh at least ``ABSENT_SHARE`` of the question's topic and taking them out
    changes what it means: its content words without them, or the whole question without them,
    mean something else (cosines below ``ABSENT_CONTENT`` and ``ABSENT_MEANING``). "can i get
    bare money for uni" still asks about money for uni.
    """
    lexicon = turn.ctx.lexicon
    if specifics.ask_kinds(turn.ask, turn.ctx.rules):
        return None  # a question for an amount, a date, a contact… is the specific-fact gate's to judge
    ask = turn.standalone  # a story's words count: "who carries it out?" is about the complaint told before
    # Every word the documents never use weighs on the absent side and is taken out to compare
    # meanings ("pregnant with my first baby": without "pregnant" it still speaks of a baby);
    # only the specific ones name what is not covered.
    unused = specifics.unused_words(ask, lexicon, CHAT_WORDS)
    words = specifics.specific_words(unused, english.zipf, english.places())
    # A place says where, not what: "a flat in catford" weighs nothing on the absent side.
    weighed = [w for w in unused if w not in english.places()]
    if not words or specifics.share_of_topic(ask, weighed, lexicon) < ABSENT_SHARE:
        return None
    content = specifics.content_text(ask, lexicon)
    if (_meaning(turn, content, specifics.without_words(content, unused)) >= ABSENT_CONTENT
            and _meaning(turn, ask, specifics.without_words(ask, unused)) >= ABSENT_MEANING):
        return None
    named = specifics.runs(ask, words)
    return named[0] if named else words[0]


def _meaning(turn: Turn, text: str, rest: str) -> float:
    """How alike in meaning a text and what is left of it are (0 when nothing is left)."""
    if not turn.ctx.tokens.terms(rest):
        return 0.0
    whole, left = turn.vectors(text), turn.vectors(rest)
    return float(whole @ left / (np.linalg.norm(whole) * np.linalg.norm(left) or 1.0))


def read_on(turn: Turn) -> Plan | None:
    """Let a one-sentence lead carry on to the sentence that completes it; the turn is answered."""
    extended = evidence.extend_lead(turn.chosen, turn.ctx.index, turn.ctx.chunk_pos)
    if extended and extended[0] != turn.chosen[0]:
        turn.why[0] = WHY_READ_ON
    turn.chosen = extended
    turn.trace.append(("read_on", "answered"))
    if not turn.part:
        second_part(turn)
    # A superseded document's yes is not today's: its statement is shown, labelled, with no verdict.
    lead = extended[0]
    said = None if lead.document_id in turn.ctx.superseded else verdict.verdict(
        turn.question, lead, turn.ctx.lexicon, turn.ctx.rules)
    if said:
        turn.trace.append(("verdict", said))
    return turn.plan("answered", "answer", verdict=said)


STEPS: tuple[tuple[str, Step], ...] = (
    ("safeguarding", safeguarding),
    ("instructions", instructions),
    ("conversation", conversation),
    ("follow_up", follow_up),
    ("what_changed", what_changed),
    ("retrieve", retrieve),
    ("off_topic", off_topic),
    ("evidence", gather_evidence),
    ("help_lines", help_lines),
    ("relevance", relevance),
    ("specific_fact", specific_fact),
    ("named_thing", named_thing),
    ("read_on", read_on),
)

# A part of a question runs the steps from resolving it on: the whole message was read for danger,
# instructions and small talk already.
PART_STEPS = tuple((name, step) for name, step in STEPS
                   if name not in {"safeguarding", "instructions", "conversation", "what_changed"})


def plan_turn(
    ctx: AnswerContext,
    question: object,
    history: list[dict[str, str]] | None = None,
    audience: str = "care_leaver",
    *,
    steps: Sequence[tuple[str, Step]] = STEPS,
    part: bool = False,
) -> Plan:
    """Check the message, then run the steps until one settles the turn (``part``: a part of a
    two-part question, which is not split again)."""
    s = ctx.settings
    audience = check_audience(audience)
    text = clean_question(question, None)
    turn = Turn(ctx, text, audience, user_turns(history or [], s.max_history_turns),
                QueryVectors(ctx.retriever.embedder), part=part)
    if len(text) > s.max_question_chars:
        # Too long to answer, never too long to be read for danger: a crisis gets its reply.
        plan = safeguarding(turn)
        if plan is None:
            raise too_long(len(text), s.max_question_chars)
        return plan
    for _name, step in steps:
        plan = step(turn)
        if plan is not None:
            return plan
    raise AssertionError("the last step always settles the turn")  # pragma: no cover


# Words the documents never use are what a question is about when they weigh at least this share
# of its topic and the question without them means something else (a cosine below one of these).
ABSENT_SHARE = 0.5
ABSENT_CONTENT = 0.65
ABSENT_MEANING = 0.8

# A message this long, in two sentences or more, may be a story with its question at the end.
STORY_WORDS = 20

# A close second scores within this of the lead and shares at least this share of the question's words.
SECOND_WITHIN, SECOND_OVERLAP = evidence.SECOND_WITHIN, evidence.SECOND_OVERLAP

# Why a statement is in the evidence, as an explanation shows it (``Plan.why``).
WHY_LEAD = "the best-scoring statement (the lead)"
WHY_SECOND = (f"a close second: scored within {SECOND_WITHIN:g} of the lead and shares at least "
              f"{SECOND_OVERLAP:.0%} of the question's words")
WHY_READ_ON = "the lead, read on to the sentence next to it that completes it"
WHY_RESCUED = "brought in because it gives the {missing} the question asks for"
WHY_SIDE = "one side of the comparison: {side}"
WHY_SIDE_SECOND = "a close second on the same side of the comparison"
WHY_SECOND_PART = "for the question's second part"

# A question's part has at least this many words; each part gives at most this many statements.
PART_WORDS = 3
PART_STATEMENTS = 2
WHY_POINTER = "the closest passage, shown after the urgent help"
WHY_HELP = "the documents' line for a contact that fits what the message says (crisis_help in council.toml)"

# A contact's name is looked for in this many of its best statements.
HELP_CANDIDATES = 5


def select(candidates: list[Statement], limit: int = 4) -> list[Statement]:
    """The lead statement and close seconds, without repeats."""
    if not candidates:
        return []
    lead = candidates[0]
    chosen = [lead]
    for cand in candidates[1:]:
        if len(chosen) >= limit:
            break
        if cand.score < lead.score - SECOND_WITHIN or cand.overlap < SECOND_OVERLAP or cand.outline:
            continue
        if _says_again(cand, chosen):
            continue
        chosen.append(cand)
    return chosen


def _says_again(cand: Statement, chosen: list[Statement]) -> bool:
    """Does the candidate say again what a chosen statement says: the same text, inside one or
    holding one, or mostly the same sentences (``evidence.repeats``)?"""
    return any(cand.text == c.text or _within(cand, c) or _within(c, cand) for c in chosen) or evidence.repeats(
        cand, chosen)


def _within(inner: Statement, outer: Statement) -> bool:
    """Is every piece of ``inner`` inside a piece of ``outer`` (a sentence of a quoted list item)?"""
    return inner.chunk_id == outer.chunk_id and all(
        any(s <= start and end <= e for s, e in outer.pieces) for start, end in inner.pieces
    )
