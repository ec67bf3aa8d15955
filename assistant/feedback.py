"""Feedback on answers, stored redacted in SQLite (shared by the Streamlit app and the web API).

Nothing personal is stored in plain text: the question, answer and comment all
pass through ``redact`` first.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import AssistantError
from .redact import redact

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created TEXT NOT NULL,
    audience TEXT NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    status TEXT NOT NULL,
    rating INTEGER NOT NULL,
    comment TEXT NOT NULL DEFAULT ''
)
"""


class FeedbackError(AssistantError):
    """Feedback could not be saved; the answer itself is unaffected."""


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


class FeedbackStore:
    """A small SQLite store; safe to share between threads of one process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                db.execute(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise FeedbackError(f"The feedback database {path} cannot be opened ({exc}). Check ASSISTANT_FEEDBACK_DB.") from exc

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=5)

    def add(self, *, question: str, answer: str, rating: int, comment: str = "", audience: str = "care_leaver",
            status: str = "answered") -> int:
        """Store one rating (1 = helpful, 0 = not helpful), redacted. Returns its id."""
        if rating not in (0, 1):
            raise FeedbackError("rating must be 1 (helpful) or 0 (not helpful).")
        row = (time.strftime("%Y-%m-%dT%H:%M:%S"), audience, redact(question)[:2000], redact(answer)[:8000],
               status, rating, redact(comment)[:2000])
        try:
            with self._lock, self._connect() as db:
                cursor = db.execute(
                    "INSERT INTO feedback (created, audience, question, answer, status, rating, comment) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    row,
                )
                return int(cursor.lastrowid or 0)
        except sqlite3.Error as exc:
            raise FeedbackError(f"Feedback could not be saved ({exc}). Please try again later.") from exc

    def update(self, item_id: int, *, rating: int | None = None, comment: str | None = None) -> None:
        """Change a stored rating or add a comment (redacted), e.g. after a thumb is changed."""
        if rating is not None and rating not in (0, 1):
            raise FeedbackError("rating must be 1 (helpful) or 0 (not helpful).")
        try:
            with self._lock, self._connect() as db:
                if rating is not None:
                    db.execute("UPDATE feedback SET rating = ? WHERE id = ?", (rating, item_id))
                if comment is not None:
                    db.execute("UPDATE feedback SET comment = ? WHERE id = ?", (redact(comment)[:2000], item_id))
        except sqlite3.Error as exc:
            raise FeedbackError(f"Feedback could not be saved ({exc}). Please try again later.") from exc

    def recent(self, limit: int = 50) -> list[FeedbackItem]:
        with self._lock, self._connect() as db:
            rows = db.execute(
                "SELECT id, created, audience, question, answer, status, rating, comment FROM feedback "
                "ORDER BY id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [FeedbackItem(*row) for row in rows]
