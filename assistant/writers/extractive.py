"""The default answerer: extractive, deterministic, grounded and cited.

It composes a short answer from the statements ``evidence`` picked out of the
top passages: a lead statement, then bullets, each followed by its ``[n]``.
Statements are the documents' own words (numbers are never computed or
paraphrased); only the framing around them is ours. Declining, off-topic and
safeguarding replies are written here too.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from assistant.answer.context import AnswerContext
from assistant.answer.plan import Plan
from assistant.answer.statement import Statement, quote
from assistant.config import Contact, Settings
from assistant.index import StoredIndex
from assistant.rules import Messages, default_rules
from assistant.text.glossary import Glossary
from assistant.types import Citation, DocumentMeta, Reply

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Composed:
    text: str
    citations: list[Citation]


def compose(
    chosen: Sequence[Statement],
    index: StoredIndex,
    audience: str,
    glossary: Glossary,
    settings: Settings,
    *,
    headings: Sequence[str] = (),
    messages: Messages | None = None,
) -> Composed:
    """Write the answer: lead statement, bullets, each with its citation number."""
    citations: list[Citation] = []
    numbers: dict[str, int] = {}
    lines: list[str] = []
    explained: set[str] = set()
    introduced: set[str] = set()
    for i, statement in enumerate(chosen):
        meta = index.documents[statement.document_id]
        if statement.chunk_id not in numbers:
            numbers[statement.chunk_id] = len(citations) + 1
            chunk = next(c for c in index.chunks if c.id == statement.chunk_id)
            citations.append(
                Citation(
                    number=numbers[statement.chunk_id],
                    document_id=meta.id,
                    document_title=meta.title,
                    section=chunk.section,
                    page=chunk.page,
                    quote=quote(index.texts[meta.id], statement.pieces),
                    source_url=meta.source_url,
                    superseded=meta.status == "superseded",
                    chunk_id=chunk.id,
                )
            )
        body = statement.text.rstrip()
        bare_list = body.startswith("  - ")
        if bare_list:
            # A bare list: its items become the answer's own bullets, not bullets in a bullet.
            body = body[4:].replace("\n  - ", "\n- ")
        # A full stop unless the documents' own words end the sentence (an explained acronym does not).
        stop = "" if body[-1] in ".!?)" else "."
        if audience == "care_leaver":
            body = explain_acronyms(body, glossary, explained)
        # Say once per answer that a document was superseded, not on every bullet.
        if meta.id not in introduced:
            body = f"{provenance(meta, index.documents)}{body}"
            introduced.add(meta.id)
        body += stop
        label = headings[i] if i < len(headings) else ""
        line = f"{label}{body} [{numbers[statement.chunk_id]}]"
        if headings and not label and i > 0:
            lines.append("  - " + line.replace("\n  - ", "\n    - "))  # a side's second statement, under its heading
        else:
            lines.append(line if i == 0 and not headings and not bare_list else f"- {line}")
    intro = ""
    if audience == "care_leaver":
        outro = f"If you are not sure what this means for you, ask {settings.advice_contact}."
    else:
        outro = ""
        intro = "" if not headings else "Side by side, from the council's documents:"
    if headings and audience == "care_leaver":
        intro = "Here is what each strategy says:"
    parts = [intro] if intro else []
    if lines:
        parts.append(lines[0] if not headings else "\n".join(lines))
        if not headings and len(lines) > 1:
            shown, more = split_for_a_phone(lines, audience)
            parts.append("\n".join(shown))
            if more:
                parts.append(f"{(messages or default_rules().messages).say('more_heading')}\n" + "\n".join(more))
    if outro:
        parts.append(outro)
    return Composed("\n\n".join(parts), citations)


# A care leaver reads on a phone: the lead and the bullets up to about this many words come
# first; the rest follows under "More from the documents".
PHONE_WORDS = 120
_COUNTED = re.compile(r"[A-Za-z0-9£%'’]+")


def split_for_a_phone(lines: Sequence[str], audience: str) -> tuple[list[str], list[str]]:
    """The bullets after the lead that fit the first screen, and those that go under "More"."""
    if audience != "care_leaver":
        return list(lines[1:]), []
    used = len(_COUNTED.findall(re.sub(r"\[\d+\]", "", lines[0])))
    shown: list[str] = []
    for number, line in enumerate(lines[1:], 1):
        used += len(_COUNTED.findall(re.sub(r"\[\d+\]", "", line)))
        if used > PHONE_WORDS and shown:
            return shown, list(lines[number:])
        shown.append(line)
    return shown, []


def provenance(meta: DocumentMeta, documents: dict[str, DocumentMeta]) -> str:
    """Say so when a statement comes from a superseded document."""
    if meta.status != "superseded":
        return ""
    newer = documents.get(meta.superseded_by or "")
    since = f", since replaced by the {newer.title}" if newer else ", since replaced"
    return f"In the {meta.title}{since}: "


def explain_acronyms(text: str, glossary: Glossary, explained: set[str]) -> str:
    """Expand each acronym on its first use in the answer: "EET (education, employment or training)"."""
    for acronym in glossary.acronyms_in(text):
        if acronym in explained:
            continue
        if f"({acronym})" in text:  # the document spells it out itself: "Signs of Safety (SoS)"
            explained.add(acronym)
            continue
        meaning = glossary.acronyms[acronym]
        if meaning.lower() in text.lower():
            explained.add(acronym)
            continue
        pattern = re.compile(rf"\b{re.escape(acronym)}(s?)\b(?!\s*\()")
        text, count = pattern.subn(lambda m, meaning=meaning: f"{m.group(0)} ({meaning})", text, count=1)
        if count:
            explained.add(acronym)
    return text


def contacts_block(contacts: Sequence[Contact]) -> str:
    return "\n".join(f"- **{c.name}**: {c.detail}" + (f" — {c.when}" if c.when else "") for c in contacts)


def not_found_text(
    audience: str, settings: Settings, kind: str | None = None, thing: str | None = None,
    messages: Messages | None = None, question: str = "",
) -> str:
    """The documents do not say: what they do not cover, who to ask, and the contacts that fit the question."""
    messages = messages or default_rules().messages
    what = messages.not_covered.get(kind or "") or (f"“{thing}”" if thing else messages.not_covered["any"])
    values = {"what": what, "advice_contact": settings.advice_contact, "council_name": settings.council_name}
    lead = messages.say("not_found_care_leaver" if audience == "care_leaver" else "not_found_staff", **values)
    extra = contacts_block(settings.decline_contacts(question))
    return lead + (f"\n\n{messages.say('not_found_other_help')}\n{extra}" if extra else "")


def off_topic_text(audience: str, settings: Settings, messages: Messages | None = None) -> str:
    messages = messages or default_rules().messages
    name = "off_topic_care_leaver" if audience == "care_leaver" else "off_topic_staff"
    return messages.say(name, council_name=settings.council_name)


def conversation_text(kind: str | None, audience: str, settings: Settings, messages: Messages | None = None) -> str:
    """A short, friendly reply to small talk, with questions to try where it helps."""
    messages = messages or default_rules().messages
    names = [f"conversation_{kind}_{audience}", f"conversation_{kind}"]
    name = next((n for n in names if n in messages.texts), "conversation_greeting")
    values = {"council_name": settings.council_name, "advice_contact": settings.advice_contact}
    text = messages.say(name, **values)
    starters = f"conversation_starters_{audience}"
    if kind in ("greeting", "about_assistant", "acknowledgement") and starters in messages.texts:
        text += "\n\n" + messages.say(starters, **values)
    return text


def safeguarding_text(
    settings: Settings, audience: str, messages: Messages | None = None, category: str | None = None
) -> str:
    """Urgent help first, the contacts that fit this kind of danger (``crisis_help``) leading."""
    messages = messages or default_rules().messages
    first, rest = settings.crisis_contacts(category)
    urgent = contacts_block(first)
    council = contacts_block(rest)
    lead = messages.say("safeguarding_care_leaver" if audience == "care_leaver" else "safeguarding_staff")
    text = f"{messages.say('safeguarding_danger')}\n\n{lead}\n\n{messages.say('safeguarding_get_help')}\n{urgent}"
    if council:
        text += f"\n\n**{settings.council_name}:**\n{council}"
    text += "\n\n" + messages.say("safeguarding_adviser", advice_contact=settings.advice_contact)
    return text


def near_box(
    settings: Settings, messages: Messages, category: str | None, shown: int = 3, *, declined: bool = False
) -> str:
    """The few contacts to lead an answer to a message near the line of a crisis.

    ``declined``: the reply gives no answer (not covered, off-topic), so the box is all
    the help it holds: every line open day and night (``Contact.always_open``) follows the few.
    """
    first, _ = settings.crisis_contacts(category)
    listed = first[:shown]
    if declined:
        every = [*first, *settings.council_contacts]
        listed += [c for c in every if c.always_open and c not in listed]
    return f"{messages.say('near_box')}\n{contacts_block(listed)}" if listed else ""


def lead_with_help(plan: Plan, ctx: AnswerContext, reply: Reply) -> Reply:
    """A message near the line of a crisis: the urgent contacts lead whatever answer it gets."""
    if plan.risk is None or plan.risk.level != "near" or plan.kind == "safeguarding":
        return reply
    messages = ctx.rules.messages
    box = near_box(ctx.settings, messages, plan.risk.category, declined=plan.kind in ("decline", "off_topic"))
    if box and plan.risk.by == "language":  # a message the assistant could not read: say so, with 999 first
        box = f"{messages.say('near_language')}\n\n{box}"
    return replace(reply, text=f"{box}\n\n{reply.text}") if box else reply


def lead_with_verdict(text: str, said: str) -> str:
    """"Yes." before the statement that settles it; on a line of its own before a list."""
    return f"{said}\n\n{text}" if text.startswith(("- ", "  - ")) else f"{said} {text}"


def lead_statement(plan: Plan, ctx: AnswerContext) -> tuple[str, list[Citation]]:
    """The plan's first statement written on its own, with its citation: the documents' pointer
    after urgent help, or the nearest thing after a decline."""
    composed = compose(plan.evidence[:1], ctx.index, plan.audience, ctx.glossary, ctx.settings,
                       messages=ctx.rules.messages)
    return composed.text.split("\n\n")[0], composed.citations


def make_reply(status: str, text: str, citations: list[Citation] | None = None, **extra: str) -> Reply:
    return Reply(status=status, text=text, citations=citations or [], **extra)  # type: ignore[arg-type]


# -- the writer ------------------------------------------------------------------------------

# The heading of a "what changed" side already names the superseded document.
_PROVENANCE = re.compile(r"In the [^:]+, since replaced by the [^:]+: ")


# Declines for a named fact or thing the documents do not give follow with what they say about
# the nearest thing; a decline for nothing close enough (relevance) has nothing near to show, and
# one for a contact shows none (another service's number is a wasted call).
NEAREST_AFTER = ("specific_fact", "named_thing")


class ExtractiveWriter:
    """Write a plan in the documents' own words: deterministic, grounded, cited; no model."""

    name = "extractive"

    def write(self, plan: Plan, ctx: AnswerContext) -> Reply:
        return lead_with_help(plan, ctx, self._write(plan, ctx))

    def _write(self, plan: Plan, ctx: AnswerContext) -> Reply:
        s, audience, messages = ctx.settings, plan.audience, ctx.rules.messages
        if plan.kind == "safeguarding":
            category = plan.risk.category if plan.risk else None
            body, citations = safeguarding_text(s, audience, messages, category), []
            try:  # the pointer is a help, never a condition: the crisis reply stands without it
                if plan.evidence:
                    lead, citations = lead_statement(plan, ctx)
                    body = f"{body}\n\n{messages.say('safeguarding_documents')} {lead}"
            except Exception:
                log.exception("The documents' pointer for a crisis message could not be written; contacts given alone.")
            return Reply("safeguarding", body, citations, question=plan.question,
                         standalone_question=plan.standalone)
        if plan.kind == "conversation":
            return make_reply("off_topic", conversation_text(plan.talk, audience, s, messages), question=plan.question)
        if plan.kind == "off_topic":
            return make_reply("off_topic", off_topic_text(audience, s, messages), question=plan.question,
                              standalone_question=plan.standalone)
        if plan.kind == "decline":
            text = not_found_text(audience, s, plan.missing, plan.thing, messages, plan.question)
            citations: list[Citation] = []
            if plan.declined_by in NEAREST_AFTER and plan.evidence and plan.missing != "contact":
                # What the documents do say about the nearest thing, labelled as such, after the decline.
                lead, citations = lead_statement(plan, ctx)
                head, sep, rest = text.partition("\n\n")
                text = f"{head}\n\n{messages.say('nearest_heading')}\n{lead}" + (f"{sep}{rest}" if sep else "")
            return make_reply("not_found", text, citations, question=plan.question,
                              standalone_question=plan.standalone)
        composed = compose(plan.evidence, ctx.index, audience, ctx.glossary, s, headings=plan.headings,
                           messages=messages)
        text = _PROVENANCE.sub("", composed.text) if plan.kind == "compare" else composed.text
        if plan.verdict:
            text = lead_with_verdict(text, messages.say(f"verdict_{plan.verdict}"))
        return Reply("answered", text, composed.citations, question=plan.question,
                     standalone_question=plan.standalone)

    def stream(self, plan: Plan, ctx: AnswerContext) -> Iterator[str | Reply]:
        """The written reply's words with their trailing space, then the Reply."""
        reply = self.write(plan, ctx)
        yield from pieces(reply.text)
        yield reply


def pieces(text: str) -> list[str]:
    """Words with their trailing space, as a stream sends them."""
    return re.findall(r"\S+\s*|\s+", text)
