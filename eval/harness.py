"""Run a question set through the assistant (and optionally the tutorial baseline) and score it.

The scoring reads a system only through a small adapter (``System``): how to ask, how
to search, which query retrieval is scored on, and what text a citation must be found
in. ``AssistantSystem`` wraps our ``Assistant``; ``eval.baseline.Baseline`` implements
the same methods, so both systems are scored by the same code on the same cases.
"""

from __future__ import annotations

import re
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from assistant.answer.followups import resolve

from .metrics import flesch_reading_ease, ndcg_at, norm, numbers, percentile, recall_at, reciprocal_rank
from .questions import Case


@dataclass
class CaseResult:
    case: Case
    status: str
    text: str
    relevant: list[bool] = field(default_factory=list)
    fact_recall: float | None = None
    citations_valid: bool = True
    citation_support: bool | None = None
    number_fidelity: bool | None = None
    flesch: float | None = None
    seconds: float = 0.0


class System(Protocol):
    """What the harness needs from a system under evaluation."""

    name: str

    def ask(self, question: str, history: list[dict[str, str]], audience: str) -> Any:
        """A Reply-like object: ``status``, ``text``, ``citations`` (document_id, quote, chunk_id)."""

    def search(self, query: str, k: int) -> list[Any]:
        """Passages ranked best first, each with ``document_id`` and ``text``."""

    def retrieval_query(self, case: Case) -> str:
        """The query the system itself would retrieve with for this case."""

    def quote_source(self, citation: Any) -> str:
        """The text a citation's quote must be verbatim in (for citation validity)."""

    def cited_text(self, citation: Any) -> str:
        """Everything the reader can check through this citation (for number fidelity and support)."""

    def cited_passage(self, citation: Any) -> str | None:
        """The retrieved passage behind the citation, if any (a gold quote inside it is support)."""

    def titles(self) -> str:
        """Document titles: an answer may repeat the years in a document's title."""

    def clear_cache(self) -> None:
        """Forget cached query vectors, so every timed ask pays for its own embedding."""


class AssistantSystem:
    """Our ``Assistant`` seen through the ``System`` adapter."""

    name = "assistant"

    def __init__(self, bot: Any) -> None:
        self.bot = bot

    def ask(self, question: str, history: list[dict[str, str]], audience: str) -> Any:
        return self.bot.ask(question, history=history, audience=audience)

    def search(self, query: str, k: int) -> list[Any]:
        return self.bot.search(query, k=k)

    def retrieval_query(self, case: Case) -> str:
        return resolve(case.question, list(case.history), self.bot.context.tokens, self.bot.context.rules)

    def quote_source(self, citation: Any) -> str:
        return self.bot.index.texts[citation.document_id]

    def _chunk(self, citation: Any) -> Any:
        return self.bot.chunk(citation.chunk_id)

    def cited_text(self, citation: Any) -> str:
        if not citation.chunk_id:
            return citation.quote
        chunk = self._chunk(citation)
        return f"{chunk.context} {self.bot.index.texts[citation.document_id][chunk.start:chunk.end]} {citation.quote}"

    def cited_passage(self, citation: Any) -> str | None:
        if not citation.chunk_id:
            return None
        chunk = self._chunk(citation)
        return self.bot.index.texts[citation.document_id][chunk.start : chunk.end]

    def titles(self) -> str:
        return " ".join(m.title for m in self.bot.index.documents.values())

    def clear_cache(self) -> None:
        cached = getattr(self.bot.embedder, "_cached_query", None)
        if cached is not None and hasattr(cached, "cache_clear"):
            cached.cache_clear()


def _is_gold(case: Case, document_id: str, text: str) -> bool:
    body = norm(text)
    return any(g.document == document_id and norm(g.quote) in body for g in case.gold)


def evaluate_assistant(bot: Any, cases: list[Case]) -> list[CaseResult]:
    """Ask every question; score retrieval and the reply."""
    return evaluate_system(AssistantSystem(bot), cases)


def evaluate_system(system: System, cases: list[Case], *, k: int = 5) -> list[CaseResult]:
    """Ask every question of any ``System``; score its retrieval (top ``k``) and its reply."""
    return [evaluate_case(system, case, k=k) for case in cases]


def evaluate_side_by_side(systems: list[System], cases: list[Case], *, k: int = 5) -> dict[str, list[CaseResult]]:
    """Every system on every case, interleaved case by case.

    Interleaving keeps the latency comparison fair on a shared machine: a burst of
    load from elsewhere slows both systems' answers to the same questions, rather
    than whichever system happened to be running at the time.
    """
    results: dict[str, list[CaseResult]] = {system.name: [] for system in systems}
    for case in cases:
        for system in systems:
            results[system.name].append(evaluate_case(system, case, k=k))
    return results


def evaluate_case(system: System, case: Case, *, k: int = 5) -> CaseResult:
    """Ask one question and score the reply and (for answerable cases) retrieval.

    The query-vector cache is cleared before the timed ask so that latencies do not
    depend on which system (or which earlier case) embedded the same text first.
    """
    history = [{"role": "user", "content": h} for h in case.history]
    system.clear_cache()
    started = time.perf_counter()
    reply = system.ask(case.question, history, case.audience)
    seconds = time.perf_counter() - started
    result = CaseResult(case, reply.status, reply.text, seconds=seconds)
    if case.expect == "answered":
        hits = system.search(system.retrieval_query(case), k)
        result.relevant = [_is_gold(case, h.document_id, h.text) for h in hits]
    _score_reply(system, case, result, reply.citations)
    return result


def _score_reply(system: System, case: Case, result: CaseResult, citations: list[Any]) -> None:
    text = result.text
    if case.expect == "answered" and case.facts:
        result.fact_recall = sum(norm(f) in norm(text) for f in case.facts) / len(case.facts)
    cited = ""
    for c in citations:
        source = norm(system.quote_source(c))
        if not all(norm(piece) in source for piece in c.quote.split(" … ")):
            result.citations_valid = False
        cited += f" {system.cited_text(c)}"
    if result.status == "answered" and citations:
        # The urgent contacts that lead an answer near the line of a crisis come from the council
        # profile, not the documents: their numbers are not claims the documents must support.
        body = re.sub(r"\[\d+\]", "", _without_contacts(text, system))
        result.number_fidelity = numbers(body) <= numbers(cited + " " + system.titles())
        if case.expect == "answered":
            passages = [(c.document_id, system.cited_passage(c)) for c in citations]
            result.citation_support = _is_gold(case, citations[0].document_id, cited) or any(
                norm(f) in norm(cited) for f in case.facts
            ) or any(_is_gold(case, doc, passage) for doc, passage in passages if passage is not None)
        if case.audience == "care_leaver":
            plain = re.sub(r"[*#>\-\[\]()]|\[\d+\]", " ", text)
            result.flesch = round(flesch_reading_ease(plain), 1)


def fully_right(result: CaseResult) -> bool:
    """The right kind of reply and, for an answer, every key fact of the case in it."""
    return result.status == result.case.expect and result.fact_recall in (None, 1.0)


def _without_contacts(text: str, system: System) -> str:
    settings = getattr(getattr(system, "bot", None), "settings", None)
    if settings is None:
        return text
    for contact in [*settings.urgent_contacts, *settings.council_contacts]:
        for said in (contact.detail, contact.when):
            text = text.replace(said, " ") if said else text
    return text


def summarise(results: list[CaseResult]) -> dict[str, Any]:
    """All metrics for one system, overall and per category."""
    def rate(values: list[bool | None]) -> float | None:
        vals = [v for v in values if v is not None]
        return round(sum(vals) / len(vals), 4) if vals else None

    answered = [r for r in results if r.case.expect == "answered"]
    retrieval = [r for r in answered if r.relevant]
    out: dict[str, Any] = {
        "cases": len(results),
        "recall@1": rate([recall_at(r.relevant, 1) == 1 for r in retrieval]),
        "recall@3": rate([recall_at(r.relevant, 3) == 1 for r in retrieval]),
        "recall@5": rate([recall_at(r.relevant, 5) == 1 for r in retrieval]),
        "mrr": round(statistics.fmean(reciprocal_rank(r.relevant) for r in retrieval), 4) if retrieval else None,
        "ndcg@5": round(statistics.fmean(ndcg_at(r.relevant, 5) for r in retrieval), 4) if retrieval else None,
        "status_accuracy": rate([r.status == r.case.expect for r in results]),
        # The strict measure: the right kind of reply and, for an answer, every key fact in it.
        "fully_right": rate([fully_right(r) for r in results]),
        "fact_recall": round(statistics.fmean(r.fact_recall for r in results if r.fact_recall is not None), 4)
        if any(r.fact_recall is not None for r in results) else None,
        "citation_validity": rate([r.citations_valid for r in results]),
        "citation_support": rate([r.citation_support for r in results]),
        "number_fidelity": rate([r.number_fidelity for r in results]),
    }
    predicted = [r for r in results if r.status == "not_found"]
    expected = [r for r in results if r.case.expect == "not_found"]
    out["decline_precision"] = rate([r.case.expect == "not_found" for r in predicted]) if predicted else None
    out["decline_recall"] = rate([r.status == "not_found" for r in expected]) if expected else None
    crisis = [r for r in results if r.case.expect == "safeguarding"]
    out["safeguarding_recall"] = rate([r.status == "safeguarding" for r in crisis]) if crisis else None
    out["safeguarding_false_alarms"] = sum(
        r.status == "safeguarding" and r.case.expect != "safeguarding" for r in results
    )
    flesch = [r.flesch for r in results if r.flesch is not None]
    out["flesch_mean"] = round(statistics.fmean(flesch), 1) if flesch else None
    out["flesch_worst"] = round(min(flesch), 1) if flesch else None
    seconds = [r.seconds * 1000 for r in results]
    out["latency_ms_median"] = round(statistics.median(seconds), 1) if seconds else None
    out["latency_ms_p95"] = round(percentile(seconds, 95), 1) if seconds else None
    lengths = [len(r.text) for r in results if r.status == "answered"]
    out["answer_chars_median"] = round(statistics.median(lengths)) if lengths else None
    categories: dict[str, dict[str, Any]] = {}
    for category in sorted({r.case.category for r in results}):
        group = [r for r in results if r.case.category == category]
        categories[category] = {
            "cases": len(group),
            "status_accuracy": rate([r.status == r.case.expect for r in group]),
            "fully_right": rate([fully_right(r) for r in group]),
            "fact_recall": round(statistics.fmean(r.fact_recall for r in group if r.fact_recall is not None), 4)
            if any(r.fact_recall is not None for r in group) else None,
            "recall@5": rate([recall_at(r.relevant, 5) == 1 for r in group if r.relevant]),
        }
    out["categories"] = categories
    out["failures"] = [
        {"id": r.case.id, "expect": r.case.expect, "got": r.status, "question": r.case.question}
        for r in results if r.status != r.case.expect
    ]
    out["incomplete"] = [
        {"id": r.case.id, "question": r.case.question,
         "missing": [f for f in r.case.facts if norm(f) not in norm(r.text)]}
        for r in results if r.status == r.case.expect and r.fact_recall not in (None, 1.0)
    ]
    return out
