"""Why an answer was given: one turn's plan laid out for staff, ending with where to look.

An :class:`Explanation` is built from what the turn already decided (the :class:`Plan`, the
:class:`Reply` and, for an LLM answer, the check's :class:`Verdict`) and from the search's
candidates for the standalone question, re-ranked with every component score
(``Retriever.explain_ranking``). It reads the turn; it never changes it: the Reply explained
is the one ``ask`` gives (``tests/test_explain.py``).

The last line, the diagnosis, names one place to look, in the turn's order:

* **retrieval**: a question declined as not covered, where search found nothing close enough
  (and, if so, a passage that reads closer to the question than any kept was ranked below them);
* **evidence**: passages were found but none of their statements fits;
* **gate**: a step declined or redirected the message (safeguarding, instructions,
  conversation, off_topic, specific_fact, named_thing), and why;
* **composition**: statements were chosen but the reply dropped or reordered them, or the
  language model's answer failed its check.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from assistant.answer.context import AnswerContext
from assistant.answer.plan import Plan
from assistant.answer.statement import quote
from assistant.retrieve.search import Ranking
from assistant.types import Reply
from assistant.writers import Verdict

Area = Literal["retrieval", "evidence", "gate", "composition"]

# A passage not kept whose similarity to the question beats every kept passage's by at least this
# is reported, in a decline, as ranked too low: a margin so that near-ties are not reported.
# A judgment, not calibrated (no question set marks which declines were retrieval misses).
LOW_RANK_MARGIN = 0.05

# How many candidates the text view tables (``to_dict`` has them all): twice the passages kept by default.
CANDIDATES_SHOWN = 10

# What each gate does, in a council staff member's words (the step's own verdict follows).
_GATES = {
    "safeguarding": "the safeguarding check read the message as a crisis and gave urgent help first",
    "instructions": "the message reads as an attempt to override the assistant's instructions, so it was "
                    "redirected",
    "off_topic": "the message is not about the documents' subject and no passage is close to it, so it was "
                 "redirected",
    "conversation": "the message reads as small talk (a greeting, thanks, a goodbye, a question about the "
                    "assistant or a complaint about it) by its meaning, so it got a friendly reply without a search",
    "specific_fact": "the question asks for a specific fact that none of the chosen statements gives, so it "
                     "was declined rather than guessed",
    "named_thing": "the question names something the chosen statements never mention, so it was declined",
}


@dataclass(frozen=True)
class CandidateRow:
    """One passage search considered for the standalone question, with its scores."""

    rank: int
    kept: bool  # among the passages answering read
    document_id: str
    document_title: str
    section: str
    chunk_id: str
    dense_rank: int | None
    dense_cosine: float | None
    bm25_rank: int | None
    bm25_score: float | None
    fused: float
    score: float  # fused, after current documents are preferred: what the rank follows


@dataclass(frozen=True)
class StatementRow:
    """One statement the plan chose, and why."""

    document_id: str
    document_title: str
    section: str
    text: str  # the verbatim quote
    score: float
    overlap: float  # share of the question's words it has
    why: str
    cited: int | None  # its citation number in the reply (None: the reply does not cite it)


@dataclass(frozen=True)
class Diagnosis:
    """Where to look first, in one line."""

    area: Area
    reason: str

    @property
    def line(self) -> str:
        return f"Where to look: {self.area} — {self.reason}"


@dataclass(frozen=True)
class Explanation:
    """One turn, explained: the steps and their verdicts, the candidates, the evidence, the check."""

    question: str
    standalone: str
    audience: str
    status: str
    kind: str
    backend: str
    steps: tuple[tuple[str, str], ...]
    declined_by: str | None
    candidates: tuple[CandidateRow, ...]
    statements: tuple[StatementRow, ...]
    check: Verdict | None
    diagnosis: Diagnosis
    dense_query: str = ""  # what the dense and BM25 rankings read ("" when there was no search)
    lexical_query: str = ""
    prefer: str = ""

    @classmethod
    def build(
        cls, plan: Plan, reply: Reply, ranking: Ranking | None, check: Verdict | None, ctx: AnswerContext
    ) -> Explanation:
        """Lay out a turn from its plan, its reply, the search's ranking (None: no search ran) and the check."""
        index, k = ctx.index, ctx.settings.retrieval_k
        rows = []
        for c in ranking.candidates if ranking else ():
            chunk = index.chunks[ctx.chunk_pos[c.chunk_id]]
            rows.append(CandidateRow(
                c.rank, c.rank <= k, chunk.document_id, index.documents[chunk.document_id].title, chunk.section,
                c.chunk_id, c.dense_rank, c.dense_cosine, c.bm25_rank, c.bm25_score, c.fused, c.score,
            ))
        cited = {c.chunk_id: c.number for c in reply.citations}
        why = (plan.why + ("",) * len(plan.evidence))[: len(plan.evidence)]
        statements = []
        for statement, reason in zip(plan.evidence, why, strict=True):
            chunk = index.chunks[ctx.chunk_pos[statement.chunk_id]]
            statements.append(StatementRow(
                statement.document_id, index.documents[statement.document_id].title, chunk.section,
                quote(index.texts[statement.document_id], statement.pieces), round(statement.score, 4),
                round(statement.overlap, 4), reason, cited.get(statement.chunk_id),
            ))
        explanation = cls(
            plan.question, plan.standalone, plan.audience, reply.status, plan.kind, reply.backend, plan.steps,
            plan.declined_by, tuple(rows), tuple(statements), check,
            Diagnosis("evidence", ""),  # replaced below, once the rest is laid out
            ranking.dense_query if ranking else "", ranking.lexical_query if ranking else "",
            ranking.prefer if ranking else "",
        )
        return replace(explanation, diagnosis=diagnose(explanation, plan, reply, ctx.settings.min_similarity))

    # -- views -----------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The explanation as JSON-ready values (the API's ``explanation``)."""
        body = asdict(self)
        body["steps"] = [{"step": step, "verdict": verdict} for step, verdict in self.steps]
        body["diagnosis"] = {**asdict(self.diagnosis), "line": self.diagnosis.line}
        return body

    def step_rows(self) -> list[dict[str, Any]]:
        return [{"number": n, "step": step, "verdict": verdict} for n, (step, verdict) in enumerate(self.steps, 1)]

    def candidate_rows(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The first ``limit`` candidates (all by default) as table rows; sections by their own heading."""
        return [
            {
                "rank": c.rank, "kept": "yes" if c.kept else "", "document": c.document_title,
                "section": _heading(c.section), "dense_rank": _shown(c.dense_rank),
                "dense_cosine": _shown(c.dense_cosine),
                "bm25_rank": _shown(c.bm25_rank), "bm25_score": _shown(c.bm25_score), "fused": f"{c.fused:.4f}",
                "score": f"{c.score:.4f}",
            }
            for c in self.candidates[:limit]
        ]

    def statement_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "number": n, "document": s.document_title, "section": _heading(s.section), "statement": _short(s.text),
                "score": f"{s.score:.3f}", "overlap": f"{s.overlap:.0%}", "why": s.why,
                "cited": f"[{s.cited}]" if s.cited else "not cited",
            }
            for n, s in enumerate(self.statements, 1)
        ]

    def check_line(self) -> str:
        """The language model check's verdict in words ("" when no model was configured)."""
        if self.check is None:
            return ""
        said = {
            "passed": "passed: the language model's answer is shown.",
            "failed": "failed, so the extractive answer is shown instead. Problems: ",
            "unavailable": "not run: the language model could not be reached, so the extractive answer is "
                           "shown. ",
            "not_asked": "not run: the language model is only asked to write answers, and this is a "
                         f"{self.kind}.",
        }[self.check.outcome]
        return f"Language model check: {said}{'; '.join(self.check.problems)}"

    def to_markdown(self, candidates_shown: int = CANDIDATES_SHOWN) -> str:
        """The explanation as Markdown that reads as plain text too; the last line is the diagnosis.

        The first ``candidates_shown`` candidates are tabled (``to_dict`` has them all).
        """
        lines = [
            f"Question: {self.question}",
            f"Standalone question: {self.standalone or '(none)'}",
            f"Reply: {self.status} ({self.kind}), written by the {self.backend} writer, for {self.audience}",
            "",
            "Steps, in order:",
            "",
            _table(self.step_rows(), ["#", "step", "verdict"]),
        ]
        if self.declined_by:
            lines += ["", f"Settled by the step: {self.declined_by}"]
        if self.candidates:
            lines += [
                "",
                f"Candidate passages for “{self.standalone}” (dense query: “{self.dense_query}”; "
                f"documents preferred: {self.prefer}):",
                "",
                _table(self.candidate_rows(candidates_shown),
                       ["rank", "kept", "document", "section", "dense rank", "cosine", "BM25 rank", "BM25 score",
                        "fused", "final score"]),
            ]
            if len(self.candidates) > candidates_shown:
                lines.append(f"… and {len(self.candidates) - candidates_shown} more candidates, ranked lower.")
        else:
            lines += ["", "Candidate passages: none (no search for the standalone question ran)."]
        if self.statements:
            lines += ["", "Statements chosen, and why:", "",
                      _table(self.statement_rows(),
                             ["#", "document", "section", "statement", "score", "overlap", "why", "cited"])]
        else:
            lines += ["", "Statements chosen: none."]
        if self.check is not None:
            lines += ["", self.check_line()]
        lines += ["", self.diagnosis.line]
        return "\n".join(lines)


# -- the diagnosis ---------------------------------------------------------------------------


def diagnose(e: Explanation, plan: Plan, reply: Reply, min_similarity: float) -> Diagnosis:
    """The one place to look first: retrieval, evidence, a gate or composition."""
    verdicts = dict(plan.steps)
    step = plan.declined_by
    if step in _GATES:
        return Diagnosis("gate", f"settled by the {step} step ({verdicts.get(step, '')}): {_GATES[step]}.")
    if step == "relevance":
        kept = [c for c in e.candidates if c.kept]
        if not kept:
            return Diagnosis("retrieval", "search found no passage for the question.")
        if not plan.evidence:
            return Diagnosis("evidence", f"search found {len(kept)} passages, but none of their statements "
                                         "fits the question.")
        best = max((c.dense_cosine or 0.0) for c in kept)
        lead = plan.evidence[0]
        return Diagnosis("retrieval", f"declined by the relevance step: the closest passage is only {best:.2f} "
                                      f"similar to the question (answering needs {min_similarity:.2f}) and "
                                      f"the best statement has {lead.overlap:.0%} of the question's words."
                                      + _ranked_low(e))
    if e.check is not None and e.check.outcome in ("failed", "unavailable"):
        what = ("failed its check (" + "; ".join(e.check.problems) + ")" if e.check.outcome == "failed"
                else "could not be had (the model could not be reached)")
        return Diagnosis("composition", f"the language model's answer {what}; the extractive answer was "
                                        "shown instead.")
    chosen = list(dict.fromkeys(s.chunk_id for s in plan.evidence))
    shown = [c.chunk_id for c in reply.citations]
    if plan.kind in ("answer", "compare") and shown != chosen:
        dropped = [c for c in chosen if c not in shown]
        how = f"dropped {len(dropped)} of the {len(chosen)} chosen passages" if dropped else "reordered them"
        return Diagnosis("composition", f"statements were chosen, but the reply {how}: compare the "
                                        "statements with the reply's sources.")
    if not plan.evidence:
        return Diagnosis("evidence", "the reply quotes no statement.")
    lead = e.statements[0]
    return Diagnosis("evidence", f"nothing stands out: the reply quotes the {len(e.statements)} chosen "
                                 f"statement{'s' if len(e.statements) > 1 else ''} in order. If it is wrong, "
                                 f"check the lead statement first ({lead.document_title}, {_heading(lead.section)}), "
                                 "then the candidate passages.")


def _ranked_low(e: Explanation) -> str:
    """A sentence about a passage that reads closer to the question than any kept but ranked below them.

    Passages moved down for being from a superseded document (or a current one, when the question
    asks about the past) are left out: that preference is by design.
    """
    kept = [c.dense_cosine for c in e.candidates if c.kept and c.dense_cosine is not None]
    others = [c for c in e.candidates if not c.kept and c.dense_cosine is not None and c.score == c.fused]
    if not kept or not others:
        return ""
    closest = max(others, key=lambda c: (c.dense_cosine or 0.0, -c.rank))
    if (closest.dense_cosine or 0.0) < max(kept) + LOW_RANK_MARGIN:
        return ""
    return (f" A passage that reads closer to the question ({closest.document_title}, {_heading(closest.section)};"
            f" similarity {closest.dense_cosine:.2f}) was ranked {closest.rank}, below the {len(kept)} kept.")


def _heading(section: str) -> str:
    """A section by its own heading: "Money > Setting up home" -> "Setting up home"."""
    return section.rsplit(" > ", 1)[-1]


def _shown(value: float | int | None) -> str:
    if value is None:
        return "—"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _table(rows: list[dict[str, Any]], headings: list[str]) -> str:
    def cell(value: Any) -> str:
        return " ".join(str(value).split()).replace("|", "\\|") or " "

    lines = ["| " + " | ".join(headings) + " |", "|" + "---|" * len(headings)]
    lines += ["| " + " | ".join(cell(v) for v in row.values()) + " |" for row in rows]
    return "\n".join(lines)
