"""What the LLM is given: the passages the extractive answer cited, numbered, and the rules.

Kept apart from llm.py so the prompt can be read (and changed) in one place without
the model plumbing around it; it builds messages and calls no model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from assistant.answer.context import AnswerContext
from assistant.config import Settings
from assistant.types import Citation, Reply

_AUDIENCE_RULES = {
    "care_leaver": (
        "You are writing for a young person in care or leaving care. Use plain words and short "
        "sentences. Speak to them as \"you\". Explain every acronym the first time you use it, "
        "for example \"PA (personal adviser)\". Keep the answer under 150 words."
    ),
    "staff": (
        "You are writing for council staff and partner professionals. Be formal and precise. Keep "
        "legal and statutory references (Acts, sections, regulations, guidance) exactly as the "
        "passages give them. Keep the answer under 200 words."
    ),
}


@dataclass(frozen=True)
class Source:
    """One numbered passage given to the model, with the Citation the answer will show."""

    citation: Citation
    text: str

    @property
    def check_text(self) -> str:
        """Everything the model saw for this passage: numbers in any of it are grounded."""
        c = self.citation
        return f"{c.document_title}\n{c.section}\n{c.quote}\n{self.text}"


def sources_for(ctx: AnswerContext, reply: Reply) -> list[Source]:
    """Number the passages the extractive reply cited, 1..N in its order, reusing its Citations.

    Only cited passages are given: the extractive selection is a better judge of
    relevance than retrieval similarity (for "how much is the uni bursary" the
    apprenticeship bursary passage scores higher), and the check can only prove
    that a number is in the passage cited, not that the passage is the right one.
    Each is given with its chunk's full text, so the model sees the quote in its context.
    """
    return [
        Source(replace(c, number=n), ctx.chunk_text(c.chunk_id) or c.quote)
        for n, c in enumerate(reply.citations, 1)
    ]


def build_messages(
    sources: Sequence[Source], question: str, audience: str, settings: Settings
) -> list[BaseMessage]:
    """The system rules (grounding, citing, numbers, audience) and the numbered passages."""
    system = (
        f"You answer questions about {settings.council_name}'s support for children in care and "
        "care leavers.\nRules:\n"
        "1. Answer ONLY from the numbered passages below. Do not add anything you know from "
        "elsewhere.\n"
        "2. Cite every sentence and bullet with the number of the passage it comes from, in square "
        "brackets, like [1] or [1][2]. Use only the passage numbers given.\n"
        "3. Never state a number, amount, age, percentage or date that is not written in the "
        "passage you cite. Copy numbers exactly as written.\n"
        "4. If the passages do not answer the question, say so in one sentence and do not guess.\n"
        "5. If a passage is marked superseded, say that it comes from the older document.\n"
        f"{_AUDIENCE_RULES.get(audience, _AUDIENCE_RULES['staff'])}"
    )
    blocks = []
    for n, source in enumerate(sources, 1):
        c = source.citation
        where = f"{c.document_title} — {c.section}" + (f", page {c.page}" if c.page else "")
        flag = " (superseded: an older document)" if c.superseded else ""
        full = " ".join(source.text.split())
        blocks.append(f"[{n}] {where}{flag}\nKey sentence: {c.quote}\nFull passage: {full}")
    human = "Passages:\n\n" + "\n\n".join(blocks) + f"\n\nQuestion: {question}"
    return [SystemMessage(content=system), HumanMessage(content=human)]
