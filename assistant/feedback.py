"""Feedback on answers, stored redacted in SQLite (the default) or PostgreSQL.

Nothing personal is stored in plain text: the question, answer and comment all
pass through ``redact`` first, whichever database holds them.

The database is a SQLAlchemy URL (the ``feedback_url`` setting), or the SQLite file
``feedback_db`` when no URL is set: one machine needs nothing more, several workers
on several hosts share one PostgreSQL database. A store never connects when it is
built. Its first use creates the table (or adds the columns an older database
lacks); while the database is down every use fails fast with ``FeedbackError`` and
the next use tries again. So the web API keeps answering questions while feedback
is refused, and recovers by itself when the database is back.

The deployment's store (``FeedbackStore.from_settings``, used by the web API, the chat and the
CLI) keeps nothing longer than ``feedback_retention_days`` (90 by default): each day's first
rating purges older ones, and ``assistant feedback --purge`` does it on demand.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Integer, Table, Text, delete

from assistant.errors import FeedbackError
from assistant.store import CONNECT_TIMEOUT_SECONDS, EXAMPLE_URL, SQLStore, metadata
from assistant.text.redact import redact

# The columns of the first (sqlite3) version, unchanged, so existing files keep working.
# A column added later needs a server_default: it is added to existing tables by
# ALTER TABLE, which cannot fill old rows otherwise. AUTOINCREMENT keeps SQLite from
# reusing ids, so a row id kept by a browser for a later comment never points at
# another person's row.
feedback_table = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created", Text, nullable=False),
    Column("audience", Text, nullable=False),
    Column("question", Text, nullable=False),
    Column("answer", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("rating", Integer, nullable=False),
    Column("comment", Text, nullable=False, server_default=""),
    sqlite_autoincrement=True,
)

# Longest text kept per field: more than any real question, answer or comment.
MAX_QUESTION, MAX_ANSWER, MAX_COMMENT = 2000, 8000, 2000
__all__ = ["CONNECT_TIMEOUT_SECONDS", "EXAMPLE_URL", "FeedbackError", "FeedbackItem", "FeedbackStore"]


@dataclass(frozen=True)
class FeedbackItem:
    id: int
    created: str
    audience: str
    question: str
    answer: str
    status: str
    rating: int
    comment: str


class FeedbackStore(SQLStore):
    """Redacted feedback in the deployment's database (see ``assistant.store``)."""

    label = "feedback"

    def __init__(self, database: Any, *, retention_days: int | None = None) -> None:
        """``retention_days``: purge older ratings (the deployment's store has the setting's; None keeps all)."""
        super().__init__(database)
        self.retention_days = retention_days
        self._purged_on: str | None = None

    @classmethod
    def from_settings(cls, settings: Any) -> FeedbackStore:
        return cls(settings.feedback_database, retention_days=settings.feedback_retention_days)

    def add(
        self,
        *,
        question: str,
        answer: str,
        rating: int,
        comment: str = "",
        audience: str = "care_leaver",
        status: str = "answered",
    ) -> int:
        """Store one rating (1 = helpful, 0 = not helpful), redacted. Returns its id."""
        _check_rating(rating)
        row = {
            "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "audience": audience,
            "question": redact(question)[:MAX_QUESTION],
            "answer": redact(answer)[:MAX_ANSWER],
            "status": status,
            "rating": rating,
            "comment": redact(comment)[:MAX_COMMENT],
        }
        with self._transaction("saved in") as db:
            result = db.execute(feedback_table.insert().values(**row))
            item_id = int(result.inserted_primary_key[0])
        today = row["created"][:10]
        if self.retention_days is not None and self._purged_on != today:
            self.purge()
            self._purged_on = today
        return item_id

    def update(
        self, item_id: int, *, rating: int | None = None, comment: str | None = None
    ) -> None:
        """Change a stored rating or add a comment (redacted), e.g. after a thumb is changed."""
        if rating is not None:
            _check_rating(rating)
        values: dict[str, Any] = {}
        if rating is not None:
            values["rating"] = rating
        if comment is not None:
            values["comment"] = redact(comment)[:MAX_COMMENT]
        if not values:
            return
        with self._transaction("saved in") as db:
            row = feedback_table.c.id == item_id
            db.execute(feedback_table.update().where(row).values(**values))

    def purge(self, older_than_days: int | None = None, *, today: dt.date | None = None) -> int:
        """Delete ratings older than the retention period (or ``older_than_days``); returns how many."""
        days = older_than_days if older_than_days is not None else self.retention_days
        if days is None:
            return 0
        days = max(days, 1)
        cutoff = ((today or dt.date.today()) - dt.timedelta(days=days - 1)).isoformat()
        with self._transaction("purged in") as db:
            return int(db.execute(delete(feedback_table).where(feedback_table.c.created < cutoff)).rowcount or 0)

    def recent(self, limit: int = 50) -> list[FeedbackItem]:
        """The latest ``limit`` ratings, newest first (for the staff page)."""
        query = feedback_table.select().order_by(feedback_table.c.id.desc()).limit(limit)
        with self._transaction("read from") as db:
            return [FeedbackItem(**row._mapping) for row in db.execute(query)]


def _check_rating(rating: int) -> None:
    if rating not in (0, 1):
        raise FeedbackError("rating must be 1 (helpful) or 0 (not helpful).")
