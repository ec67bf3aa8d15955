"""What young people ask that the documents don't answer: a log of declined and unhelpful answers.

Every declined question, and every answer rated "not helpful", is counted, always. Each
entry keeps:

* the day (not the time), the audience and why it was logged ("declined" or "unhelpful");
* the question's meaning, as its vector from the embedding model, so questions asked in
  different words fall into one group;
* the nearest document section, so staff see what the documents say closest to it;
* an example text, only if ``gap_examples`` is on (the default), only if redaction finds
  nothing personal in it and it does not look personal either (:func:`looks_personal`): a
  message with a name, a number, an address or an email in it is counted without its words.

Nothing is kept longer than ``retention_days`` (90 by default): each day's first entry
purges older ones, and ``assistant gaps --purge`` does it on demand.

:func:`report` groups the entries of a period by meaning (each joins the first group
whose centre is close enough) and lists the groups largest first, each with its count
per week, two examples and the nearest section: the staff page's "Questions the
documents don't answer" and ``assistant gaps`` (also as CSV).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from sqlalchemy import Column, Integer, LargeBinary, Table, Text, delete

from assistant.errors import FeedbackError, InputError
from assistant.store import SQLStore, metadata
from assistant.text.personal import Vocabulary, looks_personal
from assistant.text.redact import redact, spans

if TYPE_CHECKING:
    from assistant.service import Assistant

log = logging.getLogger(__name__)
Reason = Literal["declined", "unhelpful"]
REASONS: tuple[Reason, ...] = ("declined", "unhelpful")

gap_table = Table(
    "gaps",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("day", Text, nullable=False),  # YYYY-MM-DD: when, to the day, and no closer
    Column("reason", Text, nullable=False),
    Column("audience", Text, nullable=False),
    Column("example", Text, nullable=True),  # redacted text, or NULL (examples off, or still personal)
    Column("vector", LargeBinary, nullable=False),  # float32, unit length: the question's meaning
    Column("section", Text, nullable=False, server_default=""),  # "Document title › Section"
    sqlite_autoincrement=True,
)

MAX_EXAMPLE = 500
# A question joins a group when its cosine to the group's centre is at least this. Measured with
# the bundled MiniLM on 7 pairs of rewordings (0.36-0.80, median 0.53) and 6 pairs of different
# asks (0.17-0.26): 0.4 sits between them (tests/test_gaps.py checks other questions).
GROUP_SIMILARITY = 0.4


@dataclass(frozen=True)
class GapEntry:
    id: int
    day: str
    reason: str
    audience: str
    example: str | None
    vector: np.ndarray = field(compare=False, repr=False)
    section: str = ""


class GapLog(SQLStore):
    """Declined and unhelpful questions, counted by meaning, in the deployment's database."""

    label = "gap log"

    def __init__(self, database: Any, *, examples: bool = True, retention_days: int = 90) -> None:
        super().__init__(database)
        self.examples = examples
        self.retention_days = retention_days
        self._purged_on: str | None = None

    @classmethod
    def from_settings(cls, settings: Any) -> GapLog:
        return cls(
            settings.feedback_database,
            examples=settings.gap_examples,
            retention_days=settings.retention_days,
        )

    def add(
        self,
        *,
        question: str,
        reason: Reason,
        vector: Sequence[float] | np.ndarray,
        section: str = "",
        audience: str = "care_leaver",
        vocabulary: Vocabulary | None = None,
        today: dt.date | None = None,
    ) -> int:
        """Count one question; keep its redacted words only if examples are on and nothing personal is left."""
        if reason not in REASONS:
            raise InputError(f"A gap's reason is one of {', '.join(REASONS)}, not {reason!r}.")
        day = today or dt.date.today()
        example = None
        if self.examples and not spans(question):  # anything personal found: the words go, the count stays
            cleaned = " ".join(question.split())[:MAX_EXAMPLE]
            example = None if looks_personal(cleaned, vocabulary) else cleaned
        vec = np.asarray(vector, dtype=np.float32)
        norm = float(np.linalg.norm(vec))
        vec = vec / norm if norm else vec
        row = {
            "day": day.isoformat(), "reason": reason, "audience": audience, "example": example,
            "vector": vec.tobytes(), "section": section[:300],
        }
        if self._purged_on != row["day"]:
            self.purge(today=day)
            self._purged_on = row["day"]
        with self._transaction("saved in") as db:
            return int(db.execute(gap_table.insert().values(**row)).inserted_primary_key[0])

    def entries(self, days: int | None = None, *, today: dt.date | None = None) -> list[GapEntry]:
        """The entries of the last ``days`` days (all kept ones if None), oldest first."""
        query = gap_table.select().order_by(gap_table.c.id)
        if days is not None:
            query = query.where(gap_table.c.day >= _cutoff(days, today))
        with self._transaction("read from") as db:
            rows = list(db.execute(query))
        return [
            GapEntry(r.id, r.day, r.reason, r.audience, r.example,
                     np.frombuffer(r.vector, dtype=np.float32), r.section)
            for r in rows
        ]

    def purge(self, older_than_days: int | None = None, *, today: dt.date | None = None) -> int:
        """Delete entries older than the retention period (or ``older_than_days``); returns how many."""
        cutoff = _cutoff(older_than_days if older_than_days is not None else self.retention_days, today)
        with self._transaction("purged in") as db:
            return int(db.execute(delete(gap_table).where(gap_table.c.day < cutoff)).rowcount or 0)


def _cutoff(days: int, today: dt.date | None) -> str:
    """The first day inside a window of ``days`` days ending today."""
    return ((today or dt.date.today()) - dt.timedelta(days=max(days, 1) - 1)).isoformat()


# -- noting a gap from a running assistant -------------------------------------------------------


def note(log_: GapLog, bot: Assistant, question: str, reason: Reason, audience: str = "care_leaver") -> None:
    """Log one declined or unhelpful question; never raises (answering must not depend on it).

    The vector is taken from the redacted words; the nearest section is the best passage
    search finds, whatever its score ("nearest", not "answering").
    """
    try:
        cleaned = redact(question).strip()
        if not cleaned:
            return
        vector = bot.embedder.embed_query(cleaned)
        section = ""
        passages = bot.search(cleaned, k=1)
        if passages:
            p = passages[0]
            section = f"{p.document_title} › {p.section}" if p.section else p.document_title
        log_.add(question=question, reason=reason, vector=vector, section=section, audience=audience,
                 vocabulary=vocabulary(bot))
    except FeedbackError as exc:
        log.warning("A %s question was not logged for the gap report: %s", reason, exc)
    except Exception:
        log.exception("A %s question was not logged for the gap report.", reason)


def vocabulary(bot: Assistant) -> Vocabulary:
    """The words an example may keep: the indexed documents', and the embedding model's word list."""
    cached = getattr(bot, "_gap_vocabulary", None)
    if cached is None:
        texts = [*bot.index.texts.values(), bot.settings.council_name]
        cached = Vocabulary.build(texts, _model_words(bot.settings.embedding_model))
        bot._gap_vocabulary = cached  # type: ignore[attr-defined]
    return cached


def _model_words(model: str) -> list[str]:
    """Whole words of the model's WordPiece vocabulary (a common-English list), if it has one."""
    from assistant.embed.local import resolve_model

    try:
        path = Path(resolve_model(model)) / "vocab.txt"
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    except Exception:  # another kind of model: the documents' words alone decide
        return []
    return [w for w in lines if w.isalpha() and w.islower() and len(w) > 1]


# -- the report --------------------------------------------------------------------------------


@dataclass(frozen=True)
class GapGroup:
    """Questions of one meaning: how many, when, two examples, and the nearest section."""

    count: int
    declined: int
    unhelpful: int
    weeks: tuple[tuple[str, int], ...]  # (the Monday of the week, count), oldest first
    examples: tuple[str, ...]
    section: str
    first_day: str
    last_day: str

    @property
    def topic(self) -> str:
        return self.examples[0] if self.examples else f"(no example kept) near {self.section or 'no section'}"


def report(entries: Iterable[GapEntry], *, similarity: float = GROUP_SIMILARITY) -> list[GapGroup]:
    """Group entries by meaning, largest group first (then the most recent)."""
    groups: list[list[GapEntry]] = []
    centres: list[np.ndarray] = []
    for entry in entries:
        if centres:
            sims = np.stack(centres) @ entry.vector
            best = int(np.argmax(sims))
            if float(sims[best]) >= similarity:
                members = groups[best]
                members.append(entry)
                centre = np.mean([m.vector for m in members], axis=0)
                centres[best] = centre / (np.linalg.norm(centre) or 1.0)
                continue
        groups.append([entry])
        centres.append(entry.vector)
    newest_first = sorted((_group(members) for members in groups), key=lambda g: g.last_day, reverse=True)
    return sorted(newest_first, key=lambda g: g.count, reverse=True)


def _group(members: list[GapEntry]) -> GapGroup:
    weeks: Counter[str] = Counter()
    for m in members:
        day = dt.date.fromisoformat(m.day)
        weeks[(day - dt.timedelta(days=day.weekday())).isoformat()] += 1
    examples: list[str] = []
    for m in reversed(members):  # the newest two, each worded differently
        if m.example and m.example.lower() not in {e.lower() for e in examples}:
            examples.append(m.example)
        if len(examples) == 2:
            break
    sections = Counter(m.section for m in members if m.section)
    return GapGroup(
        count=len(members),
        declined=sum(m.reason == "declined" for m in members),
        unhelpful=sum(m.reason == "unhelpful" for m in members),
        weeks=tuple(sorted(weeks.items())),
        examples=tuple(examples),
        section=sections.most_common(1)[0][0] if sections else "",
        first_day=members[0].day,
        last_day=members[-1].day,
    )


CSV_COLUMNS = ("count", "declined", "unhelpful", "first_day", "last_day", "per_week",
               "example_1", "example_2", "nearest_section")


def to_csv(groups: Iterable[GapGroup]) -> str:
    """The report as CSV, a group a row (what the staff page's download gives)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for g in groups:
        examples = [*g.examples, "", ""][:2]
        per_week = "; ".join(f"{week}: {n}" for week, n in g.weeks)
        writer.writerow([g.count, g.declined, g.unhelpful, g.first_day, g.last_day, per_week,
                         *(_csv_safe(e) for e in examples), _csv_safe(g.section)])
    return out.getvalue()


def _csv_safe(value: str) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
